"""Add up the JUnit XML reports of a nox run into one closing line.

    python scripts/test_summary.py [reports/junit]

Prints ``N passed, N failed, N skipped`` (errors count as failed; xfail counts as
skipped), the line CI reads to know how many tests ran. Always exits 0: the test run's
own exit status decides success.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path


def summarize(folder: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) over every ``*.xml`` report in ``folder``."""
    passed = failed = skipped = 0
    for report in sorted(folder.glob("*.xml")):
        try:
            root = ElementTree.parse(report).getroot()
        except ElementTree.ParseError:
            continue
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        for suite in suites:
            tests = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skip = int(suite.get("skipped", 0))
            failed += bad
            skipped += skip
            passed += max(tests - bad - skip, 0)
    return passed, failed, skipped


def main(argv: list[str]) -> int:
    """Print the closing line for the reports folder given (default reports/junit)."""
    folder = Path(argv[0]) if argv else Path("reports/junit")
    passed, failed, skipped = summarize(folder)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
