"""TLS client contexts: secure defaults, created once and reused; certificate pinning.

Defaults: certificate and host name verification on, TLS 1.2 minimum, SNI (the host
name given to the handshake), ALPN ``http/1.1``. The trust store is the system's: the
``truststore`` package when it is importable (the operating system's verifier), else
OpenSSL's default verify paths (``ssl.create_default_context``). With ``trust_env``,
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` name the CA bundle instead.

Creating a context costs about 15 ms with OpenSSL 3 (loading the CA store), so contexts
built from ``verify=`` / ``cert=`` values are cached per process: every pool and
connection with the same settings shares one.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterable
from typing import Any, TypeAlias

from reqivo_async._env import ssl_cert_env
from reqivo_protocol import TlsError

__all__ = [
    "ALPN_PROTOCOLS",
    "CertTypes",
    "VerifyTypes",
    "check_pin",
    "create_ssl_context",
    "normalize_pins",
]

VerifyTypes: TypeAlias = "bool | str | os.PathLike[str] | ssl.SSLContext"
CertTypes: TypeAlias = "str | tuple[str, str] | tuple[str, str, str | None]"
PinTypes: TypeAlias = "str | bytes | Iterable[str | bytes]"

ALPN_PROTOCOLS = ("http/1.1",)

_CACHE: dict[tuple[Any, ...], ssl.SSLContext] = {}


def create_ssl_context(
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    *,
    trust_env: bool = True,
    alpn: tuple[str, ...] = ALPN_PROTOCOLS,
) -> ssl.SSLContext:
    """The client ``SSLContext`` for ``verify=`` and ``cert=`` (cached per process).

    ``verify``: True (the system trust store), False (no verification at all: only for
    tests), a CA bundle file or a directory of hashed CA certificates, or a ready
    ``ssl.SSLContext`` (used as given). ``cert``: a client certificate for mutual TLS:
    a PEM file holding certificate and key, ``(certfile, keyfile)`` or ``(certfile,
    keyfile, password)``. ``alpn``: the protocols offered by ALPN (``("h2",
    "http/1.1")`` for HTTP/2; set on a given context too, as httpx does).
    """
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            _load_cert(verify, cert)
        if alpn != ALPN_PROTOCOLS:
            verify.set_alpn_protocols(list(alpn))
        return verify
    env = ssl_cert_env() if trust_env and verify is True else (None, None)
    key = (os.fspath(verify) if not isinstance(verify, bool) else verify, cert, env, alpn)
    context = _CACHE.get(key)
    if context is None:
        context = _build(verify, cert, env, alpn)
        _CACHE[key] = context
    return context


def _build(
    verify: bool | str | os.PathLike[str],
    cert: CertTypes | None,
    env: tuple[str | None, str | None],
    alpn: tuple[str, ...] = ALPN_PROTOCOLS,
) -> ssl.SSLContext:
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif verify is True:
        cafile, capath = env
        if cafile or capath:
            context = ssl.create_default_context(cafile=cafile, capath=capath)
        else:
            context = _system_context()
    else:
        path = os.fspath(verify)
        if os.path.isdir(path):
            context = ssl.create_default_context(capath=path)
        elif os.path.isfile(path):
            context = ssl.create_default_context(cafile=path)
        else:
            raise ValueError(f"verify={path!r}: no such CA bundle file or directory")
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(list(alpn))
    context.post_handshake_auth = True
    if cert is not None:
        _load_cert(context, cert)
    return context


def _system_context() -> ssl.SSLContext:
    try:
        import truststore  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        # create_default_context() already loads the default verify paths (and, on
        # Windows, the system store): loading them again doubles the cost.
        return ssl.create_default_context()
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # type: ignore[no-any-return, unused-ignore]  # pragma: no cover


def _load_cert(context: ssl.SSLContext, cert: CertTypes) -> None:
    try:
        if isinstance(cert, str):
            context.load_cert_chain(cert)
        elif len(cert) == 2:
            context.load_cert_chain(cert[0], cert[1])
        else:
            context.load_cert_chain(cert[0], cert[1], cert[2])
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot load the client certificate {cert!r}: {exc}") from exc


def normalize_pins(pins: PinTypes) -> frozenset[bytes]:
    """SHA-256 pins as 32-byte digests.

    Each pin is the SHA-256 of the server certificate (DER): 64 hex digits (colons
    allowed), base64 (an optional ``sha256/`` prefix), or the 32 raw bytes.
    """
    if isinstance(pins, str | bytes):
        pins = [pins]
    digests = set()
    for pin in pins:
        digests.add(_pin_digest(pin))
    if not digests:
        raise ValueError("pin_sha256 is empty")
    return frozenset(digests)


def _pin_digest(pin: str | bytes) -> bytes:
    if isinstance(pin, bytes):
        if len(pin) == 32:
            return pin
        pin = pin.decode("ascii", "replace")
    text = pin.strip().removeprefix("sha256/").replace(":", "")
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    import base64  # lazily: only pinned connections need it

    try:
        digest = base64.b64decode(text, validate=True)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise ValueError(f"invalid SHA-256 pin {pin!r}: expected 64 hex digits or base64")
    return digest


def check_pin(ssl_object: ssl.SSLObject | None, pins: frozenset[bytes]) -> None:
    """Raise ``TlsError`` unless the peer's certificate matches one of ``pins``."""
    import hashlib  # lazily: import time matters to every user

    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise TlsError("certificate pinning: the server presented no certificate")
    digest = hashlib.sha256(der).digest()
    if digest not in pins:
        raise TlsError(
            f"certificate pinning failed: the server certificate's SHA-256 is {digest.hex()}, "
            "which matches no pin"
        )
