"""Find the line an AST element was written on, by searching the chapter's text.

Pandoc's Markdown reader gives no source positions. A :class:`Source` searches a file's text
with code, HTML comments and math blanked out (:func:`mask`), so only what pandoc reads as
text matches; the k-th element of a kind in a chapter's AST is the k-th match of its pattern.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

from ..paths import display_path

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_MASKS = (
    re.compile(r"<!--.*?-->", re.S),  # HTML comments
    re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.S),  # code spans
    re.compile(r"\$\$.+?\$\$", re.S),  # display math
    re.compile(r"(?<![\\$])\$(?![\s$])(?:\\.|[^$\\])+?(?<![\s\\])\$(?!\d)", re.S),  # math
)


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def mask(text: str) -> str:
    """``text`` with fenced code, code spans, HTML comments and math replaced by spaces.

    Newlines are kept, so offsets and line numbers stay those of ``text``. Raw-attribute
    blocks (```` ```{=latex} ````) are kept: they are what the raw-LaTeX checks look at.
    """
    out: list[str] = []
    fence: tuple[str, bool] | None = None  # (fence, keep contents)
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = (match.group(1), match.group(2).strip().startswith("{="))
            out.append(_blank(line))
        elif fence is not None:
            closing = bool(match) and match is not None and not match.group(2).strip()
            if closing and match is not None and match.group(1).startswith(fence[0]):
                fence = None
                out.append(_blank(line))
            else:
                out.append(line if fence[1] else _blank(line))
        else:
            out.append(line)
    masked = "\n".join(out)
    for pattern in _MASKS:
        masked = pattern.sub(lambda m: m.group(0) if "\n\n" in m.group(0) else _blank(m[0]), masked)
    return masked


class Source:
    """A file's text, searchable by pattern in its masked form, with 1-based line numbers."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.label = display_path(path)
        self.text = text
        self.masked = mask(text)
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._found: dict[str, list[int]] = {}
        self._claimed: dict[str, int] = {}

    def line_at(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)

    def lines_of(self, pattern: str) -> list[int]:
        """The line of every match of the regular expression ``pattern``, in order."""
        if pattern not in self._found:
            found = re.finditer(pattern, self.masked, re.M)
            self._found[pattern] = [self.line_at(m.start()) for m in found]
        return self._found[pattern]

    def reset(self) -> None:
        self._claimed.clear()

    def next_line(self, pattern: str) -> int | None:
        """The line of the next match of ``pattern`` not handed out before: the k-th call for a
        pattern gets the k-th match (the last one when there are fewer; None when none)."""
        found = self.lines_of(pattern)
        index = self._claimed.get(pattern, 0)
        self._claimed[pattern] = index + 1
        if not found:
            return None
        return found[min(index, len(found) - 1)]


def cite_pattern(key: str) -> str:
    """Where ``@key`` is written (``@key``, ``[@key]``, ``[-@key]``, ``@{key}``)."""
    return rf"(?<![\w@])@\{{?{re.escape(key)}(?![\w]|[:.#$%&+?<>~/-]\w)"


def label_pattern(label: str) -> str:
    """Where ``{#label ...}`` is written."""
    return rf"\{{[^{{}}\n]*#{re.escape(label)}(?=[\s}}])"


def heading_pattern(level: int) -> str:
    """A heading of ``level``: ``### Title``, or for levels 1 and 2 a setext heading (a text
    line underlined with ``===`` or ``---``; the match starts on the text line)."""
    atx = rf"^ {{0,3}}#{{{level}}}(?:[ \t]+|$)"
    if level > 2:
        return atx
    underline = "=" if level == 1 else "-"
    return rf"{atx}|^(?=[ \t]{{0,3}}[^\s#>|-])[^\n]*\S[^\n]*\n {{0,3}}{underline}+[ \t]*$"
