"""``reqivo_protocol.exceptions`` holds exactly the hierarchy the top level exports."""

from __future__ import annotations

import reqivo_protocol
from reqivo_protocol import exceptions


def test_the_module_exports_the_hierarchy_and_only_it() -> None:
    assert "ReqivoError" in exceptions.__all__
    for name in exceptions.__all__:
        value = getattr(exceptions, name)
        assert value is getattr(reqivo_protocol, name), name
        assert isinstance(value, type)
        assert issubclass(value, BaseException), name
