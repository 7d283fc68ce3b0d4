"""``trust_env``: proxy variables, NO_PROXY matching, SSL_CERT_FILE / SSL_CERT_DIR."""

from __future__ import annotations

import pytest

from reqivo_async._env import EnvironmentProxies, NoProxy, get_environment_proxies, ssl_cert_env
from reqivo_protocol._url import URL


def test_lowercase_wins_and_all_proxy_fallback() -> None:
    env = {
        "http_proxy": "http://lower:1",
        "HTTP_PROXY": "http://upper:1",
        "ALL_PROXY": "http://all:1",
        "no_proxy": " ",
    }
    assert get_environment_proxies(env) == {"http": "http://lower:1", "https": "http://all:1"}
    assert get_environment_proxies({"HTTPS_PROXY": "http://s:1", "NO_PROXY": "a"}) == {
        "https": "http://s:1",
        "no_proxy": "a",
    }
    assert get_environment_proxies({}) == {}


def test_cgi_ignores_uppercase_http_proxy() -> None:
    env = {"HTTP_PROXY": "http://attacker:1", "REQUEST_METHOD": "GET"}
    assert get_environment_proxies(env) == {}
    env["http_proxy"] = "http://ok:1"
    assert get_environment_proxies(env) == {"http": "http://ok:1"}


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypass"),
    [
        ("*", "anything.test", 80, True),
        ("example.com", "example.com", 80, True),
        ("example.com", "www.example.com", 443, True),
        ("example.com", "notexample.com", 80, False),
        (".example.com", "example.com", 80, True),
        (".example.com", "a.b.example.com", 80, True),
        ("*.example.com", "a.example.com", 80, True),
        ("example.com.", "EXAMPLE.com.", 80, True),
        ("10.0.0.0/8", "10.1.2.3", 80, True),
        ("10.0.0.0/8", "11.1.2.3", 80, False),
        ("10.0.0.0/8", "ten.test", 80, False),
        ("192.168.1.5", "192.168.1.5", 80, True),
        ("fd00::/8", "fd00::1", 80, True),
        ("[::1]:8080", "::1", 8080, True),
        ("[::1]:8080", "::1", 8081, False),
        ("[::1]", "::1", 1, True),
        ("example.com:8080", "example.com", 8080, True),
        ("example.com:8080", "example.com", 80, False),
        ("a.test, b.test  c.test", "c.test", 80, True),
        (",,.", "x.test", 80, False),
    ],
)
def test_no_proxy_matching(no_proxy: str, host: str, port: int, bypass: bool) -> None:
    assert NoProxy(no_proxy).matches(host, port) is bypass


def test_environment_proxies_for_url() -> None:
    env = EnvironmentProxies(
        {"http_proxy": "http://p:3128", "https_proxy": "http://s:3128", "no_proxy": "internal"}
    )
    assert env.for_url(URL("http://example.com/")) == "http://p:3128"
    assert env.for_url(URL("wss://example.com/")) == "http://s:3128"
    assert env.for_url(URL("ws://example.com/")) == "http://p:3128"
    assert env.for_url(URL("http://api.internal/")) is None
    only_https = EnvironmentProxies({"https_proxy": "http://s:1"})
    assert only_https.for_url(URL("http://example.com/")) is None
    assert only_https.for_url(URL("https://example.com/")) == "http://s:1"


def test_ssl_cert_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ssl_cert_env({"SSL_CERT_FILE": "/ca.pem", "SSL_CERT_DIR": ""}) == ("/ca.pem", None)
    monkeypatch.setenv("SSL_CERT_DIR", "/certs")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert ssl_cert_env() == (None, "/certs")
