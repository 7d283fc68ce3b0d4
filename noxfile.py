"""Reqivo's task runner. ``nox`` with no arguments runs everything CI needs.

Sessions (``nox -l`` lists them):

- ``lint``: ruff check and ruff format --check, the version-coupling check, and the GitHub
  Actions workflows (``.github/workflows``) checked by jactionlint.
- ``typecheck``: mypy --strict over all four packages and their tests.
- ``tests``: the test matrix, every CPython 3.11+ found on the machine x package (x API
  mode, sync and async, for the packages with a dual suite: ``tests-3.11(reqivo-sync-async)``)
  x event loop: the suites whose tests run on the caller's loop run again on uvloop
  (``tests-3.12(reqivo-async-uvloop)``, ``reqivo-sync-async-uvloop``, ``reqivo-ws-uvloop``).
  reqivo-sync's dual suite runs its HTTP tests on HTTP/1.1 and on HTTP/2 (``--http``),
  except on uvloop (HTTP/1.1 only there: reqivo-async-uvloop runs the HTTP/2 suites).
  A Python that is not installed is skipped with a visible message.
- ``workspace``: tests of the workspace itself (version coupling, layering rules).
- ``docs-snippets``: every code snippet of README.md, packages/*/README.md and docs/, and
  every file of examples/, runs against the docs world (local servers under public names;
  ``tests/docs/docs_harness``).
- ``autobahn``: the Autobahn WebSocket conformance suite (uncompressed) against the async
  and the sync client, about a minute; ``-- --deflate`` runs the compressed variant
  (10-25 minutes, not run by default).
- ``coverage``: combines the matrix's coverage data and enforces the gates.
- ``release-check``: builds every wheel and sdist and installs each wheel alone.
- ``docs``: builds the documentation site with ``mkdocs build --strict`` into ``site/``
  and opens it in headless Chromium (tests/docs; screenshot in ``reports/docs/``).
- ``bench``: benchmarks against the peers (not run by default).

Interpreters: pyenv keeps 3.11, 3.12 and 3.13 side by side but only activates one, so
``python3.12`` is not on PATH until ``PYENV_VERSION`` lists them; we set it here, from
what pyenv actually has, before nox looks for interpreters.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYTHONS = ["3.11", "3.12", "3.13"]
PACKAGES = ["reqivo-protocol", "reqivo-async", "reqivo-sync", "reqivo-ws"]
#: Coverage gates (line + branch, percent) per package, enforced by the coverage session.
COVERAGE_GATES = {"reqivo_protocol": 95, "reqivo_async": 95, "reqivo_ws": 95}


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
nox.options.sessions = [
    "lint",
    "typecheck",
    "workspace",
    "docs-snippets",
    "tests",
    "autobahn",
    "coverage",
    "release-check",
    "docs",
]


def _junit(session: nox.Session) -> str:
    """A pytest option writing this session's results where scripts/test_summary.py reads."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in session.name)
    return f"--junitxml=reports/junit/{safe}.xml"


#: The compiled accelerators of reqivo-protocol (masking, ADR-008; HTTP/1.1 heads, ADR-016)
#: and what they are built from.
SPEEDUPS_DIRS = [
    ROOT / "packages" / "reqivo-protocol" / "src" / "reqivo_protocol" / part
    for part in ("websocket", "http11")
]
SPEEDUPS_INPUTS = [
    *(folder / "_speedups.c" for folder in SPEEDUPS_DIRS),
    ROOT / "packages/reqivo-protocol/hatch_build.py",
]


def _venv_python(session: nox.Session) -> Path:
    """The interpreter of the session's venv (``python.exe`` in ``Scripts`` on Windows)."""
    assert isinstance(session.virtualenv, nox.virtualenv.VirtualEnv)
    return Path(session.virtualenv.bin) / ("python.exe" if sys.platform == "win32" else "python")


def _speedups_missing(session: nox.Session) -> bool:
    """Whether this venv's interpreter lacks an up-to-date in-place compiled accelerator.

    The editable install compiles it next to its source (hatch_build.py), but uv reuses
    one cached editable build for every interpreter, so another Python's session would
    silently get none: such a session reinstalls reqivo-protocol once to build its own.
    """
    if not isinstance(session.virtualenv, nox.virtualenv.VirtualEnv):
        return False  # pragma: no cover - every session here has a venv
    python = _venv_python(session)
    if not python.exists():
        return True
    suffix = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    newest_input = max(path.stat().st_mtime for path in SPEEDUPS_INPUTS)
    for folder in SPEEDUPS_DIRS:
        built = folder / f"_speedups{suffix}"
        if not built.exists() or built.stat().st_mtime < newest_input:
            return True
    return False


def _sync(session: nox.Session, *groups: str) -> None:
    """Install the whole workspace (editable) plus ``groups`` into the session's venv."""
    args = ["uv", "sync", "--frozen", "--all-packages", "--no-default-groups", "--inexact"]
    for group in groups:
        args += ["--group", group]
    if _speedups_missing(session):
        args += ["--reinstall-package", "reqivo-protocol"]
    session.run_install(
        *args,
        f"--python={session.virtualenv.location}",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, the version-coupling check, and the GitHub Actions
    workflows checked by jactionlint (actionlint's checks and its security rules)."""
    _sync(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "scripts/version.py", "check")
    # Configured by .github/jactionlint.yaml. Offline: the rules that ask GitHub (archived
    # or impostor actions, advisories) are not run.
    session.run("jactionlint", "--no-color", *session.posargs)


@nox.session(python=PYTHONS[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the four packages, the scripts, benchmarks and examples."""
    _sync(session, "typecheck", "servers", "bench", "docs")
    session.run(
        "mypy",
        *(f"packages/{p}/src" for p in PACKAGES),
        "scripts",
        "benchmarks",
        "examples",
        "tests",
        "conftest.py",
        "packages/reqivo-ws/compliance",
    )


@nox.session(python=PYTHONS[0])
def workspace(session: nox.Session) -> None:
    """Tests of the workspace: version coupling, layering and packaging rules."""
    _sync(session, "test")
    session.run("pytest", "tests", "--ignore=tests/docs", "-q", _junit(session), *session.posargs)


@nox.session(name="docs-snippets", python=PYTHONS[0])
def docs_snippets(session: nox.Session) -> None:
    """Every docs snippet, README example and examples/ file runs (``tests/docs``).

    The snippets run against the docs world: local servers answering as ``httpbin.org``,
    ``echo.websocket.org``, ``mtls.example`` and ``proxy.example`` (see
    ``tests/docs/docs_harness``); ``servers`` brings those servers, ``bench`` the other
    clients that the migration pages put side by side (requests, urllib3).
    """
    _sync(session, "test", "servers", "bench", "docs")
    session.run("pytest", "tests/docs/test_snippets.py", "-q", _junit(session), *session.posargs)


#: Packages whose behavioural suite (``tests/dual``) runs against both APIs: their tests
#: session is split by mode. ``sync`` runs the whole test folder with ``--mode=sync``;
#: ``async`` runs only the dual suite with ``--mode=async`` (nothing else differs).
DUAL_MODE_PACKAGES = ["reqivo-sync", "reqivo-ws"]
MODES = ["sync", "async"]
#: The second event loop (``--loop=uvloop``, see the root conftest.py): what runs on it is
#: every test that runs on the caller's loop: reqivo-async's suite, reqivo-ws's (its own
#: async tests and the dual suite in async mode) and reqivo-sync's facade suites in async
#: mode. reqivo-sync's other tests drive its own loops, which stay asyncio's.
UVLOOP_TARGETS = {
    "reqivo-async": ("-", ["tests"]),
    "reqivo-sync": ("async", ["tests/dual", "tests/faults", "tests/security"]),
    "reqivo-ws": ("async", ["tests"]),
}
TEST_MATRIX = [
    (package, mode, "asyncio")
    for package in PACKAGES
    for mode in (MODES if package in DUAL_MODE_PACKAGES else ["-"])
] + [(package, mode, "uvloop") for package, (mode, _) in UVLOOP_TARGETS.items()]


def _test_id(package: str, mode: str, loop: str) -> str:
    """``reqivo-sync-async``, ``reqivo-async-uvloop``; ``reqivo-ws-uvloop`` (its whole suite)."""
    name = (
        package
        if mode == "-" or (loop == "uvloop" and package == "reqivo-ws")
        else f"{package}-{mode}"
    )
    return name if loop == "asyncio" else f"{name}-{loop}"


@nox.session(python=PYTHONS)
@nox.parametrize(
    ("package", "mode", "loop"),
    TEST_MATRIX,
    ids=[_test_id(*entry) for entry in TEST_MATRIX],
)
def tests(session: nox.Session, package: str, mode: str, loop: str) -> None:
    """One package's test suite on one Python (and API mode, and event loop), with coverage."""
    _sync(session, "test", "servers")
    tests_dir = ROOT / "packages" / package / "tests"
    if not any(tests_dir.rglob("test_*.py")):
        session.skip(f"{package} has no tests yet")
    if loop == "uvloop" and not _has_module(session, "uvloop"):
        session.skip(f"uvloop does not install on this platform or Python {session.python}")
    if package != "reqivo-protocol" and sys.platform == "linux":
        # The client packages' tests start real services (a forward proxy): install them
        # when missing (idempotent, quick when present). Debian's packages: elsewhere
        # (macOS, Windows) their fixtures skip unless REQIVO_TEST_SERVICES=require.
        session.run("bash", "scripts/ci-services.sh", external=True, silent=True)
    target = [f"packages/{package}/tests"]
    data_file = f".coverage.{session.python}.{package}"
    if mode != "-":
        data_file += f"-{mode}"
        if mode == "async" and loop == "asyncio":
            # Only the suites written against the dual sync/async facade run in async mode.
            facade_suites = [d for d in ("dual", "faults", "security") if (tests_dir / d).is_dir()]
            target = [f"{target[0]}/{d}" for d in facade_suites]
        target.append(f"--mode={mode}")
    if loop == "uvloop":
        data_file += "-uvloop"
        target = [f"packages/{package}/{path}" for path in UVLOOP_TARGETS[package][1]]
        target += ([] if mode == "-" else [f"--mode={mode}"]) + ["--loop=uvloop"]
        if package == "reqivo-sync":
            # HTTP/2 on uvloop is reqivo-async-uvloop's (its HTTP/2 suites); saves ~4 s.
            target.append("--http=1.1")
    # This session's own data only (``reqivo-async`` must not match ``reqivo-async-uvloop``).
    for stale in [*ROOT.glob(f"{data_file}.*"), ROOT / data_file]:
        stale.unlink(missing_ok=True)
    env = {}
    if package == "reqivo-protocol" and session.python == PYTHONS[0]:
        # One run of the protocol suite uses the pure-Python masking and head parsing
        # everywhere (the fallback of a build without the compiled accelerators, ADR-008,
        # ADR-016); the others use the accelerators. Their tests compare both in every run.
        env["REQIVO_NO_EXTENSIONS"] = "1"
    session.run(
        "coverage",
        "run",
        f"--data-file={data_file}",
        f"--source={package.replace('-', '_')}",
        "-m",
        "pytest",
        *target,
        _junit(session),
        *session.posargs,
        env=env,
    )


def _has_module(session: nox.Session, module: str) -> bool:
    """Whether the session's interpreter imports ``module``."""
    if not isinstance(session.virtualenv, nox.virtualenv.VirtualEnv):
        return False  # pragma: no cover - every session here has a venv
    python = _venv_python(session)
    return subprocess.run([str(python), "-c", f"import {module}"]).returncode == 0


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
def docs(session: nox.Session) -> None:
    """Build the documentation site (warnings are errors), then open it in a browser.

    ``mkdocs build --strict`` writes ``site/`` (ADR-014): a broken link, a page missing
    from the nav, or a docstring that griffe cannot read fails the build. Then
    ``tests/docs`` checks the reference pages cover every public name and opens the site
    in headless Chromium (installed by scripts/ci-services.sh; without it the browser
    tests skip, or fail with REQIVO_TEST_SERVICES=require) and saves a screenshot of the
    landing page to ``reports/docs/landing.png``. ``nox -s docs -- --no-browser`` only
    builds and runs the coverage check.
    """
    _sync(session, "docs", "test")
    session.run("bash", "scripts/ci-services.sh", external=True, silent=True)
    browser = "--no-browser" not in session.posargs
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )
    tests = ["tests/docs/test_reference_pages.py"]
    if browser:
        tests.append("tests/docs/test_site_browser.py")
    session.run("pytest", *tests, "-q", _junit(session))


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Benchmarks against the peers, side by side in one run (not part of CI).

    ``nox -s bench -- client_async --loop both`` measures the async clients on asyncio's
    loop and on uvloop (from the ``test`` group) side by side.
    """
    _sync(session, "bench", "test")
    session.run("python", "-m", "benchmarks", *session.posargs)


def _autobahn_installer() -> tuple[Path | None, list[Path]]:
    """The Autobahn installer (``shared/tools/autobahn-install.sh``) and where it was sought.

    In order: ``$AUTOBAHN_INSTALL``; the ``shared/tools`` folder beside this checkout;
    beside the checkout it was cloned from (``remote.origin.url`` when that is a local
    path, as for CI's fresh clone); ``/work/shared/tools``.
    """
    script = Path("shared") / "tools" / "autobahn-install.sh"
    given = os.environ.get("AUTOBAHN_INSTALL")
    candidates = [Path(given)] if given else []
    candidates.append(ROOT.parent / script)
    try:
        origin = subprocess.run(
            ["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:  # no git
        origin = ""
    origin = origin.removeprefix("file://")
    if origin and "://" not in origin and not re.match(r"^[\w.-]+@[\w.-]+:", origin):
        candidates.append((ROOT / origin).resolve().parent / script)
    candidates = list(dict.fromkeys([*candidates, Path("/work") / script]))
    return next((c for c in candidates if c.is_file()), None), candidates


@nox.session(python=PYTHONS[0])
def autobahn(session: nox.Session) -> None:
    """The Autobahn fuzzing server (sections 1-13) against ``AsyncWebSocket`` and ``WebSocket``.

    Installs wstest when missing (``_autobahn_installer``; ``$AUTOBAHN_ENV``, default
    ``/tmp/autobahn/env``), then runs ``packages/reqivo-ws/compliance/autobahn_client.py``:
    one loopback server per client, both clients side by side, without compression
    (about a minute), and prints one summary block. Fails on any FAILED case, more than 4
    NON-STRICT, UNIMPLEMENTED outside sections 12/13, a section-9 case not echoed, or a
    client crash. ``nox -s autobahn -- --deflate`` runs the compressed variant (10-25
    minutes, not in the default run); other arguments go to the script (``--client
    async``, ``--cases 1-44``).
    """
    _sync(session, "test")
    installer, candidates = _autobahn_installer()
    if installer is None:
        session.error(
            "the Autobahn installer (shared/tools/autobahn-install.sh) was not found; "
            "set AUTOBAHN_INSTALL. Looked at: " + ", ".join(map(str, candidates))
        )
    env_dir = os.environ.get("AUTOBAHN_ENV", "/tmp/autobahn/env")
    session.log(f"autobahn: {installer} {env_dir} (about a minute when not installed yet)")
    done = subprocess.run(["bash", str(installer), env_dir], stdout=subprocess.PIPE, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        session.error(f"installing the Autobahn test suite failed (exit {done.returncode})")
    wstest = Path(done.stdout.split()[-1]).with_name("wstest-loopback")
    try:
        session.run(
            "python",
            "packages/reqivo-ws/compliance/autobahn_client.py",
            f"--wstest={wstest}",
            "--outdir=reports/autobahn",
            *session.posargs,
        )
    except nox.command.CommandFailed:
        session.error("Autobahn conformance failed: see the summary above")


@nox.session(python=PYTHONS[0])
def soak(session: nox.Session) -> None:
    """A bounded soak against nginx and a WebSocket echo server on loopback (not in CI).

    200,000 async requests over HTTP/1.1 and 200,000 over TLS h2 with a GOAWAY every
    10,000 (concurrency 256, one AsyncSession each), 100,000 sync requests (64 threads, one
    Session), 1.5% of them faults; 1,000 concurrent WebSockets. The async, h2 and WebSocket
    phases run on asyncio's loop and on uvloop. Fails on an unexpected outcome or when file
    descriptors, memory, tasks or threads do not end where they started. About 10 minutes
    on a busy 2-core machine; ``nox -s soak -- --quick`` runs a tenth; ``-- --loop uvloop``
    (or ``asyncio``) runs one loop only, ``-- --phases h2`` some phases. See
    ``benchmarks/soak.py``.
    """
    _sync(session, "bench", "test")
    arguments = list(session.posargs)
    if not any(arg == "--loop" or arg.startswith("--loop=") for arg in arguments):
        arguments += ["--loop", "both"]
    session.run("python", "-m", "benchmarks.soak", *arguments)


@nox.session(python=PYTHONS[0])
def fuzz(session: nox.Session) -> None:
    """Coverage-guided fuzzing (atheris) of the protocol parsers, bounded (not in CI).

    Runs each target of ``fuzzing/`` (http11, chunked, decoders, url, websocket,
    cookies, hpack, h2frames) for ``REQIVO_FUZZ_SECONDS`` (default 60) seconds, from its
    committed seed corpus, and prints executions, coverage and findings per target; fails when any
    target found something (saved under ``fuzzing/findings/``). Arguments go to
    ``fuzzing/run.py``: ``nox -s fuzz -- 300 --jobs 2 --only http11,url``.
    """
    _sync(session, "fuzz", "test", "servers")
    session.run("python", "fuzzing/run.py", *session.posargs)
