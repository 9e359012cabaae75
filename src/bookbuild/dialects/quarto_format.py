"""A Quarto book's ``format:`` settings as bookbuild's book metadata.

``_quarto.yml`` (or a chapter's front matter) says how the PDF looks under ``format: pdf:``
(keys shared by every format may sit directly under ``format:`` or at the top level; the
layout reader passes those in ``shared``)::

    format:
      pdf:
        documentclass: scrreprt
        toc: true
        number-sections: true
        include-in-header: preamble.tex

:func:`quarto_format_settings` maps each key bookbuild honours onto the metadata key pandoc's
LaTeX template (or bookbuild) reads, and returns a one-line warning for every other key, so
nothing is dropped silently. Other formats (``html:``, ``epub:`` …) are not bookbuild's
business and are skipped without a word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Quarto key -> metadata key, for values passed on as they are.
RENAMED: dict[str, str] = {
    "number-sections": "numbersections",
    "number-depth": "secnumdepth",
    "toc": "toc",
    "toc-depth": "toc-depth",
    "toc-title": "toc-title",
    "lof": "lof",
    "lot": "lot",
    "documentclass": "documentclass",
    "classoption": "classoption",
    "papersize": "papersize",
    "fontsize": "fontsize",
    "geometry": "geometry",
    "mainfont": "mainfont",
    "sansfont": "sansfont",
    "monofont": "monofont",
    "mathfont": "mathfont",
    "mainfontoptions": "mainfontoptions",
    "sansfontoptions": "sansfontoptions",
    "monofontoptions": "monofontoptions",
    "fontfamily": "fontfamily",
    "fontfamilyoptions": "fontfamilyoptions",
    "linestretch": "linestretch",
    "indent": "indent",
    "colorlinks": "colorlinks",
    "linkcolor": "linkcolor",
    "urlcolor": "urlcolor",
    "citecolor": "citecolor",
    "toccolor": "toccolor",
    "lang": "lang",
    "dir": "dir",
    "title": "title",
    "subtitle": "subtitle",
    "author": "author",
    "date": "date",
    "abstract": "abstract",
    "bibliography": "bibliography",
    "csl": "csl",
    "link-citations": "link-citations",
    "highlight-style": "highlight-style",
    "crossref": "crossref",
    "margin-left": "margin-left",
    "margin-right": "margin-right",
    "margin-top": "margin-top",
    "margin-bottom": "margin-bottom",
    "pagestyle": "pagestyle",
    "secnumdepth": "secnumdepth",
}
#: Keys about running Quarto itself, or the HTML/Jupyter side: nothing to do in a PDF.
NOT_FOR_PRINT = {
    "keep-tex", "keep-md", "keep-ipynb", "output-file", "output-ext", "execute", "engine",
    "jupyter", "knitr", "freeze", "code-fold", "code-tools", "code-summary", "html-math-method",
    "fig-format", "fig-dpi", "df-print", "filters", "shortcodes", "pdf-engine-opts",
    "latex-auto-install", "latex-auto-mk", "latex-clean", "latex-max-runs", "latex-min-runs",
    "latex-makeindex", "latex-tlmgr-opts", "latex-output-dir", "latex-input-paths",
}  # fmt: skip
#: Quarto's names for highlight styles that pandoc knows by another name.
HIGHLIGHT_STYLES = {
    "pygments", "tango", "espresso", "zenburn", "kate", "monochrome", "breezedark", "haddock",
}  # fmt: skip


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _includes(key: str, value: Any, book_dir: Path | None, warnings: list[str]) -> list[str] | None:
    """``include-in-header`` and friends: files (read from the book) or ``text:`` items, as
    raw LaTeX blocks for pandoc's header-includes / include-before / include-after."""
    blocks: list[str] = []
    for item in _as_list(value):
        if isinstance(item, dict) and "text" in item:
            text = str(item["text"])
        elif isinstance(item, dict) and "file" in item or isinstance(item, str):
            name = str(item["file"] if isinstance(item, dict) else item)
            if book_dir is None:
                warnings.append(f"format.pdf.{key}: file '{name}' not read (no book folder)")
                continue
            path = (book_dir / name).resolve()
            if not path.is_relative_to(book_dir.resolve()) or not path.is_file():
                warnings.append(f"format.pdf.{key}: '{name}' is not a file in the book folder")
                continue
            text = path.read_text(encoding="utf-8")
        else:
            warnings.append(f"format.pdf.{key}: entry {item!r} is neither a file nor text:")
            continue
        blocks.append("```{=latex}\n" + text.rstrip("\n") + "\n```\n")
    return blocks or None


def _pdf_options(format_value: Any) -> dict[str, Any] | None:
    """The ``pdf`` options in a ``format:`` value (``pdf``, ``pdf: default``, a mapping)."""
    if isinstance(format_value, str):
        return {} if format_value == "pdf" else None
    if not isinstance(format_value, dict):
        return None
    for name in ("pdf", "bookbuild-pdf"):
        if name in format_value:
            options = format_value[name]
            return options if isinstance(options, dict) else {}
    return None


def quarto_format_settings(
    mapping: Any, book_dir: Path | None = None, shared: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Book metadata from a Quarto ``format:`` value, and a warning per key not honoured.

    ``mapping``: the ``format:`` value as written (``{"pdf": {...}, "html": {...}}``, or
    ``"pdf"``). ``shared``: keys given for every format (top level of ``_quarto.yml`` or of
    ``format:``), overridden by ``pdf:``'s. ``book_dir``: where ``include-in-header`` files
    are read from (they must stay inside it).
    """
    warnings: list[str] = []
    options: dict[str, Any] = {}
    for key, value in (shared or {}).items():
        if key in RENAMED or key.startswith("include-"):
            options[key] = value
    pdf = _pdf_options(mapping)
    if pdf is None and isinstance(mapping, dict):
        pdf = {}
    options.update(pdf or {})
    metadata: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("include-in-header", "include-before-body", "include-after-body"):
            target = {"include-in-header": "header-includes",
                      "include-before-body": "include-before",
                      "include-after-body": "include-after"}[key]  # fmt: skip
            blocks = _includes(key, value, book_dir, warnings)
            if blocks:
                metadata.setdefault(target, []).extend(blocks)
        elif key == "highlight-style":
            if str(value) in HIGHLIGHT_STYLES:
                metadata["highlight-style"] = str(value)
            else:
                warnings.append(
                    f"format.pdf.highlight-style: '{value}' is not one of pandoc's styles "
                    f"({', '.join(sorted(HIGHLIGHT_STYLES))}); the default is used"
                )
        elif key == "cite-method":
            if value != "citeproc":
                warnings.append(f"format.pdf.cite-method: {value} is not honoured; citeproc is")
        elif key == "pdf-engine":
            metadata["bookbuild-engine"] = str(value)  # the layout reader sets build.engine
        elif key == "number-depth":
            metadata["secnumdepth"] = value
        elif key in RENAMED:
            metadata[RENAMED[key]] = value
        elif key in NOT_FOR_PRINT:
            continue
        else:
            warnings.append(f"format.pdf.{key}: not honoured by bookbuild")
    return metadata, warnings
