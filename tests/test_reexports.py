"""Exceptions are defined once and re-exported by every layer."""

from __future__ import annotations

import subprocess
import sys

import reqivo_async
import reqivo_protocol
import reqivo_sync
import reqivo_ws
from reqivo_protocol import _exceptions


def test_every_layer_reexports_the_same_classes() -> None:
    for name in _exceptions.__all__:
        cls = getattr(reqivo_protocol, name)
        assert getattr(reqivo_async, name) is cls
        assert getattr(reqivo_sync, name) is cls
        assert getattr(reqivo_ws, name) is cls


def test_every_layer_has_the_same_version() -> None:
    versions = {m.__version__ for m in (reqivo_protocol, reqivo_async, reqivo_sync, reqivo_ws)}
    assert len(versions) == 1


def test_every_public_name_of_reqivo_sync_resolves() -> None:
    for name in reqivo_sync.__all__:
        assert getattr(reqivo_sync, name) is not None, name
    for name in ("request", "stream", "get", "head", "options", "delete", "post", "put", "patch"):
        assert getattr(reqivo_sync, name).__module__ == "reqivo_sync._api"


def test_the_one_shot_functions_load_on_first_use() -> None:
    probe = (
        "import sys, reqivo_sync\n"
        "print('reqivo_sync._api' in sys.modules)\n"
        "from reqivo_sync import get\n"
        "print('reqivo_sync._api' in sys.modules, get is reqivo_sync.get)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "True", "True"], out.stderr
