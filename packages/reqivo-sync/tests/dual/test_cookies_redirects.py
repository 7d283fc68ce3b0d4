"""Cookies across requests and redirects; redirects and their limits, in both modes."""

from __future__ import annotations

from typing import Any

import pytest

from reqivo_protocol import RedirectLoopError, TooManyRedirects
from servers.models import Server
from servers.raw import ReadRequest, Repeat, Send, http_response


def test_cookies_persist_across_requests(client: Any, uvicorn_h11_server: Server) -> None:
    client.get(uvicorn_h11_server.join("/cookies/set?a=1&b=2"))
    assert client.cookies["a"] == "1"
    assert client.get(uvicorn_h11_server.join("/cookies")).json()["cookies"] == {
        "a": "1",
        "b": "2",
    }
    response = client.get(uvicorn_h11_server.join("/cookies"), cookies={"c": "3"})
    assert response.json()["cookies"] == {"a": "1", "b": "2", "c": "3"}
    assert "c" not in client.cookies  # per-request cookies do not stick
    client.cookies.clear()
    assert client.get(uvicorn_h11_server.join("/cookies")).json()["cookies"] == {}


def test_cookies_set_by_a_redirect_are_sent_to_its_target(
    client: Any, uvicorn_h11_server: Server
) -> None:
    response = client.get(uvicorn_h11_server.join("/cookies/set?token=t1&_redirect=/cookies"))
    assert response.json()["cookies"] == {"token": "t1"}
    assert response.history[0].status_code == 302
    assert response.history[0].cookies["token"] == "t1"


def test_session_cookies_option(make_client: Any, uvicorn_h11_server: Server) -> None:
    client = make_client(cookies={"given": "yes"})
    assert client.get(uvicorn_h11_server.join("/cookies")).json()["cookies"] == {"given": "yes"}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_statuses(client: Any, uvicorn_h11_server: Server, status: int) -> None:
    response = client.post(
        uvicorn_h11_server.join(f"/redirect-to?url=/echo&status={status}"), content=b"body"
    )
    echo = response.json()
    kept = status in (307, 308)
    assert echo["method"] == ("POST" if kept else "GET")
    assert echo["body_length"] == (4 if kept else 0)
    assert [r.status_code for r in response.history] == [status]
    assert str(response.url) == uvicorn_h11_server.join("/echo")


def test_redirect_chain_history_and_limits(make_client: Any, hypercorn_server: Server) -> None:
    client = make_client(max_redirects=3)
    response = client.get(hypercorn_server.join("/redirect/3"))
    assert response.status_code == 200
    assert len(response.history) == 3
    with pytest.raises(TooManyRedirects) as info:
        client.get(hypercorn_server.join("/redirect/4"))
    assert info.value.request is not None


@pytest.mark.http1_only(reason="a scripted HTTP/1.1 peer counts the requests")
def test_redirect_loop(client: Any, raw_server: Any) -> None:
    reply = http_response(302, headers=[("Location", "/again")], reason="Found")
    server = raw_server([Repeat((ReadRequest(), Send(reply)))])
    with pytest.raises(RedirectLoopError):
        client.get(server.url + "/again")
    assert server.request_count == 1  # the loop is seen before it is sent again


def test_follow_redirects_off(make_client: Any, uvicorn_h11_server: Server) -> None:
    client = make_client(follow_redirects=False)
    response = client.get(uvicorn_h11_server.join("/redirect/2"))
    assert response.status_code == 302
    assert response.is_redirect
    assert response.next_request is not None
    followed = client.send(response.next_request)
    assert followed.status_code == 302
    response = client.get(uvicorn_h11_server.join("/redirect/1"), follow_redirects=True)
    assert response.status_code == 200


def test_credentials_are_stripped_across_origins(
    client: Any, uvicorn_h11_server: Server, hypercorn_server: Server
) -> None:
    same = client.get(uvicorn_h11_server.join("/redirect-to?url=/headers"), auth=("user", "secret"))
    assert "authorization" in {n.lower() for n, _ in same.json()["headers"]}
    target = hypercorn_server.join("/headers")
    other = client.get(
        uvicorn_h11_server.join(f"/redirect-to?url={target}"),
        auth=("user", "secret"),
        headers={"Authorization": "Bearer leaked?"},
    )
    assert str(other.url) == target
    assert "authorization" not in {n.lower() for n, _ in other.json()["headers"]}
