"""``reqivo``'s command line grammar, without a network: :func:`parse_args`."""

from __future__ import annotations

from pathlib import Path

import pytest

from reqivo_sync._cli_args import Command, UsageError, parse_args, parse_item
from reqivo_sync._cli_output import Style, decide_style
from reqivo_sync._cli_progress import format_size, summary


@pytest.mark.parametrize(
    ("args", "method", "url"),
    [
        (["example.org"], "GET", "http://example.org"),
        (["localhost", "a==1"], "GET", "http://localhost"),
        (["get", "https://x/"], "GET", "https://x/"),
        (["PROPFIND", "x/"], "PROPFIND", "http://x/"),
        (["x/", "a=1"], "POST", "http://x/"),
        (["GET", "x/", "a=1"], "GET", "http://x/"),
        ([":8000/api"], "GET", "http://localhost:8000/api"),
        ([":/api"], "GET", "http://localhost/api"),
        (["x/", "--raw", "hi"], "POST", "http://x/"),
    ],
)
def test_method_and_url(args: list[str], method: str, url: str) -> None:
    command = parse_args(args)
    assert (command.method, command.url) == (method, url)


def test_items() -> None:
    command = Command(method="GET", url="http://x/")
    for item in ("A:1", "B:", "q==a=b", "n=1", "j:=[1]", r"a\=b=c", r"h\:x:y", "e==", "u:=null"):
        parse_item(item, command)
    assert command.headers == [("A", "1"), ("B", ""), ("h:x", "y")]
    assert command.params == [("q", "a=b"), ("e", "")]
    assert command.data == {"n": "1", "j": [1], "a=b": "c", "u": None}


def test_items_from_files(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("text")
    (tmp_path / "d.json").write_text('{"k": 1}')
    command = parse_args(
        ["x/", f"t=@{tmp_path / 't.txt'}", f"d:=@{tmp_path / 'd.json'}", f"f@{tmp_path / 't.txt'}"]
    )
    assert command.data == {"t": "text", "d": {"k": 1}}
    assert command.files == [("f", str(tmp_path / "t.txt"), None)]
    with pytest.raises(UsageError, match="cannot read"):
        parse_args(["x/", f"t=@{tmp_path / 'missing'}"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x/", ":value"], "empty header name"),
        (["x:y/"], "no such"),
        ([":port/x"], "expected :PORT/path"),
        (["--raw", "@/no/such", "x/"], "no such file"),
        (["--max-redirects", "-1", "x/"], "must not be negative"),
        (["-k", "--verify", "/etc/hosts", "x/"], "exclude each other"),
        (["--verify", "/no/such/ca.pem", "x/"], "no such CA bundle"),
        (["--cert-key", "k.pem", "x/"], "needs --cert"),
        (["-j", "-f", "x/"], "not allowed with"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    if args == ["x:y/"]:
        args = ["x/", "f@/no/such"]
    with pytest.raises(UsageError, match=message):
        parse_args(args)


def test_options() -> None:
    command = parse_args(
        [
            "-k",
            "-F",
            "--timeout",
            "1.5",
            "--proxy",
            "http://p:3128",
            "-a",
            "u:p",
            "-A",
            "digest",
            "--check-status",
            "-h",
            "--no-progress",
            "--pretty",
            "none",
            "x/",
        ]
    )
    assert command.verify is False and command.follow and command.timeout == 1.5
    assert (command.proxy, command.auth, command.auth_type) == ("http://p:3128", "u:p", "digest")
    assert command.check_status and command.print_head and command.print_body is False
    assert command.progress is False and command.pretty == "none"
    assert parse_args(["--verify", "no", "x/"]).verify is False
    assert parse_args(["--verify", "yes", "x/"]).verify is True
    assert parse_args(["--verify", "/etc/hosts", "x/"]).verify == "/etc/hosts"
    assert parse_args(["-b", "x/"]).print_head is False


@pytest.mark.parametrize(
    ("pretty", "tty", "env", "expected"),
    [
        ("auto", True, {}, Style(True, True, True)),
        ("auto", False, {}, Style(False, False, False)),
        ("auto", False, {"FORCE_COLOR": "1"}, Style(True, True, True)),
        ("auto", False, {"FORCE_COLOR": "0"}, Style(False, False, False)),
        ("auto", True, {"NO_COLOR": "1"}, Style(True, False, True)),
        ("all", False, {}, Style(False, True, True)),
        ("format", True, {}, Style(True, False, True)),
        ("colors", True, {}, Style(True, True, False)),
        ("none", True, {}, Style(True, False, False)),
    ],
)
def test_style(pretty: str, tty: bool, env: dict[str, str], expected: Style) -> None:
    assert decide_style(pretty, tty, env) == expected


def test_sizes() -> None:
    assert [format_size(n) for n in (0, 999, 1500, 2_500_000, 10**13)] == [
        "0 B",
        "999 B",
        "1.5 kB",
        "2.5 MB",
        "10.0 TB",
    ]
    assert summary(1000, "f", 0.0) == "Downloaded 1.0 kB to f in 0.00 s (0 B/s)"
