#!/usr/bin/env python3
"""Exercises, hints and solutions: ``::: exercise`` Divs -> numbered exercises ("Exercise 5.3")
with their hints, and solutions where the book wants them.

Markdown::

    ::: {.exercise level=M}
    Show that the sum of two convex functions is convex.
    :::

    ::: hint
    Write the definition of convexity for each and add the inequalities.
    :::

    ::: solution
    For $\\theta \\in [0, 1]$ …
    :::

A ``::: hint`` and a ``::: solution`` belong to the exercise right before them (in either
order). Exercises are numbered per chapter (``Exercise 5.3``; ``A.1`` in an appendix), counted
like the book's chapters: level-1 headings that are not parts or unnumbered, and in a
``--chapter`` preview from the chapter number bookbuild sets.

Settings (metadata):

- ``solutions``: ``inline`` (after each exercise, the default), ``chapter-end`` (a
  "Solutions" section at the end of each chapter), ``appendix`` (a "Solutions" appendix at the
  back, before a closing references chapter) or ``none`` (a student edition: no solutions).
  Away from their exercise, the exercise links to its solution ("Solution 5.3") and the
  solution back to its exercise ("Exercise 5.3"); in the appendix, with the exercise's page in
  LaTeX ("Exercise 5.3, p. 41"), known in the same LaTeX pass (``_filterlib.PAGE_MARKS``: the
  appendix starts on a new page, after every exercise).
- ``solution-pages: true``: the exercise also names its solution's page ("Solution, p. 97"),
  and a chapter-end solution its exercise's. A page further on is known only after a LaTeX
  pass, so this costs a cold build a second pass.
- ``exercises: {levels: [E, M]}``: print only exercises of these levels (E easy, M medium,
  H hard; exercises without a level always print). The others keep their numbers, so
  "Exercise 5.3" is the same exercise in every edition.
- ``exercises: {title: Exercise, solution: Solution, hint: Hint, solutions-title: Solutions}``:
  the words printed.

Chapter rebuilds (``INCREMENTAL``): a chapter alone is numbered from the chapter counter
bookbuild hands crossref (``doc.bookbuild_crossref_context``). Inline and chapter-end
solutions stay in their chapter. Solutions in the appendix do not: a chapter that has them
writes the appendix with its own solutions and marks the preamble, so bookbuild's checks
(its LaTeX alone differs from the full build's; its preamble changes when it gains or loses
them) make every edit of such a chapter a full build, and other chapters rebuild alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import panflute as pf
from _filterlib import PAGE_MARKS, add_header_include, add_header_include_once, chapter_label, warn

MODES = ("inline", "chapter-end", "appendix", "none")
LEVELS = {"E": "easy", "M": "medium", "H": "hard"}
SRC_MARK = "% bookbuild:src "
SET_CHAPTER = re.compile(r"\\setcounter\{chapter\}\{(\d+)\}")
LATEX_FORMATS = ("latex", "beamer")
#: Edits of chapters without appendix solutions rebuild alone (see the module docstring).
INCREMENTAL = True
APPENDIX_MARK = "% bookbuild exercises: this book has a solutions appendix"


class ExerciseError(ValueError):
    """An exercise setting the filter cannot use."""


@dataclass
class Solution:
    number: str
    ident: str
    exercise_ident: str
    blocks: list[pf.Block]


@dataclass
class State:
    mode: str
    levels: set[str] | None
    words: dict[str, str]
    latex: bool
    pages: bool = False  # solution-pages: page numbers both ways (a second LaTeX pass)
    chapter: int = 0
    appendix: bool = False
    in_chapter: int = 0  # exercises so far in this chapter
    chapter_title: str = ""
    where: str = ""  # "file:line" of the last source marker
    pending: list[Solution] = field(default_factory=list)  # for chapter-end
    by_chapter: list[tuple[str, list[Solution]]] = field(default_factory=list)  # appendix
    count: int = 0


def prepare(doc: pf.Doc) -> None:
    """Read ``solutions`` and ``exercises`` from the metadata."""
    mode = str(doc.get_metadata("solutions", "inline")).strip().lower()
    if mode in ("false", "no", "off"):
        mode = "none"
    if mode not in MODES:
        raise ExerciseError(f"metadata 'solutions' must be one of {', '.join(MODES)}, not '{mode}'")
    settings = doc.get_metadata("exercises", {}) or {}
    if not isinstance(settings, dict):
        raise ExerciseError("metadata 'exercises' must be a mapping (levels, title ...)")
    levels = settings.get("levels")
    chosen: set[str] | None = None
    if levels is not None:
        items = levels if isinstance(levels, list) else str(levels).replace(",", " ").split()
        chosen = {str(x).strip().upper() for x in items}
        unknown = chosen - set(LEVELS)
        if unknown:
            raise ExerciseError(
                f"metadata 'exercises.levels': unknown level(s) {', '.join(sorted(unknown))}; "
                "use E, M or H"
            )
    words = {
        "title": str(settings.get("title", "Exercise")),
        "solution": str(settings.get("solution", "Solution")),
        "hint": str(settings.get("hint", "Hint")),
        "solutions-title": str(settings.get("solutions-title", "Solutions")),
    }
    pages = str(doc.get_metadata("solution-pages", False)).strip().lower()
    if pages not in ("true", "yes", "on", "false", "no", "off"):
        raise ExerciseError(f"metadata 'solution-pages' must be true or false, not '{pages}'")
    doc.exercises = state = State(
        mode, chosen, words, doc.format in LATEX_FORMATS, pages in ("true", "yes", "on")
    )
    context = getattr(doc, "bookbuild_crossref_context", None)
    if context:  # a chapter rebuilt alone: the counters at its start
        counters = context["counters"]
        state.chapter = int(counters["headings"][0])
        state.appendix = bool(counters.get("appendix", False))


def action(elem: pf.Element, doc: pf.Doc) -> None:
    """All the work is done on the block lists in :func:`finalize`."""
    return None


def finalize(doc: pf.Doc) -> None:
    """Number the exercises, place hints and solutions, add the solutions appendix."""
    state: State = doc.exercises
    doc.content = _blocks(list(doc.content), doc, state, top=True)
    if state.mode == "chapter-end":
        doc.content.extend(_chapter_end(state))
    if state.mode == "appendix" and state.by_chapter:
        _insert_appendix(doc, state)
        if state.latex:
            add_header_include(doc, APPENDIX_MARK)
            if not state.pages:
                add_header_include_once(doc, PAGE_MARKS)
    del doc.exercises


def main(doc: pf.Doc | None = None) -> pf.Doc:
    """Run as a pandoc filter, or in-process on ``doc``."""
    return pf.run_filters([], prepare=prepare, finalize=finalize, doc=doc)


def _is_marker(block: pf.Block) -> bool:
    return isinstance(block, pf.RawBlock) and block.text.startswith("% bookbuild:")


def _kind(block: pf.Block) -> str | None:
    if isinstance(block, pf.Div):
        for kind in ("exercise", "hint", "solution"):
            if kind in block.classes:
                return kind
    return None


def _track(block: pf.Block, state: State) -> list[pf.Block]:
    """Follow chapters and source lines; return blocks to put before ``block``."""
    before: list[pf.Block] = []
    if isinstance(block, pf.RawBlock):
        if block.text.startswith(SRC_MARK):
            state.where = block.text[len(SRC_MARK) :].strip()
        elif block.format in ("latex", "tex"):
            found = SET_CHAPTER.search(block.text)
            if found:
                state.chapter = int(found.group(1))
            if "\\appendix" in block.text:
                state.appendix, state.chapter = True, 0
    elif isinstance(block, pf.Header) and block.level == 1:
        if "part" in block.classes:
            return before
        if state.mode == "chapter-end":
            before = _chapter_end(state)
        if "unnumbered" not in block.classes:
            state.chapter += 1
            state.in_chapter = 0
            state.chapter_title = pf.stringify(block)
    return before


def _chapter_label(state: State) -> str:
    if state.appendix:
        return chr(ord("A") + state.chapter - 1) if 0 < state.chapter <= 26 else str(state.chapter)
    return str(state.chapter)


def _blocks(blocks: list[pf.Block], doc: pf.Doc, state: State, top: bool) -> list[pf.Block]:
    out: list[pf.Block] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        out.extend(_track(block, state) if top else [])
        if not top and isinstance(block, pf.RawBlock) and block.text.startswith(SRC_MARK):
            state.where = block.text[len(SRC_MARK) :].strip()
        kind = _kind(block)
        if kind == "exercise":
            # the hint and solution that follow (markers in between are kept)
            j, hint, solution, between = i + 1, None, None, []
            while j < len(blocks):
                nxt = blocks[j]
                if _is_marker(nxt):
                    between.append(nxt)
                elif _kind(nxt) == "hint" and hint is None:
                    hint = nxt
                elif _kind(nxt) == "solution" and solution is None:
                    solution = nxt
                else:
                    break
                j += 1
            out.extend(_exercise(block, hint, solution, doc, state))
            out.extend(between)
            i = j
            continue
        if kind in ("hint", "solution"):
            warn(doc, f"{state.where or '?'}: ::: {kind} not right after an ::: exercise")
            if not (kind == "solution" and state.mode == "none"):  # never in a student edition
                out.append(block)
        elif isinstance(block, pf.Div):
            block.content = _blocks(list(block.content), doc, state, top=False)
            out.append(block)
        else:
            out.append(block)
        i += 1
    return out


def _ident(prefix: str, number: str) -> str:
    return f"{prefix}-" + number.replace(".", "-")


def _page_ref(state: State, ident: str, marked: bool = False) -> list[pf.Inline]:
    """The ", p. N" of a LaTeX page reference: from a page mark (``marked``, known in the
    same pass) or a ``\\pageref*`` (known after a pass)."""
    if not state.latex:
        return []
    page = (
        f"\\bookbuildgetpage{{{ident}}}\\bookbuildthepage" if marked else f"\\pageref*{{{ident}}}"
    )
    return [
        pf.Str(","),
        pf.Space(),
        pf.Str("p."),
        pf.Str("\u00a0"),
        pf.RawInline(page, format="latex"),
    ]


def _numbered(
    state: State, inline: pf.Inline, ident: str, number: str, mark: bool = False
) -> list[pf.Inline]:
    """``inline`` as the target ``ident``; in LaTeX ``\\ref{ident}`` prints ``number`` (the
    label's text is set in a group, so labels after it are not affected); with ``mark``, its
    page is noted for a page reference later in the same pass."""
    target = pf.Span(inline, identifier=ident)
    if not state.latex:
        return [target]
    text = f"{{\\expandafter\\def\\csname @currentlabel\\endcsname{{{number}}}"
    end = f"\\bookbuildpagemark{{{ident}}}}}" if mark else "}"
    return [pf.RawInline(text, format="latex"), target, pf.RawInline(end, format="latex")]


def _with_heading(heading: list[pf.Inline], content: list[pf.Block]) -> list[pf.Block]:
    """``heading`` at the start of the first paragraph (or a paragraph of its own)."""
    content = list(content)
    if content and isinstance(content[0], (pf.Para, pf.Plain)):
        first = content[0]
        content[0] = pf.Para(*heading, pf.Space(), *first.content)
    else:
        content.insert(0, pf.Para(*heading))
    return content


def _exercise(
    div: pf.Div, hint: pf.Div | None, solution: pf.Div | None, doc: pf.Doc, state: State
) -> list[pf.Block]:
    state.in_chapter += 1
    label = _chapter_label(state)
    number = f"{label}.{state.in_chapter}" if state.chapter else str(state.in_chapter)
    level = div.attributes.get("level", "").strip().upper()
    if level and level not in LEVELS:
        warn(doc, f"{state.where or '?'}: exercise level '{level}' is not E, M or H")
    if state.levels is not None and level and level not in state.levels:
        return []  # left out of this edition; it keeps its number
    state.count += 1
    ex_id = div.identifier or _ident("ex", number)
    sol_id = _ident("sol", number)
    words = state.words
    away = solution is not None and state.mode in ("chapter-end", "appendix")
    # the solution names this exercise's page, known in the pass when it is in the appendix
    marked = away and state.mode == "appendix" and not state.pages
    title = pf.Strong(pf.Str(f"{words['title']}\u00a0{number}"))
    heading = _numbered(state, title, ex_id, number, mark=marked)
    if level in LEVELS:
        heading += [pf.Space(), pf.Str(f"[{level}]")]
    if away:
        heading += [
            pf.Space(),
            pf.Str("("),
            *(
                [pf.Link(pf.Str(words["solution"]), url=f"#{sol_id}"), *_page_ref(state, sol_id)]
                if state.pages  # a page further on: a second LaTeX pass
                else [pf.Link(pf.Str(f"{words['solution']}\u00a0{number}"), url=f"#{sol_id}")]
            ),
            pf.Str(")"),
        ]
    out: list[pf.Block] = []
    if state.latex:
        out.append(pf.RawBlock("\\par\\medskip", format="latex"))
    out += _with_heading(heading, list(div.content))
    if hint is not None:
        out += _with_heading([pf.Emph(pf.Str(f"{words['hint']}."))], list(hint.content))
    if solution is not None and state.mode == "inline":
        out += _with_heading(
            _numbered(state, pf.Emph(pf.Str(f"{words['solution']}.")), sol_id, number),
            list(solution.content),
        )
    elif away and solution is not None:
        back = [
            *_numbered(
                state, pf.Strong(pf.Str(f"{words['solution']}\u00a0{number}")), sol_id, number
            ),
            pf.Space(),
            pf.Str("("),
            pf.Link(pf.Str(f"{words['title']}\u00a0{number}"), url=f"#{ex_id}"),
            *(_page_ref(state, ex_id, marked=marked) if marked or state.pages else []),
            pf.Str(")"),
        ]
        kept = Solution(number, sol_id, ex_id, _with_heading(back, list(solution.content)))
        if state.mode == "chapter-end":
            state.pending.append(kept)
        else:
            title = f"{'Appendix' if state.appendix else 'Chapter'} {label}"
            if state.chapter_title:
                title += f": {state.chapter_title}"
            if not state.by_chapter or state.by_chapter[-1][0] != title:
                state.by_chapter.append((title, []))
            state.by_chapter[-1][1].append(kept)
    if state.latex:
        out.append(pf.RawBlock("\\par\\medskip", format="latex"))
    return out


def _chapter_end(state: State) -> list[pf.Block]:
    if not state.pending:
        return []
    label = _chapter_label(state)
    blocks: list[pf.Block] = [
        pf.Header(
            pf.Str(state.words["solutions-title"]),
            level=2,
            identifier=f"solutions-{label}",
            classes=["unnumbered"],
        )
    ]
    for solution in state.pending:
        blocks.extend(solution.blocks)
    state.pending = []
    return blocks


def _insert_appendix(doc: pf.Doc, state: State) -> None:
    """The solutions appendix: at the back, before a closing chapter holding ``#refs``."""
    blocks: list[pf.Block] = []
    if state.latex and not state.appendix:
        blocks.append(pf.RawBlock("\\appendix", format="latex"))
    blocks.append(
        pf.Header(pf.Str(state.words["solutions-title"]), level=1, identifier="solutions")
    )
    for title, solutions in state.by_chapter:
        blocks.append(pf.Header(pf.Str(title), level=2, classes=["unnumbered"]))
        for solution in solutions:
            blocks.extend(solution.blocks)
    content = list(doc.content)
    at = len(content)
    last_chapter = max(
        (i for i, b in enumerate(content) if isinstance(b, pf.Header) and b.level == 1),
        default=None,
    )
    if last_chapter is not None and _holds_refs(content[last_chapter:]):
        at = last_chapter
        # before the marker that opens that chapter, so the appendix is in the LaTeX of the
        # chapter before it
        opening = [i for i in range(at) if chapter_label(content[i]) is not None]
        if opening and not any(
            isinstance(b, pf.Header) and b.level == 1 for b in content[opening[-1] : at]
        ):
            at = opening[-1]
    doc.content = content[:at] + blocks + content[at:]


def _holds_refs(blocks: list[pf.Block]) -> bool:
    found = []

    def visit(elem: pf.Element, doc: pf.Doc) -> None:
        if isinstance(elem, pf.Div) and elem.identifier == "refs":
            found.append(elem)

    for block in blocks:
        block.walk(visit)
    return bool(found) or any(
        isinstance(b, pf.Header)
        and pf.stringify(b).strip().lower() in ("references", "bibliography")
        for b in blocks
    )


if __name__ == "__main__":
    main()
