"""Exceptions raised by the library; the CLI shows them as one-line errors with exit codes.

Exit codes: 0 ok, 1 build failed, 2 usage (click's own), 3 configuration invalid,
4 engine or tool missing, 5 warnings under --strict.
"""

from __future__ import annotations

from pathlib import Path

import click

EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_TOOL_MISSING = 4
EXIT_STRICT = 5


class BookbuildError(click.ClickException):
    """Root of every error bookbuild raises; exit code 1 unless a subclass says otherwise."""

    exit_code = EXIT_BUILD_FAILED

    def __init__(self, message: str, file: Path | str | None = None, line: int | None = None):
        self.file = str(file) if file is not None else None
        self.line = line
        super().__init__(message)

    def format_message(self) -> str:
        if self.file is None:
            return self.message
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"error: {self.format_message()}", file=file, err=True)


class ConfigError(BookbuildError):
    """book.yaml is invalid. Carries every problem found, one per line."""

    exit_code = EXIT_CONFIG

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))

    def format_message(self) -> str:
        return "\n".join(self.problems)

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        for problem in self.problems:
            click.echo(f"error: {problem}", file=file, err=True)


class ToolMissingError(BookbuildError):
    """pandoc, a LaTeX engine or latexmk is not installed."""

    exit_code = EXIT_TOOL_MISSING


class FilterError(BookbuildError):
    """A filter failed to load or raised while running."""


class PandocError(BookbuildError):
    """pandoc failed to read or write the document."""


class LatexError(BookbuildError):
    """The LaTeX engine failed; the PDF was not produced."""


class StrictWarningsError(BookbuildError):
    """Warnings were reported and --strict asked for them to fail the build."""

    exit_code = EXIT_STRICT
