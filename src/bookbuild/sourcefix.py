"""Before pandoc reads a chapter: the fixes that make it read as its author's tool reads it.

Each fix keeps every line where it is (a warning's line number stays the author's):

- A dashes line directly above footnote definitions (GitBook books separate their notes
  so) is a horizontal rule, not the start of a table or of a YAML block that swallows them:
  it becomes ``* * *``.
- In the CommonMark flavours (``gfm``, ``commonmark``), whose pandoc readers have no
  ``tex_math_single_backslash``, ``\\(…\\)`` becomes ``$…$`` and ``\\[…\\]`` becomes ``$$…$$``
  outside code; so do mdBook's doubled ``\\\\(…\\\\)`` and ``\\\\[…\\\\]`` (MathJax's delimiters
  once CommonMark has read the escapes).

It also finds a footnote defined twice in one chapter (with ``note_scope: chapter`` an
error naming both lines).
"""

from __future__ import annotations

import re

from .syntax import NOTE_DEFINITION

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_DASHES = re.compile(r"^ {0,3}-{3,}[ \t]*$")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
# One backslash, or two as mdBook books write MathJax's delimiters (CommonMark reads ``\\(``
# as ``\(``, which MathJax then sees).
_INLINE_MATH = re.compile(r"\\{1,2}\((.+?)\\{1,2}\)", re.S)
_DISPLAY_MATH = re.compile(r"\\{1,2}\[(.+?)\\{1,2}\]", re.S)


def _code_lines(lines: list[str]) -> set[int]:
    """Indexes of the lines inside fenced code blocks (fences included)."""
    inside: set[int] = set()
    fence: str | None = None
    for index, line in enumerate(lines):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            inside.add(index)
        elif fence is not None:
            inside.add(index)
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
    return inside


def _math_outside_code(text: str) -> str:
    """``\\(…\\)`` and ``\\[…\\]`` as dollar math, leaving code spans alone."""

    def convert(piece: str) -> str:
        piece = _DISPLAY_MATH.sub(lambda m: f"$${m.group(1)}$$", piece)
        return _INLINE_MATH.sub(lambda m: f"${m.group(1).strip()}$", piece)

    out: list[str] = []
    last = 0
    for span in _CODE_SPAN.finditer(text):
        out += [convert(text[last : span.start()]), span.group(0)]
        last = span.end()
    out.append(convert(text[last:]))
    return "".join(out)


def fix_source(text: str, flavour: str) -> str:
    """The chapter text as pandoc should read it (same lines, see the module docstring)."""
    if "\\(" not in text and "\\[" not in text and "--" not in text:
        return text
    lines = text.split("\n")
    code = _code_lines(lines)
    for index, line in enumerate(lines):
        if (
            index not in code
            and _DASHES.match(line)
            and (index == 0 or not lines[index - 1].strip())
            and index + 1 < len(lines)
            and NOTE_DEFINITION.match(lines[index + 1])
        ):
            lines[index] = "* * *"
    if flavour != "pandoc" and ("\\(" in text or "\\[" in text):
        # Paragraph by paragraph (math never spans a blank line), code blocks untouched.
        out: list[str] = []
        chunk: list[str] = []

        def flush() -> None:
            if chunk:
                out.extend(_math_outside_code("\n".join(chunk)).split("\n"))
                chunk.clear()

        for index, line in enumerate(lines):
            if index in code or not line.strip():
                flush()
                out.append(line)
            else:
                chunk.append(line)
        flush()
        lines = out
    return "\n".join(lines)


def duplicate_notes(text: str) -> list[tuple[str, int, int]]:
    """Footnotes defined twice in one chapter: (key, first line, repeated line), 1-based."""
    lines = text.split("\n")
    code = _code_lines(lines)
    first: dict[str, int] = {}
    found: list[tuple[str, int, int]] = []
    for index, line in enumerate(lines):
        match = NOTE_DEFINITION.match(line)
        if match and index not in code:
            key = match.group(1)
            if key in first:
                found.append((key, first[key], index + 1))
            else:
                first[key] = index + 1
    return found
