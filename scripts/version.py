"""Keep the four Reqivo packages on one version number.

The packages are released together: each has the same version, and each pins its
reqivo dependencies to exactly that version (``reqivo-protocol==X.Y.Z``).

    python scripts/version.py show          # print the version
    python scripts/version.py check         # fail if anything drifted apart
    python scripts/version.py bump X.Y.Z    # set every version and pin, then `uv lock`

The places that carry the version: the ``version`` field of every package's
``pyproject.toml`` (and of the workspace root's), every ``reqivo-*==`` pin in those
files, and ``__version__`` in every package's ``__init__.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "reqivo-protocol": "reqivo_protocol",
    "reqivo-async": "reqivo_async",
    "reqivo-sync": "reqivo_sync",
    "reqivo-ws": "reqivo_ws",
}
_PROJECT_VERSION = re.compile(r'(?m)^(version\s*=\s*")([^"]+)(")')
_PIN = re.compile(
    r'(?<!name = )("reqivo-(?:protocol|async|sync|ws)(?:\[[a-z,]+\])?)'  # the name, extras
    r'(==|>=|~=|<=|>|<|!=)?([^";\]]*)(")'  # the operator and version
)
_DUNDER_VERSION = re.compile(r'(?m)^(__version__\s*=\s*")([^"]+)(")')
_VERSION_SYNTAX = re.compile(r"^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.dev\d+)?$")


@dataclass(frozen=True)
class Finding:
    """One place that carries a version, and what it says."""

    path: Path
    what: str
    value: str

    def __str__(self) -> str:
        shown = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{shown}: {self.what} = {self.value!r}"


def version_files(root: Path = ROOT) -> list[Path]:
    """Every file that carries the version or a reqivo pin."""
    files = [root / "pyproject.toml"]
    for distribution, import_name in PACKAGES.items():
        package_dir = root / "packages" / distribution
        files += [package_dir / "pyproject.toml", package_dir / "src" / import_name / "__init__.py"]
    return files


def _is_package(path: Path, root: Path) -> bool:
    """Whether ``path`` belongs to a published package (not the workspace root)."""
    return path.parent != root


def findings(root: Path = ROOT) -> list[Finding]:
    """Every version and every reqivo pin found in the version files."""
    found: list[Finding] = []
    for path in version_files(root):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            match = _PROJECT_VERSION.search(text)
            if match:
                found.append(Finding(path, "version", match.group(2)))
            if _is_package(path, root):
                for pin in _PIN.finditer(text):
                    name = pin.group(1).lstrip('"')
                    found.append(
                        Finding(path, f"pin {name}", f"{pin.group(2) or ''}{pin.group(3)}")
                    )
        else:
            match = _DUNDER_VERSION.search(text)
            if match:
                found.append(Finding(path, "__version__", match.group(2)))
            else:
                found.append(Finding(path, "__version__", "<missing>"))
    return found


def problems(root: Path = ROOT) -> list[str]:
    """What is out of step; empty when every version and pin agree."""
    found = findings(root)
    versions = {f.value for f in found if f.what in ("version", "__version__")}
    if len(versions) != 1:
        listing = "\n  ".join(str(f) for f in found if f.what in ("version", "__version__"))
        return [f"versions differ:\n  {listing}"]
    (version,) = versions
    return [
        f"{f}: expected =={version}"
        for f in found
        if f.what.startswith("pin") and f.value != f"=={version}"
    ]


def current_version(root: Path = ROOT) -> str:
    """The version all packages share (after ``check`` passes)."""
    return next(f.value for f in findings(root) if f.what == "version")


def bump(new_version: str, root: Path = ROOT) -> None:
    """Set every version and every reqivo pin of the packages to ``new_version``."""
    if not _VERSION_SYNTAX.match(new_version):
        raise SystemExit(f"not a release version: {new_version!r} (expected X.Y.Z)")
    for path in version_files(root):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            text = _PROJECT_VERSION.sub(rf"\g<1>{new_version}\g<3>", text, count=1)
            if _is_package(path, root):
                text = _PIN.sub(rf"\g<1>=={new_version}\g<4>", text)
        else:
            text = _DUNDER_VERSION.sub(rf"\g<1>{new_version}\g<3>", text, count=1)
        path.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    """Command line entry point."""
    if argv[:1] == ["show"]:
        print(current_version())
        return 0
    if argv[:1] == ["check"]:
        found = problems()
        for problem in found:
            print(problem, file=sys.stderr)
        if not found:
            print(f"all four packages at {current_version()}, reqivo pins exact")
        return 1 if found else 0
    if len(argv) == 2 and argv[0] == "bump":
        bump(argv[1])
        remaining = problems()
        if remaining:
            print("\n".join(remaining), file=sys.stderr)
            return 1
        subprocess.run(["uv", "lock"], cwd=ROOT, check=False)
        print(f"bumped every package to {argv[1]}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
