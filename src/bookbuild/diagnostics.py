"""Diagnostics: one problem at the line the author wrote (``book/a.md:3: error: …``).

Here: the :class:`Diagnostic` itself, the source files it points into, and the messages of
pandoc and the filters located in them. Each top-level block carries a source marker
(:func:`bookbuild.stages.transform.mark_block_sources`); the LaTeX log's errors are traced
back through those markers beside the engine (:mod:`bookbuild.stages.compile`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape(text: str, also: str = "") -> str:
    """Escape a workflow command's message (or, with ``also=":,"``, a property value)."""
    for char in "%\r\n" + also:
        text = text.replace(char, f"%{ord(char):02X}")
    return text


@dataclass
class Diagnostic:
    """One problem, located in the author's files where possible."""

    severity: str  # "error", "warning" or "info"
    message: str
    file: str | None = None
    line: int | None = None
    source: str | None = None  # the offending source line
    hint: str | None = None
    details: list[str] = field(default_factory=list)  # .tex excerpt, log path: -v only

    def where(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}: " if self.line else f"{self.file}: "

    def format(self) -> str:
        """``file:line: severity: message`` (gcc style)."""
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return f"{where}{self.severity}: {self.message}"

    def lines(self, verbose: bool = False) -> list[str]:
        out = [self.format()]
        if self.source is not None and self.line:
            out.append(f"  {self.line:>4} | {self.source.rstrip()}")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        if verbose:
            out += [f"  {d}" for d in self.details]
        return out

    def github(self) -> str:
        """A GitHub Actions workflow command, e.g. ``::error file=book/a.md,line=3::…``."""
        props = []
        if self.file:
            props.append(f"file={_escape(self.file, ':,')}")
            if self.line:
                props.append(f"line={self.line}")
        where = " " + ",".join(props) if props else ""
        return f"::{_GITHUB_LEVEL[self.severity]}{where}::{_escape(self.message)}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


#: The files a chapter can be written in.
CHAPTER_SUFFIXES = (".md", ".markdown", ".rmd", ".qmd")


@dataclass
class SourceText:
    """A source file the book was assembled from.

    ``label`` is how markers name it (relative to the book's parent folder, stable);
    ``display`` is how messages name it (relative to the working directory when possible).
    """

    label: str
    text: str
    display: str
    read: str | None = None  # the text pandoc read, when includes made it differ from ``text``
    read_lines: list[int] | None = None  # per line of ``read``: its line in ``text``

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def is_chapter(self) -> bool:
        """A chapter file (Markdown, R Markdown, Quarto), not book.yaml, the preamble or the
        bibliography: where a message about the book's text is searched for its line."""
        return self.label.lower().endswith(CHAPTER_SUFFIXES)

    def probe_lines(self) -> list[str]:
        """The lines blocks are searched in: those pandoc read."""
        return self.lines if self.read is None else self.read.splitlines()

    def line_of(self, read_line: int) -> int:
        """The line of ``text`` for a line of what pandoc read (an included line: the line of
        its include)."""
        mapped = self.read_lines
        return mapped[read_line - 1] if mapped and 0 < read_line <= len(mapped) else read_line


def find_in_source(lines: list[str], needle: str, start: int, end: int | None) -> int | None:
    """1-based line in [start, end) holding ``needle``; None if absent."""
    stop = len(lines) if end is None else min(end - 1, len(lines))
    for number in range(max(start, 1), stop + 1):
        if needle in lines[number - 1]:
            return number
    return None


# --------------------------------------------------------------------------- pandoc warnings

_CITE_NOT_FOUND = re.compile(r"Citeproc: citation (?P<key>\S+) not found")
_BIB_ERROR = re.compile(
    r"Error reading bibliography file (?P<file>\S+):\s*\(line (?P<line>\d+), column \d+\):\s*"
    r"(?P<msg>.*)",
    re.S,
)


def pandoc_diagnostic(text: str, severity: str, sources: dict[str, SourceText]) -> Diagnostic:
    """A pandoc warning or error, located in the chapters where the message allows."""
    message = re.sub(r"^\[(WARNING|INFO)\]\s*", "", text.strip())
    cite = _CITE_NOT_FOUND.search(message)
    if cite:
        key = cite.group("key")
        for source in sources.values():
            line = find_in_source(source.lines, f"@{key}", 1, None)
            if line:
                return Diagnostic(
                    severity,
                    f"citation '{key}' is not in the bibliography",
                    source.display,
                    line,
                    source.lines[line - 1],
                    "check the key's spelling in the .bib file",
                )
        return Diagnostic(severity, f"citation '{key}' is not in the bibliography")
    bib = _BIB_ERROR.search(message)
    if bib:
        bib_source = next(
            (s for s in sources.values() if Path(s.label).name == Path(bib.group("file")).name),
            None,
        )
        line = int(bib.group("line"))
        bib_lines = bib_source.lines if bib_source else []
        src_line = bib_lines[line - 1] if 0 < line <= len(bib_lines) else None
        return Diagnostic(
            severity,
            f"invalid bibliography entry: {' '.join(bib.group('msg').split())}",
            bib_source.display if bib_source else bib.group("file"),
            line,
            src_line,
            "a missing comma, brace or quote near this line",
        )
    return Diagnostic(severity, " ".join(message.split()))


_LOCATED = re.compile(r"^(?P<file>[^\s:]+\.\w+)(?::(?P<line>\d+))?:\s*(?P<msg>.*)$", re.S)


def diagnostic_from_text(text: str, severity: str = "warning") -> Diagnostic:
    """A Diagnostic from a filter's one-line message, ``file[:line]: message`` or plain."""
    match = _LOCATED.match(text.strip())
    if not match:
        return Diagnostic(severity, text.strip())
    line = int(match.group("line")) if match.group("line") else None
    message = re.sub(r"^(warning|error):\s*", "", match.group("msg"))
    return Diagnostic(severity, message, match.group("file"), line)


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...], prefix: str = "") -> str:
    """``; did you mean 'x'?`` for the candidate closest to ``word`` (``prefix`` before it),
    or "" when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{prefix}{close[0]}'?" if close else ""
