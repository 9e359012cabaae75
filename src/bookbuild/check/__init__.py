"""``bookbuild check``: find the book's mistakes before LaTeX runs, each at its file and line.

One pandoc read of the assembled book (no filters, no LaTeX) gives the AST
(:mod:`~bookbuild.check.book`); each check is a function ``check_*(book) -> list[Diagnostic]``
over it (:mod:`~bookbuild.check.checks`), testable alone. Lines are found by searching the
chapter's text (:mod:`~bookbuild.check.locate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..books import config_path_for, load_config
from ..config import BookConfig
from ..diagnostics import Diagnostic
from ..errors import (
    EXIT_BUILD_FAILED,
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_STRICT,
    BookbuildError,
    ConfigError,
)
from ..stages.assemble import as_written, chapter_texts
from .book import Book, bib_keys, load_book
from .checks import (
    CHECKS,
    check_citations,
    check_crossrefs,
    check_empty_sections,
    check_footnotes,
    check_images,
    check_links,
    check_list_indent,
    check_raw_latex,
)

__all__ = [
    "CHECKS",
    "Book",
    "Report",
    "bib_keys",
    "check",
    "check_citations",
    "check_crossrefs",
    "check_empty_sections",
    "check_footnotes",
    "check_images",
    "check_links",
    "check_list_indent",
    "check_raw_latex",
    "load_book",
    "run_checks",
]


@dataclass
class Report:
    """The diagnostics of one check run, in file and line order."""

    diagnostics: list[Diagnostic]
    config_invalid: bool = False

    def count(self, severity: str) -> int:
        return sum(d.severity == severity for d in self.diagnostics)

    def summary(self, strict: bool = False) -> str:
        errors, warnings = self.count("error"), self.count("warning")
        text = (
            f"check: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}, {self.count('info')} info"
        )
        return text + (" (--strict: warnings fail)" if strict and warnings else "")

    def exit_code(self, strict: bool = False) -> int:
        if self.config_invalid:
            return EXIT_CONFIG
        if self.count("error"):
            return EXIT_BUILD_FAILED
        if strict and self.count("warning"):
            return EXIT_STRICT
        return EXIT_OK


# -- running them --------------------------------------------------------------------------


def run_checks(config: BookConfig) -> list[Diagnostic]:
    """Every check on a valid config, sorted by file (book order) and line."""
    book = load_book(config)
    order = {s.label: i for i, s in enumerate([book.metadata, *book.chapters])}
    diagnostics: list[Diagnostic] = []
    for check_one in CHECKS:
        book.reset()
        diagnostics += check_one(book)
    diagnostics = as_written(diagnostics, chapter_texts(config))  # includes (lines, warnings)
    return sorted(
        diagnostics,
        key=lambda d: (order.get(d.file or "", len(order)), d.file or "", d.line or 0),
    )


def check(book: Path | None = None) -> Report:
    """Check the book whose ``--book`` argument is ``book`` (None: the nearest book.yaml)."""
    try:
        config = load_config(config_path_for(book))
    except ConfigError as exc:
        return Report(list(exc.diagnostics), config_invalid=True)
    try:
        return Report(run_checks(config))
    except BookbuildError as exc:  # an unreadable chapter, a pandoc failure
        return Report(list(exc.diagnostics))
