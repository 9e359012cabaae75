"""Code blocks as the source tool shows them: language from the info string, tool flags
dropped, titles as a caption line, rustdoc hidden lines hidden, grey-friendly highlighting,
long lines wrapped.

- Info strings as mdBook, GitHub and Quarto write them: ``rust,ignore``,
  ``rust,no_run,edition2021``, ``python title="x.py"`` (bookbuild rewrites it to
  ``python,title=x.py`` before pandoc reads it), ``{.python filename="x.py"}``, ``console``.
  The first word before ``,`` is the language (``sh`` -> bash, ``py`` -> python …; ``console``,
  ``text`` and other output get none); flags (``ignore``, ``no_run``, ``editable`` …) are
  never printed; ``title=``/``filename=``/``file=`` becomes a small caption line above the
  block.
- rustdoc hidden lines: in Rust blocks, lines whose first non-blank characters are ``# `` or
  that are exactly ``#`` are removed; ``##`` prints as ``#``; ``#[attr]`` and ``#!`` stay.
  mdBook's ``hidelines=PREFIX`` does the same for any language, and so does metadata
  ``code-hidelines: {python: "~"}`` for every block in that language (an mdBook book's
  ``[output.html.code.hidelines]``).
- ``{{#include …}}``-style mdBook directives still in the text are warned about, naming the
  chapter file and line. Inside bookbuild (``bookbuild-book-dir`` set), the kinds it expands
  before pandoc reads (:data:`EXPANDED`) are left alone: one still there was written escaped
  (``\\{{#include x}}``) to print as it is.
- LaTeX: highlighting macros from the ``highlight-style`` metadata (default ``bookbuild-grey``,
  a style for grey-scale print defined here; or any pandoc style name, e.g. ``monochrome``,
  ``kate``; or a pandoc ``.theme`` JSON file, as a path from the working directory); code
  (highlighted or not) is set with fvextra so long lines wrap, with a hook arrow, instead of
  running off the page, beside a thin grey rule. Inline code may break after an underscore
  (``this_is_a_long_name``, ``use_readme_rmd()``), as it cannot anywhere else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import panflute as pf
from _filterlib import add_header_include, chapter_label, run_filter, source_place, warn

#: Every result depends on one code block and the metadata: chapters can be rebuilt alone.
INCREMENTAL = True

SETTING = "highlight-style"
#: Metadata: a hidden-line prefix per language (mdBook's ``[output.html.code.hidelines]``).
HIDELINES = "code-hidelines"
DEFAULT_STYLE = "bookbuild-grey"
LEFTOVER = re.compile(r"\{\{\s*#\w+(?:[^}]*\}\})?")
#: The directives bookbuild's reader expands (bookbuild.includes); what remains was escaped.
EXPANDED = ("include", "rustdoc_include", "playground", "title")

#: Languages under the names authors write, as pandoc's highlighter knows them.
ALIASES = {
    "py": "python",
    "python3": "python",
    "sh": "bash",
    "shell": "bash",
    "zsh": "zsh",
    "js": "javascript",
    "jsx": "javascriptreact",
    "ts": "typescript",
    "yml": "yaml",
    "rs": "rust",
    "c++": "cpp",
    "cxx": "cpp",
    "golang": "go",
    "hs": "haskell",
    "rb": "ruby",
    "kt": "kotlin",
    "tex": "latex",
    "dockerfile": "dockerfile",
    "make": "makefile",
    "jsonc": "json",
    "json5": "json",
    "html": "html",
    "htm": "html",
    "xml": "xml",
    "md": "markdown",
}

#: Info-string words that name output, not a language: printed plain.
PLAIN = {
    "console",
    "text",
    "txt",
    "plain",
    "plaintext",
    "output",
    "shell-session",
    "none",
    "nohighlight",
    "terminal",
}

TITLE_KEYS = ("title", "filename", "file", "name")

#: The default style: black text, structure by weight and slant, comments and strings in
#: greys that stay readable on a laser printer (no colour is needed to tell them apart).
GREY_STYLE: dict[str, Any] = {
    "text-color": None,
    "background-color": None,
    "text-styles": {
        "Keyword": {"bold": True},
        "ControlFlow": {"bold": True},
        "Import": {"bold": True},
        "DataType": {"text-color": "#303030"},
        "Comment": {"italic": True, "text-color": "#5f5f5f"},
        "CommentVar": {"italic": True, "bold": True, "text-color": "#5f5f5f"},
        "Documentation": {"italic": True, "text-color": "#5f5f5f"},
        "Annotation": {"italic": True, "text-color": "#5f5f5f"},
        "Information": {"italic": True, "text-color": "#5f5f5f"},
        "Warning": {"italic": True, "bold": True},
        "String": {"text-color": "#4a4a4a"},
        "VerbatimString": {"text-color": "#4a4a4a"},
        "SpecialString": {"text-color": "#4a4a4a"},
        "Char": {"text-color": "#4a4a4a"},
        "SpecialChar": {"bold": True, "text-color": "#4a4a4a"},
        "Preprocessor": {"text-color": "#5f5f5f"},
        "Attribute": {"text-color": "#5f5f5f"},
        "Alert": {"bold": True, "underline": True},
        "Error": {"bold": True, "underline": True},
    },
}

#: Token kinds pandoc's LaTeX writer uses (``\KeywordTok`` …).
TOKENS = (
    "Alert", "Annotation", "Attribute", "BaseN", "BuiltIn", "Char", "Comment", "CommentVar",
    "Constant", "ControlFlow", "DataType", "DecVal", "Documentation", "Error", "Extension",
    "Float", "Function", "Import", "Information", "Keyword", "Normal", "Operator", "Other",
    "Preprocessor", "RegionMarker", "SpecialChar", "SpecialString", "String", "Variable",
    "VerbatimString", "Warning",
)  # fmt: skip

VERBATIM_OPTIONS = (
    r"breaklines,breakafter={,;./_-)},breakanywhere,fontsize=\small,"
    r"frame=leftline,framerule=0.6pt,framesep=3mm,rulecolor=\color{black!40}"
)


class CodeError(ValueError):
    """A code setting bookbuild cannot use (reported at the book's metadata)."""


@dataclass
class State:
    style: str = DEFAULT_STYLE
    where: str | None = None  # the chapter, from its marker
    place: tuple[str, int] | None = None  # the current top-level block's source line
    titles: int = 0
    seen_code: bool = False
    seen_inline_underscore: bool = False  # inline code with an underscore: it may break there
    notes: list[str] = field(default_factory=list)
    expanded: bool = False  # includes were expanded before the read (inside bookbuild)
    hidelines: dict[str, str] = field(default_factory=dict)  # language -> hidden-line prefix


def prepare(doc: pf.Doc) -> None:
    style = doc.get_metadata(SETTING, DEFAULT_STYLE)
    if not isinstance(style, str) or not style.strip():
        raise CodeError(f"metadata '{SETTING}' must be a style name or a .theme file")
    doc.code_state = State(style=style.strip())
    doc.code_state.expanded = doc.get_metadata("bookbuild-book-dir", None) is not None
    hidelines = doc.get_metadata(HIDELINES, {})
    if not isinstance(hidelines, dict) or not all(
        isinstance(v, str) and v for v in hidelines.values()
    ):
        raise CodeError(f"metadata '{HIDELINES}' must map languages to line prefixes")
    doc.code_state.hidelines = {ALIASES.get(k.lower(), k.lower()): v for k, v in hidelines.items()}


def _here(state: State, offset: int = 0) -> str:
    if state.place:
        return f"{state.place[0]}:{state.place[1] + offset}: "
    return f"{state.where}: " if state.where else ""


def _track(elem: pf.Element, state: State) -> None:
    label = chapter_label(elem)
    place = source_place(elem)
    if label is not None:
        state.where, state.place = label, None
    elif place is not None:
        state.place = place


def parse_info(elem: pf.CodeBlock) -> tuple[str | None, list[str], dict[str, str]]:
    """(language, flags, attributes) from the block's classes and attributes."""
    words: list[str] = []
    for cls in elem.classes:
        words += [w for w in cls.split(",") if w]
    attributes = dict(elem.attributes)
    flags: list[str] = []
    for word in words[1:]:
        key, eq, value = word.partition("=")
        if eq:
            attributes.setdefault(key, unquote(value).strip("\"'"))
        else:
            flags.append(word)
    language = words[0].lower() if words else None
    if language is not None and "=" in language:  # ```title=x.py, no language
        key, _, value = language.partition("=")
        attributes.setdefault(key, unquote(value).strip("\"'"))
        language = None
    if language is not None:
        language = language.removeprefix("language-")
        language = None if language in PLAIN else ALIASES.get(language, language)
    return language, flags, attributes


def hide_lines(text: str, prefix: str | None) -> str:
    """The code without its hidden lines (rustdoc's ``# `` by default, or ``prefix``)."""
    kept: list[str] = []
    for line in text.split("\n"):
        stripped = line.lstrip()
        if prefix is None:
            if stripped.startswith("##"):
                kept.append(line.replace("##", "#", 1))
            elif stripped.startswith("# ") or stripped == "#":
                continue
            else:
                kept.append(line)
        elif stripped.startswith(prefix):
            continue
        else:
            kept.append(line)
    return "\n".join(kept)


def _title_block(title: str, doc: pf.Doc) -> pf.Block:
    if doc.format in ("latex", "beamer"):
        return pf.Plain(
            pf.RawInline(r"\BookbuildCodeTitle{", format="latex"),
            pf.Str(title),
            pf.RawInline("}", format="latex"),
        )
    return pf.Div(pf.Para(pf.Code(title)), classes=["code-title"])


def _leftover(text: str, state: State) -> str | None:
    """The first directive in ``text`` nothing expanded (escaped ones are meant as text)."""
    for found in LEFTOVER.finditer(text):
        kind = re.match(r"\{\{\s*#(\w+)", found.group(0))
        if not (state.expanded and kind and kind.group(1) in EXPANDED):
            return found.group(0)
    return None


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.RawBlock, pf.Str, pf.Code, pf.CodeBlock)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without a
#: code block or ``{{`` (a leftover mdBook directive).
NEEDS = frozenset({"CodeBlock", "text:{{"})


def action(elem: pf.Element, doc: pf.Doc) -> pf.Element | list[pf.Element] | None:
    state: State = doc.code_state
    if isinstance(elem, pf.RawBlock):
        _track(elem, state)
        return None
    if isinstance(elem, pf.Str | pf.Code) and "{{#" in elem.text:
        found = _leftover(elem.text, state)
        if found:
            warn(doc, f"{_here(state)}mdBook directive '{found}' left as text")
        return None
    if isinstance(elem, pf.Code) and "_" in elem.text and not elem.classes:
        state.seen_inline_underscore = True
    if not isinstance(elem, pf.CodeBlock):
        return None
    state.seen_code = True
    language, flags, attributes = parse_info(elem)
    prefix = attributes.pop("hidelines", None) or state.hidelines.get(language or "")
    if language == "rust" or prefix:
        elem.text = hide_lines(elem.text, prefix or None)
    for number, line in enumerate(elem.text.split("\n"), start=1):
        found = _leftover(line, state) if "{{" in line else None
        if found:
            warn(doc, f"{_here(state, number)}mdBook directive '{found}' left in code")
    title = next((attributes.pop(k) for k in TITLE_KEYS if k in attributes), None)
    elem.classes = [language] if language else []
    elem.attributes = {k: v for k, v in attributes.items() if k not in ("edition",)}
    if title:
        state.titles += 1
        return [_title_block(title, doc), elem]
    return None


def _latex_color(value: str | None) -> str | None:
    if not value or not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return None
    return value[1:].upper()


def token_macro(token: str, style: dict[str, Any]) -> str:
    """``\\renewcommand`` of one token macro for a pandoc theme's text style."""
    body = "#1"
    color = _latex_color(style.get("text-color"))
    if color:
        body = rf"\textcolor[HTML]{{{color}}}{{{body}}}"
    if style.get("underline"):
        body = rf"\underline{{{body}}}"
    if style.get("italic"):
        body = rf"\textit{{{body}}}"
    if style.get("bold"):
        body = rf"\textbf{{{body}}}"
    return rf"\providecommand{{\{token}Tok}}[1]{{}}\renewcommand{{\{token}Tok}}[1]{{{body}}}"


def load_style(name: str, doc: pf.Doc) -> dict[str, Any]:
    """A pandoc theme: the grey default, a ``.theme`` file, or a style pandoc knows."""
    if name == DEFAULT_STYLE:
        return GREY_STYLE
    if name.endswith((".theme", ".json")):
        try:
            loaded = json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CodeError(f"metadata '{SETTING}': cannot read theme '{name}': {exc}") from None
    else:
        try:
            loaded = json.loads(pf.run_pandoc(args=["--print-highlight-style", name]))
        except (OSError, ValueError, RuntimeError) as exc:
            raise CodeError(
                f"metadata '{SETTING}': '{name}' is not a pandoc highlight style ({exc}); "
                f"use {DEFAULT_STYLE}, monochrome, kate, tango … or a .theme file"
            ) from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("text-styles"), dict):
        raise CodeError(f"metadata '{SETTING}': '{name}' is not a pandoc theme")
    return loaded


def preamble(style: dict[str, Any]) -> str:
    """The LaTeX for code: fvextra wrapping, the title line, the token macros."""
    styles = style.get("text-styles", {})
    background = _latex_color(style.get("background-color"))
    lines = [
        r"\usepackage{fvextra}",
        r"\usepackage{xcolor}",
        rf"\DefineVerbatimEnvironment{{Highlighting}}{{Verbatim}}{{commandchars=\\\{{\}},{VERBATIM_OPTIONS}}}",
        rf"\RecustomVerbatimEnvironment{{verbatim}}{{Verbatim}}{{{VERBATIM_OPTIONS}}}",
        r"\providecommand{\BookbuildCodeTitle}[1]{}",
        r"\renewcommand{\BookbuildCodeTitle}[1]{\par\addvspace{\medskipamount}\noindent"
        r"{\small\sffamily\bfseries #1}\par\nopagebreak[4]\vspace{-0.6\baselineskip}}",
        *(token_macro(token, styles.get(token, {})) for token in TOKENS),
    ]
    if background:
        lines += [
            r"\usepackage{framed}",
            rf"\definecolor{{shadecolor}}{{HTML}}{{{background}}}",
            r"\ifdefined\Shaded\renewenvironment{Shaded}{\begin{snugshade}}{\end{snugshade}}"
            r"\else\newenvironment{Shaded}{\begin{snugshade}}{\end{snugshade}}\fi",
        ]
    else:
        lines.append(
            r"\ifdefined\Shaded\renewenvironment{Shaded}{}{}\else\newenvironment{Shaded}{}{}\fi"
        )
    return "\n".join(lines)


#: Inline code (pandoc's \texttt) may break after an underscore: a long identifier would
#: otherwise run into the margin, as \texttt has no other place to break.
INLINE_BREAKS = r"""% bookbuild code: inline code may break after an underscore
\newcommand{\bookbuildcodeunderscore}{\textunderscore\allowbreak{}}
\DeclareTextFontCommand{\texttt}{\ttfamily\let\_\bookbuildcodeunderscore}"""


def finalize(doc: pf.Doc) -> None:
    state: State = doc.code_state
    if doc.format in ("latex", "beamer") and state.seen_code:  # no code, no packages
        add_header_include(doc, preamble(load_style(state.style, doc)))
    if doc.format in ("latex", "beamer") and state.seen_inline_underscore:
        add_header_include(doc, INLINE_BREAKS)
    del doc.code_state


def main(doc: pf.Doc | None = None) -> pf.Doc:
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


if __name__ == "__main__":
    main()
