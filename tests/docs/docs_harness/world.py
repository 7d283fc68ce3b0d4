"""Start the docs world and prepare what a snippet's process sees (see :mod:`docs_harness`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme

from servers.process import HOST, http_probe, running_process

__all__ = ["HOSTS", "WORKDIR_FILES", "World", "running_world"]

HARNESS = Path(__file__).resolve().parent
#: Where the ``sitecustomize`` of the snippets' processes is (put on their PYTHONPATH).
SITE_DIR = HARNESS / "site"
#: The environment variable carrying the name map to ``sitecustomize`` and the proxy.
ROUTES_VARIABLE = "REQIVO_DOCS_WORLD"
#: ``(host, port)`` -> which listening socket of :mod:`docs_harness.serve` answers it
#: (the order of its ``--fds``).
HOSTS: dict[tuple[str, int], str] = {
    ("httpbin.org", 80): "http",
    ("httpbin.org", 443): "https",
    ("mtls.example", 443): "mtls",
    ("echo.websocket.org", 80): "ws",
    ("echo.websocket.org", 443): "wss",
    ("proxy.example", 3128): "proxy",
}
LISTENERS = ["http", "https", "mtls", "ws", "wss", "proxy"]
#: The files every snippet's working directory holds.
WORKDIR_FILES = ("ca.pem", "client.crt", "client.key", "data.bin", "report.csv")
REPORT_CSV = "date,city,temperature\n2026-12-01,Oslo,-3\n2026-12-01,Lisbon,14\n2026-12-02,Oslo,-5\n"
#: Environment variables of the test run that must not change what a snippet does.
_DROPPED = ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "COVERAGE_PROCESS_START", "NO_COLOR")
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ws_proxy", "wss_proxy")


@dataclass(frozen=True, slots=True)
class World:
    """A running docs world: its name map, its files, and a snippet's environment."""

    routes: dict[tuple[str, int], int]
    files: Path

    @property
    def routes_spec(self) -> str:
        """The map as ``sitecustomize`` reads it: ``"httpbin.org:80=41000 ..."``."""
        return " ".join(f"{h}:{p}={local}" for (h, p), local in sorted(self.routes.items()))

    def env(self) -> dict[str, str]:
        """The environment of a snippet's process: the world's names and CA, this venv first."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in _DROPPED and k.lower() not in _PROXY_VARIABLES
        }
        bin_dir = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
        env["PYTHONPATH"] = str(SITE_DIR)
        env[ROUTES_VARIABLE] = self.routes_spec
        ca = str(self.files / "ca.pem")
        env["SSL_CERT_FILE"] = ca
        env.pop("SSL_CERT_DIR", None)
        env["REQUESTS_CA_BUNDLE"] = ca  # requests reads certifi's bundle otherwise
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def prepare(self, workdir: Path) -> Path:
        """Fill ``workdir`` with :data:`WORKDIR_FILES` (fresh copies) and return it."""
        workdir.mkdir(parents=True, exist_ok=True)
        for name in WORKDIR_FILES:
            shutil.copyfile(self.files / name, workdir / name)
        return workdir


def _write_files(directory: Path) -> None:
    ca = trustme.CA(organization_name="Reqivo docs world CA")
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    names = sorted({host for host, _ in HOSTS} | {"localhost", HOST})
    server = ca.issue_cert(*names)
    server.private_key_pem.write_to_path(str(directory / "server.key"))
    for i, blob in enumerate(server.cert_chain_pems):
        blob.write_to_path(str(directory / "server.crt"), append=i > 0)
    client = ca.issue_cert("client@docs.example", common_name="docs example client")
    client.cert_chain_pems[0].write_to_path(str(directory / "client.crt"))
    client.private_key_pem.write_to_path(str(directory / "client.key"))
    (directory / "data.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    (directory / "report.csv").write_text(REPORT_CSV)


@contextlib.contextmanager
def running_world(directory: Path) -> Iterator[World]:
    """Write the world's files into ``directory``, start its servers, stop them at exit."""
    _write_files(directory)
    with contextlib.ExitStack() as stack:
        sockets = {
            name: stack.enter_context(socket.create_server((HOST, 0), backlog=512))
            for name in LISTENERS
        }
        routes = {key: sockets[name].getsockname()[1] for key, name in HOSTS.items()}
        world = World(routes=routes, files=directory)
        fds = [sockets[name].fileno() for name in LISTENERS]
        probe_context = ssl.create_default_context(cafile=str(directory / "ca.pem"))

        def close_ours() -> None:  # only the child keeps the listening sockets
            for sock in sockets.values():
                sock.close()

        argv = [sys.executable, str(HARNESS / "serve.py"), "--fds", ",".join(map(str, fds))]
        argv += ["--certs", str(directory), "--routes", world.routes_spec]
        stack.enter_context(
            running_process(
                argv,
                name="docs world",
                log_path=directory / "world.log",
                probe=http_probe(
                    (HOST, routes[("httpbin.org", 443)]), probe_context, "httpbin.org"
                ),
                pass_fds=fds,
                before_wait=close_ours,
                stdin_pipe=True,
            )
        )
        yield world
