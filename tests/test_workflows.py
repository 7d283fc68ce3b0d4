"""The GitHub Actions workflows agree with the noxfile and the packages.

jactionlint (``nox -s lint``) checks that the workflows are valid; these check what it
cannot know: that CI tests every Python the noxfile names on the three systems, and that
the release publishes every package, each in its own job with trusted publishing.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
#: The published packages, in dependency order.
PACKAGES = ["reqivo-protocol", "reqivo-async", "reqivo-sync", "reqivo-ws"]

NOXFILE = (ROOT / "noxfile.py").read_text(encoding="utf-8")


def _job(workflow: str, job: str) -> str:
    """The text of ``job`` in ``workflow`` (up to the next job at the same indentation)."""
    text = (WORKFLOWS / workflow).read_text(encoding="utf-8")
    found = re.search(rf"^  {re.escape(job)}:\n(.*?)(?=^  [\w-]+:\n|\Z)", text, re.M | re.S)
    assert found is not None, f"{workflow} has no job {job}"
    return found.group(1)


def test_ci_runs_every_default_nox_session() -> None:
    defaults = re.search(r"^nox.options.sessions = \[(.*?)\]", NOXFILE, re.M | re.S)
    assert defaults is not None
    sessions = set(re.findall(r'"([\w-]+)"', defaults.group(1)))
    checks = _job("ci.yml", "checks")
    matrix = re.search(r"session: \[(.*)\]", checks)
    assert matrix is not None
    in_ci = {name.strip() for name in matrix.group(1).split(",")} | {"tests", "coverage"}
    # autobahn's wstest needs Python 2.7 from the shared tools (.ci/run runs it).
    assert sessions - in_ci == {"autobahn"}
    # The long proofs run on demand only: never by default, never in CI.
    assert not {"bench", "fuzz", "soak"} & (sessions | in_ci)


def test_the_package_list_is_the_workspaces() -> None:
    members = {p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file()}
    assert members == set(PACKAGES)


def test_ci_tests_every_python_of_the_noxfile_on_three_systems() -> None:
    pythons = re.search(r"^PYTHONS = \[(.*)\]$", NOXFILE, re.M)
    assert pythons is not None
    tests = _job("ci.yml", "tests")
    assert re.findall(r'"(3\.\d+)"', pythons.group(1)) == re.findall(
        r'"(3\.\d+)"', tests.split("python:", 1)[1].split("\n", 1)[0]
    )
    systems = re.search(r"os: \[(.*)\]", tests)
    assert systems is not None
    assert [s.strip().split("-")[0] for s in systems.group(1).split(",")] == [
        "ubuntu",
        "macos",
        "windows",
    ]
    assert "nox -s tests -p" in tests
    assert "REQIVO_TEST_SERVICES: ${{ startsWith(matrix.os, 'ubuntu') && 'require'" in tests


def test_every_package_has_its_own_trusted_publishing_job() -> None:
    for distribution in PACKAGES:
        job = _job("release.yml", f"publish-{distribution}")
        assert "id-token: write" in job
        assert f"name: pypi-{distribution}\n" in job
        assert f"packages-dir: dist/{distribution}/" in job
        assert "uses: pypa/gh-action-pypi-publish@" in job
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    assert text.count("id-token: write") == len(PACKAGES)  # nowhere else


def test_the_release_builds_every_package() -> None:
    build = _job("release.yml", "build")
    assert "uv build --package reqivo-protocol --sdist" in build
    pure = [d for d in PACKAGES if d != "reqivo-protocol"]
    assert f"for package in {' '.join(pure)}; do" in build
    assert "uses: ./.github/workflows/wheels.yml" in _job("release.yml", "protocol-wheels")
    assert "cibuildwheel" in _job("wheels.yml", "protocol-wheels")
