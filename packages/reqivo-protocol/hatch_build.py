"""Build hook: compile the optional accelerators, WebSocket masking (ADR-008) and the
HTTP/1.1 response head parser (ADR-016).

``src/reqivo_protocol/websocket/_speedups.c`` and ``src/reqivo_protocol/http11/_speedups.c``
are compiled with the building interpreter's compiler settings (setuptools' ``build_ext``,
which knows gcc, clang and MSVC) and the wheel is then tagged for that interpreter and
platform. When they cannot be built (no compiler, no Python headers) the wheel is the
pure-Python one, with a warning: the package works the same, only masking large client
messages and parsing response heads are slower.

Environment:

- ``REQIVO_NO_EXTENSIONS=1``: do not build it (a pure, ``py3-none-any`` wheel).
- ``REQIVO_REQUIRE_EXTENSIONS=1``: fail the build instead of falling back (CI, releases).

Editable installs (``uv sync`` in the workspace) put the compiled module next to the
source file, where the editable path finds it; ``.gitignore`` keeps it out of git and,
through hatch's file selection, out of sdists and of other interpreters' wheels.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: The compiled modules and their sources.
MODULES = {
    "reqivo_protocol.websocket._speedups": Path(
        "src", "reqivo_protocol", "websocket", "_speedups.c"
    ),
    "reqivo_protocol.http11._speedups": Path("src", "reqivo_protocol", "http11", "_speedups.c"),
}


def _compile(root: Path, build_dir: Path) -> dict[str, Path]:
    """Compile the extensions into ``build_dir``; return the path of each built module."""
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    extensions = [Extension(module, [str(root / source)]) for module, source in MODULES.items()]
    command = build_ext(Distribution({"name": "reqivo-protocol", "ext_modules": extensions}))
    command.build_lib = str(build_dir / "lib")
    command.build_temp = str(build_dir / "temp")
    command.ensure_finalized()
    command.run()
    return {module: Path(command.get_ext_fullpath(module)) for module in MODULES}


class SpeedupsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled ``_speedups`` modules to wheels (standard and editable)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile, then include the module and retag the wheel; or fall back to pure."""
        self._build_dir: Path | None = None
        if self.target_name != "wheel" or os.environ.get("REQIVO_NO_EXTENSIONS"):
            return
        root = Path(self.root)
        self._build_dir = build_dir = Path(tempfile.mkdtemp(prefix="reqivo-speedups-"))
        try:
            built = _compile(root, build_dir)
        except Exception as exc:
            if os.environ.get("REQIVO_REQUIRE_EXTENSIONS"):
                raise
            self.app.display_warning(
                f"reqivo-protocol: the optional accelerators were not built "
                f"({type(exc).__name__}: {exc}); building the pure-Python wheel"
            )
            return
        for module, path in built.items():
            relative = Path(*module.split(".")[:-1], path.name)
            if version == "editable":
                # Replace, never overwrite in place: a running interpreter may have it mapped.
                target = root / "src" / relative
                staged = target.with_name(target.name + ".new")
                shutil.copyfile(path, staged)
                os.replace(staged, target)
            else:
                build_data["force_include"][str(path)] = relative.as_posix()
        if version != "editable":
            build_data["pure_python"] = False
            build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the temporary build folder once the wheel holds the module."""
        if self._build_dir is not None:
            shutil.rmtree(self._build_dir, ignore_errors=True)
