from __future__ import annotations

import pytest

from reqivo_protocol._exceptions import InvalidURL
from reqivo_protocol._query import QueryParams
from reqivo_protocol._url import MAX_URL_LENGTH, URL, Origin


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


# -- parsing and components ---------------------------------------------------------------


def test_components_of_a_full_url() -> None:
    url = URL("https://user:pw@Example.COM:443/a b/?q=1#f")
    assert url.scheme == "https"
    assert url.userinfo == "user:pw"
    assert url.username == "user"
    assert url.password == "pw"
    assert url.host == "example.com"
    assert url.port is None
    assert url.effective_port == 443
    assert url.is_default_port
    assert url.path == "/a%20b/"
    assert url.query == "q=1"
    assert url.fragment == "f"
    assert url.target == url.raw_path == "/a%20b/?q=1"
    assert url.netloc == url.authority == "example.com"
    assert str(url) == "https://user:pw@example.com/a%20b/?q=1#f"


def test_typical_request_url() -> None:
    url = URL("http://127.0.0.1:8000/path?x=1")
    assert (url.scheme, url.host, url.port, url.path, url.query) == (
        "http",
        "127.0.0.1",
        8000,
        "/path",
        "x=1",
    )
    assert url.netloc == "127.0.0.1:8000"
    assert url.target == "/path?x=1"
    assert url.origin == Origin("http", "127.0.0.1", 8000)
    assert not url.is_default_port
    assert url.is_request_url
    url.validate_request_url()


def test_url_from_url_copies() -> None:
    url = URL("http://a/b?c#d")
    str(url)
    _ = url.origin
    copy = URL(url)
    assert copy == url
    assert str(copy) == "http://a/b?c#d"
    assert copy.origin is url.origin


@pytest.mark.parametrize(
    ("text", "port", "effective"),
    [
        ("http://a:80/", None, 80),
        ("http://a:080/", None, 80),
        ("https://a:443/", None, 443),
        ("ws://a:80/", None, 80),
        ("wss://a:443/", None, 443),
        ("http://a:443/", 443, 443),
        ("http://a:/", None, 80),
        ("http://a:0/", 0, 0),
        ("http://a:65535/", 65535, 65535),
        ("ftp://a/", None, None),
        ("ftp://a:21/", 21, 21),
    ],
)
def test_ports(text: str, port: int | None, effective: int | None) -> None:
    url = URL(text)
    assert url.port == port
    assert url.effective_port == effective


@pytest.mark.parametrize(
    "text",
    [
        "http://a:65536/",
        "http://a:99999/",
        "http://example.com:99999/",
        "http://a:123456/",
        "http://a:x/",
        "http://a:-1/",
        "http://a:1.5/",
        "http://a:\u0661/",  # a non-ASCII digit
        "http://[::1]:x/",
        "http://a:" + "9" * 5000 + "/",
    ],
)
def test_invalid_ports(text: str) -> None:
    with pytest.raises(InvalidURL, match="invalid port"):
        URL(text)


def test_empty_path_becomes_slash_for_http_like_schemes() -> None:
    assert URL("http://a").path == "/"
    assert URL("wss://a?x").path == "/"
    assert URL("foo://a").path == ""
    assert str(URL("foo://a")) == "foo://a"
    assert URL("mailto:x@y").path == "x@y"
    assert URL("").path == ""
    assert URL("?q").target == "/?q"


def test_query_and_fragment_defined_but_empty_are_kept() -> None:
    assert str(URL("http://a/?")) == "http://a/?"
    assert str(URL("http://a/#")) == "http://a/#"
    assert URL("http://a/?").query == ""
    assert URL("http://a/?").target == "/"
    assert URL("http://a/?") != URL("http://a/")


def test_scheme_is_lowercased() -> None:
    assert URL("HTTP://a/").scheme == "http"
    assert URL("HtTpS://a/").port is None


# -- hosts --------------------------------------------------------------------------------


def test_host_is_lowercased() -> None:
    assert URL("http://EXAMPLE.com/").host == "example.com"


def test_idna_hosts() -> None:
    assert URL("http://ä.com/").host == "xn--4ca.com"
    assert URL("http://Ä.COM/").host == "xn--4ca.com"
    assert URL("http://bücher.example/").host == "xn--bcher-kva.example"
    # IDNA 2003, as the standard library implements it: ß maps to ss.
    assert URL("http://straße.de/").host == "strasse.de"
    # Full-width dots are label separators.
    assert URL(f"http://{fullwidth('example.com')}/").host == "example.com"


@pytest.mark.parametrize(
    "host",
    [
        "ä" * 64 + ".com",  # label too long
        "a..ä",  # empty label
        "xn--ä.com",  # ACE prefix on a non-ASCII label
    ],
)
def test_invalid_idna_hosts(host: str) -> None:
    with pytest.raises(InvalidURL, match="invalid international domain name"):
        URL(f"http://{host}/")


def test_idna_cannot_smuggle_a_slash_into_the_host() -> None:
    # NFKC maps the full-width solidus to "/": the result must be re-checked.
    with pytest.raises(InvalidURL, match="invalid character in host"):
        URL(f"http://{fullwidth('example.com/evil')}/")


def test_percent_encoded_hosts_are_decoded() -> None:
    assert URL("http://%61.com/").host == "a.com"
    assert URL("http://%C3%A4.com/").host == "xn--4ca.com"
    with pytest.raises(InvalidURL, match="not UTF-8"):
        URL("http://%ff.com/")
    with pytest.raises(InvalidURL, match="invalid character in host"):
        URL("http://a%2fb.com/")
    with pytest.raises(InvalidURL, match="invalid character in host"):
        URL("http://a%0a.com/")


@pytest.mark.parametrize(
    "text",
    [
        "http://a b/",
        "http://a<b/",
        "http://a^b/",
        "http://a|b/",
        "http://a\\b/",
        'http://a"b/',
        "http://a:b:c/",
        "http://a%b/",
    ],
)
def test_invalid_host_characters(text: str) -> None:
    with pytest.raises(InvalidURL):
        URL(text)


def test_ipv6_hosts() -> None:
    url = URL("http://[::1]:8080/x")
    assert url.host == "::1"
    assert url.netloc == "[::1]:8080"
    assert str(url) == "http://[::1]:8080/x"
    assert url.origin == Origin("http", "::1", 8080)
    assert str(url.origin) == "http://[::1]:8080"
    assert URL("http://[2001:DB8:0:0:0:0:0:1]/").host == "2001:db8::1"
    assert URL("http://[::ffff:1.2.3.4]/").host == "::ffff:1.2.3.4"
    assert URL("http://[::FFFF:0102:0304]/").host == "::ffff:1.2.3.4"
    assert URL("http://[::1]").netloc == "[::1]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://[::1/", "missing ']'"),
        ("http://[::g]/", "invalid IPv6 address"),
        ("http://[1.2.3.4]/", "invalid IPv6 address"),
        ("http://[v1.x]/", "invalid IPv6 address"),
        ("http://[fe80::1%25eth0]/", "zone identifiers"),
        ("http://[::1]x/", "after IPv6 address"),
        ("http://[]/", "invalid IPv6 address"),
    ],
)
def test_invalid_ipv6(text: str, message: str) -> None:
    with pytest.raises(InvalidURL, match=message):
        URL(text)


def test_ipv4_hosts() -> None:
    assert URL("http://1.2.3.4/").host == "1.2.3.4"
    assert URL("http://255.255.255.255/").host == "255.255.255.255"
    assert URL("http://0.0.0.0/").host == "0.0.0.0"
    assert URL("http://1.2.3.4.example/").host == "1.2.3.4.example"
    assert URL("http://cafe/").host == "cafe"
    assert URL("http://a.0xz/").host == "a.0xz"


@pytest.mark.parametrize(
    "host",
    [
        "256.1.1.1",
        "1.2.3",
        "127.1",
        "01.2.3.4",
        "1.2.3.4.",
        "0x7f.0.0.1",
        "a.0x7f",
        "example.123",
        "1",
    ],
)
def test_invalid_ipv4(host: str) -> None:
    with pytest.raises(InvalidURL, match="invalid IPv4 address"):
        URL(f"http://{host}/")


@pytest.mark.parametrize("scheme", ["http", "https", "ws", "wss"])
def test_empty_host_is_refused_for_request_schemes(scheme: str) -> None:
    with pytest.raises(InvalidURL, match="empty host"):
        URL(f"{scheme}:///path")
    with pytest.raises(InvalidURL, match="empty host"):
        URL(f"{scheme}://user@:80/path")


def test_empty_host_is_fine_for_other_schemes() -> None:
    url = URL("file:///etc/hosts")
    assert url.host == ""
    assert url.path == "/etc/hosts"
    assert str(url) == "file:///etc/hosts"


# -- percent-encoding and refused characters ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "query", "fragment"),
    [
        ("http://a/a b", "/a%20b", "", ""),
        ("http://a/ä", "/%C3%A4", "", ""),
        ("http://a/%41%zz%", "/%41%25zz%25", "", ""),
        ('http://a/<>"`{}|\\^[]', "/%3C%3E%22%60%7B%7D%7C%5C%5E%5B%5D", "", ""),
        ("http://a/p?a b&c=ä", "/p", "a%20b&c=%C3%A4", ""),
        ("http://a/p?<'\">{}|", "/p", "%3C%27%22%3E{}|", ""),
        ("http://a/p?%zz", "/p", "%25zz", ""),
        ('http://a/p?q#a b<>`"{}', "/p", "q", "a%20b%3C%3E%60%22{}"),
        ("http://a/p#%", "/p", "", "%25"),
        ("http://a/p#x#y", "/p", "", "x#y"),
        ("http://a/p?q=a+b", "/p", "q=a+b", ""),
        ("http://a/:@!$&'()*+,;=-._~", "/:@!$&'()*+,;=-._~", "", ""),
    ],
)
def test_percent_encoding(text: str, path: str, query: str, fragment: str) -> None:
    url = URL(text)
    assert (url.path, url.query, url.fragment) == (path, query, fragment)
    assert url.target.isascii()


def test_userinfo_encoding() -> None:
    url = URL("http://a b:p@ss@host/")
    assert url.host == "host"
    assert url.userinfo == "a%20b:p%40ss"
    assert url.username == "a b"
    assert url.password == "p@ss"


@pytest.mark.parametrize("char", ["\x00", "\r", "\n", "\t", "\x1f", "\x7f"])
@pytest.mark.parametrize(
    "template",
    [
        "http://a/x{}y",
        "http://a{}b/",
        "http://a/?q={}",
        "http://a/#{}",
        "http://u{}:p@a/",
        "{}http://a/",
        "http://a/{}",
    ],
)
def test_control_characters_are_refused_anywhere(template: str, char: str) -> None:
    with pytest.raises(InvalidURL, match="control character"):
        URL(template.format(char))


def test_request_splitting_is_impossible() -> None:
    with pytest.raises(InvalidURL):
        URL("http://a/x HTTP/1.1\r\nHost: evil\r\n\r\n")


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(InvalidURL, match="not valid Unicode"):
        URL("http://a/\ud800")
    with pytest.raises(InvalidURL, match="not valid Unicode"):
        URL("http://a/?\ud800")


def test_url_length_limit() -> None:
    URL("http://a/" + "x" * (MAX_URL_LENGTH - 9))
    with pytest.raises(InvalidURL, match="too long"):
        URL("http://a/" + "x" * (MAX_URL_LENGTH - 8))


def test_surrounding_spaces_are_stripped() -> None:
    assert URL("  http://a/b  ") == "http://a/b"


def test_type_error_for_other_types() -> None:
    with pytest.raises(TypeError):
        URL(b"http://a/")  # type: ignore[arg-type]


# -- dot segments and relative references --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("http://a/b/../c", "/c"),
        ("http://a/b/./c", "/b/c"),
        ("http://a/../../c", "/c"),
        ("http://a/b/..", "/"),
        ("http://a/b/.", "/b/"),
        ("http://a/b/c/..", "/b/"),
        ("http://a/.hidden/..x/x..", "/.hidden/..x/x.."),
        ("http://a/%2e%2e/x", "/%2e%2e/x"),
        ("foo:a/../g", "g"),
        ("foo:./g", "g"),
        ("foo:..", ""),
    ],
)
def test_dot_segments_are_removed_from_absolute_urls(text: str, path: str) -> None:
    assert URL(text).path == path


def test_relative_references_keep_their_dots() -> None:
    assert URL("../x").path == "../x"
    assert URL("./a:b").path == "./a:b"
    assert URL("../x").is_relative_url
    assert not URL("../x").is_absolute_url


def test_path_starting_with_two_slashes_without_host() -> None:
    url = URL("http:/.//x")
    assert url.path == "//x"
    assert url.host == ""
    assert str(url) == "http:/.//x"
    assert URL(str(url)) == url


def test_relative_with_authority() -> None:
    url = URL("//g/x/../y")
    assert url.host == "g"
    assert url.path == "/y"
    assert url.scheme == ""
    assert str(url) == "//g/y"


# -- RFC 3986 section 5.4 ---------------------------------------------------------------------

BASE = "http://a/b/c/d;p?q"

NORMAL_EXAMPLES = [
    ("g:h", "g:h"),
    ("g", "http://a/b/c/g"),
    ("./g", "http://a/b/c/g"),
    ("g/", "http://a/b/c/g/"),
    ("/g", "http://a/g"),
    ("//g", "http://g"),
    ("?y", "http://a/b/c/d;p?y"),
    ("g?y", "http://a/b/c/g?y"),
    ("#s", "http://a/b/c/d;p?q#s"),
    ("g#s", "http://a/b/c/g#s"),
    ("g?y#s", "http://a/b/c/g?y#s"),
    (";x", "http://a/b/c/;x"),
    ("g;x", "http://a/b/c/g;x"),
    ("g;x?y#s", "http://a/b/c/g;x?y#s"),
    ("", "http://a/b/c/d;p?q"),
    (".", "http://a/b/c/"),
    ("./", "http://a/b/c/"),
    ("..", "http://a/b/"),
    ("../", "http://a/b/"),
    ("../g", "http://a/b/g"),
    ("../..", "http://a/"),
    ("../../", "http://a/"),
    ("../../g", "http://a/g"),
]

ABNORMAL_EXAMPLES = [
    ("../../../g", "http://a/g"),
    ("../../../../g", "http://a/g"),
    ("/./g", "http://a/g"),
    ("/../g", "http://a/g"),
    ("g.", "http://a/b/c/g."),
    (".g", "http://a/b/c/.g"),
    ("g..", "http://a/b/c/g.."),
    ("..g", "http://a/b/c/..g"),
    ("./../g", "http://a/b/g"),
    ("./g/.", "http://a/b/c/g/"),
    ("g/./h", "http://a/b/c/g/h"),
    ("g/../h", "http://a/b/c/h"),
    ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
    ("g;x=1/../y", "http://a/b/c/y"),
    ("g?y/./x", "http://a/b/c/g?y/./x"),
    ("g?y/../x", "http://a/b/c/g?y/../x"),
    ("g#s/./x", "http://a/b/c/g#s/./x"),
    ("g#s/../x", "http://a/b/c/g#s/../x"),
    ("http:g", "http:g"),  # strict parser
]


@pytest.mark.parametrize(("reference", "expected"), NORMAL_EXAMPLES + ABNORMAL_EXAMPLES)
def test_rfc3986_reference_resolution(reference: str, expected: str) -> None:
    result = URL(BASE).join(reference)
    assert result == expected
    assert str(result) == str(URL(expected))
    assert URL(BASE).join(URL(reference)) == expected


def test_rfc3986_exact_text_where_no_normalisation_applies() -> None:
    base = URL(BASE)
    assert str(base.join("g?y#s")) == "http://a/b/c/g?y#s"
    assert str(base.join("//g")) == "http://g/"  # empty http path -> "/"
    assert str(base.join("http:g")) == "http:g"


def test_join_on_a_base_without_path() -> None:
    assert URL("http://a").join("g") == "http://a/g"
    assert URL("foo://a").join("g") == "foo://a/g"
    assert URL("foo://a").join("?x") == "foo://a?x"
    assert URL("mailto:x").join("y") == "mailto:y"


def test_join_keeps_userinfo_and_port_of_base() -> None:
    base = URL("https://u:p@a:8443/x/y")
    assert str(base.join("z")) == "https://u:p@a:8443/x/z"
    assert str(base.join("//b/z")) == "https://b/z"


def test_join_onto_relative_base() -> None:
    assert URL("/api/").join("v1") == "/api/v1"


# -- copy_with and params -----------------------------------------------------------------------


def test_copy_with_components() -> None:
    url = URL("http://a/p?q#f")
    assert str(url.copy_with(scheme="https")) == "https://a/p?q#f"
    assert str(url.copy_with(host="B.com")) == "http://b.com/p?q#f"
    assert str(url.copy_with(host="ä")) == "http://xn--4ca/p?q#f"
    assert str(url.copy_with(host="::1")) == "http://[::1]/p?q#f"
    assert str(url.copy_with(host="[::2]")) == "http://[::2]/p?q#f"
    assert str(url.copy_with(port=8080)) == "http://a:8080/p?q#f"
    assert str(url.copy_with(port=80)) == "http://a/p?q#f"
    assert str(url.copy_with(port=None)) == "http://a/p?q#f"
    assert str(url.copy_with(path="/x y")) == "http://a/x%20y?q#f"
    assert str(url.copy_with(path="/x/../y")) == "http://a/y?q#f"
    assert str(url.copy_with(path="")) == "http://a/?q#f"
    assert str(url.copy_with(query="a b")) == "http://a/p?a%20b#f"
    assert str(url.copy_with(query=None)) == "http://a/p#f"
    assert str(url.copy_with(fragment="x y")) == "http://a/p?q#x%20y"
    assert str(url.copy_with(fragment=None)) == "http://a/p?q"
    assert str(url.copy_with(params={"a": 1, "b": [True, None]})) == "http://a/p?a=1&b=true&b=#f"
    assert str(url.copy_with(params={})) == "http://a/p#f"


def test_copy_with_userinfo() -> None:
    url = URL("http://a/")
    with_user = url.copy_with(username="us:er@x")
    assert str(with_user) == "http://us%3Aer%40x@a/"
    assert with_user.username == "us:er@x"
    both = with_user.copy_with(password="p:w@")
    assert str(both) == "http://us%3Aer%40x:p:w%40@a/"
    assert both.password == "p:w@"
    assert str(both.copy_with(username="new")) == "http://new:p:w%40@a/"
    assert str(both.copy_with(password=None)) == "http://us%3Aer%40x@a/"
    assert str(url.copy_with(userinfo="x:y")) == "http://x:y@a/"
    assert str(url.copy_with(password="pw")) == "http://:pw@a/"


def test_copy_with_scheme_change_keeps_non_default_port() -> None:
    assert str(URL("http://a:8080/").copy_with(scheme="https")) == "https://a:8080/"
    assert str(URL("http://a:443/").copy_with(scheme="https")) == "https://a/"
    assert str(URL("http://a/").copy_with(scheme="WS")) == "ws://a/"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scheme": "1x"}, "invalid URL scheme"),
        ({"host": "a b"}, "invalid character in host"),
        ({"host": "a\r\nb"}, "invalid character in host"),
        ({"host": "[::g]"}, "invalid IPv6"),
        ({"host": ""}, "needs a host"),
        ({"port": 65536}, "invalid port"),
        ({"port": -1}, "invalid port"),
        ({"port": "80"}, "invalid port"),
        ({"port": True}, "invalid port"),
        ({"path": "x"}, "must start with '/'"),
        ({"path": "/a\r\nb"}, "control character"),
        ({"query": "a\nb"}, "control character"),
        ({"fragment": "\x00"}, "control character"),
        ({"username": "\n"}, "control character"),
        ({"password": "\r"}, "control character"),
    ],
)
def test_copy_with_refuses_invalid_components(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidURL, match=message):
        URL("http://a/p").copy_with(**kwargs)


def test_copy_with_type_errors() -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        URL("http://a/").copy_with(nope=1)
    with pytest.raises(TypeError, match="expects a str"):
        URL("http://a/").copy_with(path=1)


def test_copy_with_on_relative_urls() -> None:
    rel = URL("x/y")
    assert str(rel.copy_with(path="a")) == "a"
    with pytest.raises(InvalidURL, match="first segment"):
        rel.copy_with(path="a:b")
    with pytest.raises(InvalidURL, match="starting with '//'"):
        rel.copy_with(path="//a")
    with pytest.raises(InvalidURL, match="userinfo or a port"):
        rel.copy_with(port=1)
    assert str(rel.copy_with(host="h")) == "//h/x/y"
    assert str(URL("http://a/x").copy_with(host=None)) == "http:/x"
    assert str(URL("http:x").copy_with(host="a")) == "http://a/x"
    assert str(rel.copy_with(scheme="http", host="a")) == "http://a/x/y"


def test_params_helpers() -> None:
    url = URL("http://a/p?a=1&b=2&a=3")
    assert url.params == QueryParams("a=1&b=2&a=3")
    assert url.params.get_list("a") == ["1", "3"]
    assert str(url.copy_merge_params({"a": "x", "c": "y z"})) == "http://a/p?b=2&a=x&c=y+z"
    assert url.copy_merge_params({}) is url
    assert url.copy_merge_params(None) is url
    assert str(url.copy_set_param("b", 5)) == "http://a/p?a=1&b=5&a=3"
    assert str(url.copy_add_param("b", False)) == "http://a/p?a=1&b=2&a=3&b=false"
    assert str(url.copy_remove_param("a")) == "http://a/p?b=2"
    assert str(url.copy_remove_param("a").copy_remove_param("b")) == "http://a/p"
    assert URL("http://a/").params == QueryParams()


# -- equality, hashing, representation -------------------------------------------------------


def test_equality_and_hash() -> None:
    assert URL("HTTP://A:80/") == URL("http://a/")
    assert URL("http://a/") == "http://a:80"
    assert URL("http://a/") != "http://b/"
    assert URL("http://a/") != "http://a:99999/"
    assert URL("http://a/") != 1
    assert hash(URL("HTTP://A:80")) == hash(URL("http://a/"))
    assert len({URL("http://a"), URL("http://a/"), URL("http://a:80/")}) == 1


def test_repr_hides_the_password() -> None:
    url = URL("https://user:secret@a/")
    assert "secret" not in repr(url)
    assert repr(url) == "URL('https://user:[secure]@a/')"
    assert repr(URL("https://user@a/")) == "URL('https://user@a/')"
    assert str(url) == "https://user:secret@a/"


def test_url_is_immutable() -> None:
    url = URL("http://a/")
    with pytest.raises(AttributeError):
        url.host = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        url.other = 1  # type: ignore[attr-defined]


# -- request usability ----------------------------------------------------------------------


def test_request_url_checks() -> None:
    for text in ("http://a/", "https://a/", "ws://a/", "wss://a/"):
        assert URL(text).is_request_url
    assert URL("wss://a/").is_secure
    assert not URL("http://a/").is_secure
    with pytest.raises(InvalidURL, match=r"has no scheme.*did you mean 'https://example\.com/x'"):
        URL("example.com/x").validate_request_url()
    with pytest.raises(InvalidURL, match="has no scheme") as info:
        URL("//example.com/x").validate_request_url()
    assert "did you mean" not in str(info.value)
    with pytest.raises(InvalidURL, match="unsupported URL scheme 'ftp'"):
        URL("ftp://a/").validate_request_url()
    with pytest.raises(InvalidURL, match="unsupported URL scheme 'localhost'"):
        URL("localhost:8000").validate_request_url()
    with pytest.raises(InvalidURL, match="has no host"):
        URL("http:g").validate_request_url()
    assert not URL("http:g").is_request_url


def test_origin() -> None:
    assert URL("https://a/").origin == URL("https://a:443/x").origin
    assert URL("https://a/").origin != URL("http://a/").origin
    assert str(URL("https://a/").origin) == "https://a:443"
    assert str(URL("foo://a").origin) == "foo://a"
    origin = URL("http://a/").origin
    assert URL("http://a/").origin == origin
    assert hash(origin) == hash(Origin("http", "a", 80))


def test_errors_never_echo_credentials() -> None:
    with pytest.raises(InvalidURL) as info:
        URL("http://user:s3cret\n@a/")
    assert "s3cret" not in str(info.value)
    assert "position 18" in str(info.value)
    with pytest.raises(InvalidURL) as info:
        URL("http://user:s3cret@:80/")
    assert "s3cret" not in str(info.value)
    with pytest.raises(InvalidURL) as info:
        URL("http://a/").copy_with(password="s3cret\ud800")
    assert "s3cret" not in str(info.value)
    with pytest.raises(InvalidURL) as info:
        URL("ftp://user:s3cret@a/").validate_request_url()
    assert "s3cret" not in str(info.value)
    assert "[secure]" in str(info.value)
    with pytest.raises(InvalidURL, match="not valid Unicode"):
        URL("http://a/").copy_with(path="/\ud800")
