"""Exceptions are defined once and re-exported by every layer."""

from __future__ import annotations

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
