#!/usr/bin/env python3
"""Time reading a layout book: no-op rebuild (goal <= 0.2 s) and `check` (goal <= 1 s).

    python bench/layouts.py [OUT_DIR]

Generates the 100-file mdBook of gen_summary_book.py, builds it once, then times
`bookbuild pdf -q` with nothing changed and `bookbuild check`, each the median of 3 runs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gen_summary_book import generate

BOOKBUILD = [sys.executable, "-m", "bookbuild"]
GOALS = {"noop": 0.2, "check": 1.0}


def timed(args: list[str], reps: int = 3) -> float:
    runs = []
    for _ in range(reps):
        start = time.perf_counter()
        subprocess.run(args, check=False, capture_output=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "hundred"
    book = generate(out).parent
    subprocess.run([*BOOKBUILD, "pdf", "-q", "--book", str(book)], check=True)
    results = {
        "noop": timed([*BOOKBUILD, "pdf", "-q", "--book", str(book)]),
        "check": timed([*BOOKBUILD, "check", "--book", str(book)]),
    }
    for case, seconds in results.items():
        verdict = "met" if seconds <= GOALS[case] else "NOT met"
        print(f"{case:<6} {seconds:6.2f} s  goal <= {GOALS[case]} s  {verdict}")


if __name__ == "__main__":
    main()
