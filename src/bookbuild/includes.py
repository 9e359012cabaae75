"""Text-level includes, expanded before pandoc reads a chapter.

- mdBook: ``{{#include file}}``, ``{{#include file:10:20}}`` (a line ``:N``, a range ``:N:M``,
  ``:N:`` to the end, ``::M`` from the start), ``{{#include file:name}}`` (the lines between
  ``ANCHOR: name`` and ``ANCHOR_END: name``), ``{{#rustdoc_include file[:range|:anchor]}}``
  (the whole file, lines outside the range hidden as rustdoc ``# `` lines),
  ``{{#playground file [attrs]}}`` (the file as a Rust code block); ``{{#title X}}`` (the
  HTML page's <title>: the PDF has the table of contents' title, so it goes); ``\\{{#include
  x}}`` is the escaped form of each and prints literally without the backslash.
- Quarto: ``{{< include file >}}``; ``{{{< include file >}}}`` prints ``{{< include file >}}``.

Paths are relative to the file holding the include, and must stay inside the book
directory. Included files may include others (up to :data:`MAX_DEPTH` deep). Anchor marker
lines (``ANCHOR: x`` / ``ANCHOR_END: x``) never reach the page.

Line numbers: the expanded text is what pandoc reads and what later messages count lines in.
Problems with an include itself (missing file, escaping path, unknown anchor, a loop) are
errors naming the file and line of the include as written. :class:`Expansion` also keeps,
for every line of the expanded text, the file and line it came from (``origin``), so a
message about an included line can name the included file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .diagnostics import Diagnostic, did_you_mean
from .errors import BookbuildError
from .paths import display_path

#: Includes within includes: deeper than this is almost surely a loop.
MAX_DEPTH = 10

_MDBOOK = re.compile(
    r"(?P<escape>\\)?\{\{\s*#(?P<kind>include|rustdoc_include|playground|title)\s+(?P<arg>[^}]*?)\s*\}\}"
)
_QUARTO = re.compile(r"(?P<qescape>\{)?\{\{<\s*include\s+(?P<arg>[^>]*?)\s*>\}\}(?(qescape)\})")
_ANCHOR = re.compile(r"ANCHOR:\s*(?P<name>[\w-]+)")
_ANCHOR_END = re.compile(r"ANCHOR_END:\s*(?P<name>[\w-]+)")
_RANGE = re.compile(r"^(?P<start>\d*)(?::(?P<end>\d*))?$")


class IncludeError(BookbuildError):
    """An include that cannot be expanded: names the file and line that holds it."""


@dataclass
class Expansion:
    """The expanded text, its warnings, and where each of its lines came from."""

    text: str
    warnings: list[Diagnostic] = field(default_factory=list)
    origin: list[tuple[Path, int]] = field(default_factory=list)  # per line: file, line
    chapter_lines: list[int] = field(default_factory=list)  # per line: the chapter's line

    def source_of(self, line: int) -> tuple[Path, int] | None:
        """The file and line that expanded line ``line`` (1-based) came from."""
        return self.origin[line - 1] if 0 < line <= len(self.origin) else None


def expand_includes(text: str, chapter_path: Path, book_dir: Path) -> tuple[str, list[Diagnostic]]:
    """``text`` (the chapter at ``chapter_path``) with every include expanded and its code
    fences' info strings made readable by every pandoc reader (see :func:`normalize_fences`),
    and the warnings on the way."""
    result = expand(text, chapter_path, book_dir)
    return result.text, result.warnings


def expand(text: str, chapter_path: Path, book_dir: Path) -> Expansion:
    """Like :func:`expand_includes`, with where each line came from."""
    if "{{" not in text:  # the common case: no includes
        count = text.count("\n") + 1
        return Expansion(
            normalize_fences(text),
            [],
            [(chapter_path, n) for n in range(1, count + 1)],
            list(range(1, count + 1)),
        )
    out: list[str] = []
    origin: list[tuple[Path, int]] = []
    top: list[int] = []
    warnings: list[Diagnostic] = []
    root = chapter_path.resolve()
    _expand_into(text, chapter_path, book_dir.resolve(), [root], out, origin, warnings, top)
    return Expansion(normalize_fences("\n".join(out)), warnings, origin, top)


_FENCE = re.compile(r"^(?P<indent>[ \t>]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_INFO_WORD = re.compile(r"""[\w.:+-]+=(?:"[^"]*"|'[^']*'|\S*)|[^\s,]+""")


def normalize_fences(text: str) -> str:
    """Code fences whose info string has spaces (``python title="x.py"``, ``rust ignore``)
    rewritten as one word (``python,title=x.py``, ``rust,ignore``): pandoc's Markdown reader
    would not see a code block at all, and its CommonMark readers would drop the title. The
    code filter reads the words back. ``{…}`` attribute fences are left alone; line count is
    kept."""
    if "```" not in text and "~~~" not in text:
        return text
    lines = text.split("\n")
    open_fence: str | None = None
    for index, line in enumerate(lines):
        match = _FENCE.match(line)
        if not match:
            continue
        fence, info = match.group("fence"), match.group("info").strip()
        if open_fence is not None:
            if not info and fence[0] == open_fence[0] and len(fence) >= len(open_fence):
                open_fence = None
            continue
        if fence[0] == "`" and "`" in info:
            continue  # inline code, not a fence
        open_fence = fence
        if not info or info.startswith("{") or not re.search(r"[\s,]", info):
            continue
        words = []
        for word in _INFO_WORD.findall(info):
            key, eq, value = word.partition("=")
            if eq:
                value = value.strip("\"'")
                words.append(f"{key}={quote(value, safe='/._-~')}")
            else:
                words.append(word)
        lines[index] = f"{match.group('indent')}{fence}{','.join(words)}"
    return "\n".join(lines)


def _expand_into(
    text: str,
    path: Path,
    book_dir: Path,
    stack: list[Path],
    out: list[str],
    origin: list[tuple[Path, int]],
    warnings: list[Diagnostic],
    top: list[int] | None = None,
) -> None:
    """Append the expanded lines of ``text`` (from ``path``) to ``out``, with their origins;
    at the top (``top`` given), also the chapter line each one stands for."""
    for number, line in enumerate(text.split("\n"), start=1):
        if top is not None:
            top.extend([number - 1] * (len(out) - len(top)))  # what the line before became
        if "{{" not in line:
            out.append(line)
            origin.append((path, number))
            continue
        # Included text is spliced in where the directive stood: what precedes it on the
        # line joins its first line, what follows joins its last.
        current, current_origin = "", (path, number)
        for piece in _split_line(line):
            if isinstance(piece, str):
                current += piece
                if piece.strip():
                    current_origin = (path, number)
                continue
            if len(stack) > MAX_DEPTH:
                raise IncludeError(
                    f"includes nested more than {MAX_DEPTH} deep",
                    file=display_path(path),
                    line=number,
                )
            included = _include(piece[0], piece[1], path, number, book_dir, stack, warnings)
            inner: list[str] = []
            inner_origin: list[tuple[Path, int]] = []
            _expand_into(
                included.text,
                included.path,
                book_dir,
                [*stack, included.path],
                inner,
                inner_origin,
                warnings,
            )
            first_origin = current_origin if current.strip() else inner_origin[0]
            if len(inner) == 1:
                current += inner[0]
                current_origin = first_origin
                continue
            out.append(current + inner[0])
            origin.append(first_origin)
            out.extend(inner[1:-1])
            origin.extend(inner_origin[1:-1])
            current, current_origin = inner[-1], inner_origin[-1]
        out.append(current)
        origin.append(current_origin)
    if top is not None:
        top.extend([len(text.split("\n"))] * (len(out) - len(top)))


@dataclass
class _Included:
    path: Path
    text: str


def _split_line(line: str) -> list[str | tuple[str, str]]:
    """A line cut into plain text and (kind, argument) include directives."""
    pieces: list[str | tuple[str, str]] = []
    position = 0
    matches = sorted([*_MDBOOK.finditer(line), *_QUARTO.finditer(line)], key=lambda m: m.start())
    for match in matches:
        if match.start() < position:
            continue
        pieces.append(line[position : match.start()])
        if "kind" in match.groupdict() and match.group("escape"):
            pieces.append(match.group(0)[1:])  # \{{#include x}} prints as {{#include x}}
        elif "kind" in match.groupdict() and match.group("kind") == "title":
            pieces.append("")  # an HTML page title: nothing to print
        elif "kind" in match.groupdict():
            pieces.append((match.group("kind"), match.group("arg")))
        elif match.group("qescape"):
            pieces.append(match.group(0)[1:-1])  # {{{< include x >}}} prints {{< include x >}}
        else:
            pieces.append(("quarto", match.group("arg").strip("\"'")))
        position = match.end()
    pieces.append(line[position:])
    return pieces


def _include(
    kind: str,
    arg: str,
    holder: Path,
    line: int,
    book_dir: Path,
    stack: list[Path],
    warnings: list[Diagnostic],
) -> _Included:
    """The text one directive stands for."""
    shown = display_path(holder)
    attrs: list[str] = []
    if kind == "playground":
        arg, *attrs = arg.split()
    name, spec = arg, ""
    if kind != "quarto" and ":" in arg:
        name, _, spec = arg.partition(":")
    if not name:
        raise IncludeError(f"{{{{#{kind}}}}} without a file name", file=shown, line=line)
    target = (holder.parent / name).resolve()
    if not target.is_relative_to(book_dir):
        raise IncludeError(
            f"include '{name}' is outside the book directory {display_path(book_dir)}/",
            file=shown,
            line=line,
        )
    if not target.is_file():
        raise IncludeError(
            f"include '{name}' not found{_did_you_mean(holder.parent, name, book_dir)}",
            file=shown,
            line=line,
        )
    if target in stack:
        chain = " -> ".join(p.name for p in [*stack[stack.index(target) :], target])
        raise IncludeError(f"include loop: {chain}", file=shown, line=line)
    try:
        content = target.read_text(encoding="utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise IncludeError(f"include '{name}' is not UTF-8 text", file=shown, line=line) from None
    except OSError as exc:
        raise IncludeError(
            f"cannot read include '{name}': {exc.strerror}", file=shown, line=line
        ) from None
    if content.endswith("\n"):
        content = content[:-1]
    lines = content.split("\n")
    chosen = _select(lines, spec, name, shown, line, warnings)
    if kind == "rustdoc_include":
        keep = set(chosen)
        text_lines = [
            lines[i] if i in keep else _hidden(lines[i])
            for i in range(len(lines))
            if not _is_anchor(lines[i])
        ]
    else:
        text_lines = [lines[i] for i in chosen if not _is_anchor(lines[i])]
    if kind == "playground":
        info = ",".join(["rust", *attrs])
        text_lines = [f"```{info}", *text_lines, "```"]
    return _Included(target, "\n".join(text_lines))


def _hidden(line: str) -> str:
    """A line as a rustdoc hidden line."""
    return f"# {line}" if line else "#"


def _is_anchor(line: str) -> bool:
    return bool(_ANCHOR.search(line) or _ANCHOR_END.search(line))


def _select(
    lines: list[str], spec: str, name: str, shown: str, line: int, warnings: list[Diagnostic]
) -> list[int]:
    """The 0-based indexes of the lines ``spec`` (a range or an anchor) picks."""
    if not spec:
        return list(range(len(lines)))
    match = _RANGE.match(spec)
    if match:
        start_text, end_text = match.group("start"), match.group("end")
        start = int(start_text) if start_text else 1
        end = len(lines) if end_text == "" else int(end_text) if end_text else start  # ":N": N
        if start < 1 or end < start:
            raise IncludeError(f"include '{name}:{spec}': empty line range", file=shown, line=line)
        if start > len(lines):
            raise IncludeError(
                f"include '{name}:{spec}': the file has only {len(lines)} lines",
                file=shown,
                line=line,
            )
        if end > len(lines):
            warnings.append(
                Diagnostic(
                    "warning",
                    f"include '{name}:{spec}': the file has only {len(lines)} lines; "
                    f"included {start} to {len(lines)}",
                    shown,
                    line,
                )
            )
            end = len(lines)
        return list(range(start - 1, end))
    return _anchored(lines, spec, name, shown, line, warnings)


def _anchored(
    lines: list[str], anchor: str, name: str, shown: str, line: int, warnings: list[Diagnostic]
) -> list[int]:
    """The lines between ``ANCHOR: anchor`` and ``ANCHOR_END: anchor`` (every such span)."""
    chosen: list[int] = []
    inside = False
    seen = False
    for index, text in enumerate(lines):
        start = _ANCHOR.search(text)
        end = _ANCHOR_END.search(text)
        if start and start.group("name") == anchor:
            inside = seen = True
        elif end and end.group("name") == anchor:
            inside = False
        elif inside:
            chosen.append(index)
    if not seen:
        names = sorted({m.group("name") for t in lines for m in [_ANCHOR.search(t)] if m})
        hint = did_you_mean(anchor, names) or (
            f"; it has {', '.join(names)}" if names else "; it has no ANCHOR: markers"
        )
        raise IncludeError(
            f"include '{name}:{anchor}': no anchor '{anchor}' in {name}{hint}",
            file=shown,
            line=line,
        )
    if inside:
        warnings.append(
            Diagnostic(
                "warning",
                f"include '{name}:{anchor}': no ANCHOR_END: {anchor}; included to the end",
                shown,
                line,
            )
        )
    return chosen


def _did_you_mean(folder: Path, name: str, book_dir: Path) -> str:
    """``; did you mean 'x'?`` for the closest file name where ``name`` was looked for."""
    wanted = Path(name)
    look_in = (folder / wanted.parent).resolve()
    if not look_in.is_dir() or not look_in.is_relative_to(book_dir):
        return ""
    names = sorted(p.name for p in look_in.iterdir() if p.is_file())
    prefix = "" if wanted.parent == Path(".") else f"{wanted.parent.as_posix()}/"
    return did_you_mean(wanted.name, names, prefix)
