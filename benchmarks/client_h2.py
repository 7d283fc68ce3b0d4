"""HTTP/2 against nginx over TLS on loopback: reqivo-async (h2 and HTTP/1.1) and the peers.

The scenarios of the HTTP/2 issue's proof, side by side in one run:

- 256 concurrent ``GET /1k`` through one client (req/s): httpx ``http2=True``, pyreqwest
  on h2 and on HTTP/1.1, aiohttp (HTTP/1.1), reqivo on HTTP/1.1 with 256 connections
  (``Limits(max_connections=256)``) and reqivo on h2 (``AsyncSession(http2=True)``);
- sequential keep-alive ``GET /1k`` over TLS (req/s): reqivo h2 against reqivo HTTP/1.1
  (and the h2 peers for scale);
- 64 MiB download over TLS, streamed (MB/s, 1 MB = 10**6 bytes): h2 against HTTP/1.1.

nginx's HTTP/2 settings are its defaults (128 concurrent streams per connection: the 256
concurrent requests queue on one h2 connection, as the issue wants them to), see
``packages/reqivo-async/tests/servers/nginx.py``. Every client trusts the throw-away CA of
the run and nothing else. The reqivo-h2 contender is skipped, with a note, while
``AsyncSession`` has no ``http2`` switch.

Each measurement runs for ``REQIVO_BENCH_SECONDS`` (default 2.5 s) on a fresh event loop
and a fresh client (warmed up first); ``REQIVO_BENCH_ROUNDS`` rounds (default 3) alternate
the contenders' order; the table shows the best and the median round with the spread.
``REQIVO_BENCH_SCENARIOS=concurrent,sequential,download`` measures only those.

Run: ``uv run python -m benchmarks client_h2``. Without nginx it prints how to install it.
"""

from __future__ import annotations

import gc
import inspect
import os
import ssl
import statistics
from typing import Any

from benchmarks._harness import Measurement, run_on
from benchmarks._nginx import NginxUnavailable, start_nginx
from benchmarks.client_async import measure_opened

TITLE = "HTTP/2 clients against nginx over TLS (reqivo-async h2 vs httpx, pyreqwest, aiohttp)"

SECONDS = float(os.environ.get("REQIVO_BENCH_SECONDS", "2.5"))
ROUNDS = int(os.environ.get("REQIVO_BENCH_ROUNDS", "3"))
CONCURRENCY = 256

CONCURRENT = f"{CONCURRENCY} concurrent GET 1 KiB (TLS)"
SEQUENTIAL = "sequential GET 1 KiB (TLS)"
DOWNLOAD = "64 MiB download (TLS, streamed)"
ALL_SCENARIOS = {"concurrent": CONCURRENT, "sequential": SEQUENTIAL, "download": DOWNLOAD}
_CHOSEN = os.environ.get("REQIVO_BENCH_SCENARIOS", "")
SCENARIOS = [ALL_SCENARIOS[key] for key in _CHOSEN.split(",") if key] or list(
    ALL_SCENARIOS.values()
)
UNITS = {CONCURRENT: "req/s", SEQUENTIAL: "req/s", DOWNLOAD: "MB/s"}
#: The issue's targets: (scenario, reqivo-h2's rate over this contender's) >= value.
TARGETS = {
    (CONCURRENT, "httpx-h2"): 10.0,
    (CONCURRENT, "reqivo-h1"): 1.0,
    (CONCURRENT, "pyreqwest-h2"): 0.8,
    (SEQUENTIAL, "reqivo-h1"): 0.9,
    (DOWNLOAD, "reqivo-h1"): 0.8,
}


def reqivo_has_http2() -> bool:
    """Whether ``AsyncSession`` takes ``http2=`` yet."""
    from reqivo_async import AsyncSession

    return "http2" in inspect.signature(AsyncSession).parameters


# -- the contenders ---------------------------------------------------------------------------


class _Contender:
    """A client under test: ``open(ca)``, ``get(url)`` -> body length, ``stream(url)``."""

    name = ""
    http2 = False

    async def open(self, ca_bundle: str) -> None:
        raise NotImplementedError

    async def get(self, url: str) -> int:
        raise NotImplementedError

    async def stream(self, url: str) -> int:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class _SessionShaped(_Contender):
    """A client whose ``session`` has httpx's shape (``get``, ``stream``, ``aclose``)."""

    session: Any

    async def get(self, url: str) -> int:
        return len((await self.session.get(url)).content)

    async def stream(self, url: str) -> int:
        received = 0
        async with self.session.stream("GET", url) as response:
            async for chunk in response.aiter_bytes():
                received += len(chunk)
        return received

    async def close(self) -> None:
        await self.session.aclose()


class Reqivo(_SessionShaped):
    """reqivo-async ``AsyncSession``, HTTP/1.1, up to 256 connections."""

    name = "reqivo-h1"

    def _options(self) -> dict[str, Any]:
        from reqivo_async import Limits

        return {"limits": Limits(max_connections=CONCURRENCY, max_keepalive_connections=256)}

    async def open(self, ca_bundle: str) -> None:
        from reqivo_async import AsyncSession

        self.session = AsyncSession(verify=ca_bundle, **self._options())


class ReqivoH2(Reqivo):
    """reqivo-async ``AsyncSession(http2=True)``: one multiplexed connection."""

    name = "reqivo-h2"
    http2 = True

    def _options(self) -> dict[str, Any]:
        return {"http2": True}


class HttpxH2(_SessionShaped):
    """httpx ``AsyncClient(http2=True)`` (httpcore + the h2 package)."""

    name = "httpx-h2"
    http2 = True

    async def open(self, ca_bundle: str) -> None:
        import httpx

        context = ssl.create_default_context(cafile=ca_bundle)
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        self.session = httpx.AsyncClient(http2=True, verify=context, limits=limits)


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


class Pyreqwest(_Contender):
    """pyreqwest (Rust reqwest/hyper on its own tokio thread), HTTP/1.1."""

    name = "pyreqwest-h1"

    async def open(self, ca_bundle: str) -> None:
        from pyreqwest.client import ClientBuilder

        builder = ClientBuilder().add_root_certificate_pem(_read(ca_bundle))
        self.client = (builder.http2(True) if self.http2 else builder.http1_only()).build()

    async def get(self, url: str) -> int:
        response = await self.client.get(url).build().send()
        return len(await response.bytes())

    async def stream(self, url: str) -> int:
        received = 0
        async with self.client.get(url).build_streamed() as response:
            reader = response.body_reader
            while (chunk := await reader.read_chunk()) is not None:
                received += len(chunk)
        return received

    async def close(self) -> None:
        await self.client.close()


class PyreqwestH2(Pyreqwest):
    """pyreqwest with ``http2(True)``: h2 by ALPN."""

    name = "pyreqwest-h2"
    http2 = True


class Aiohttp(_Contender):
    """aiohttp ``ClientSession`` (HTTP/1.1 only), up to 256 connections."""

    name = "aiohttp-h1"

    async def open(self, ca_bundle: str) -> None:
        import aiohttp

        context = ssl.create_default_context(cafile=ca_bundle)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY, ssl=context)
        self.session = aiohttp.ClientSession(connector=connector)

    async def get(self, url: str) -> int:
        async with self.session.get(url) as response:
            return len(await response.read())

    async def stream(self, url: str) -> int:
        received = 0
        async with self.session.get(url) as response:
            async for chunk in response.content.iter_any():
                received += len(chunk)
        return received

    async def close(self) -> None:
        await self.session.close()


CONTENDERS: dict[str, list[type[_Contender]]] = {
    CONCURRENT: [ReqivoH2, Reqivo, HttpxH2, PyreqwestH2, Pyreqwest, Aiohttp],
    SEQUENTIAL: [ReqivoH2, Reqivo, HttpxH2, PyreqwestH2],
    DOWNLOAD: [ReqivoH2, Reqivo, HttpxH2, PyreqwestH2, Pyreqwest, Aiohttp],
}


# -- measuring --------------------------------------------------------------------------------


#: The kind of each scenario, for ``client_async.measure_opened``.
KINDS = {SEQUENTIAL: "sequential", CONCURRENT: "concurrent", DOWNLOAD: "download"}


async def _measure_once(
    client: _Contender, scenario: str, base: str, ca_bundle: str, seconds: float
) -> float:
    await client.open(ca_bundle)
    try:
        return await measure_opened(client, KINDS[scenario], base, seconds, CONCURRENCY)
    finally:
        await client.close()


def _contenders(scenario: str, with_h2: bool) -> list[type[_Contender]]:
    return [c for c in CONTENDERS[scenario] if with_h2 or c is not ReqivoH2]


def measure_clients(
    base: str, ca_bundle: str, seconds: float = SECONDS, rounds: int = ROUNDS
) -> list[Measurement]:
    """Every scenario for every contender, ``rounds`` alternating rounds."""
    with_h2 = reqivo_has_http2()
    if not with_h2:
        print("  note: reqivo-h2 skipped: AsyncSession does not take http2= yet", flush=True)
    results: dict[tuple[str, str], Measurement] = {}
    for scenario in SCENARIOS:
        for factory in _contenders(scenario, with_h2):
            results[scenario, factory.name] = Measurement(scenario, factory.name, UNITS[scenario])
    for number in range(rounds):
        for scenario in SCENARIOS:
            contenders = _contenders(scenario, with_h2)
            shift = number % len(contenders)
            for factory in contenders[shift:] + contenders[:shift]:
                gc.collect()
                rate = run_on(
                    "asyncio", _measure_once(factory(), scenario, base, ca_bundle, seconds)
                )
                results[scenario, factory.name].rates.append(rate)
                print(
                    f"  round {number + 1}/{rounds}  {scenario:<36} {factory.name:<14} "
                    f"{rate:>12,.1f} {UNITS[scenario]}",
                    flush=True,
                )
    return list(results.values())


def ratio_table(results: list[Measurement]) -> str:
    """reqivo-h2's median rate over each contender's, against the issue's targets."""
    medians = {(m.scenario, m.contender): m.median for m in results}
    lines = ["reqivo-h2's median rate over the contender's (the issue's targets):"]
    for (scenario, peer), target in TARGETS.items():
        ours, theirs = medians.get((scenario, "reqivo-h2")), medians.get((scenario, peer))
        if ours is None or theirs is None:
            lines.append(f"  {scenario:<36} vs {peer:<14} target >={target:g}: not measured")
            continue
        ratio = ours / theirs
        mark = "ok" if ratio >= target else "MISS"
        lines.append(f"  {scenario:<36} vs {peer:<14} {ratio:6.2f}x (>={target:g} {mark})")
    return "\n".join(lines)


def median_table(results: list[Measurement]) -> str:
    """Median and spread per contender (the harness's table shows the best round first)."""
    lines = [f"{'scenario':<36} {'contender':<14} {'median':>12} {'spread':>7}  rounds"]
    for m in results:
        rounds = ", ".join(f"{rate:,.0f}" for rate in m.rates)
        lines.append(
            f"{m.scenario:<36} {m.contender:<14} {statistics.median(m.rates):>12,.1f} "
            f"{m.spread:>7.0%}  {rounds} {m.unit}"
        )
    return "\n".join(lines)


# -- the suite --------------------------------------------------------------------------------


def run() -> list[Measurement]:
    """Start nginx with TLS, measure every client, print medians, spreads and ratios."""
    try:
        with start_nginx(tls=True) as nginx:
            print(
                f"\n## {TITLE}: {ROUNDS} rounds of {SECONDS:g} s per measurement",
                flush=True,
            )
            results = measure_clients(nginx.https_url, nginx.ca_bundle)
    except NginxUnavailable as exc:
        print(f"\n## {TITLE}\n\nSKIPPED: {exc}")
        print("Install it with: bash scripts/ci-services.sh (Debian package nginx)")
        return []
    print()
    print(median_table(results))
    print()
    print(ratio_table(results))
    return results
