"""Type stubs of the optional compiled accelerator (``_speedups.c``)."""

def mask(data: bytes | bytearray | memoryview, key: bytes, /) -> bytes:
    """XOR ``data`` with the 4-byte ``key`` repeated."""

def encode_frame(first_byte: int, payload: bytes | bytearray | memoryview, key: bytes, /) -> bytes:
    """A masked client frame: ``first_byte`` carries FIN, RSV and the opcode."""
