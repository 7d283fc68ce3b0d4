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
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for expected in (
        "HTTP/1.1 over a plain socket",
        "1.1 200 OK",
        "Cookie: session=tour",
        "== Done",
    ):
        assert expected in done.stdout
    assert "[secure]" in done.stdout
    assert "s3cr3t" not in done.stdout
