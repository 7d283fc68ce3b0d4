"""Fixtures of the HTTP/2 connection tests: the peers of ``h2peers``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from h2peers import H2Pair, RawServer


@pytest.fixture
def pair() -> H2Pair:
    """Our client connected to an ``h2`` server."""
    return H2Pair()


@pytest.fixture
def raw() -> RawServer:
    """Our client connected to a server of raw frames."""
    return RawServer()


@pytest.fixture
def make_pair() -> type[H2Pair]:
    """``H2Pair`` itself, to build pairs with other settings."""
    return H2Pair


@pytest.fixture
def make_raw() -> type[RawServer]:
    """``RawServer`` itself, to build servers with other settings."""
    return RawServer
