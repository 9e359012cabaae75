"""Chapter rebuilds: after an edit, only the edited chapters go through pandoc again.

A full build leaves a *book state* in the cache: for each chapter its text, its LaTeX (the
part of the .tex between its chapter marker and the next), the facts the rest of the book
sees of it (citations, notes, header ids, cross-reference labels and counters) and its
warnings; plus the .tex before the first chapter and after the last.

When only chapter texts changed since (book.yaml, filters, preamble, bibliography, CSL, the
other files, pandoc and bookbuild are the same), each changed chapter is read, filtered and
written alone, in the context of the book: crossref starts from the counters the chapter
starts with and knows the other chapters' labels, and citeproc sees every other chapter's
citations around it, so the numbers are the whole book's. Its new LaTeX replaces the old.

The shortcut is taken only when these checks show the result is what a full build writes:
- the chapter's *old* text, rebuilt the same way, gives exactly the LaTeX of the last build;
- old and new text show the rest of the book the same facts, so no other chapter changes;
- old and new text give the same preamble when written alone (same packages for tables,
  images, code; same filter preambles), so the book's preamble does not change;
- every filter declares ``INCREMENTAL = True``: its output for a chapter depends only on the
  chapter, the metadata and the context above.
Otherwise the full build runs and leaves a new state.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .cache import Cache, digest
from .config import BookConfig
from .diagnostics import Diagnostic
from .errors import BookbuildError
from .markers import TEX_END, json_label, marker_block, split_at_chapters, tex_mark
from .paths import display_path
from .pipeline import typeset
from .stages.assemble import ChapterText
from .stages.read import (
    ChapterReadError,
    chapter_reader,
    chapter_warnings,
    explicit_ids,
    header_ids,
    located_read_error,
    make_ids_unique,
    parse_texts,
    shaped_blocks,
    texts_as_read,
)
from .stages.transform import Document, Transformed

STATE_KIND = "state"
STATE_VERSION = 2
#: More changed chapters than this share of the book: a full build is as quick.
MAX_CHANGED_SHARE = 0.25


def split_tex(tex: str, labels: list[str]) -> tuple[str, list[str], str] | None:
    """The .tex as (before the first chapter, each chapter's LaTeX, from ``\\end{document}``)."""
    starts = []
    position = 0
    for label in labels:
        found = tex.find(f"\n{tex_mark(label)}\n", position)
        if found < 0:
            return None
        starts.append(found + 1)
        position = found + 1
    end = tex.rfind("\\end{document}")
    if not starts or end < starts[-1]:
        return None
    pieces = [tex[a:b] for a, b in zip(starts, [*starts[1:], end], strict=True)]
    return tex[: starts[0]], pieces, tex[end:]


# --------------------------------------------------------------------------- chapter facts


def _elements(node: Any, found: list[dict[str, Any]]) -> None:
    """Collect, in document order, the Cite, Note and Div elements below a JSON node."""
    if isinstance(node, list):
        for item in node:
            if isinstance(item, list | dict):
                _elements(item, found)
        return
    kind = node.get("t")
    if kind == "Str":
        return
    if kind in ("Cite", "Note", "Div"):
        found.append(node)
    content = node.get("c")
    if isinstance(content, list | dict):
        _elements(content, found)


def chapter_facts(
    blocks: list[Any], note_numbers: bool
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A chapter's citations (as bare Cite elements, for citeproc's context elsewhere) and
    the facts other chapters depend on: its citations, notes and bibliography placement.

    A citation's note number counts only for a note style (``ibid.`` and "near note" look
    at it); in-text styles number and shorten citations by their order alone.
    """
    found: list[dict[str, Any]] = []
    _elements(blocks, found)
    cites = []
    facts: dict[str, Any] = {"cites": [], "notes": 0, "refs": False}
    for elem in found:
        if elem["t"] == "Cite":
            citations = elem["c"][0]
            cites.append({"t": "Cite", "c": [citations, [{"t": "Str", "c": "x"}]]})
            facts["cites"].append(
                [
                    [
                        c["citationId"],
                        c["citationMode"],
                        c["citationPrefix"],
                        c["citationSuffix"],
                        c["citationNoteNum"] if note_numbers else 0,
                    ]
                    for c in citations
                ]
            )
        elif elem["t"] == "Note":
            facts["notes"] += 1
        elif elem["c"][0][0] == "refs":
            facts["refs"] = True
    return cites, facts


def split_blocks(blocks: list[Any], labels: list[str]) -> list[list[Any]]:
    """The top-level JSON blocks of each chapter (after its marker, up to the next)."""
    return [own for _, own in split_at_chapters(blocks, json_label, labels)]


def crossref_facts(export: dict[str, Any] | None, labels: list[str]) -> list[dict[str, Any]]:
    """Per chapter: crossref's counters at its start and end, and the labels it defines."""
    if export is None:
        return [{} for _ in labels]
    starts = export["starts"]
    out = []
    for index, label in enumerate(labels):
        end = starts[labels[index + 1]] if index + 1 < len(labels) else export["end"]
        own = {k: v for k, v in export["labels"].items() if v["where"] == label}
        out.append({"start": starts.get(label), "end": end, "labels": own})
    return out


def note_style(config: BookConfig) -> bool:
    """Whether the book's CSL style puts citations in notes (pandoc's default does not)."""
    if config.csl_path is None:
        return False
    try:
        head = config.csl_path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return True  # unknown: the stricter comparison
    return re.search(r"<style\b[^>]*\bclass=[\"']note[\"']", head) is not None


def _normal(data: Any) -> Any:
    """JSON-equal form (tuples -> lists), so fresh facts compare with stored ones."""
    return json.loads(json.dumps(data))


# --------------------------------------------------------------------------- the state


def state_key(config: BookConfig) -> str:
    return digest("book-state", str(config.config_path.resolve()))


def load_state(cache: Cache, config: BookConfig) -> dict[str, Any] | None:
    payload = cache.get(STATE_KIND, state_key(config))
    if payload is None:
        return None
    try:
        state = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return None
    return state


def save_state(cache: Cache, config: BookConfig, state: dict[str, Any]) -> None:
    cache.put(STATE_KIND, state_key(config), json.dumps(state))


def record_full_build(
    cache: Cache,
    config: BookConfig,
    settings: str,
    metadata: str,
    chapters: list[ChapterText],
    ids: list[dict[str, list[str]]],
    data: dict[str, Any],
    crossref_export: dict[str, Any] | None,
    tex: str,
    warnings: list[Diagnostic],
) -> None:
    """Keep what a later chapter rebuild needs from this full build (nothing when the .tex
    cannot be cut at the chapter markers)."""
    labels = [c.label for c in chapters]
    texts, lent = texts_as_read(chapters, config)
    split = split_tex(tex, labels)
    per_chapter = split_blocks(data["blocks"], labels)
    if split is None or len(per_chapter) != len(labels) or len(ids) != len(labels):
        return
    head, pieces, tail = split
    crossref = crossref_facts(crossref_export, labels)
    notes = note_style(config)
    entries = []
    for index, chapter in enumerate(chapters):
        cites, facts = chapter_facts(per_chapter[index], notes)
        facts["ids"] = ids[index]
        facts["crossref"] = {k: v for k, v in crossref[index].items() if k != "start"}
        entries.append(
            {
                "label": chapter.label,
                "text": texts[index],  # as pandoc read it (with definitions from elsewhere)
                "written": chapter.written,  # as written, when includes changed it
                "lines": chapter.chapter_lines,
                "tex": pieces[index],
                "facts": facts,
                "cites": cites,
                "crossref_start": crossref[index].get("start"),
            }
        )
    labels_all = crossref_export["labels"] if crossref_export else None
    state = {
        "version": STATE_VERSION,
        "settings": settings,
        "metadata": metadata,
        "lent": sorted(lent),
        "head": head,
        "tail": tail,
        "chapters": entries,
        "crossref_labels": labels_all,
        "warnings": [w.to_json() for w in warnings],
    }
    save_state(cache, config, state)


# --------------------------------------------------------------------------- the rebuild


class Reason(enum.Enum):
    """Why the last build's LaTeX cannot be reused (the progress line says it)."""

    NO_STATE = "no earlier build to start from"
    SETTINGS = "more than chapter texts changed"
    CHAPTER_LIST = "the list of chapters changed"
    TITLE_PAGE = "the title page changed"
    FILTER = "a filter does not declare INCREMENTAL = True"
    SHARED_NOTES = "the footnotes chapters share changed"
    TOO_MANY = "too many chapters changed"
    FAILED = "the chapter alone failed"
    NOT_FOUND = "its LaTeX could not be found in pandoc's output"
    NOT_AS_IN_BOOK = "alone, its old text is not written as in the book"
    FACTS = "its citations, notes, ids or labels changed"
    PREAMBLE = "it needs a different preamble"


class NotReusable(Exception):
    """The last build's LaTeX cannot be reused: a full build is needed. ``reason`` says why;
    the message is the progress line's text."""

    def __init__(self, reason: Reason, detail: str = ""):
        super().__init__(detail or reason.value)
        self.reason = reason


class NoEarlierBuild(NotReusable):
    """No book state to start from: the first build, or after ``bookbuild clean``."""

    def __init__(self) -> None:
        super().__init__(Reason.NO_STATE)


@dataclass
class ChapterRender:
    """One chapter written alone in the book's context."""

    tex: str
    preamble: str
    facts: dict[str, Any]
    cites: list[Any]
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass
class Rebuild:
    """The .tex of a chapter rebuild, its warnings and what it did (for the progress lines)."""

    tex: str
    warnings: list[Diagnostic]
    changed: list[str]
    reused: int


def _belongs(diagnostic: Diagnostic, chapter: ChapterText) -> bool:
    return diagnostic.file in (chapter.label, display_path(chapter.chapter.path))


def _hidden_citations(entries: list[dict[str, Any]]) -> list[Any]:
    cites = [cite for entry in entries for cite in entry["cites"]]
    return [{"t": "Para", "c": cites}] if cites else []


class _Context:
    """What every chapter render of one rebuild shares."""

    def __init__(
        self,
        config: BookConfig,
        cache: Cache,
        state: dict[str, Any],
        metadata: str,
        modules: list[Any],
        lent: set[str],
    ):
        self.config = config
        self.cache = cache
        self.state = state
        self.metadata = metadata
        self.modules = modules
        self.lent = lent
        meta_entry = parse_texts([metadata], cache, batches=False)[0]
        self.meta_doc = meta_entry["doc"]
        self.has_refs = any(e["facts"]["refs"] for e in state["chapters"])
        self.note_style = note_style(config)


@dataclass
class _Chapter:
    """One chapter alone, ready for the pipeline, with what its reading told."""

    document: Document
    ids: dict[str, list[str]]  # its header ids as read and as made unique
    warnings: list[Diagnostic]  # pandoc's on reading it


def _chapter_alone(context: _Context, index: int, chapter: ChapterText) -> _Chapter:
    """One chapter alone, as it is in the book: read (cached), its generated heading ids made
    unique after the chapters before, and crossref's counters and the other chapters'
    labels as the filters' context."""
    state = context.state
    entries = state["chapters"]
    reader = chapter_reader(context.config, chapter)
    try:
        entry = parse_texts([chapter.text], context.cache, readers=[reader])[0]
    except ChapterReadError as exc:
        raise located_read_error(chapter, exc.message) from None
    blocks = shaped_blocks(context.config, chapter, entry)  # layouts: shaped as in the book
    warnings = chapter_warnings(chapter, entry["warnings"], context.metadata, context.lent)
    if not chapter.text.strip():
        warnings.append(
            Diagnostic("warning", "chapter is empty", display_path(chapter.chapter.path))
        )
    used = {ident for e in entries[:index] for ident in e["facts"]["ids"]["unique"]}
    read_ids = header_ids(blocks)
    make_ids_unique([(explicit_ids(chapter.text), blocks)], used)
    ids = {"read": read_ids, "unique": header_ids(blocks)}
    data = {**context.meta_doc, "blocks": [marker_block(chapter.label), *blocks]}
    sources = {chapter.label: chapter.source_text()}  # as written (includes)
    # The links filter finds the other chapters' headings here (see filters/links.py).
    filter_context: dict[str, Any] = {
        "bookbuild_chapter_ids": {e["label"]: e["facts"]["ids"]["unique"] for e in entries}
    }
    start = entries[index].get("crossref_start")
    if start is not None and state.get("crossref_labels") is not None:
        filter_context["bookbuild_crossref_context"] = {
            "counters": start,
            "labels": {
                ident: label
                for ident, label in state["crossref_labels"].items()
                if label["where"] != chapter.label
            },
        }
    return _Chapter(Document(json.dumps(data), sources, filter_context), ids, warnings)


def _render(context: _Context, index: int, versions: list[ChapterText]) -> list[ChapterRender]:
    """Versions of chapter ``index`` typeset alone in the book (one pandoc run after the other),
    with the other chapters' citations around them, so citeproc numbers as in the book."""
    entries = context.state["chapters"]
    alone = [_chapter_alone(context, index, chapter) for chapter in versions]
    last = index == len(entries) - 1
    ending = [] if last and not context.has_refs else [{"t": "RawBlock", "c": ["latex", TEX_END]}]

    def with_citations(transformed: Transformed) -> dict[str, Any]:
        written = transformed.data
        return {
            **written,
            "blocks": [
                *_hidden_citations(entries[:index]),
                *written["blocks"],
                *ending,
                *_hidden_citations(entries[index + 1 :]),
            ],
        }

    documents = [a.document for a in alone]
    results = typeset(documents, context.config, context.modules, before_write=with_citations)
    renders = []
    for chapter, read, result in zip(versions, alone, results, strict=True):
        own = split_blocks(result.transformed.data["blocks"], [chapter.label])
        cites, facts = chapter_facts(own[0] if own else [], context.note_style)
        facts["ids"] = read.ids
        crossref = crossref_facts(result.transformed.crossref_export, [chapter.label])[0]
        facts["crossref"] = {k: v for k, v in crossref.items() if k != "start"}
        preamble, tex = _chapter_tex(result.tex, chapter)
        warnings = [w for w in [*read.warnings, *result.warnings] if _belongs(w, chapter)]
        renders.append(ChapterRender(tex, preamble, _normal(facts), cites, warnings))
    return renders


def _chapter_tex(tex: str, chapter: ChapterText) -> tuple[str, str]:
    """(the preamble, the chapter's LaTeX) of a chapter document's .tex."""
    begin = tex.find("\\begin{document}")
    start = tex.find(f"\n{tex_mark(chapter.label)}\n")
    end = tex.find(f"\n{TEX_END}\n", start) if start >= 0 else -1
    if end < 0 and start >= 0:
        end = tex.rfind("\\end{document}") - 1
    if begin < 0 or start < 0 or end < start:
        raise NotReusable(Reason.NOT_FOUND, f"{chapter.label}: {Reason.NOT_FOUND.value}")
    return tex[:begin], tex[start + 1 : end + 1]


def changed_chapters(state: dict[str, Any], texts: list[str]) -> list[int]:
    """Indexes of the chapters whose text (as pandoc reads it) differs from the state's."""
    return [i for i, text in enumerate(texts) if text != state["chapters"][i]["text"]]


def rebuild(
    config: BookConfig,
    chapters: list[ChapterText],
    cache: Cache,
    settings: str,
    metadata: str,
    modules: list[Any],
) -> Rebuild:
    """The .tex after chapter edits, from the last build's state; NotReusable when a full
    build is needed (the message says why)."""
    state = load_state(cache, config)
    if state is None:
        raise NoEarlierBuild()
    if state["settings"] != settings:
        raise NotReusable(Reason.SETTINGS)
    if [e["label"] for e in state["chapters"]] != [c.label for c in chapters]:
        raise NotReusable(Reason.CHAPTER_LIST)
    if state["metadata"] != metadata:
        raise NotReusable(Reason.TITLE_PAGE)
    lazy = [Path(getattr(m, "__file__", "?")).stem for m in modules if not _incremental(m)]
    if lazy:
        names = ", ".join(lazy)
        raise NotReusable(Reason.FILTER, f"filter {names} does not declare INCREMENTAL = True")
    texts, lent = texts_as_read(chapters, config)
    if state["lent"] != sorted(lent):
        raise NotReusable(Reason.SHARED_NOTES)
    changed = changed_chapters(state, texts)
    if len(changed) > max(1, int(len(chapters) * MAX_CHANGED_SHARE)):
        raise NotReusable(Reason.TOO_MANY, f"{len(changed)} chapters changed")
    entries = state["chapters"]
    warnings = [Diagnostic(**w) for w in state["warnings"]]
    if changed:
        context = _Context(config, cache, state, metadata, modules, lent)
    for index in changed:
        entry = entries[index]
        new = replace(chapters[index], text=texts[index])  # keeps its source (includes)
        # The old text is rendered too, unless its LaTeX already came from such a render.
        old = ChapterText(
            new.chapter, new.label, entry["text"], [], entry.get("written"), entry.get("lines")
        )
        versions = [new] if "alone" in entry else [old, new]
        try:
            *before, after = _render(context, index, versions)
        except BookbuildError as exc:  # the full build reports it, with the whole book
            raise NotReusable(Reason.FAILED, f"{new.label}: {exc.message}") from None
        if before and (before[0].facts != entry["facts"] or before[0].tex != entry["tex"]):
            raise NotReusable(Reason.NOT_AS_IN_BOOK, f"{new.label}: {Reason.NOT_AS_IN_BOOK.value}")
        if after.facts != entry["facts"]:
            raise NotReusable(Reason.FACTS, f"{new.label}: {Reason.FACTS.value}")
        old_preamble = digest(before[0].preamble) if before else entry["alone"]
        if digest(after.preamble) != old_preamble:
            raise NotReusable(Reason.PREAMBLE, f"{new.label}: {Reason.PREAMBLE.value}")
        entry.update(text=new.text, tex=after.tex, cites=after.cites, alone=old_preamble)
        entry.update(written=new.written, lines=new.chapter_lines)
        warnings = [w for w in warnings if not _belongs(w, new)] + after.warnings
    tex = state["head"] + "".join(e["tex"] for e in entries) + state["tail"]
    state["warnings"] = [w.to_json() for w in warnings]
    if changed:
        save_state(cache, config, state)
    return Rebuild(tex, warnings, [chapters[i].label for i in changed], len(entries) - len(changed))


def _incremental(module: Any) -> bool:
    return getattr(module, "INCREMENTAL", False) is True
