"""What would be lost silently in print, found on the filtered document before LaTeX runs.

``bookbuild check`` finds these in the source; ``bookbuild pdf`` reports the same as
warnings (file:line, in ``--json``, fatal under ``--strict``), so an author never finds them
in print:

- raw HTML still in the document after the filters (the LaTeX writer drops it);
- a footnote reference with no definition (``[^key]`` printed as it is);
- text that looks like a LaTeX command but is printed literally (an unclosed ``\\textbf{``,
  or any command in a Markdown flavour without raw LaTeX);
- a citation in a book with no bibliography (printed as ``@key``).
"""

from __future__ import annotations

import re
from typing import Any

from .diagnostics import Diagnostic, SourceText, find_in_source
from .filters import filterlib
from .markers import panflute_label, src_place
from .syntax import CROSSREF_ID, NOTE_USE

#: ``\name{`` or ``\name[``, or a bare command authors commonly write in text.
_LITERAL_COMMAND = re.compile(
    r"\\(?:[A-Za-z]+[{\[]|(?:textbf|textit|emph|cite|ref|label|LaTeX|TeX|newline|newpage|"
    r"section|footnote|url|href|item|begin|end)\b)"
)
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][\w-]*)")


class _Places:
    """Tracks the chapter and line of the top-level block being scanned."""

    def __init__(self, sources: dict[str, SourceText]):
        self.sources = sources
        self.source: SourceText | None = None
        self.line = 1

    def see(self, block: Any) -> bool:
        """Follow a marker; True when ``block`` is one."""
        import panflute as pf

        if not isinstance(block, pf.RawBlock):
            return False
        label = panflute_label(block)
        if label is not None:
            self.source, self.line = self.sources.get(label), 1
            return True
        place = src_place(block.text) if block.format == "latex" else None
        if place is not None:
            self.source = self.sources.get(place[0], self.source)
            self.line = place[1]
            return True
        return False

    def diagnostic(self, needle: str, message: str, hint: str | None = None) -> Diagnostic:
        if self.source is None:
            return Diagnostic("warning", message, hint=hint)
        line = find_in_source(self.source.lines, needle, self.line, None) or self.line
        text = self.source.lines[line - 1] if 0 < line <= len(self.source.lines) else None
        return Diagnostic("warning", message, self.source.display, line, text, hint)


KINDS = frozenset({"html", "notes", "latex", "cites"})


def scan_document(
    doc: Any,
    sources: dict[str, SourceText],
    bibliography: bool,
    kinds: frozenset[str] = KINDS,
) -> list[Diagnostic]:
    """The warnings of the module docstring (those of ``kinds``), for a filtered document
    with its chapter and source markers."""
    import panflute as pf

    places = _Places(sources)
    found: list[Diagnostic] = []

    def visit(elem: Any, _doc: Any) -> None:
        if isinstance(elem, (pf.RawBlock, pf.RawInline)) and elem.format == "html":
            if "html" not in kinds:
                return
            text = elem.text.strip()
            if text.startswith("<!--") or not text:
                return
            tag = _TAG.search(text)
            if tag and not text.lstrip().startswith("</"):
                name = tag.group(1).lower()
                found.append(
                    places.diagnostic(
                        f"<{tag.group(1)}",
                        f"raw HTML <{name}> is not printed in the PDF",
                        "add the html filter to build.filters, or write it in Markdown",
                    )
                )
        elif isinstance(elem, pf.Str):
            if isinstance(elem.parent, pf.Cite):
                return
            for match in NOTE_USE.finditer(elem.text) if "notes" in kinds else ():
                found.append(
                    places.diagnostic(
                        match.group(0),
                        f"footnote {match.group(0)} has no definition: printed as it is",
                        f"define it in this chapter: {match.group(0)}: text",
                    )
                )
            command = _LITERAL_COMMAND.search(elem.text) if "latex" in kinds else None
            if command:
                found.append(
                    places.diagnostic(
                        command.group(0),
                        f"'{elem.text}' looks like a LaTeX command but is printed as text",
                        "close its braces, or write it in Markdown (**bold**, *italic*)",
                    )
                )
        elif isinstance(elem, pf.Cite) and not bibliography and "cites" in kinds:
            for citation in elem.citations:
                if not CROSSREF_ID.match(citation.id) and citation.id != "*":
                    found.append(
                        places.diagnostic(
                            f"@{citation.id}",
                            f"citation '@{citation.id}' but the book has no bibliography",
                        )
                    )

    for block in doc.content:
        if not places.see(block):
            filterlib().walk(block, visit, doc, (pf.RawBlock, pf.RawInline, pf.Str, pf.Cite))
    return found
