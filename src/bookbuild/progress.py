"""Progress lines: one per stage with its wall time, and the warnings as they come."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from .diagnostics import Diagnostic
from .paths import display_path


class Progress:
    """Prints one line per stage with its wall time (nothing when quiet).

    With ``annotate``, warnings are also printed as GitHub Actions annotations on stdout.
    """

    def __init__(
        self,
        quiet: bool = False,
        verbose: bool = False,
        stream: TextIO | None = None,
        annotate: bool = False,
    ):
        self.quiet = quiet
        self.verbose = verbose
        self.stream = stream or sys.stderr
        self.annotate = annotate
        self.stages: list[tuple[str, float]] = []
        self.warnings: list[Diagnostic] = []
        self.strict = False

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def record(self, name: str, seconds: float, detail: str = "") -> None:
        self.stages.append((name, seconds))
        self.say(f"  {name:<10} {seconds:6.2f} s  {detail}".rstrip())

    @contextlib.contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[list[str]]:
        """Time a stage; the body may append more detail to the yielded list."""
        start = time.perf_counter()
        details = [detail] if detail else []
        yield details
        self.record(name, time.perf_counter() - start, ", ".join(details))

    def done(self, seconds: float, target: Path, pages: int | None) -> None:
        self.say(
            f"  {'done':<10} {seconds:6.2f} s  {display_path(target)}  {page_count(pages)}".rstrip()
        )

    def warn(self, diagnostic: Diagnostic) -> None:
        self.warnings.append(diagnostic)
        if self.annotate:
            print(diagnostic.github(), flush=True)
        if not self.quiet and not self.strict:  # under --strict they come with the error
            for line in diagnostic.lines(self.verbose):
                print(line, file=self.stream, flush=True)


def page_count(pages: int | None) -> str:
    return "" if pages is None else f"{pages} page" + ("s" if pages != 1 else "")
