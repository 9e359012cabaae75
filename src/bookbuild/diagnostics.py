"""Diagnostics: one finding at a place the author wrote, printed as ``file:line: severity: msg``.

Shared by ``bookbuild check`` and (later) the build's error reports; :meth:`Diagnostic.github`
gives the GitHub Actions annotation for CI.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import EXIT_BUILD_FAILED, EXIT_CONFIG, EXIT_OK, EXIT_STRICT

SEVERITIES = ("error", "warning", "info")
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape(text: str, also: str = "") -> str:
    """Escape a workflow command's message (or, with ``also=":,"``, a property value)."""
    for char in "%\r\n" + also:
        text = text.replace(char, f"%{ord(char):02X}")
    return text


@dataclass(frozen=True)
class Diagnostic:
    """One finding at a place the author wrote: ``file:line: severity: message``."""

    file: str | None  # as shown to the author: relative to the working dir when below it
    line: int | None
    severity: str  # one of SEVERITIES
    message: str

    def where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "

    def format(self) -> str:
        """The line printed for the author, e.g. ``book/a.md:3: error: ...``."""
        return f"{self.where()}{self.severity}: {self.message}"

    def github(self) -> str:
        """A GitHub Actions workflow command, e.g. ``::error file=book/a.md,line=3::...``."""
        props = []
        if self.file is not None:
            props.append(f"file={_escape(self.file, ':,')}")
            if self.line is not None:
                props.append(f"line={self.line}")
        message = _escape(self.message)
        where = " " + ",".join(props) if props else ""
        return f"::{_GITHUB_LEVEL[self.severity]}{where}::{message}"


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
