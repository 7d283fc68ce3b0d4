"""The README's main-job command runs offline and shows every stop of the tour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_tour_runs_and_cleans_up() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "tour.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for expected in (
        "HTTP/1.1 over a plain socket",
        "1.1 200 OK",
        "Cookie: session=tour",
        # reqivo-async: JSON, cookies kept by the session, a redirect, gzip, a download
        "== reqivo-async: AsyncSession",
        "the server read {'name': 'Ada', 'languages': ['py']}",
        "it sent Cookie: session=tour",
        "redirect: ['302 /redirect'] -> 200 /echo?redirected=1",
        "Content-Encoding: gzip, 5000 bytes decoded",
        "] 100%   16.8/16.8 MB",
        # reqivo-sync
        "== reqivo-sync: Session, blocking",
        "the server read {'blocking': True}",
        # the reqivo command: verbose heads, --check-status, a download, a network error
        "$ reqivo -v POST",
        'Content-Type: application/json\nX-Tour: yes\nContent-Length: 26\n\n{"name": "Ada"',
        "(exit code 4)",
        "Downloaded 4.2 MB to",
        "reqivo: error: ConnectError:",
        "(exit code 7)",
        "== Done",
    ):
        assert expected in done.stdout
    assert "[secure]" in done.stdout
    assert "s3cr3t" not in done.stdout
