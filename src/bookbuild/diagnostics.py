"""Diagnostics that point at the line the author wrote, not at the generated .tex.

Each top-level block of a chapter gets a ``% bookbuild:src FILE:LINE`` comment in the LaTeX
(see :func:`mark_block_sources`). When LaTeX fails, the .tex line of the error is traced
back to the nearest marker, refined by searching the block's source for the offending
token, and reported as ``book/ml-jobs.md:262: error: …`` with the source line and a hint.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SRC_MARK = "% bookbuild:src "
CHAPTER_MARK = re.compile(r"^<!-- bookbuild:chapter (?P<label>.+) -->$")

#: Where LaTeX packages live in Debian (read off TeX Live 2022 with dpkg -S).
STY_PACKAGES = {
    "siunitx": "texlive-science",
    "algorithm2e": "texlive-science",
    "algorithmicx": "texlive-science",
    "algpseudocode": "texlive-science",
    "physics": "texlive-science",
    "mhchem": "texlive-science",
    "ragged2e": "texlive-latex-recommended",
    "booktabs": "texlive-latex-recommended",
    "listings": "texlive-latex-recommended",
    "fontspec": "texlive-latex-recommended",
    "unicode-math": "texlive-latex-recommended",
    "mathtools": "texlive-latex-recommended",
    "xcolor": "texlive-latex-recommended",
    "caption": "texlive-latex-recommended",
    "subcaption": "texlive-latex-recommended",
    "float": "texlive-latex-recommended",
    "microtype": "texlive-latex-recommended",
    "polyglossia": "texlive-latex-recommended",
    "etoolbox": "texlive-latex-recommended",
    "pdfpages": "texlive-latex-recommended",
    "parskip": "texlive-latex-recommended",
    "quoting": "texlive-latex-extra",
    "tcolorbox": "texlive-latex-extra",
    "minted": "texlive-latex-extra",
    "titlesec": "texlive-latex-extra",
    "enumitem": "texlive-latex-extra",
    "multirow": "texlive-latex-extra",
    "makecell": "texlive-latex-extra",
    "csquotes": "texlive-latex-extra",
    "cleveref": "texlive-latex-extra",
    "todonotes": "texlive-latex-extra",
    "framed": "texlive-latex-extra",
    "mdframed": "texlive-latex-extra",
    "wrapfig": "texlive-latex-extra",
    "upquote": "texlive-latex-extra",
    "fvextra": "texlive-latex-extra",
    "needspace": "texlive-latex-extra",
    "footmisc": "texlive-latex-extra",
    "tikz": "texlive-pictures",
    "pgfplots": "texlive-pictures",
    "chemfig": "texlive-pictures",
    "biblatex": "texlive-bibtex-extra",
    "lmodern": "lmodern",
}


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


# --------------------------------------------------------------------------- source map


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

    def probe_lines(self) -> list[str]:
        """The lines blocks are searched in: those pandoc read."""
        return self.lines if self.read is None else self.read.splitlines()

    def line_of(self, read_line: int) -> int:
        """The line of ``text`` for a line of what pandoc read (an included line: the line of
        its include)."""
        mapped = self.read_lines
        return mapped[read_line - 1] if mapped and 0 < read_line <= len(mapped) else read_line


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def _block_probe(block: Any) -> list[str]:
    """The first words of a block, to find it in the source."""
    import panflute as pf

    if isinstance(block, pf.RawBlock | pf.CodeBlock):
        return _words(block.text)[:3]
    return _words(pf.stringify(block))[:3]


def _find_probe(tokens: Sequence[list[str]], probe: list[str], start: int) -> int | None:
    """First line index >= start whose words (with the next line's) hold ``probe`` in order."""
    for index in range(start, len(tokens)):
        if not tokens[index] or probe[0] not in tokens[index]:
            continue
        window = tokens[index][tokens[index].index(probe[0]) :]
        if index + 1 < len(tokens):
            window = window + tokens[index + 1]
        position = 0
        for word in window:
            if position < len(probe) and word == probe[position]:
                position += 1
        if position == len(probe):
            return index
    return None


def mark_block_sources(doc: Any, sources: dict[str, SourceText]) -> None:
    """Put a ``% bookbuild:src FILE:LINE`` RawBlock before each top-level block of each
    chapter (after the chapter markers the assembly left)."""
    import panflute as pf

    blocks: list[Any] = []
    current: SourceText | None = None
    tokens: list[list[str]] = []
    cursor = 0
    for block in doc.content:
        if isinstance(block, pf.RawBlock) and block.format == "html":
            match = CHAPTER_MARK.match(block.text.strip())
            if match:
                current = sources.get(match.group("label"))
                tokens = [_words(line) for line in current.probe_lines()] if current else []
                cursor = 0
                blocks.append(block)
                continue
        probe = _block_probe(block) if current else []
        if current and probe:
            found = _find_probe(tokens, probe, cursor)
            if found is not None:
                cursor = found + 1
                line = current.line_of(found + 1)
                blocks.append(pf.RawBlock(f"{SRC_MARK}{current.label}:{line}", "latex"))
        blocks.append(block)
    doc.content = blocks


@dataclass
class TexMap:
    """Which source line each line of the generated .tex came from."""

    tex_lines: list[int]  # 1-based .tex lines of the markers, ascending
    places: list[tuple[str, int]]  # (file, line) for each marker
    body_start: int  # .tex line of \begin{document}

    @classmethod
    def from_tex(cls, tex: str) -> TexMap:
        tex_lines: list[int] = []
        places: list[tuple[str, int]] = []
        body_start = 0
        for number, line in enumerate(tex.splitlines(), start=1):
            if line.startswith(SRC_MARK):
                label, _, src_line = line[len(SRC_MARK) :].rpartition(":")
                tex_lines.append(number)
                places.append((label, int(src_line)))
            elif not body_start and line.startswith("\\begin{document}"):
                body_start = number
        return cls(tex_lines, places, body_start)

    def locate(self, tex_line: int) -> tuple[str, int, int | None] | None:
        """(file, first line of the block, first line of the next block in that file)."""
        index = bisect.bisect_right(self.tex_lines, tex_line) - 1
        if index < 0:
            return None
        label, line = self.places[index]
        following = next(
            (ln for lb, ln in self.places[index + 1 :] if lb == label and ln > line), None
        )
        return label, line, following


def find_in_source(lines: list[str], needle: str, start: int, end: int | None) -> int | None:
    """1-based line in [start, end) holding ``needle``; None if absent."""
    stop = len(lines) if end is None else min(end - 1, len(lines))
    for number in range(max(start, 1), stop + 1):
        if needle in lines[number - 1]:
            return number
    return None


# --------------------------------------------------------------------------- LaTeX errors

_FILE_LINE = re.compile(r"^(?P<file>[^\s:][^:\n]*\.(?:tex|sty|cls)):(?P<line>\d+): (?P<msg>.*)$")
_FATAL = re.compile(r"^(?P<prog>[\w-]+):fatal: (?P<msg>.*)$")
_CONTEXT_LINE = re.compile(r"^l\.(?P<line>\d+) ?(?P<text>.*)$")


@dataclass
class LatexFailure:
    """The first error of a LaTeX log."""

    message: str
    tex_line: int | None
    context: str  # the text TeX had read on the error line, up to the error
    in_main_file: bool = True


def parse_latex_log(log: str, main_name: str) -> LatexFailure | None:
    lines = log.splitlines()
    for index, line in enumerate(lines):
        fatal = _FATAL.match(line)
        if fatal:
            return LatexFailure(fatal.group("msg").strip(), None, "", in_main_file=False)
        match = _FILE_LINE.match(line)
        bang = line.startswith("! ")
        if not (match or bang):
            continue
        message = match.group("msg") if match else line[2:]
        in_main = not match or Path(match.group("file")).name == main_name
        tex_line = int(match.group("line")) if match else None
        context = ""
        for follow in lines[index + 1 : index + 4]:  # TeX wraps long messages
            if not follow.strip() or follow.startswith(("l.", "<", "See the LaTeX")):
                break
            message += " " + follow.strip()
        for later in lines[index + 1 : index + 15]:
            found = _CONTEXT_LINE.match(later)
            if found:
                context = found.group("text")
                tex_line = tex_line or int(found.group("line"))
                break
        message = re.sub(r"\s+", " ", message).strip().removesuffix(".")
        return LatexFailure(message, tex_line, context, in_main)
    return None


def _last_control_sequence(text: str) -> str | None:
    found = re.findall(r"\\[A-Za-z@]+", text)
    return found[-1] if found else None


def hint_for(message: str, context: str, engine: str) -> tuple[str | None, str | None]:
    """(plain-words hint, the token to look for in the source) for a LaTeX error."""
    if "Undefined control sequence" in message:
        name = _last_control_sequence(context)
        shown = name or "a command"
        return (
            f"{shown} is not defined: a typo, or a package missing from the preamble "
            "(build.preamble)",
            name,
        )
    if "Missing $ inserted" in message:
        name = _last_control_sequence(context)
        what = f"{name} " if name else ""
        return (
            f"math outside math mode: put {what}inside $…$ (e.g. $\\rightarrow$)",
            name,
        )
    sty = re.search(r"File `([^']+)\.sty' not found", message)
    if sty:
        package = STY_PACKAGES.get(sty.group(1))
        install = (
            f"apt-get install {package}"
            if package
            else f"find its Debian package with: apt-file search {sty.group(1)}.sty"
        )
        return f"LaTeX package '{sty.group(1)}' is not installed: {install}", sty.group(1)
    image = re.search(
        r"(?:File `([^']+)' not found|Unable to load picture or PDF file '([^']+)')", message
    )
    if image:
        name = image.group(1) or image.group(2)
        return f"image '{name}' does not exist (paths are relative to book.yaml)", name
    if "Unknown graphics extension" in message:
        return (
            f"{engine} cannot include this image format: use PNG, JPEG or PDF",
            re.sub(r".*\{([^}]*)\}?$", r"\1", context) or None,
        )
    unicode_char = re.search(r"Unicode character (\S+) \(U\+[0-9A-F]+\)", message)
    if unicode_char:
        return (
            f"{engine} has no glyph set up for {unicode_char.group(1)}: build with "
            "--engine xelatex (or lualatex)",
            unicode_char.group(1),
        )
    if "Can be used only in preamble" in message:
        name = _last_control_sequence(context)
        return "this command belongs in the preamble (build.preamble), not a chapter", name
    return None, _last_control_sequence(context)


def latex_diagnostic(
    log: str,
    tex: str,
    tex_name: str,
    sources: dict[str, SourceText],
    engine: str,
    log_path: str,
) -> Diagnostic:
    """A Diagnostic for the first error of ``log``, located in the author's sources."""
    failure = parse_latex_log(log, tex_name)
    if failure is None:
        return Diagnostic(
            "error",
            "the LaTeX engine failed without an error message",
            details=[f"log: {log_path}"],
        )
    hint, needle = hint_for(failure.message, failure.context, engine)
    diagnostic = Diagnostic("error", failure.message, hint=hint)
    tex_lines = tex.splitlines()
    if failure.tex_line and failure.in_main_file:
        start = max(failure.tex_line - 3, 0)
        excerpt = tex_lines[start : failure.tex_line + 2]
        diagnostic.details = [
            f"{tex_name}:{start + i + 1}: {text}" for i, text in enumerate(excerpt)
        ]
        texmap = TexMap.from_tex(tex)
        place = texmap.locate(failure.tex_line) if failure.tex_line > texmap.body_start else None
        if place is None:
            _locate_in_preamble(diagnostic, needle, sources)
        else:
            label, line, following = place
            source = sources.get(label)
            if source is not None:
                lines = source.lines
                if needle:
                    line = find_in_source(lines, needle, line, following) or line
                diagnostic.file, diagnostic.line = source.display, line
                diagnostic.source = lines[line - 1] if line <= len(lines) else None
    else:
        _locate_in_preamble(diagnostic, needle, sources)
    diagnostic.details.append(f"log: {log_path}")
    return diagnostic


def _locate_in_preamble(
    diagnostic: Diagnostic, needle: str | None, sources: dict[str, SourceText]
) -> None:
    """Errors before \\begin{document}: find the token in the preamble files or book.yaml."""
    if not needle:
        return
    for label, source in sources.items():
        if label.endswith(".md"):
            continue
        line = find_in_source(source.lines, needle, 1, None)
        if line:
            diagnostic.file, diagnostic.line = source.display, line
            diagnostic.source = source.lines[line - 1]
            return


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


_OVERFULL = re.compile(
    r"^Overfull \\hbox \((?P<amount>[\d.]+pt) too wide\) (?:in paragraph|detected) at lines? "
    r"(?P<line>\d+)",
    re.M,
)


def overfull_boxes(log: str, tex: str, sources: dict[str, SourceText]) -> list[Diagnostic]:
    """Lines LaTeX could not fit in the margin (shown with -v only), at their source line."""
    texmap = TexMap.from_tex(tex)
    found: list[Diagnostic] = []
    for match in _OVERFULL.finditer(log):
        place = texmap.locate(int(match.group("line")))
        source = sources.get(place[0]) if place else None
        message = f"overfull line: {match.group('amount')} too wide"
        if source is None or place is None:
            found.append(Diagnostic("info", message))
            continue
        line = place[1]
        text = source.lines[line - 1] if line <= len(source.lines) else None
        found.append(Diagnostic("info", message, source.display, line, text))
    return found
