"""WebSocket error messages and reprs never show a URL's password."""

from __future__ import annotations

from typing import Any

import pytest

from reqivo_ws import AsyncWebSocket, InvalidURL, WebSocket

SECRET = "s3cret"


@pytest.mark.parametrize("cls", [AsyncWebSocket, WebSocket])
def test_invalid_url_message_redacts_the_password(cls: Any) -> None:
    with pytest.raises(InvalidURL) as info:
        cls(f"ftp://bob:{SECRET}@example.com/")
    assert SECRET not in str(info.value)
    assert "'ftp://bob:[secure]@example.com/'" in str(info.value)
