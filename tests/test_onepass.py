"""A cold build in one LaTeX pass (bookbuild.stages.onepass) gives the book two passes give.

Each PDF is compared with the engine's plain loop (two passes, the contents in place) run on
the same .tex in a fresh directory: same pages, the same text on each, TOC entries naming the
page that holds their heading, every internal link and bookmark resolving to the same page,
``qpdf --check`` clean. Then the edits that move pages (a chapter growing by a page) and
edits to the first and the last chapter, built from what the one-pass build left.

The copies of tests/books/preview get a subject index (one entry not in ASCII, so upmendex
sorts it): the pass sorts its own index (bookbuild.indexprog.IndexSync), so the index costs
no second pass; the reference runs with ``BOOKBUILD_TWO_PASS=1`` (the index sorted between
passes, as before).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from bookbuild.books import load_config
from bookbuild.build import build
from bookbuild.builddir import work_dir
from bookbuild.config import with_engine
from bookbuild.progress import Progress
from bookbuild.stages import onepass
from bookbuild.stages.compile import run_engine

from .conftest import BOOKS, pdf_pages, squash

pypdf = pytest.importorskip("pypdf")


def plain_two_pass(tex: Path, config: Any, folder: Path) -> Path:
    """The engine's ordinary loop on a copy of ``tex`` in ``folder``: the reference PDF."""
    folder.mkdir(parents=True)
    copy = folder / tex.name
    shutil.copyfile(tex, copy)
    with mock.patch.dict(os.environ, {"BOOKBUILD_TWO_PASS": "1"}):
        result = run_engine(
            config.engine, copy, [config.book_dir, *{p.parent for p in config.preamble}]
        )
    assert [p.rule for p in result.passes] == [config.engine] * 2
    assert not (folder / "bookbuild-index.ltx").exists()  # the index sorted between passes
    return result.pdf


#: Index marks added to a copy of tests/books/preview: (chapter, text, marked text).
INDEX_MARKS = [
    ("foundations.md", "the alpha method", "the [alpha method]{.index}"),
    ("foundations.md", "its successor", 'its [successor]{.index entry="method!successor"}'),
    ("foundations.md", "The core idea", "The [core idea]{.index}"),
    ("methods.md", "Sampling is covered", "[Sampling]{.index} is covered"),
    ("applications.md", "the successor method", "the [successor method]{.index}"),
    ("applications.md", "so does delta", "so does [delta]{.index}, and so does the [élan]{.index}"),
]


def with_index(book: Path) -> None:
    """Mark index terms in a copy of tests/books/preview."""
    for chapter, text, marked in INDEX_MARKS:
        path = book / chapter
        source = path.read_text(encoding="utf-8")
        assert text in source
        path.write_text(source.replace(text, marked, 1), encoding="utf-8")


#: An index line: term, page number; or a heading of subentries (no page).
INDEX_LINE = re.compile(r"^([^\d,]+?)(?:, (\d+))?$")


def index_entries(pdf: Path) -> list[tuple[str, str]]:
    """(term, page number or "") of each line of the index (the last page), in reading order
    (as typeset: its two columns one after the other)."""
    last = str(len(pdf_pages(pdf)))
    text = subprocess.run(
        ["pdftotext", "-raw", "-f", last, "-l", last, str(pdf), "-"], capture_output=True, text=True
    ).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == "Index"
    return [(m[1], m[2] or "") for line in lines[1:-1] if (m := INDEX_LINE.match(line))]


def arabic_page(pdf: Path, number: str) -> str:
    """The text of the page printed with ``number`` (the body is numbered from 1)."""
    pages = pdf_pages(pdf)
    start = next(i for i, p in enumerate(pages) if printed_number(p) == "1")
    return squash(pages[start + int(number) - 1])


def pdf_facts(path: Path) -> dict[str, Any]:
    """Outline (depth, title, page), links (page, target page) and named destinations."""
    reader = pypdf.PdfReader(path)
    dests = {
        name: reader.get_destination_page_number(d) for name, d in reader.named_destinations.items()
    }

    def outline(items: list[Any], depth: int = 0) -> list[tuple[int, str, int]]:
        found: list[tuple[int, str, int]] = []
        for item in items:
            if isinstance(item, list):
                found += outline(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item)))
        return found

    links = []
    for index, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A") or {}
            target = annot.get("/Dest") or action.get("/D")
            if target is not None:
                assert str(target) in dests, f"page {index + 1}: link to missing {target}"
                links.append((index, dests[str(target)]))
            else:
                links.append((index, str(action.get("/URI"))))
    labels = reader.page_labels if "/PageLabels" in reader.trailer["/Root"] else None
    return {"outline": outline(reader.outline), "links": links, "labels": labels}


def printed_number(page: str) -> str:
    """The page number printed at the foot of a page (plain page style)."""
    lines = [line.strip() for line in page.strip().splitlines() if line.strip()]
    return lines[-1] if lines and re.fullmatch(r"\d+|[ivxl]+", lines[-1]) else ""


#: A contents line: number (chapter, section or part), title, dots, page.
CONTENTS_LINE = re.compile(r"^\s*(?:(?:[IVX]+|\d+(?:\.\d+)*)\s+)?(\S.*?)(?:\s*\.)*\s+(\d+)$")


def contents_entries(pdf: Path) -> list[tuple[str, str, bool]]:
    """Each contents line: title, page number, and whether that page holds the heading."""
    pages = pdf_pages(pdf)  # layout: one contents line per line
    raw = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    flowing = [squash(p) for p in raw.split("\f")]  # reading order: headings in one piece
    # Arabic numbers run on from page 1 (checked on every page whose number stands alone).
    start = next(i for i, p in enumerate(pages) if printed_number(p) == "1")
    by_number = {str(i - start + 1): flowing[i] for i in range(start, len(pages))}
    for i in range(start, len(pages)):
        assert printed_number(pages[i]) in ("", str(i - start + 1))
    first = next(i for i, p in enumerate(pages) if squash(p).startswith("Contents"))
    entries = []
    for page in pages[first:]:
        if not re.fullmatch(r"[ivxl]+", printed_number(page)):
            break  # the contents end where arabic numbers start
        for line in page.splitlines():
            entry = CONTENTS_LINE.match(line)
            if entry:
                title, number = squash(entry[1]), entry[2]
                entries.append((title, number, title in by_number.get(number, "")))
    return entries


def same_book(one: Path, two: Path, contents_right: bool | None = True) -> None:
    """``one`` (one pass) is the book ``two`` (two passes) is, page by page; with
    ``contents_right``, every contents line names the page that holds its heading."""
    pages_one, pages_two = pdf_pages(one), pdf_pages(two)
    assert len(pages_one) == len(pages_two)
    for number, (a, b) in enumerate(zip(pages_one, pages_two, strict=True), 1):
        assert a == b, f"page {number} differs"
    entries = contents_entries(one) if contents_right is not None else []
    assert entries == (contents_entries(two) if contents_right is not None else [])
    if contents_right:
        assert entries
        assert [e for e in entries if not e[2]] == []
    facts_one, facts_two = pdf_facts(one), pdf_facts(two)
    assert facts_one["outline"] and facts_one["outline"] == facts_two["outline"]
    assert facts_one["links"] and facts_one["links"] == facts_two["links"]
    assert facts_one["labels"] == facts_two["labels"]
    check = subprocess.run(["qpdf", "--check", str(one)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.fixture(scope="module")
def preview_book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """tests/books/preview (parts, contents, citations, a reference to a section) built cold."""
    root = tmp_path_factory.mktemp("onepass")
    shutil.copytree(BOOKS / "preview", root / "preview")
    with_index(root / "preview")
    config = load_config(root / "preview" / "book.yaml")
    progress = Progress(quiet=True)
    result = build(config, progress=progress)
    rules = [name for name, _ in progress.stages]
    return {"root": root, "config": config, "result": result, "rules": rules}


def workdir_tex(config: Any) -> Path:
    return work_dir(config) / (Path(config.output).stem + ".tex")


def test_a_cold_build_takes_one_pass_and_is_the_two_pass_book(preview_book: dict[str, Any]) -> None:
    config, result = preview_book["config"], preview_book["result"]
    assert [p.rule for p in result.passes] == ["xelatex", "contents"]
    tex = workdir_tex(config)
    assert "\\ref{sec:core}" in tex.read_text()  # a label the one pass had to know
    reference = plain_two_pass(tex, config, preview_book["root"] / "plain")
    same_book(result.pdf, reference)
    # It leaves the .aux, .toc and index a second pass leaves, so the next build is one pass.
    for suffix in (".toc", ".aux", ".ind"):
        ours = tex.with_suffix(suffix).read_text()
        plain = reference.with_suffix(suffix).read_text()
        # Neither the page count nor the splice's checkpoints (comments; their count of
        # pages shipped leaves out the contents typeset last) are read by a pass.
        ignored = r"\\gdef ?\\@abspage@last\{\d+\}\n|%bookbuild-splice .*\n"
        assert re.sub(ignored, "", ours) == re.sub(ignored, "", plain)


def test_the_index_is_sorted_in_the_one_pass(preview_book: dict[str, Any]) -> None:
    """The index is printed in the one pass, sorted by upmendex (an entry is not ASCII):
    its entries in order, each naming a page that holds its term, and in the contents."""
    rules = preview_book["rules"]
    assert rules.count("xelatex") == 1 and rules.count("upmendex") == 1
    assert rules.index("upmendex") > rules.index("xelatex")  # reported after the pass
    pdf = preview_book["result"].pdf
    entries = index_entries(pdf)
    # élan among the e's (upmendex; makeindex sorts it after z), "successor" under "method"
    assert [term for term, _ in entries] == [
        "alpha method",
        "core idea",
        "delta",
        "élan",
        "method",
        "successor",
        "Sampling",
        "successor method",
    ]
    for term, number in entries:
        if number:
            assert term.split()[0].lower() in arabic_page(pdf, number).lower(), (term, number)
    contents = dict((title, page) for title, page, _ in contents_entries(pdf))
    assert contents["Index"] == printed_number(pdf_pages(pdf)[-1])


@pytest.mark.parametrize(
    "chapter, addition",
    [
        ("foundations.md", "\n\n## Grown\n\n" + "A sentence that fills the page. " * 400),
        ("foundations.md", "\n\nA first chapter edit, as in sec. @sec:core.\n"),
        ("applications.md", "\n\nThe last chapter, edited, cites [@alpha].\n"),
    ],
    ids=["first-chapter-grows-by-pages", "first-chapter", "last-chapter"],
)
def test_edits_after_a_one_pass_build(
    preview_book: dict[str, Any], chapter: str, addition: str
) -> None:
    config = preview_book["config"]
    before = len(pdf_pages(config.pdf_path))
    path = config.book_dir / chapter
    path.write_text(path.read_text() + addition)
    result = build(config, progress=Progress(quiet=True))
    assert "contents" not in [p.rule for p in result.passes]  # not cold: the engine's rule
    if "Grown" in addition:
        assert len(pdf_pages(result.pdf)) > before
    folder = preview_book["root"] / f"plain-{chapter}-{len(addition)}"
    same_book(result.pdf, plain_two_pass(workdir_tex(config), config, folder))


def test_the_real_book_in_one_pass(built_real_book: dict[str, Any], tmp_path: Path) -> None:
    """book/ (27 pages, 94 bookmarks, footnotes, citations, an index, a glossary, exercises
    with solutions in an appendix) against two passes of its .tex: one LaTeX pass.

    Its contents lines are compared with the two-pass build's, not checked against the pages:
    in both builds, chapter 2 (headings only, no text between them, so no place to break a
    page) starts a page late and its last headings run off the foot of page 10, so some
    contents lines name a page without their heading (a matter of the book's LaTeX)."""
    assert built_real_book["passes"] == ["xelatex", "contents"]
    config = load_config(built_real_book["root"] / "book" / "book.yaml")
    reference = plain_two_pass(workdir_tex(config), config, tmp_path / "plain")
    same_book(built_real_book["pdf"], reference, contents_right=False)


def glossary_pages(pdf: Path) -> tuple[int, list[tuple[str, int]]]:
    """The glossary page's index, and (printed page, page index the number links to) for
    each "Used on p." number of its page lists, in order."""
    pages = pdf_pages(pdf)
    at = max(i for i, p in enumerate(pages) if squash(p).startswith("Glossary"))
    numbers = re.findall(r"Used on p\. (\d+(?:, \d+)*)", squash(pages[at]))
    reader = pypdf.PdfReader(pdf)
    dests = {n: reader.get_destination_page_number(d) for n, d in reader.named_destinations.items()}
    targets = []
    for annot in reader.pages[at].get("/Annots") or []:
        annot = annot.get_object()
        target = annot.get("/Dest") or (annot.get("/A") or {}).get("/D")
        if target is not None and dests[str(target)] != at:
            targets.append(dests[str(target)])  # (a term's name links to itself: left out)
    listed = [n for group in numbers for n in group.split(", ")]
    assert listed and len(listed) == len(targets)
    return at, list(zip(listed, targets, strict=True))


def links_to(pdf: Path, index: int) -> set[int]:
    """The page indices the internal links on page ``index`` lead to."""
    reader = pypdf.PdfReader(pdf)
    dests = {n: reader.get_destination_page_number(d) for n, d in reader.named_destinations.items()}
    found = set()
    for annot in reader.pages[index].get("/Annots") or []:
        annot = annot.get_object()
        target = annot.get("/Dest") or (annot.get("/A") or {}).get("/D")
        if target is not None:
            found.add(dests[str(target)])
    return found


def check_glossary_pages(pdf: Path) -> None:
    """Each page number of the glossary names the page its link leads to, and that page
    holds a use (a link to the glossary)."""
    pages = pdf_pages(pdf)
    start = next(i for i, p in enumerate(pages) if printed_number(p) == "1")
    at, entries = glossary_pages(pdf)
    for number, target in entries:
        assert target == start + int(number) - 1, (number, target)
        assert at in links_to(pdf, target), f"no use of a glossary term on p. {number}"


def test_the_real_books_glossary_and_solutions_name_real_pages(
    built_real_book: dict[str, Any],
) -> None:
    """book/'s glossary lists pages that hold its uses; each solution names the page of its
    exercise; each exercise links to its solution, by number."""
    pdf = built_real_book["pdf"]
    check_glossary_pages(pdf)
    text = squash(" ".join(built_real_book["pages"]))
    backs = re.findall(r"Solution (\d+\.\d+) \(Exercise \1, p\. (\d+)\)", text)
    assert len(backs) == 5
    for number, page in backs:
        assert f"Exercise {number} " in arabic_page(pdf, page)
        assert f"(Solution {number})" in arabic_page(pdf, page)


#: A glossary for a copy of tests/books/preview, between its two parts, and its uses.
GLOSSARY = """# Glossary {.glossary}

Core idea
:   What a chapter is about.

Sampling
:   Choosing a part to stand for the whole.
"""
GLOSSARY_USES = [
    ("foundations.md", "The core idea is simple", "The [core idea]{.gls} is simple"),
    ("methods.md", "Sampling is covered here.", "{{Sampling}} is covered here, a {{core idea}}."),
]
#: A use after the glossary (its page is known only after a pass).
LATE_USE = ("applications.md", "so does delta", "so does [delta]{.gls term=sampling}")


def with_glossary(book: Path, late: bool) -> None:
    (book / "glossary.md").write_text(GLOSSARY, encoding="utf-8")
    settings = book / "book.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("  - part-two.md", "  - glossary.md\n  - part-two.md"))
    for chapter, text, marked in GLOSSARY_USES + ([LATE_USE] if late else []):
        path = book / chapter
        source = path.read_text(encoding="utf-8")
        assert text in source
        path.write_text(source.replace(text, marked, 1), encoding="utf-8")


def test_a_glossary_use_after_the_glossary_takes_a_second_pass(tmp_path: Path) -> None:
    """The glossary's pages are read back in the pass, but a use after the glossary is not
    typeset yet: its page comes from the .aux, so the build takes two passes and lists it
    (and the same book as the engine's plain two passes)."""
    shutil.copytree(BOOKS / "preview", tmp_path / "preview")
    with_glossary(tmp_path / "preview", late=True)
    config = load_config(tmp_path / "preview" / "book.yaml")
    result = build(config, progress=Progress(quiet=True))
    assert [p.rule for p in result.passes] == ["xelatex", "xelatex"]
    check_glossary_pages(result.pdf)
    pages = pdf_pages(result.pdf)
    late = next(i for i, p in enumerate(pages) if "so does delta" in squash(p))
    assert [target for _, target in glossary_pages(result.pdf)[1]].count(late) == 1
    same_book(result.pdf, plain_two_pass(workdir_tex(config), config, tmp_path / "plain"))


def test_solution_pages_take_a_second_pass(tmp_path: Path) -> None:
    """``solution-pages: true``: the exercise names its solution's page, further on, so the
    cold build takes two passes; the glossary before it still reads its pages in the pass."""
    book = tmp_path / "preview"
    shutil.copytree(BOOKS / "preview", book)
    with_glossary(book, late=False)
    exercise = "\n\n::: exercise\nName the method after alpha.\n:::\n\n::: solution\nBeta.\n:::\n"
    (book / "methods.md").write_text((book / "methods.md").read_text() + exercise)
    settings = book / "book.yaml"
    settings.write_text(
        settings.read_text().replace("metadata:\n", "metadata:\n  solutions: appendix\n", 1)
    )
    config = load_config(settings)
    one = build(config, progress=Progress(quiet=True))
    assert [p.rule for p in one.passes] == ["xelatex", "contents"]  # without the switch
    check_glossary_pages(one.pdf)
    settings.write_text(
        settings.read_text().replace("metadata:\n", "metadata:\n  solution-pages: true\n", 1)
    )
    config = load_config(settings)
    shutil.rmtree(work_dir(config))  # cold again
    result = build(config, progress=Progress(quiet=True))
    assert [p.rule for p in result.passes] == ["xelatex", "xelatex"]
    pdf = result.pdf
    text = squash(" ".join(pdf_pages(pdf)))
    forward = re.search(r"Exercise 2\.1 \(Solution, p\. (\d+)\)", text)
    assert forward and "Solution 2.1 (Exercise 2.1, p. " in arabic_page(pdf, forward[1])
    check_glossary_pages(pdf)


def test_a_book_without_contents_in_one_pass(tmp_path: Path) -> None:
    """No contents: no roman front matter, so hyperref's PDF page labels are on; bookbuild
    sets them from the pass's .aux, as hyperref would in a second pass."""
    shutil.copytree(BOOKS / "preview", tmp_path / "preview")
    settings = tmp_path / "preview" / "book.yaml"
    settings.write_text(settings.read_text().replace("toc: true", "toc: false"))
    config = load_config(settings)
    result = build(config, progress=Progress(quiet=True))
    assert [p.rule for p in result.passes] == ["xelatex", "contents"]
    reference = plain_two_pass(workdir_tex(config), config, tmp_path / "plain")
    same_book(result.pdf, reference, contents_right=None)
    # Page labels (compared with the two-pass PDF's above): the title page is 1, and the
    # body starts again from 1 (report's title page resets the count).
    labels = pdf_facts(result.pdf)["labels"]
    assert labels[:3] == ["1", "1", "2"] and len(labels) == len(pdf_pages(reference))


@pytest.mark.parametrize("engine", ["pdflatex", "lualatex"])
def test_other_engines_take_the_second_pass_their_bookmarks_need(
    engine: str, tmp_path: Path
) -> None:
    """Under pdfTeX and LuaTeX the bookmark package writes the outline from the .aux of the
    pass before (``\\BKM@entry``): the check sees that line and a second pass runs."""
    shutil.copytree(BOOKS / "preview", tmp_path / "preview")
    with_index(tmp_path / "preview")  # sorted in the pass under these engines too
    config = with_engine(load_config(tmp_path / "preview" / "book.yaml"), engine)
    result = build(config, progress=Progress(quiet=True))
    assert [p.rule for p in result.passes] == [engine, engine]
    assert [term for term, _ in index_entries(result.pdf)][3:5] == ["élan", "method"]
    same_book(result.pdf, plain_two_pass(workdir_tex(config), config, tmp_path / "plain"))


def test_what_one_pass_cannot_know_takes_a_second_pass(tmp_path: Path) -> None:
    """A \\pageref: its page is known only after a pass, so the build takes two."""
    shutil.copytree(BOOKS / "preview", tmp_path / "preview")
    chapter = tmp_path / "preview" / "methods.md"
    chapter.write_text(chapter.read_text() + "\n\nSee page `\\pageref{sec:core}`{=latex}.\n")
    config = load_config(tmp_path / "preview" / "book.yaml")
    progress = Progress(quiet=True)
    result = build(config, progress=progress)
    assert [p.rule for p in result.passes] == ["xelatex", "xelatex"]
    text = squash(" ".join(pdf_pages(result.pdf)))
    assert "See page 1." in text or re.search(r"See page \d+\.", text)
    assert "??" not in text


def test_the_seeded_aux_and_the_checks() -> None:
    tex = r"""\section{A}\label{sec:a} see \ref{sec:a} and \ref{sec:elsewhere}
\bibitem[\citeproctext]{ref-x}"""
    aux, plan = onepass.seed_aux(tex, {"sec:a": "1.1", "sec:elsewhere": "2"})
    assert plan.labels == {"sec:a": "1.1"}  # only labels the .tex defines
    assert "\\bibcite{ref-x}{\\citeproctext }" in aux
    assert (
        "\\newlabel{sec:a}{{1.1}{\\bbop@unknown}{\\bbop@unknown}{bookbuild-onepass.sec:a}{}}" in aux
    )
    status = "bookbuild-onepass: ok; front 2, body 10,\ntotal 12\n"
    real = (
        "\\relax \n\\bibcite{ref-x}{\\citeproctext }\n"
        "\\newlabel{sec:a}{{1.1}{3}{A}{section.1.1}{}}\n"
    )
    assert onepass._check(status, real, [], plan) == ("", {"front": 2, "body": 10, "total": 12})
    assert onepass.aux_labels(real)["sec:a"] == ["1.1", "3", "A", "section.1.1", ""]
    wrong = real.replace("{{1.1}", "{{1.2}")
    assert "label sec:a is 1.2" in onepass._check(status, wrong, [], plan)[0]
    unknown = real + "\\gdef\\mypasses{1}\n"
    assert "the .aux holds" in onepass._check(status, unknown, [], plan)[0]
    rerun = status + "Package longtable Warning: Table widths have changed. Rerun LaTeX.\n"
    assert "rerun" in onepass._check(rerun, real, [], plan)[0]
    assert "book.lof" in onepass._check(status, real, [Path("book.lof")], plan)[0]
    failed = status.replace("ok;", "two-sided;")
    assert onepass._check(failed, real, [], plan)[0] == "two-sided"


def test_internal_links_are_seeded_with_their_anchor_alone() -> None:
    """``\\hyperref[label]`` (pandoc's internal links) reads the label's anchor alone: the
    label is seeded with a placeholder anchor and unknown number, page and title; the pass
    must write the label (its anchor is what the link is pointed at)."""
    tex = r"""\label{sec:a} \ref{sec:a} \hyperref[sec:a]{A} \hyperref[sol-1]{S} \hyperref[gone]{G}
\phantomsection\label{sol-1}"""
    aux, plan = onepass.seed_aux(tex, {"sec:a": "1"})
    assert plan.labels == {"sec:a": "1"} and plan.anchors == {"sol-1"}  # "gone": not defined
    assert (
        "\\newlabel{sol-1}{{\\bbop@unknown}{\\bbop@unknown}{\\bbop@unknown}"
        "{bookbuild-onepass.sol-1}{}}" in aux
    )
    status = "bookbuild-onepass: ok; front 1, body 3, total 4\n"
    real = "\\relax \n\\newlabel{sec:a}{{1}{1}{A}{chapter.1}{}}\n"
    assert onepass._check(status, real, [], plan)[0] == "label sol-1 was written without an anchor"
    no_anchor = real + "\\newlabel{sol-1}{{1}{3}{}{}{}}\n"
    assert "sol-1 was written without" in onepass._check(status, no_anchor, [], plan)[0]
    real += "\\newlabel{sol-1}{{1}{3}{}{section*.4}{}}\n"
    assert onepass._check(status, real, [], plan)[0] == ""


def test_an_error_in_the_one_pass_names_the_chapter_line_and_leaves_no_aux(tmp_path: Path) -> None:
    from bookbuild.errors import LatexError

    shutil.copytree(BOOKS / "preview", tmp_path / "preview")
    with_index(tmp_path / "preview")  # an error before the index: the pass never asks
    chapter = tmp_path / "preview" / "methods.md"
    good = chapter.read_text()
    chapter.write_text(good + "\n\\undefinedcommandhere\n")
    config = load_config(tmp_path / "preview" / "book.yaml")
    with pytest.raises(LatexError) as failure:
        build(config, progress=Progress(quiet=True))
    error = failure.value.diagnostics[0]
    assert error.file and error.file.endswith("methods.md")
    assert error.line == len(good.splitlines()) + 2
    for suffix in ("aux", "toc", "idx", "ind"):
        assert not list(work_dir(config).glob(f"*.{suffix}"))
    assert not config.pdf_path.exists()
