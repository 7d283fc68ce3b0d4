#!/usr/bin/env python3
"""Fuzz target: the URL parser (``reqivo_protocol.URL``) and ``URL.join``.

The payload is text: a URL, optionally followed by ``0xFF`` and a reference to resolve
against it. Invariants:

* ``URL(text)`` and ``base.join(ref)`` raise only ``InvalidURL``;
* every property of a parsed URL can be read without an exception (``origin`` and
  ``validate_request_url`` may raise ``InvalidURL`` for a URL that is not absolute);
* normalisation is idempotent: ``URL(str(u)) == u`` and ``str(URL(str(u))) == str(u)``,
  for parsed and for joined URLs;
* joining a ``str`` and joining the same reference parsed first give the same URL.

Flags: bits 0-1 how the bytes become text (UTF-8 with replacement, Latin-1, UTF-8 with
``surrogateescape``, which leaves lone surrogates).
"""

from __future__ import annotations

from common import Mismatch, instrumented, main, unpack

with instrumented():
    from reqivo_protocol import URL, InvalidURL

DECODINGS = [("utf-8", "replace"), ("latin-1", "strict"), ("utf-8", "surrogateescape")]


def _exercise(url: URL) -> None:
    """Read every property; check the text form parses back to the same URL."""
    text = str(url)
    repr(url)
    hash(url)
    for name in ("scheme", "userinfo", "username", "password", "host", "port", "path"):
        getattr(url, name)
    url.query, url.fragment, url.netloc, url.target, url.effective_port  # noqa: B018
    url.is_absolute_url, url.is_relative_url, url.is_secure, url.is_default_port  # noqa: B018
    url.params.multi_items()
    if url.is_request_url:
        url.validate_request_url()
        url.origin  # noqa: B018
    try:
        again = URL(text)
    except InvalidURL as exc:
        raise Mismatch(f"str(URL) does not parse back: {text!r}: {exc}") from exc
    if again != url or str(again) != text:
        raise Mismatch(f"normalisation is not idempotent: {text!r} -> {str(again)!r}")


def test_one_input(data: bytes) -> None:
    item = unpack(data)
    encoding, errors = DECODINGS[item.flags % 3]
    base_bytes, sep, ref_bytes = item.payload.partition(b"\xff")
    base_text = base_bytes.decode(encoding, errors)
    try:
        base = URL(base_text)
    except InvalidURL:
        return
    _exercise(base)
    if not sep:
        return
    ref_text = ref_bytes.decode(encoding, errors)
    try:
        joined = base.join(ref_text)
    except InvalidURL:
        return  # an invalid reference, or one that cannot resolve against a relative base
    _exercise(joined)
    again = base.join(URL(ref_text))
    if again != joined or str(again) != str(joined):
        raise Mismatch(f"join(str) != join(URL): {str(joined)!r} vs {str(again)!r}")


if __name__ == "__main__":
    main(test_one_input)
