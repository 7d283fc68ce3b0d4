"""The exception hierarchy: shape, attributes and the built-in classes it joins."""

from __future__ import annotations

import pickle

import pytest

import reqivo_protocol as rp


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (rp.InvalidURL, rp.ReqivoError),
        (rp.TransportError, rp.RequestError),
        (rp.ConnectTimeout, rp.TimeoutException),
        (rp.ReadTimeout, rp.TimeoutException),
        (rp.WriteTimeout, rp.TimeoutException),
        (rp.PoolTimeout, rp.TimeoutException),
        (rp.TimeoutException, rp.TransportError),
        (rp.TimeoutException, TimeoutError),
        (rp.ConnectError, rp.NetworkError),
        (rp.ReadError, rp.NetworkError),
        (rp.WriteError, rp.NetworkError),
        (rp.NetworkError, rp.TransportError),
        (rp.TlsError, rp.TransportError),
        (rp.ProxyError, rp.TransportError),
        (rp.LocalProtocolError, rp.ProtocolError),
        (rp.RemoteProtocolError, rp.ProtocolError),
        (rp.ProtocolError, rp.TransportError),
        (rp.HeadersTooLarge, rp.LimitExceeded),
        (rp.TooManyHeaders, rp.LimitExceeded),
        (rp.LineTooLong, rp.LimitExceeded),
        (rp.BodyTooLarge, rp.LimitExceeded),
        (rp.LimitExceeded, rp.RemoteProtocolError),
        (rp.DecompressionLimitExceeded, rp.LimitExceeded),
        (rp.DecompressionLimitExceeded, rp.DecodingError),
        (rp.DecodingError, rp.RequestError),
        (rp.RedirectLoopError, rp.TooManyRedirects),
        (rp.TooManyRedirects, rp.RequestError),
        (rp.HTTPStatusError, rp.ReqivoError),
        (rp.HandshakeError, rp.WebSocketError),
        (rp.WebSocketProtocolError, rp.WebSocketError),
        (rp.WebSocketProtocolError, rp.RemoteProtocolError),
        (rp.MessageTooBig, rp.WebSocketProtocolError),
        (rp.MessageTooBig, rp.LimitExceeded),
        (rp.ConnectionClosedOK, rp.ConnectionClosed),
        (rp.ConnectionClosedError, rp.ConnectionClosed),
        (rp.ConnectionClosed, rp.WebSocketError),
        (rp.WebSocketError, rp.ReqivoError),
    ],
)
def test_hierarchy(child: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(child, parent)


def test_http_status_error_is_not_a_request_error() -> None:
    assert not issubclass(rp.HTTPStatusError, rp.RequestError)


def test_request_error_carries_its_request() -> None:
    error = rp.ConnectError("refused", request="the request")
    assert error.request == "the request"
    assert str(error) == "refused"
    assert rp.RemoteProtocolError("bad").request is None


def test_timeouts_are_builtin_timeouts_without_errno_confusion() -> None:
    error = rp.ReadTimeout("timed out after 5.0 s", request=1)
    assert isinstance(error, TimeoutError)
    assert isinstance(error, OSError)
    assert str(error) == "timed out after 5.0 s"
    assert error.errno is None
    assert error.request == 1
    with pytest.raises(TimeoutError):
        raise error


def test_limit_exceeded_names_the_limit() -> None:
    error = rp.HeadersTooLarge("too large", limit_name="max_header_size", limit=10)
    assert (error.limit_name, error.limit) == ("max_header_size", 10)


def test_message_too_big_closes_with_1009() -> None:
    error = rp.MessageTooBig("message of 2000 bytes", limit_name="max_message_size", limit=1000)
    assert error.close_code == 1009
    assert error.limit == 1000
    assert error.request is None
    assert rp.WebSocketProtocolError("masked frame").close_code == 1002


def test_decompression_limit_is_both_a_limit_and_a_decoding_error() -> None:
    error = rp.DecompressionLimitExceeded("bomb", limit_name="max_decompressed_size", limit=5)
    with pytest.raises(rp.DecodingError):
        raise error


def test_http_status_error_carries_request_and_response() -> None:
    error = rp.HTTPStatusError("404 Not Found", request="q", response="r")
    assert (error.request, error.response) == ("q", "r")


def test_handshake_error_carries_the_response() -> None:
    assert rp.HandshakeError("refused", response="r").response == "r"


def test_connection_closed_describes_code_and_reason() -> None:
    closed = rp.ConnectionClosedOK(1000, "bye")
    assert (closed.code, closed.reason) == (1000, "bye")
    assert str(closed) == "WebSocket connection closed with code 1000: bye"
    assert str(rp.ConnectionClosedError(1006)) == "WebSocket connection closed with code 1006"
    assert str(rp.ConnectionClosedError(1011, message="custom")) == "custom"


def test_simple_errors_pickle() -> None:
    error = rp.InvalidURL("bad url")
    assert str(pickle.loads(pickle.dumps(error))) == "bad url"
