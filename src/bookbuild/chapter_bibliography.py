"""Per-chapter reference lists: ``bibliography-placement: per-chapter``.

Each chapter ends with the works it cites. citeproc runs once on the whole book (so IEEE
numbers follow the first citation across the book, as in a book with one list), or, with
``bibliography-numbering: restart``, once per chapter (numbers start at [1] in each chapter).
Its reference list is then cut into the chapters' lists, each entry under an id of its
chapter (``ref-c3-key``) with the chapter's citations linking to it; the LaTeX writer then runs
without citeproc. The default, ``bibliography-placement: end``, leaves pandoc's single list at
the back (or at a ``::: {#refs}`` Div) as before.

Metadata: ``bibliography-placement`` (``end`` | ``per-chapter``), ``bibliography-numbering``
(``continuous`` | ``restart``), ``chapter-bibliography-title`` (default "References").
"""

from __future__ import annotations

import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .diagnostics import Diagnostic
from .errors import ConfigError
from .markers import SRC_MARK, panflute_label

PLACEMENTS = ("end", "per-chapter")
RAW_PART = re.compile(r"\\(part\*?\s*[\[{]|bookbuildpartpage|bookbuildunnumberedpart)")
NUMBERINGS = ("continuous", "restart")


def placement(metadata: dict[str, Any]) -> str:
    value = str(metadata.get("bibliography-placement", "end")).strip().lower()
    if value not in PLACEMENTS:
        raise ConfigError(
            [
                Diagnostic(
                    "error",
                    f"metadata 'bibliography-placement' must be {' or '.join(PLACEMENTS)}, "
                    f"not '{value}'",
                )
            ]
        )
    return value


def per_chapter(config: Any) -> bool:
    """True when the book wants a reference list at the end of each chapter."""
    return placement(config.metadata) == "per-chapter"


def _is_chapter_start(block: Any) -> bool:
    import panflute as pf

    return isinstance(block, pf.Header) and block.level == 1 and "part" not in block.classes


def _is_marker(block: Any) -> bool:
    """bookbuild's own markers (chapter, source line), which belong to the next chapter."""
    import panflute as pf

    return panflute_label(block) is not None or (
        isinstance(block, pf.RawBlock) and block.text.startswith(SRC_MARK)
    )


def _is_part(block: Any) -> bool:
    """A part: its heading, or the parts filter's part page (a Div, or raw ``\\part``)."""
    import panflute as pf

    if isinstance(block, pf.Header):
        return block.level == 1 and "part" in block.classes
    if isinstance(block, pf.Div):
        return "part" in block.classes
    if isinstance(block, (pf.Plain, pf.Para)) and block.content:
        block = block.content[0]
    return isinstance(block, (pf.RawBlock, pf.RawInline)) and bool(RAW_PART.search(block.text))


def _chapters(blocks: list[Any]) -> list[tuple[int, int]]:
    """(start, end) of each chapter: from a level-1 heading to the next one or a part."""
    bounds = [i for i, b in enumerate(blocks) if _is_chapter_start(b) or _is_part(b)]
    ends = [*bounds[1:], len(blocks)]
    return [(s, e) for s, e in zip(bounds, ends, strict=True) if _is_chapter_start(blocks[s])]


def _citeproc(doc_json: dict[str, Any], config: Any) -> Any:
    import panflute as pf

    from .pandoc import run_pandoc

    result = run_pandoc(
        ["--from", "json", "--to", "json", "--citeproc"], json.dumps(doc_json), cwd=config.book_dir
    )
    return pf.load(io.StringIO(result.text))


def _take_entries(doc: Any) -> tuple[dict[str, Any], Any]:
    """Remove the ``#refs`` Div(s) citeproc filled; return its entries by key and the Div."""
    import panflute as pf

    entries: dict[str, Any] = {}
    found: list[Any] = []

    def visit(elem: Any, _doc: Any) -> Any:
        if isinstance(elem, pf.Div) and elem.identifier == "refs":
            found.append(elem)
            for entry in elem.content:
                if isinstance(entry, pf.Div) and entry.identifier.startswith("ref-"):
                    entries[entry.identifier[4:]] = entry
            return []
        return None

    doc.walk(visit)
    return entries, (found[0] if found else None)


def _cited_keys(blocks: list[Any]) -> list[str]:
    import panflute as pf

    keys: list[str] = []

    def visit(elem: Any, _doc: Any) -> None:
        if isinstance(elem, pf.Cite):
            for citation in elem.citations:
                if citation.id not in keys:
                    keys.append(citation.id)

    for block in blocks:
        block.walk(visit)
    return keys


def _relink(blocks: list[Any], tag: str) -> None:
    """Citations in this chapter link to this chapter's list (``#ref-key`` -> ``#ref-c3-key``)."""
    import panflute as pf

    def visit(elem: Any, _doc: Any) -> None:
        if isinstance(elem, pf.Link) and elem.url.startswith("#ref-"):
            elem.url = f"#ref-{tag}-{elem.url[5:]}"

    for block in blocks:
        block.walk(visit)


def _chapter_list(
    keys: list[str], entries: dict[str, Any], template: Any, tag: str, title: str
) -> list[Any]:
    import panflute as pf

    order = list(entries)  # citeproc's order: by number, or by author and year
    chosen = sorted((k for k in keys if k in entries), key=order.index)
    if not chosen:
        return []
    items = []
    for key in chosen:
        entry = pf.Div(*entries[key].content, identifier=f"ref-{tag}-{key}")
        entry.classes = list(entries[key].classes)
        items.append(entry)
    body = pf.Div(*items, identifier=f"refs-{tag}")
    if template is not None:
        body.classes = list(template.classes)
        body.attributes = dict(template.attributes)
    heading = pf.Header(
        *pf.convert_text(title)[0].content if title else [pf.Str("References")],
        level=2,
        identifier=f"references-{tag}",
        classes=["unnumbered"],
    )
    return [heading, body]


def apply_chapter_bibliography(doc: Any, config: Any) -> None:
    """Run citeproc and put each chapter's cited works at its end (per-chapter placement)."""
    import panflute as pf

    from .pandoc import doc_to_json

    if not per_chapter(config) or hasattr(doc, "bookbuild_external_labels"):
        return  # a --chapter preview numbers and lists its citations itself
    if not config.metadata.get("citeproc", True) or not (config.bibliography or config.csl_path):
        return
    restart = str(doc.get_metadata("bibliography-numbering", "continuous")).lower() == "restart"
    title = str(doc.get_metadata("chapter-bibliography-title", "References"))
    data = json.loads(doc_to_json(doc))
    spans = _chapters(list(doc.content))
    if restart:  # citeproc on each chapter alone: its numbers start at [1]
        meta = {k: v for k, v in data.items() if k != "blocks"}
        pieces = [data["blocks"][s:e] for s, e in spans]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda b: _citeproc({**meta, "blocks": b}, config), pieces))
        blocks = list(doc.content)
        chapters = [(list(r.content), *_take_entries(r)) for r in results]
    else:  # citeproc on the whole book, its one list cut into the chapters' lists
        processed = _citeproc(data, config)
        entries, template = _take_entries(processed)
        blocks = list(processed.content)
        spans = _chapters(blocks)
        chapters = [(blocks[s:e], entries, template) for s, e in spans]
    out: list[Any] = []
    pos = 0
    for number, ((start, end), (chapter, entries, template)) in enumerate(
        zip(spans, chapters, strict=True), 1
    ):
        out += blocks[pos:start]
        pos = end
        tag = f"c{number}"
        keys = _cited_keys(chapter)
        _relink(chapter, tag)
        cut = len(chapter)  # the list goes before the markers that open what follows
        while cut > 0 and _is_marker(chapter[cut - 1]):
            cut -= 1
        listed = _chapter_list(keys, entries, template, tag, title)
        out += chapter[:cut] + listed + chapter[cut:]
    out += blocks[pos:]
    doc.content = out
    doc.metadata["suppress-bibliography"] = pf.MetaBool(True)
