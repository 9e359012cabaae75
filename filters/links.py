#!/usr/bin/env python3
"""Links between chapter files -> links inside the PDF; links to the web stay visible.

Books written for GitBook, HonKit or mdBook link their pages by file: ``[x](other.md)``,
``other.md#anchor``, ``../dir/x.md#id``, or the ``.html`` page those tools make of it
(``other.html``, ``dir/`` and ``index.html`` for a folder's ``README.md``/``index.md``). In
one PDF such a link points at the chapter's first heading (or at the anchor's heading in
that chapter): it becomes ``#id``, which pandoc writes as ``\\hyperref``.

A link to a chapter file that is not in the book, or to an anchor the chapter lacks, is a
warning naming the chapter file and the link (the anchorless link still goes to the chapter).

Links to the web (``http(s)://``, ``mailto:``) stay links, and in print the reader needs the
address: metadata ``url_display`` (book.yaml ``build.url_display``) ``footnote`` (default:
the URL in a footnote), ``after`` (the URL in brackets after the text) or ``none``. A link
whose text is its URL is left as it is; inside a footnote, a heading or a caption the URL
goes after the text.

Chapters and their heading ids come from the chapter markers in the document; for a chapter
rebuilt alone, bookbuild passes the other chapters' ids in ``doc.bookbuild_chapter_ids``
(``{label: [heading ids in order]}``).
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from urllib.parse import unquote

import panflute as pf
from _filterlib import chapter_label, run_filter, source_place, walk, warn

SWITCH = "url_display"
CHOICES = ("footnote", "after", "none")
#: The chapters' ids come from bookbuild for a chapter rebuilt alone.
INCREMENTAL = True

_WEB = re.compile(r"^(https?|ftp|mailto):", re.I)
_SCHEME = re.compile(r"^[a-zA-Z][\w+.-]*:")
_PAGE_SUFFIXES = (".md", ".markdown", ".html", ".htm")
_INDEX_NAMES = ("README.md", "index.md", "readme.md", "INDEX.md")


class UrlDisplayError(ValueError):
    """``url_display`` has a value other than footnote, after or none."""


def chapter_ids(doc: pf.Doc) -> dict[str, list[str]]:
    """Each chapter's heading ids in order, from the markers and headers in the document."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for block in doc.content:
        label = chapter_label(block)
        if label is not None:
            current = found.setdefault(label, [])
            continue
        if current is not None:

            def visit(elem: pf.Element, _doc: pf.Doc | None, into: list[str] = current) -> None:
                if isinstance(elem, pf.Header) and elem.identifier:
                    into.append(elem.identifier)

            walk(block, visit, None, (pf.Header,))
    return found


def prepare(doc: pf.Doc) -> None:
    mode = str(doc.get_metadata(SWITCH, "footnote")).strip().lower()
    if mode not in CHOICES:
        raise UrlDisplayError(
            f"metadata '{SWITCH}' must be one of {', '.join(CHOICES)}, not '{mode}'"
        )
    doc.links_mode = mode
    ids = {
        label: list(v) for label, v in (getattr(doc, "bookbuild_chapter_ids", None) or {}).items()
    }
    ids.update(chapter_ids(doc))
    doc.links_ids = ids
    doc.links_where = ""
    doc.links_line = None
    doc.links_notes = []


def target_chapter(url_path: str, current: str, chapters: dict[str, list[str]]) -> str | None:
    """The chapter label a link's path names, relative to the chapter it is written in."""
    path = unquote(url_path)
    base = posixpath.dirname(current)
    joined = posixpath.normpath(posixpath.join(base, path)) if path else current
    candidates = [joined]
    stem, ext = posixpath.splitext(joined)
    if ext.lower() in (".html", ".htm"):
        candidates += [stem + ".md", stem + ".markdown"]
        if posixpath.basename(stem) == "index":
            folder = posixpath.dirname(stem)
            candidates += [posixpath.join(folder, name) for name in _INDEX_NAMES]
    if path.endswith("/") or not ext:
        candidates += [posixpath.join(joined, name) for name in _INDEX_NAMES]
        candidates += [joined + ".md"]
    for candidate in candidates:
        if candidate in chapters:
            return candidate
    return None


def _plain(ident: str) -> str:
    """An id without accents, case or punctuation: pandoc's, GitHub's and GitBook's slugs of
    one heading differ in just these (``a-função`` / ``a-funcao`` / ``a-fun\u00e7\u00e3o``)."""
    letters = unicodedata.normalize("NFKD", unquote(ident).casefold())
    return re.sub(r"[^\w]+", "-", "".join(c for c in letters if not unicodedata.combining(c)))


def _anchor_in(anchor: str, ids: list[str]) -> str | None:
    """The heading id an anchor names in a chapter: itself, as made unique (``x-1``), or the
    same slug but for accents and punctuation."""
    if anchor in ids:
        return anchor
    suffixed = re.compile(re.escape(anchor) + r"-\d+$")
    found = next((i for i in ids if suffixed.match(i)), None)
    if found is None:
        wanted = _plain(anchor).strip("-")
        found = next((i for i in ids if _plain(i).strip("-") == wanted), None)
    return found


def _where(doc: pf.Doc) -> str:
    if doc.links_where and doc.links_line:
        return f"{doc.links_where}:{doc.links_line}: "
    return f"{doc.links_where}: " if doc.links_where else ""


def internal(elem: pf.Link, doc: pf.Doc) -> pf.Element | None:
    """A link to another chapter file as a link inside the document (None: not one)."""
    url = elem.url
    path, _, anchor = url.partition("#")
    if path and not path.lower().endswith(_PAGE_SUFFIXES) and not path.endswith("/"):
        return None  # a file that is not a page (a PDF, a zip): left as it is
    if not doc.links_where:
        return None
    label = target_chapter(path, doc.links_where, doc.links_ids) if path else doc.links_where
    if label is None:
        if path.lower().endswith((".md", ".markdown")):
            warn(doc, f"{_where(doc)}link to '{url}': no such chapter in the book; printed as text")
            return pf.Span(*elem.content)
        return None
    ids = doc.links_ids.get(label, [])
    target = _anchor_in(anchor, ids) if anchor else None
    if anchor and target is None:
        warn(
            doc,
            f"{_where(doc)}link to '{url}': no heading '#{anchor}' in {label}; "
            "it goes to the chapter's start",
        )
    if target is None:
        target = ids[0] if ids else None
    if target is None:
        warn(doc, f"{_where(doc)}link to '{url}': {label} has no heading to link to")
        return pf.Span(*elem.content)
    elem.url = f"#{target}"
    return elem


def _in(elem: pf.Element, kinds: tuple[type, ...]) -> bool:
    parent = elem.parent
    while parent is not None and not isinstance(parent, pf.Doc):
        if isinstance(parent, kinds):
            return True
        parent = parent.parent
    return False


def external(elem: pf.Link, doc: pf.Doc) -> list[pf.Inline] | None:
    """A web link with its URL shown as ``url_display`` says (None: unchanged)."""
    if doc.links_mode == "none":
        return None
    shown = elem.url.removeprefix("mailto:")
    text = pf.stringify(elem).strip()
    if text in (elem.url, shown) or text.rstrip("/") == shown.rstrip("/"):
        return None
    url_link = pf.Link(pf.Str(shown), url=elem.url)
    if doc.links_mode == "after" or _in(
        elem, (pf.Note, pf.Header, pf.Caption, pf.Link, pf.Figure, pf.Table)
    ):
        return [elem, pf.Space(), pf.Str("("), url_link, pf.Str(")")]
    note = pf.Note(pf.Para(url_link))
    doc.links_notes.append(note)
    return [elem, note]


_PUNCTUATION = re.compile(r"^[.,;:!?]+")


def notes_after_punctuation(doc: pf.Doc, notes: list[pf.Note]) -> None:
    """A URL note mark goes after the punctuation that follows its link (``site.¹``)."""
    wanted = {id(note) for note in notes}

    def visit(elem: pf.Element, _doc: pf.Doc | None) -> None:
        container = getattr(elem, "content", None)
        if not isinstance(container, pf.ListContainer) or not wanted:
            return
        if not any(id(item) in wanted for item in container.list):
            return  # (the walk has just set every item's parent and index)
        for index in range(len(container) - 2, -1, -1):
            note, after = container[index], container[index + 1]
            if id(note) not in wanted or not isinstance(after, pf.Str):
                continue
            match = _PUNCTUATION.match(after.text)
            if not match:
                continue
            rest = after.text[match.end() :]
            container[index] = pf.Str(match.group(0))
            container[index + 1] = note
            if rest:
                container.insert(index + 2, pf.Str(rest))

    if notes:
        walk(doc, visit, doc)


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.RawBlock, pf.Link)
#: Skip rule (``_filterlib.census`` tokens): the action changes nothing in a document without a
#: link.
NEEDS = frozenset({"Link"})


def action(elem: pf.Element, doc: pf.Doc) -> pf.Element | list[pf.Element] | None:
    if isinstance(elem, pf.RawBlock):
        label = chapter_label(elem)
        place = source_place(elem)
        if label is not None:
            doc.links_where, doc.links_line = label, None
        elif place is not None:
            doc.links_where, doc.links_line = place
        return None
    if not isinstance(elem, pf.Link):
        return None
    if _WEB.match(elem.url):
        return external(elem, doc)
    if _SCHEME.match(elem.url) or elem.url.startswith("#"):
        return None
    return internal(elem, doc)


def finalize(doc: pf.Doc) -> None:
    notes_after_punctuation(doc, doc.links_notes)
    for name in ("links_mode", "links_ids", "links_where", "links_line", "links_notes"):
        delattr(doc, name)


def main(doc: pf.Doc | None = None) -> pf.Doc:
    return run_filter(action, prepare, finalize, doc, ACTS_ON, NEEDS)


if __name__ == "__main__":
    main()
