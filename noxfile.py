"""Reqivo's task runner. ``nox`` with no arguments runs everything CI needs.

Sessions (``nox -l`` lists them):

- ``lint``: ruff check and ruff format --check, plus the version-coupling check.
- ``typecheck``: mypy --strict over all four packages and their tests.
- ``tests``: the test matrix, every CPython 3.11+ found on the machine x package.
  A Python that is not installed is skipped with a visible message.
- ``workspace``: tests of the workspace itself (version coupling, layering rules).
- ``coverage``: combines the matrix's coverage data and enforces the gates.
- ``release-check``: builds every wheel and sdist and installs each wheel alone.
- ``bench``: benchmarks against the peers (not run by default).

Interpreters: pyenv keeps 3.11, 3.12 and 3.13 side by side but only activates one, so
``python3.12`` is not on PATH until ``PYENV_VERSION`` lists them; we set it here, from
what pyenv actually has, before nox looks for interpreters.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYTHONS = ["3.11", "3.12", "3.13"]
PACKAGES = ["reqivo-protocol", "reqivo-async", "reqivo-sync", "reqivo-ws"]
#: Coverage gates (line + branch, percent) per package, enforced by the coverage session.
COVERAGE_GATES = {"reqivo_protocol": 95}


def _expose_pyenv_versions() -> None:
    """Make every pyenv CPython 3.11+ visible as ``python3.X`` on PATH.

    Versions already listed in ``PYENV_VERSION`` stay first (the first one decides what
    plain ``python3`` means); the others are appended.
    """
    if shutil.which("pyenv") is None:
        return
    try:
        listed = subprocess.run(
            ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return
    active = [v for v in os.environ.get("PYENV_VERSION", "").split(":") if v]
    if not active:
        found = subprocess.run(["pyenv", "version-name"], capture_output=True, text=True)
        active = [v for v in found.stdout.strip().split(":") if v]
    wanted = [v for v in listed if ".".join(v.split(".")[:2]) in PYTHONS and v not in active]
    os.environ["PYENV_VERSION"] = ":".join(active + wanted)


def _runs(executable: str) -> bool:
    """Whether ``executable`` exists and starts (a pyenv shim may exist but not run)."""
    if shutil.which(executable) is None:
        return False
    try:
        return subprocess.run([executable, "-c", "pass"], capture_output=True).returncode == 0
    except OSError:
        return False


_expose_pyenv_versions()
AVAILABLE_PYTHONS = [p for p in PYTHONS if _runs(f"python{p}")]
for missing in sorted(set(PYTHONS) - set(AVAILABLE_PYTHONS)):
    print(f"nox: Python {missing} is not installed here; its sessions are skipped.")

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "workspace", "tests", "coverage", "release-check"]


def _sync(session: nox.Session, *groups: str) -> None:
    """Install the whole workspace (editable) plus ``groups`` into the session's venv."""
    args = ["uv", "sync", "--frozen", "--all-packages", "--no-default-groups", "--inexact"]
    for group in groups:
        args += ["--group", group]
    session.run_install(
        *args,
        f"--python={session.virtualenv.location}",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, and the version-coupling check."""
    _sync(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "scripts/version.py", "check")


@nox.session(python=PYTHONS[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the four packages, the scripts, benchmarks and examples."""
    _sync(session, "typecheck", "servers", "bench")
    session.run(
        "mypy",
        *(f"packages/{p}/src" for p in PACKAGES),
        "scripts",
        "benchmarks",
        "examples",
        "tests",
    )


@nox.session(python=PYTHONS[0])
def workspace(session: nox.Session) -> None:
    """Tests of the workspace: version coupling, layering and packaging rules."""
    _sync(session, "test")
    session.run("pytest", "tests", "-q", *session.posargs)


@nox.session(python=PYTHONS)
@nox.parametrize("package", PACKAGES)
def tests(session: nox.Session, package: str) -> None:
    """One package's test suite on one Python, with coverage data collected."""
    _sync(session, "test", "servers")
    tests_dir = ROOT / "packages" / package / "tests"
    if not any(tests_dir.rglob("test_*.py")):
        session.skip(f"{package} has no tests yet")
    if package != "reqivo-protocol":
        # The client packages' tests start real services (a forward proxy): install them
        # when missing (idempotent, quick when present).
        session.run("bash", "scripts/ci-services.sh", external=True, silent=True)
    data_file = f".coverage.{session.python}.{package}"
    for stale in ROOT.glob(f"{data_file}*"):
        stale.unlink()
    session.run(
        "coverage",
        "run",
        f"--data-file={data_file}",
        f"--source={package.replace('-', '_')}",
        "-m",
        "pytest",
        f"packages/{package}/tests",
        *session.posargs,
    )


@nox.session(python=PYTHONS[0])
def coverage(session: nox.Session) -> None:
    """Combine coverage from the matrix and enforce each package's gate."""
    _sync(session, "test")
    data = sorted(str(p) for p in ROOT.glob(".coverage.*"))
    if not data:
        session.skip("no coverage data: run the tests sessions first")
    session.run("coverage", "combine", *data)
    session.run("coverage", "report", "--skip-covered")
    for import_name, gate in COVERAGE_GATES.items():
        session.log(f"coverage gate: {import_name} >= {gate}%")
        session.run(
            "coverage",
            "report",
            f"--include=*/{import_name}/*",
            f"--fail-under={gate}",
            "--skip-covered",
        )


@nox.session(name="release-check", python=PYTHONS[0])
def release_check(session: nox.Session) -> None:
    """Build every wheel and sdist, then install each wheel alone and inspect it."""
    _sync(session, "test")
    session.run("python", "scripts/release_check.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Benchmarks against the peers, side by side in one run (not part of CI)."""
    _sync(session, "bench")
    session.run("python", "-m", "benchmarks", *session.posargs)
