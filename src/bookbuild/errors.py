"""Exceptions raised by the library; the CLI shows them as ``file:line: error: message``.

Exit codes: 0 ok, 1 build failed, 2 usage (click's own), 3 configuration invalid,
4 engine or tool missing, 5 warnings under --strict.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import click

from .diagnostics import Diagnostic

EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_TOOL_MISSING = 4
EXIT_STRICT = 5


class BookbuildError(click.ClickException):
    """Root of every error bookbuild raises; exit code 1 unless a subclass says otherwise.

    Carries one or more Diagnostics; ``verbose`` (set by the CLI) adds their details.
    """

    exit_code = EXIT_BUILD_FAILED

    def __init__(
        self,
        message: str,
        file: Path | str | None = None,
        line: int | None = None,
        *,
        diagnostics: list[Diagnostic] | None = None,
    ):
        super().__init__(message)
        self.diagnostics = diagnostics or [
            Diagnostic("error", message, str(file) if file is not None else None, line)
        ]
        self.verbose = False

    def format_message(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)

    def show(self, file: IO[Any] | None = None) -> None:
        for diagnostic in self.diagnostics:
            for line in diagnostic.lines(self.verbose):
                click.echo(line, file=file, err=True)


class ConfigError(BookbuildError):
    """book.yaml is invalid. Carries every problem found, one per line."""

    exit_code = EXIT_CONFIG

    def __init__(self, problems: list[Diagnostic]):
        super().__init__(
            problems[0].message if problems else "invalid configuration", diagnostics=problems
        )

    @property
    def problems(self) -> list[str]:
        return [d.format() for d in self.diagnostics]


class ToolMissingError(BookbuildError):
    """pandoc or a LaTeX engine is not installed."""

    exit_code = EXIT_TOOL_MISSING


class FilterError(BookbuildError):
    """A filter failed to load or raised while running."""


class PandocError(BookbuildError):
    """pandoc failed to read or write the document."""


class LatexError(BookbuildError):
    """The LaTeX engine failed; the PDF was not produced."""

    def __init__(self, message: str, log_text: str = "", log_path: Path | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.log_text = log_text
        self.log_path = log_path


class EngineStalledError(LatexError):
    """The engine printed nothing for too long (an endless loop) and was stopped."""


class SelectionError(BookbuildError):
    """``pdf --chapter`` names no chapter, or several (raised by the preview and by a layout
    book's page selection, :mod:`bookbuild.layouts.preview`)."""

    exit_code = EXIT_USAGE


class StrictWarningsError(BookbuildError):
    """Warnings were reported and --strict asked for them to fail the build."""

    exit_code = EXIT_STRICT


class OutputError(BookbuildError):
    """bookbuild could not write in the build directory or to an output file."""
