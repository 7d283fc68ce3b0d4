"""br and zstd decoders, tested with the real libraries when they are installed.

brotli/brotlicffi, backports.zstd (or compression.zstd on 3.14+) and zstandard are
optional: each group of tests is skipped when its library is missing.
"""

from __future__ import annotations

import importlib
import itertools
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol import DecodingError, DecompressionLimitExceeded
from reqivo_protocol.content import ContentDecoder, _stages, supported_encodings

TEXT = b"Pack my box with five dozen liquor jugs. " * 3000


def _import_any(*names: str) -> ModuleType | None:
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


BROTLI_MODULES = [m for m in (_import_any("brotli"), _import_any("brotlicffi")) if m]
STDLIB_ZSTD = _import_any("compression.zstd", "backports.zstd")
ZSTANDARD = _import_any("zstandard")


def decode_all(d: ContentDecoder, body: bytes, step: int | None = None) -> bytes:
    if step is None:
        return d.decode(body) + d.flush()
    out = b"".join(d.decode(body[i : i + step]) for i in range(0, len(body), step))
    return out + d.flush()


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# -- brotli -------------------------------------------------------------------------


@pytest.fixture(params=BROTLI_MODULES or [None], ids=lambda m: getattr(m, "__name__", "none"))
def brotli_mod(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = request.param
    if module is None:
        pytest.skip("neither brotli nor brotlicffi is installed")
    monkeypatch.setattr(_stages, "brotli_module", lambda: module)
    return module  # type: ignore[no-any-return]


@pytest.mark.parametrize("step", [None, 1, 50])
def test_brotli(brotli_mod: ModuleType, step: int | None) -> None:
    body = brotli_mod.compress(TEXT)
    d = ContentDecoder.for_encoding("br")
    assert d.encodings == ("br",)
    assert decode_all(d, body, step) == TEXT


def test_brotli_listed_as_supported(brotli_mod: ModuleType) -> None:
    assert "br" in supported_encodings()


def test_brotli_truncated(brotli_mod: ModuleType) -> None:
    d = ContentDecoder.for_encoding("br")
    d.decode(brotli_mod.compress(TEXT)[:-5])
    with pytest.raises(DecodingError, match="truncated"):
        d.flush()


def test_brotli_empty_body(brotli_mod: ModuleType) -> None:
    assert decode_all(ContentDecoder.for_encoding("br"), b"") == b""


def test_brotli_corrupt_and_trailing_data(brotli_mod: ModuleType) -> None:
    with pytest.raises(DecodingError, match="invalid br data") as info:
        decode_all(ContentDecoder.for_encoding("br"), b"\xff" * 40)
    assert isinstance(info.value.__cause__, brotli_mod.error)
    with pytest.raises(DecodingError):
        decode_all(ContentDecoder.for_encoding("br"), brotli_mod.compress(b"x") + b"junk")


def test_brotli_bomb(brotli_mod: ModuleType) -> None:
    bomb = brotli_mod.compress(bytes(32 << 20), quality=5)
    assert len(bomb) < 50_000
    d = ContentDecoder.for_encoding("br", max_decompressed_size=1 << 20)
    with pytest.raises(DecompressionLimitExceeded):
        d.decode(bomb)
    pieces = ContentDecoder.for_encoding("br").iter_decode(bomb, chunk_size=65536)
    sizes = [len(next(pieces)) for _ in range(50)]
    pieces.close()
    # brotli rounds its output buffer up; what matters is that it stays small.
    assert max(sizes) <= 4 * 65536


@settings(max_examples=60, deadline=None)
@given(
    payload=st.binary(max_size=3000),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=10),
)
def test_brotli_any_split(payload: bytes, cuts: list[int]) -> None:
    for module in BROTLI_MODULES:
        body = module.compress(payload)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_stages, "brotli_module", lambda module=module: module)
            d = ContentDecoder.for_encoding("br")
        out = b"".join(d.decode(p) for p in _split(body, cuts)) + d.flush()
        assert out == payload


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400))
def test_brotli_random_bytes(data: bytes) -> None:
    for module in BROTLI_MODULES:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_stages, "brotli_module", lambda module=module: module)
            d = ContentDecoder.for_encoding("br", max_decompressed_size=100_000)
        try:
            d.decode(data)
            d.flush()
        except DecodingError:
            pass


def test_brotli_unavailable_means_passthrough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_stages, "brotli_module", lambda: None)
    d = ContentDecoder.for_encoding("gzip, br")
    assert d.passthrough
    assert d.unsupported == ("br",)
    assert "br" not in supported_encodings()


# -- zstd ---------------------------------------------------------------------------

ZSTD_BACKENDS = [
    *([("stdlib", STDLIB_ZSTD)] if STDLIB_ZSTD else []),
    *([("zstandard", ZSTANDARD)] if ZSTANDARD else []),
]


@pytest.fixture(params=ZSTD_BACKENDS or [None], ids=lambda b: b[0] if b else "none")
def zstd(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[str, ModuleType]:
    backend = request.param
    if backend is None:
        pytest.skip("no zstd module is installed")
    monkeypatch.setattr(_stages, "zstd_backend", lambda: backend)
    return backend  # type: ignore[no-any-return]


def zstd_compress(backend: tuple[str, ModuleType], data: bytes, level: int = 3) -> bytes:
    kind, module = backend
    if kind == "stdlib":
        return module.compress(data, level)  # type: ignore[no-any-return]
    return module.ZstdCompressor(level=level).compress(data)  # type: ignore[no-any-return]


@pytest.mark.parametrize("step", [None, 1, 333])
def test_zstd(zstd: tuple[str, ModuleType], step: int | None) -> None:
    d = ContentDecoder.for_encoding("zstd")
    assert decode_all(d, zstd_compress(zstd, TEXT), step) == TEXT
    assert "zstd" in supported_encodings()


@pytest.mark.parametrize("step", [None, 1, 7])
def test_zstd_multiple_frames(zstd: tuple[str, ModuleType], step: int | None) -> None:
    body = zstd_compress(zstd, b"first ") + zstd_compress(zstd, b"second")
    assert decode_all(ContentDecoder.for_encoding("zstd"), body, step) == b"first second"


def test_zstd_truncated(zstd: tuple[str, ModuleType]) -> None:
    d = ContentDecoder.for_encoding("zstd")
    d.decode(zstd_compress(zstd, TEXT)[:-3])
    with pytest.raises(DecodingError, match="truncated"):
        d.flush()


def test_zstd_empty_body(zstd: tuple[str, ModuleType]) -> None:
    assert decode_all(ContentDecoder.for_encoding("zstd"), b"") == b""


def test_zstd_corrupt(zstd: tuple[str, ModuleType]) -> None:
    with pytest.raises(DecodingError, match="invalid zstd data"):
        decode_all(ContentDecoder.for_encoding("zstd"), b"\x28\xb5\x2f\xfd" + b"\xff" * 30)
    with pytest.raises(DecodingError, match="invalid zstd data"):
        decode_all(ContentDecoder.for_encoding("zstd"), zstd_compress(zstd, b"x") + b"junk!")


def test_zstd_bomb(zstd: tuple[str, ModuleType]) -> None:
    bomb = zstd_compress(zstd, bytes(128 << 20), 19)
    d = ContentDecoder.for_encoding("zstd", max_decompressed_size=1 << 20)
    with pytest.raises(DecompressionLimitExceeded):
        d.decode(bomb)
    assert d.decompressed_size <= 33 << 20
    pieces = ContentDecoder.for_encoding("zstd").iter_decode(bomb, chunk_size=65536)
    sizes = [len(piece) for piece in itertools.islice(pieces, 20)]
    pieces.close()
    # the bounded API honours chunk_size; zstandard is bounded by input slicing.
    assert max(sizes) <= (65536 if zstd[0] == "stdlib" else 33 << 20)


@settings(max_examples=60, deadline=None)
@given(
    payload=st.binary(max_size=3000),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=10),
)
def test_zstd_any_split(payload: bytes, cuts: list[int]) -> None:
    for backend in ZSTD_BACKENDS:
        body = zstd_compress(backend, payload)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_stages, "zstd_backend", lambda backend=backend: backend)
            d = ContentDecoder.for_encoding("zstd")
        out = b"".join(d.decode(p) for p in _split(body, cuts)) + d.flush()
        assert out == payload


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=400),
    prefix=st.sampled_from([b"", b"\x28\xb5\x2f\xfd", b"\x50\x2a\x4d\x18"]),
)
def test_zstd_random_bytes(data: bytes, prefix: bytes) -> None:
    for backend in ZSTD_BACKENDS:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_stages, "zstd_backend", lambda backend=backend: backend)
            d = ContentDecoder.for_encoding("zstd", max_decompressed_size=100_000)
        try:
            d.decode(prefix + data)
            d.flush()
        except DecodingError:
            pass


def test_zstd_unavailable_means_passthrough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_stages, "zstd_backend", lambda: None)
    assert ContentDecoder.for_encoding("zstd").unsupported == ("zstd",)
    assert "zstd" not in supported_encodings()


def test_backend_probes_agree_with_imports() -> None:
    _stages.brotli_module.cache_clear()
    _stages.zstd_backend.cache_clear()
    assert (_stages.brotli_module() is not None) == bool(BROTLI_MODULES)
    backend = _stages.zstd_backend()
    if STDLIB_ZSTD is not None:
        assert backend == ("stdlib", STDLIB_ZSTD)
    elif ZSTANDARD is not None:
        assert backend == ("zstandard", ZSTANDARD)
    else:
        assert backend is None


@pytest.fixture
def fresh_probes() -> Iterator[None]:
    _stages.brotli_module.cache_clear()
    _stages.zstd_backend.cache_clear()
    yield
    _stages.brotli_module.cache_clear()
    _stages.zstd_backend.cache_clear()


def test_probes_without_any_optional_module(
    monkeypatch: pytest.MonkeyPatch, fresh_probes: None
) -> None:
    for name in ("brotli", "brotlicffi", "compression.zstd", "backports.zstd", "zstandard"):
        monkeypatch.setitem(sys.modules, name, None)  # makes the import fail
    assert _stages.brotli_module() is None
    assert _stages.zstd_backend() is None
    assert supported_encodings() == ["gzip", "deflate"]


def test_zstandard_is_the_last_resort(monkeypatch: pytest.MonkeyPatch, fresh_probes: None) -> None:
    if ZSTANDARD is None:
        pytest.skip("zstandard is not installed")
    for name in ("compression.zstd", "backports.zstd"):
        monkeypatch.setitem(sys.modules, name, None)
    assert _stages.zstd_backend() == ("zstandard", ZSTANDARD)


class _StallingBrotli:
    """A fake binding whose decoder is not ready for input at first."""

    error = ValueError

    class Decompressor:
        def __init__(self) -> None:
            self.calls = 0

        def can_accept_more_data(self) -> bool:
            self.calls += 1
            return self.calls > 1

        def process(self, data: bytes, output_buffer_limit: int) -> bytes:
            return data.upper()

        def is_finished(self) -> bool:
            return True


def test_brotli_stage_waits_until_the_decoder_accepts_input() -> None:
    stage = _stages.BrotliStage(_StallingBrotli)  # type: ignore[arg-type]
    stage.write(b"abc")
    assert stage.read(100) == b"ABC"
    assert stage.read(100) == b""
    stage.finish()
