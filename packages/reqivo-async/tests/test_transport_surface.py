"""``reqivo_async.transport``: the surface kept for sibling packages and custom transports."""

from __future__ import annotations

import pytest

import reqivo_async
from reqivo_async import AsyncConnectionPool, MockTransport, Proxy, Response, transport


def test_every_listed_name_resolves() -> None:
    for name in transport.__all__:
        assert getattr(transport, name) is not None, name
    assert set(transport.__all__) <= set(dir(transport))


def test_names_shared_with_the_top_level_are_the_same_objects() -> None:
    for name in set(transport.__all__) & set(reqivo_async.__all__):
        assert getattr(transport, name) is getattr(reqivo_async, name), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        transport.no_such_name  # noqa: B018


async def test_proxy_for_asks_the_pool_and_nothing_else() -> None:
    proxy = Proxy("http://proxy.example:3128")
    async with AsyncConnectionPool(proxy=proxy, trust_env=False) as pool:
        chosen = transport.proxy_for(pool, reqivo_async.URL("http://example.com/"))
        assert chosen is not None
        assert chosen.url == proxy.url
    mock = MockTransport(lambda request: Response(200))
    assert transport.proxy_for(mock, reqivo_async.URL("http://example.com/")) is None
