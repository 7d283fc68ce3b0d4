"""One-shot requests: ``reqivo_sync.get(url)`` and friends, as requests and httpx offer.

Each call makes a ``Session`` with the options given, sends one request through it and
closes it (its connection included) before returning, so nothing is kept between calls:
no cookies, no pooled connection. That is the convenience of a script or a REPL; code
that sends several requests should hold a ``Session`` (it reuses connections: a one-shot
call pays a new connection, and a TLS handshake for ``https``, every time).

``stream()`` is a context manager: the Session lives until the block ends::

    with reqivo_sync.stream("GET", url) as response:
        for chunk in response.iter_bytes():
            ...

The options are those of ``Session.request`` (``params``, ``headers``, ``cookies``, the
body, ``auth``, ``timeout``, ``follow_redirects``, ``retries``, ``extensions``) plus the
Session's connection options ``verify``, ``cert``, ``proxy`` and ``trust_env``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from reqivo_async.transport import DEFAULT_TIMEOUT
from reqivo_sync._session import Session

if TYPE_CHECKING:
    from reqivo_async import Retry
    from reqivo_async.transport import (
        AuthTypes,
        CertTypes,
        CookieTypes,
        ProxyTypes,
        RequestContentTypes,
        RequestData,
        RequestFiles,
        TimeoutTypes,
        VerifyTypes,
    )
    from reqivo_protocol import URL, HeaderTypes, QueryParamTypes
    from reqivo_sync._models import Response

__all__ = ["delete", "get", "head", "options", "patch", "post", "put", "request", "stream"]


def _session(
    auth: AuthTypes,
    timeout: TimeoutTypes,
    follow_redirects: bool,
    retries: Retry | int | None,
    verify: VerifyTypes,
    cert: CertTypes | None,
    proxy: ProxyTypes,
    trust_env: bool,
) -> Session:
    return Session(
        auth=auth,
        timeout=timeout,
        follow_redirects=follow_redirects,
        retries=retries,
        verify=verify,
        cert=cert,
        proxy=proxy,
        trust_env=trust_env,
    )


def request(
    method: str,
    url: URL | str,
    *,
    params: QueryParamTypes | None = None,
    headers: HeaderTypes | None = None,
    cookies: CookieTypes | None = None,
    content: RequestContentTypes = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    auth: AuthTypes = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    retries: Retry | int | None = None,
    extensions: dict[str, Any] | None = None,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    proxy: ProxyTypes = None,
    trust_env: bool = True,
) -> Response:
    """Send one request with a Session made for it (closed before returning); body read.

    ``reqivo_sync.request("GET", url, params=..., timeout=(3.05, 27))``: the options of
    ``Session.request`` and the Session's ``verify``, ``cert``, ``proxy``, ``trust_env``.
    """
    with _session(
        auth, timeout, follow_redirects, retries, verify, cert, proxy, trust_env
    ) as session:
        return session.request(
            method,
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            content=content,
            data=data,
            files=files,
            json=json,
            extensions=extensions,
        )


@contextlib.contextmanager
def stream(
    method: str,
    url: URL | str,
    *,
    params: QueryParamTypes | None = None,
    headers: HeaderTypes | None = None,
    cookies: CookieTypes | None = None,
    content: RequestContentTypes = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    auth: AuthTypes = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    retries: Retry | int | None = None,
    extensions: dict[str, Any] | None = None,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    proxy: ProxyTypes = None,
    trust_env: bool = True,
) -> Iterator[Response]:
    """``with reqivo_sync.stream("GET", url) as response:`` the body is not read yet.

    Iterate ``response.iter_bytes()`` (or ``iter_text``, ``iter_lines``, ``iter_raw``)
    inside the block; the response and its Session are closed when the block ends. The
    options are those of ``request()``.
    """
    with (
        _session(auth, timeout, follow_redirects, retries, verify, cert, proxy, trust_env) as s,
        s.stream(
            method,
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            content=content,
            data=data,
            files=files,
            json=json,
            extensions=extensions,
        ) as response,
    ):
        yield response


def get(
    url: URL | str,
    *,
    params: QueryParamTypes | None = None,
    headers: HeaderTypes | None = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    retries: Retry | int | None = None,
    extensions: dict[str, Any] | None = None,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    proxy: ProxyTypes = None,
    trust_env: bool = True,
) -> Response:
    """Send one GET request (see ``request()``)."""
    return request(
        "GET",
        url,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        timeout=timeout,
        follow_redirects=follow_redirects,
        retries=retries,
        extensions=extensions,
        verify=verify,
        cert=cert,
        proxy=proxy,
        trust_env=trust_env,
    )


def head(
    url: URL | str,
    *,
    params: QueryParamTypes | None = None,
    headers: HeaderTypes | None = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    retries: Retry | int | None = None,
    extensions: dict[str, Any] | None = None,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    proxy: ProxyTypes = None,
    trust_env: bool = True,
) -> Response:
    """Send one HEAD request (see ``request()``; redirects are followed, as by a Session)."""
    return request(
        "HEAD",
        url,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        timeout=timeout,
        follow_redirects=follow_redirects,
        retries=retries,
        extensions=extensions,
        verify=verify,
        cert=cert,
        proxy=proxy,
        trust_env=trust_env,
    )


def options(
    url: URL | str,
    *,
    params: QueryParamTypes | None = None,
    headers: HeaderTypes | None = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    retries: Retry | int | None = None,
    extensions: dict[str, Any] | None = None,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    proxy: ProxyTypes = None,
    trust_env: bool = True,
) -> Response:
    """Send one OPTIONS request (see ``request()``)."""
    return request(
        "OPTIONS",
        url,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        timeout=timeout,
        follow_redirects=follow_redirects,
        retries=retries,
        extensions=extensions,
        verify=verify,
        cert=cert,
        proxy=proxy,
        trust_env=trust_env,
    )


def delete(
    url: URL | str,
    *,
    params: QueryParamTypes | None = None,
    headers: HeaderTypes | None = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    retries: Retry | int | None = None,
    extensions: dict[str, Any] | None = None,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    proxy: ProxyTypes = None,
    trust_env: bool = True,
) -> Response:
    """Send one DELETE request (see ``request()``; use ``request("DELETE", ...)`` to send
    a body)."""
    return request(
        "DELETE",
        url,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        timeout=timeout,
        follow_redirects=follow_redirects,
        retries=retries,
        extensions=extensions,
        verify=verify,
        cert=cert,
        proxy=proxy,
        trust_env=trust_env,
    )


def post(
    url: URL | str,
    *,
    content: RequestContentTypes = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    params: QueryParamTypes | None = None,
    headers: HeaderTypes | None = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    retries: Retry | int | None = None,
    extensions: dict[str, Any] | None = None,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    proxy: ProxyTypes = None,
    trust_env: bool = True,
) -> Response:
    """Send one POST request (see ``request()``)."""
    return request(
        "POST",
        url,
        content=content,
        data=data,
        files=files,
        json=json,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        timeout=timeout,
        follow_redirects=follow_redirects,
        retries=retries,
        extensions=extensions,
        verify=verify,
        cert=cert,
        proxy=proxy,
        trust_env=trust_env,
    )


def put(
    url: URL | str,
    *,
    content: RequestContentTypes = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    params: QueryParamTypes | None = None,
    headers: HeaderTypes | None = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    retries: Retry | int | None = None,
    extensions: dict[str, Any] | None = None,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    proxy: ProxyTypes = None,
    trust_env: bool = True,
) -> Response:
    """Send one PUT request (see ``request()``)."""
    return request(
        "PUT",
        url,
        content=content,
        data=data,
        files=files,
        json=json,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        timeout=timeout,
        follow_redirects=follow_redirects,
        retries=retries,
        extensions=extensions,
        verify=verify,
        cert=cert,
        proxy=proxy,
        trust_env=trust_env,
    )


def patch(
    url: URL | str,
    *,
    content: RequestContentTypes = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    params: QueryParamTypes | None = None,
    headers: HeaderTypes | None = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    retries: Retry | int | None = None,
    extensions: dict[str, Any] | None = None,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    proxy: ProxyTypes = None,
    trust_env: bool = True,
) -> Response:
    """Send one PATCH request (see ``request()``)."""
    return request(
        "PATCH",
        url,
        content=content,
        data=data,
        files=files,
        json=json,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        timeout=timeout,
        follow_redirects=follow_redirects,
        retries=retries,
        extensions=extensions,
        verify=verify,
        cert=cert,
        proxy=proxy,
        trust_env=trust_env,
    )
