"""The filters' walk, stringify and skip rules (filters/_filterlib.py) change nothing.

- ``_filterlib.walk`` leaves a document as panflute's own walk does, replacements and
  deletions included, whether the action is called on every element or on some types;
- ``_filterlib.stringify`` gives panflute's text for every element of the real book;
- every sample book (``tests/books/*`` and ``book/``), read and transformed with the skip rules
  and with every filter's walk forced to run, gives the writer the same pandoc JSON (so the
  same LaTeX: the writer is one pandoc call on that JSON) and the same warnings;
- a later filter is not skipped for what an earlier one made (html's ``<div class=warning>``
  is a callout).
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import _filterlib
import panflute as pf
import pytest

from bookbuild.books import config_path_for, load_config
from bookbuild.filters import builtin_filters_dir, load_filter, run_filters
from bookbuild.pandoc import load_json
from bookbuild.stages.assemble import assemble
from bookbuild.stages.read import read_book
from bookbuild.stages.transform import Document, transform

from .conftest import BOOKS, REPO
from .test_crossref_pdf import tiny_png

SAMPLE_BOOKS = sorted(p.name for p in BOOKS.iterdir() if (p / "book.yaml").is_file() or any(
    (p / name).is_file() for name in ("_bookdown.yml", "_quarto.yml", "book.toml", "book.json")
))  # fmt: skip


@pytest.fixture(scope="module")
def read_books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Document, Any]]:
    """Each sample book and the real one, copied and read once: config, document, filters."""
    root = tmp_path_factory.mktemp("skip-rules")
    found = {}
    for name in [*SAMPLE_BOOKS, "book"]:
        if name == "book":
            shutil.copytree(REPO / "book", root / "real" / "book")
            shutil.copytree(REPO / "latex", root / "real" / "latex")
            folder = root / "real" / "book"
        else:
            folder = root / name
            shutil.copytree(BOOKS / name, folder)
        if name == "crossref":  # as tests/test_crossref_pdf.py gives it its figure
            (folder / "figures").mkdir()
            (folder / "figures" / "dot.png").write_bytes(tiny_png())
        config = load_config(config_path_for(folder))
        assembled = assemble(config)
        data, _ = read_book(config, assembled.chapters, None)
        modules = [load_filter(path) for path in config.filters]
        found[name] = (config, Document(json.dumps(data), assembled.sources), modules)
    return found


@pytest.mark.parametrize("name", [*SAMPLE_BOOKS, "book"])
def test_skip_rules_change_nothing(
    name: str, read_books: dict[str, tuple[Any, Document, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, document, modules = read_books[name]
    walks = {"count": 0}
    real_walk = _filterlib.walk

    def counted(*args: Any, **kwargs: Any) -> Any:
        walks["count"] += 1
        return real_walk(*args, **kwargs)

    monkeypatch.setattr(_filterlib, "walk", counted)  # run_filter's whole-document walks
    skipping = transform(document, config, modules)
    skipped_walks = walks["count"]
    walks["count"] = 0
    forced = transform(document, config, modules, skip=False)
    assert skipping.text == forced.text
    assert [str(w) for w in skipping.warnings] == [str(w) for w in forced.warnings]
    assert skipping.crossref_export == forced.crossref_export
    assert skipped_walks <= walks["count"]


def test_some_books_skip_walks(read_books: dict[str, tuple[Any, Document, Any]]) -> None:
    """The rules do skip: a book without index marks, glossary uses or callouts leaves those
    walks out."""
    config, document, modules = read_books["minimal"]
    asked: list[tuple[frozenset[str], bool]] = []
    real = _filterlib.may_hold

    def spy(doc: pf.Doc, tokens: frozenset[str]) -> bool:
        answer = real(doc, tokens)
        asked.append((tokens, answer))
        return answer

    _filterlib.may_hold = spy
    try:
        transform(document, config, modules)
    finally:
        _filterlib.may_hold = real
    skipped = {token for tokens, answer in asked if not answer for token in tokens}
    assert {".index", ".gls", ".caution"} <= skipped  # index, glossary, callouts


def test_html_callout_is_not_skipped() -> None:
    """The census before html ran has no callout class; callouts looks again and finds it."""
    markdown = (
        "<!-- bookbuild:chapter one.md -->\n\n# One\n\n"
        '<div class="warning">\n\nMind the gap.\n\n</div>\n'
    )
    modules = [load_filter(builtin_filters_dir() / f"{n}.py") for n in ("html", "callouts")]
    outputs = []
    for skip in (True, False):
        doc = pf.convert_text(markdown, standalone=True)
        doc = run_filters(doc, modules, "latex", skip=skip)
        outputs.append(pf.convert_text(doc, input_format="panflute", output_format="latex"))
    assert outputs[0] == outputs[1]
    assert "\\begin{bookbuildcallout}{ strong}{Warning}" in outputs[0]


def _real_book_doc() -> pf.Doc:
    text = "\n\n".join(p.read_text() for p in sorted((REPO / "book").glob("*.md")))
    return pf.convert_text(text, standalone=True)


def _rewrite(elem: pf.Element, doc: pf.Doc) -> Any:
    """Replace, delete and expand elements, as filters do."""
    if isinstance(elem, pf.Str) and elem.text.lower() == "the":
        return pf.Emph(pf.Str(elem.text))
    if isinstance(elem, pf.Code):
        return []
    if isinstance(elem, pf.Header):
        return [elem, pf.Para(pf.Str(f"after-{elem.index}-{type(elem.parent).__name__}"))]
    if isinstance(elem, pf.Str) and isinstance(elem.prev, pf.Emph):
        return pf.Str(elem.text.upper())
    return None


@pytest.mark.parametrize("types", [None, (pf.Str, pf.Code, pf.Header)])
def test_walk_matches_panflute(types: tuple[type, ...] | None) -> None:
    ours, theirs = _real_book_doc(), _real_book_doc()
    ours = _filterlib.walk(ours, _rewrite, ours, types)
    theirs = theirs.walk(_rewrite)
    assert json.dumps(ours.to_json()) == json.dumps(theirs.to_json())
    assert "after-" in pf.stringify(ours)


def test_stringify_matches_panflute() -> None:
    doc = load_json(json.dumps(_real_book_doc().to_json()))
    elements: list[pf.Element] = []
    doc.walk(lambda elem, _doc: elements.append(elem))
    assert any(isinstance(e, pf.Quoted) for e in elements)
    for elem in elements:
        assert _filterlib.stringify(elem) == pf.stringify(elem)
        assert _filterlib.stringify(elem, False) == pf.stringify(elem, False)


def test_census_leaves_out_markers() -> None:
    doc = pf.Doc(
        pf.RawBlock("<!-- bookbuild:chapter one.md -->", format="html"),
        pf.RawBlock("% bookbuild:src one.md:3", format="latex"),
        pf.Div(pf.Para(pf.Str("{{term}}")), classes=["note"]),
    )
    found = _filterlib.census(doc)
    assert {"Div", ".note", "Para", "text:{{", "RawBlock"} <= found
    assert not {"raw:html", "raw:latex"} & found
    doc.content.append(pf.RawBlock("<br>", format="html"))
    assert "raw:html" in _filterlib.census(doc)


def test_may_hold_without_census_always_walks() -> None:
    """Under ``pandoc --filter`` there is no census: every walk runs."""
    doc = pf.Doc(pf.Para(pf.Str("x")))
    assert _filterlib.may_hold(doc, frozenset({"Note"}))
    setattr(doc, _filterlib.CENSUS, set())
    assert not _filterlib.may_hold(doc, frozenset({"Note"}))
    assert _filterlib.may_hold(doc, frozenset({"Str"}))
