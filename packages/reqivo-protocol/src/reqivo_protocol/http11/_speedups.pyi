"""Type stubs of the optional compiled accelerator (``_speedups.c``, ADR-016)."""

def parse_status_head(
    block: bytes, max_header_count: int, /
) -> tuple[str, int, str, list[tuple[str, str, str]], list[str]] | None:
    """A response head in strict form, parsed; None for any other."""
