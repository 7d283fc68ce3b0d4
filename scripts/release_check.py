"""Build every Reqivo package and check that each installs alone, as users get it.

For each package: build its sdist, and its wheel from that sdist, into a fresh folder;
then, for each wheel, create an empty virtual environment, install the wheel from the
freshly built files only (no index), import it, and assert that exactly its declared
reqivo dependencies came along and nothing else: no third-party runtime dependency, and
never a sibling it does not declare (installing reqivo-async must not bring reqivo-sync
or reqivo-ws). reqivo-protocol's wheel is a platform wheel carrying the compiled masking
accelerator, which must be in use once installed; a wheel built with
``REQIVO_NO_EXTENSIONS=1`` is pure and must work without it (ADR-008).

    python scripts/release_check.py [--keep]

Needs ``uv`` on PATH. Exits non-zero with a list of problems when anything is off.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from version import PACKAGES, ROOT, current_version, problems

#: What installing each requirement must bring, exactly (distribution names).
EXPECTED: dict[str, set[str]] = {
    "reqivo-protocol": {"reqivo-protocol"},
    "reqivo-async": {"reqivo-async", "reqivo-protocol"},
    "reqivo-sync": {"reqivo-sync", "reqivo-async", "reqivo-protocol"},
    "reqivo-ws": {"reqivo-ws", "reqivo-async", "reqivo-protocol"},
    "reqivo-ws[sync]": {"reqivo-ws", "reqivo-sync", "reqivo-async", "reqivo-protocol"},
}
#: Modules the protocol package must never pull in (it is sans-IO).
FORBIDDEN_FOR_PROTOCOL = ("socket", "ssl", "asyncio", "selectors", "threading")


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command, echo it, and return its standard output."""
    print("$", " ".join(args), flush=True)
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(args)}")
    return done.stdout


def build_all(dist: Path) -> None:
    """Build the sdist and, from it, the wheel of every package into ``dist``."""
    for distribution in PACKAGES:
        run("uv", "build", "--package", distribution, "--out-dir", str(dist), "--quiet", cwd=ROOT)


#: The compiled accelerators inside reqivo-protocol's wheel (ADR-008, ADR-016).
SPEEDUPS = ("reqivo_protocol/websocket/_speedups", "reqivo_protocol/http11/_speedups")


def check_artifacts(dist: Path, version: str) -> list[str]:
    """Every package has exactly one wheel and one sdist of ``version``.

    reqivo-protocol's wheel is built for this interpreter and platform and carries the
    compiled accelerator (not its C source); its sdist carries the source and the build
    hook. The other wheels are pure.
    """
    found: list[str] = []
    for distribution in PACKAGES:
        stem = distribution.replace("-", "_")
        tag = "*" if distribution == "reqivo-protocol" else "py3-none-any"
        wheels = list(dist.glob(f"{stem}-{version}-{tag}.whl"))
        sdists = list(dist.glob(f"{stem}-{version}.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            found.append(f"{distribution}: expected one wheel and one sdist of {version} in {dist}")
            continue
        if distribution == "reqivo-protocol":
            found += check_protocol_artifacts(wheels[0], sdists[0])
    return found


def check_protocol_artifacts(wheel: Path, sdist: Path) -> list[str]:
    """The accelerator is in the platform wheel; its source and build hook in the sdist."""
    found: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    if wheel.name.endswith("-py3-none-any.whl"):
        found.append(f"{wheel.name}: expected a platform wheel")
    for module in SPEEDUPS:
        compiled = [n for n in names if n.startswith(module) and n.endswith((".so", ".pyd"))]
        if len(compiled) != 1:
            found.append(f"{wheel.name}: expected one {module} module")
    if any(n.endswith(".c") for n in names):
        found.append(f"{wheel.name}: C source inside the wheel")
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    for needed in (*(f"src/{module}.c" for module in SPEEDUPS), "hatch_build.py"):
        if not any(m.endswith(needed) for m in members):
            found.append(f"{sdist.name}: {needed} missing")
    if any(m.endswith((".so", ".pyd")) for m in members):
        found.append(f"{sdist.name}: a compiled module inside the sdist")
    return found


def check_pure_fallback(work: Path, version: str) -> list[str]:
    """A build with ``REQIVO_NO_EXTENSIONS=1`` is a pure wheel that works without it."""
    dist = work / "pure"
    run(
        "uv", "build", "--package", "reqivo-protocol", "--wheel", "--out-dir", str(dist),
        "--quiet", cwd=ROOT, env={**os.environ, "REQIVO_NO_EXTENSIONS": "1"},
    )  # fmt: skip
    wheels = list(dist.glob(f"reqivo_protocol-{version}-py3-none-any.whl"))
    if len(wheels) != 1:
        return [f"REQIVO_NO_EXTENSIONS=1 did not build one pure wheel: {sorted(dist.iterdir())}"]
    venv = work / "pure-venv"
    python = venv / "bin" / "python"
    run("uv", "venv", "--quiet", "--python", sys.executable, str(venv))
    run("uv", "pip", "install", "--quiet", "--python", str(python), str(wheels[0]))
    probe = (
        "from reqivo_protocol.websocket import _mask, WebSocketConnection; "
        "c = WebSocketConnection(mask_key_source=lambda: b'abcd'); "
        "assert c.send_bytes(b'xyz') == b'\\x82\\x83abcd\\x19\\x1b\\x19'; "
        "from reqivo_protocol.http11 import _head; "
        "assert _head.parse_status_head(b'HTTP/1.1 200 OK\\r\\nA: b\\r\\n\\r\\n', 9)[1] == 200; "
        "print(_mask.ACCELERATED, _head.ACCELERATED)"
    )
    accelerated = run(str(python), "-I", "-c", probe).strip()
    if accelerated != "False False":
        return [f"the pure wheel reports ACCELERATED={accelerated}"]
    return []


def install_alone(requirement: str, dist: Path, work: Path, version: str) -> list[str]:
    """Install ``requirement`` from ``dist`` only into a new venv; report what is wrong."""
    venv = work / requirement.replace("[", "-").replace("]", "")
    python = venv / "bin" / "python"
    run("uv", "venv", "--quiet", "--python", sys.executable, str(venv))
    run(
        "uv", "pip", "install", "--quiet", "--python", str(python),
        "--no-index", "--find-links", str(dist), requirement,
    )  # fmt: skip
    listed = json.loads(run("uv", "pip", "list", "--python", str(python), "--format", "json"))
    installed = {entry["name"] for entry in listed}
    found: list[str] = []
    expected = EXPECTED[requirement]
    if installed != expected:
        extra, missing = sorted(installed - expected), sorted(expected - installed)
        found.append(
            f"{requirement}: installed {sorted(installed)}; extra {extra}, missing {missing}"
        )
    for distribution in sorted(installed & set(PACKAGES)):
        import_name = PACKAGES[distribution]
        probe = (
            f"import sys, {import_name}; "
            f"print({import_name}.__version__); "
            f"print(','.join(m for m in {FORBIDDEN_FOR_PROTOCOL!r} if m in sys.modules))"
        )
        lines = run(str(python), "-I", "-c", probe).splitlines()
        installed_version, forbidden = lines[0], (lines[1] if len(lines) > 1 else "")
        if installed_version != version:
            found.append(f"{distribution}: __version__ is {installed_version}, expected {version}")
        if distribution == "reqivo-protocol" and forbidden:
            found.append(f"importing reqivo_protocol imported {forbidden}")
        if distribution == "reqivo-protocol":
            probe = (
                "from reqivo_protocol.websocket import _mask; "
                "from reqivo_protocol.http11 import _head; "
                "print(_mask.ACCELERATED, _head.ACCELERATED)"
            )
            if run(str(python), "-I", "-c", probe).strip() != "True True":
                found.append(f"{requirement}: the compiled accelerators are not in use")
        if not any(venv.glob(f"lib/python*/site-packages/{import_name}/py.typed")):
            found.append(f"{distribution}: py.typed missing from the wheel")
    return found


def main(argv: list[str]) -> int:
    """Build, install each package alone, and report."""
    drift = problems()
    if drift:
        print("\n".join(drift), file=sys.stderr)
        return 1
    version = current_version()
    work = Path(tempfile.mkdtemp(prefix="reqivo-release-check-"))
    try:
        dist = work / "dist"
        build_all(dist)
        found = check_artifacts(dist, version)
        found += check_pure_fallback(work, version)
        for requirement in EXPECTED:
            found += install_alone(requirement, dist, work, version)
    finally:
        if "--keep" in argv:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for problem in found:
        print("release-check:", problem, file=sys.stderr)
    if not found:
        print(f"release-check: {len(EXPECTED)} installs of {version} from fresh builds, all exact")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
