"""The docs world's names, for a docs snippet's process only (the harness puts this on PYTHONPATH).

``REQIVO_DOCS_WORLD="httpbin.org:80=41000 httpbin.org:443=41001 ..."`` maps a host and port
to a loopback port: ``socket.getaddrinfo`` (which asyncio's ``loop.getaddrinfo``,
``socket.create_connection``, urllib3, websockets and trio all go through) answers
127.0.0.1 and that port for them. IP literals and ``localhost`` resolve as usual; any other
name fails as an unknown name does, so a snippet cannot reach the internet by accident.
Standard library only, and cheap: it runs at every start of the process.
"""

import importlib.abc
import importlib.util
import os
import socket
import sys
from typing import Any


def _install(spec: str) -> None:
    routes: dict[tuple[str, int], int] = {}
    for item in spec.split():
        name, _, local = item.partition("=")
        host, _, port = name.rpartition(":")
        routes[(host, int(port))] = int(local)
    hosts = {host for host, _ in routes}
    real_getaddrinfo = socket.getaddrinfo
    real_gethostbyname = socket.gethostbyname

    def is_local(name: str) -> bool:
        if name.lower() in ("localhost", "localhost."):
            return True
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                socket.inet_pton(family, name.partition("%")[0])
                return True
            except OSError:
                pass
        return False

    def world_name(host: object) -> str | None:
        """The world's spelling of ``host``; None for local names; gaierror for others."""
        if host is None:
            return None
        name = host.decode("idna") if isinstance(host, bytes) else str(host)
        if is_local(name):
            return None
        name = name.lower().rstrip(".")
        if name not in hosts:
            raise socket.gaierror(
                socket.EAI_NONAME,
                f"Name or service not known ({name!r} is not a host of the docs world)",
            )
        return name

    def getaddrinfo(
        host: bytes | str | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[Any]:
        name = world_name(host)
        if name is None:
            return real_getaddrinfo(host, port, family, type, proto, flags)
        if port is None:
            return real_getaddrinfo("127.0.0.1", None, family, type, proto, flags)
        text = port.decode() if isinstance(port, bytes) else str(port)
        number = int(text) if text.isdigit() else socket.getservbyname(text, "tcp")
        local = routes.get((name, number))
        if local is None:
            served = sorted(p for h, p in routes if h == name)
            raise socket.gaierror(
                socket.EAI_SERVICE, f"{name} serves ports {served} in the docs world, not {text}"
            )
        return real_getaddrinfo("127.0.0.1", local, family, type, proto, flags)

    def gethostbyname(host: str) -> str:
        return real_gethostbyname(host) if world_name(host) is None else "127.0.0.1"

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    sys.meta_path.insert(0, _PatchUvloop())


class _PatchUvloop(importlib.abc.MetaPathFinder):
    """uvloop resolves names in libuv, past ``socket.getaddrinfo``: when a snippet imports
    it, its ``Loop`` becomes a subclass that resolves through ``socket.getaddrinfo``."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "uvloop":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            execute = spec.loader.exec_module

            def exec_module(module: Any) -> None:
                execute(module)
                module.Loop = _world_loop(module.Loop)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _world_loop(base: Any) -> Any:
    class WorldLoop(base):  # type: ignore[misc]
        async def getaddrinfo(
            self,
            host: Any,
            port: Any,
            *,
            family: int = 0,
            type: int = 0,
            proto: int = 0,
            flags: int = 0,
        ) -> Any:
            resolve = socket.getaddrinfo
            return await self.run_in_executor(None, resolve, host, port, family, type, proto, flags)

        async def create_connection(
            self, factory: Any, host: Any = None, port: Any = None, **kwargs: Any
        ) -> Any:
            if host is not None and kwargs.get("sock") is None:
                infos = await self.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                if kwargs.get("ssl") and kwargs.get("server_hostname") is None:
                    kwargs["server_hostname"] = host
                host, port = infos[0][4][:2]
            return await super().create_connection(factory, host, port, **kwargs)

    return WorldLoop


if os.environ.get("REQIVO_DOCS_WORLD"):
    _install(os.environ["REQIVO_DOCS_WORLD"])
