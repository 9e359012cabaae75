"""The apparatus sample book (tests/books/apparatus) read back from its PDF: index with page
numbers that are links, exercises numbered per chapter with solutions in an appendix linked
both ways, the 6x9in print edition (sheet, /TrimBox, /BleedBox), fonts embedded, and the
student edition from the same sources (``--set solutions=none``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pypdf
import pytest

from bookbuild.books import load_config
from bookbuild.build import build, make_latex
from bookbuild.editions import with_settings
from bookbuild.progress import Progress

from .conftest import BOOKS, squash, unhyphenate


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One build of the sample book for the whole module."""
    root = tmp_path_factory.mktemp("apparatus")
    shutil.copytree(BOOKS / "apparatus", root / "book")
    config = load_config(root / "book" / "book.yaml")
    progress = Progress(quiet=True)
    result = build(config, progress=progress)
    tex = (config.build_dir / ".xelatex" / "book.tex").read_text()
    return {
        "config": config,
        "result": result,
        "pages": trimmed_pages(result.pdf),
        "reader": pypdf.PdfReader(result.pdf),
        "tex": tex,
        "rules": [name for name, _ in progress.stages],
    }


def trimmed_pages(pdf: Path) -> list[str]:
    """The text of each page inside its /TrimBox (what the reader of the printed book sees;
    the crop marks outside it are drawn with a font and would read as text)."""
    box = [float(x) for x in pypdf.PdfReader(pdf).pages[0].trimbox]
    media = [float(x) for x in pypdf.PdfReader(pdf).pages[0].mediabox]
    x, y_top = round(box[0]), round(media[3] - box[3])
    crop = ["-x", str(x), "-y", str(y_top), "-W", str(round(box[2] - box[0]))]
    crop += ["-H", str(round(box[3] - box[1]))]
    out = subprocess.run(
        ["pdftotext", "-layout", *crop, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def printed_number(page: str) -> str | None:
    """The page number printed at the foot of a page (pdftotext's last non-blank line)."""
    lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
    return lines[-1] if lines and re.fullmatch(r"\d+|[ivx]+", lines[-1]) else None


def page_of_number(pages: list[str], number: str) -> str:
    found = [p for p in pages if printed_number(p) == number]
    assert len(found) == 1, f"no single page numbered {number}"
    return found[0]


def page_index(pages: list[str], heading: str) -> int:
    return next(i for i, p in enumerate(pages) if heading in squash(p))


def index_page(pages: list[str]) -> int:
    """The Index at the back (the contents name it too)."""
    return max(i for i, p in enumerate(pages) if squash(p).startswith("Index"))


def link_pages(reader: pypdf.PdfReader, index: int) -> list[int]:
    """The page indices the internal links on page ``index`` lead to."""
    named = reader.named_destinations
    targets = []
    for annot in reader.pages[index].get("/Annots", []) or []:
        annot = annot.get_object()
        if annot.get("/Subtype") != "/Link":
            continue
        dest = annot.get("/Dest")
        action = annot.get("/A")
        if dest is None and action is not None and action.get("/S") == "/GoTo":
            dest = action.get("/D")
        if dest is None:
            continue
        if isinstance(dest, (str, bytes)) or hasattr(dest, "decode"):
            dest = named[str(dest)]
            targets.append(reader.get_destination_page_number(dest))
        else:
            targets.append(reader.get_page_number(dest[0].get_object()))
    return targets


INDEX_LINE = re.compile(r"([A-Za-z’'–\- ]+?), (\d+)\b")


def index_entries(pages: list[str]) -> dict[str, str]:
    """Index entries with a page number, read from the Index page (two columns)."""
    page = pages[index_page(pages)]
    entries = {}
    for line in page.splitlines():
        for column in re.split(r"\s{3,}", line.strip()):
            match = INDEX_LINE.fullmatch(column.strip())
            if match:
                entries[match.group(1).strip()] = match.group(2)
    return entries


def test_index_is_printed_with_the_marked_terms(built: dict[str, Any]) -> None:
    entries = index_entries(built["pages"])
    for term in ("model", "training set", "eigendecomposition", "Bayes’ theorem", "convexity"):
        assert term in entries, sorted(entries)
    index_text = squash(built["pages"][index_page(built["pages"])])
    assert "weight decay, see regularisation" in index_text
    assert "Adam, see also stochastic" in index_text
    # nested entries: a heading line without a page, its subentries indented below it
    index_lines = [ln.strip() for ln in built["pages"][index_page(built["pages"])].splitlines()]
    assert any(re.match(r"learning(\s{3,}|$)", ln) for ln in index_lines)
    assert any(re.match(r"matrix(\s{3,}|$)", ln) for ln in index_lines)
    for sub in ("supervised", "unsupervised", "rank"):
        assert sub in entries


def test_index_page_numbers_are_right(built: dict[str, Any]) -> None:
    pages = built["pages"]
    entries = index_entries(pages)
    assert len(entries) >= 10
    for term, number in entries.items():
        text = unhyphenate(page_of_number(pages, number)).replace("\n", " ")
        assert term.split()[0].lower() in squash(text).lower(), (term, number)


def test_index_page_numbers_are_links(built: dict[str, Any]) -> None:
    pages, reader = built["pages"], built["reader"]
    at = index_page(pages)
    targets = link_pages(reader, at)
    entries = index_entries(pages)
    assert len(targets) >= len(entries)
    for term, number in entries.items():
        assert any(printed_number(pages[t]) == number for t in targets), term


def test_makeindex_ran_between_passes(built: dict[str, Any]) -> None:
    # the book has non-ASCII entries (bias–variance), so upmendex sorts them
    assert "upmendex" in built["rules"]
    assert built["rules"].count("upmendex") == 1
    assert "\\usepackage[noautomatic]{imakeidx}" in built["tex"]
    assert "\\printindex" in built["tex"]


def test_exercises_are_numbered_per_chapter(built: dict[str, Any]) -> None:
    text = squash(" ".join(built["pages"]))
    for number, level in (("1.1", "E"), ("2.1", "M"), ("2.2", "H"), ("3.1", "E"), ("3.2", "M")):
        assert f"Exercise {number} [{level}]" in text
    assert "Exercise 4.1 [M]" in text  # an unnumbered section does not restart the count
    assert "Hint. Multiply component by component" in text


def test_ref_to_an_exercise_id_prints_its_number_and_links(built: dict[str, Any]) -> None:
    """``\\ref{eigen-power}`` (the exercise Div's id) prints the exercise's number."""
    pages, reader = built["pages"], built["reader"]
    exercise = page_index(pages, "Exercise 3.2 [M]")
    citing = next(i for i, p in enumerate(pages) if "(as in Exercise" in squash(p))
    said = re.search(r"\(as in Exercise ([\w.]+)\)", squash(pages[citing]))
    assert said and said.group(1) == "3.2"
    assert exercise in link_pages(reader, citing)


def test_solutions_are_in_the_appendix_and_linked_both_ways(built: dict[str, Any]) -> None:
    pages, reader = built["pages"], built["reader"]
    appendix = page_index(pages, "Appendix A Solutions")
    exercise = page_index(pages, "Exercise 3.2 [M]")
    assert exercise < appendix
    assert "Solution 3.2 (Exercise 3.2, p. " in squash(" ".join(pages[appendix:]))
    solution_page = next(
        i for i in range(appendix, len(pages)) if "Solution 3.2" in squash(pages[i])
    )
    assert solution_page in link_pages(reader, exercise)  # exercise -> solution
    assert exercise in link_pages(reader, solution_page)  # solution -> exercise
    # the exercise names its solution by number (a page further on would cost a second
    # pass); the solution names the exercise's real page (known in the same pass)
    assert "Exercise 3.2 [M] (Solution 3.2)" in squash(pages[exercise])
    said = re.search(r"Solution 3\.2 \(Exercise 3\.2, p\. (\d+)\)", squash(pages[solution_page]))
    assert said and printed_number(pages[exercise]) == said.group(1)
    # no solution is printed next to its exercise
    assert "Solution" not in re.sub(r"\(Solution \d+\.\d+\)", "", squash(pages[exercise]))


def test_print_edition_sheet_trim_and_bleed_boxes(built: dict[str, Any]) -> None:
    reader = built["reader"]
    for page in (reader.pages[0], reader.pages[len(reader.pages) // 2]):
        trim = [float(x) for x in page.trimbox]
        bleed = [float(x) for x in page.bleedbox]
        media = [float(x) for x in page.mediabox]
        assert trim[2] - trim[0] == pytest.approx(6 * 72, abs=0.5)
        assert trim[3] - trim[1] == pytest.approx(9 * 72, abs=0.5)
        assert bleed[2] - bleed[0] == pytest.approx(6.25 * 72, abs=0.5)
        assert bleed[3] - bleed[1] == pytest.approx(9.25 * 72, abs=0.5)
        assert bleed[0] < trim[0] and media[2] > bleed[2]  # crop marks outside the bleed
        assert media[0] <= bleed[0]


def test_print_edition_links_are_black_and_two_sided(built: dict[str, Any]) -> None:
    tex = built["tex"]
    assert "hidelinks" in tex
    assert "colorlinks=true" not in tex
    assert "twoside" in tex
    assert "inner=0.875in" in tex and "outer=0.625in" in tex
    assert "paperwidth=6in" in tex and "paperheight=9in" in tex


def test_all_fonts_are_embedded(built: dict[str, Any]) -> None:
    out = subprocess.run(
        ["pdffonts", str(built["result"].pdf)], capture_output=True, text=True, check=True
    ).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        # columns: name type encoding emb sub uni object ID; emb is the 5th from the end
        assert row.split()[-5] == "yes", row


def test_student_edition_has_no_solutions(built: dict[str, Any]) -> None:
    config = with_settings(built["config"], ["solutions=none"])
    tex, _, _ = make_latex(config, Progress(quiet=True))
    assert "Exercise~3.2" in tex and "Hint." in tex
    assert "Solution" not in tex
    assert "By induction" not in tex and "by induction" not in tex


def test_edition_by_level_keeps_the_numbers(built: dict[str, Any]) -> None:
    config = with_settings(built["config"], ["exercises.levels=[E]", "solutions=inline"])
    tex, _, _ = make_latex(config, Progress(quiet=True))
    assert "Exercise~3.1" in tex and "Exercise~1.1" in tex
    assert "Exercise~3.2" not in tex and "Exercise~2.1" not in tex
    assert "\\emph{Solution.}" in tex  # inline solutions right after the exercise


def test_chapter_preview_numbers_exercises_as_in_the_book(built: dict[str, Any]) -> None:
    from bookbuild.preview import preview

    result = preview(built["config"], ["linear-algebra"], Progress(quiet=True))
    text = squash(" ".join(trimmed_pages(result.pdf)))
    assert "Exercise 3.1 [E]" in text and "Exercise 3.2 [M]" in text
    assert "Solution 3.2" in text
    assert "Exercise 2.1" not in text


def test_unchanged_rebuild_runs_no_index_program(built: dict[str, Any], tmp_path: Path) -> None:
    config = built["config"]
    progress = Progress(quiet=True)
    # the same book again into another file: LaTeX runs, the index is already sorted
    build(config, output=tmp_path / "again.pdf", progress=progress)
    rules = [name for name, _ in progress.stages]
    assert "upmendex" not in rules and "makeindex" not in rules
    assert rules.count("xelatex") == 1


def test_check_lists_index_entries_spelled_two_ways(tmp_path: Path) -> None:
    from bookbuild.check import check

    shutil.copytree(BOOKS / "apparatus", tmp_path / "book")
    chapter = tmp_path / "book" / "part2" / "questions" / "probability.md"
    chapter.write_text(
        chapter.read_text() + "\nA [Model]{.index} needs an [optimizer]{.index}; British books say "
        "[optimiser]{.index}.\n"
    )
    report = check(tmp_path / "book")
    found = {(d.severity, d.line): d.message for d in report.diagnostics}
    lines = chapter.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "[Model]" in text)
    assert "differs only by case from 'model'" in found[("warning", line)]
    assert "spelled like 'optimizer'" in found[("info", line)]
    # nested entries under one heading are not spelling mistakes
    assert not any("supervised" in d.message for d in report.diagnostics)


def glossary_page(pages: list[str]) -> int:
    return max(i for i, p in enumerate(pages) if squash(p).startswith("Glossary"))


def test_glossary_prints_only_used_terms_sorted_with_pages(built: dict[str, Any]) -> None:
    pages = built["pages"]
    at = glossary_page(pages)
    text = squash(pages[at])
    names = ["Eigenvalue", "Learning rate", "Loss function", "Overfitting"]
    places = [text.index(n + " ") for n in names]
    assert places == sorted(places)
    assert "Epoch" not in text  # defined, never used
    used = dict(
        re.findall(
            r"(Learning rate|Loss function|Overfitting|Eigenvalue) .*?"
            r"Used on p\. (\d+(?:, \d+)*)",
            text,
        )
    )
    assert used["Learning rate"].split(", ")[0] != used["Learning rate"].split(", ")[-1]
    for name, numbers in used.items():
        for number in numbers.split(", "):
            page = squash(unhyphenate(page_of_number(pages, number.strip()))).lower()
            assert name.split()[0].lower() in page, (name, number)


def test_glossary_uses_link_to_the_definition(built: dict[str, Any]) -> None:
    pages, reader = built["pages"], built["reader"]
    at = glossary_page(pages)
    use = next(i for i, p in enumerate(pages) if "(overfitting)" in squash(p))
    assert at in link_pages(reader, use)
    assert use in link_pages(reader, at)  # the page numbers link back


def test_unknown_glossary_term_names_file_line_and_a_close_term(tmp_path: Path) -> None:
    from bookbuild.errors import FilterError

    shutil.copytree(BOOKS / "apparatus", tmp_path / "book")
    chapter = tmp_path / "book" / "part1" / "learning.md"
    chapter.write_text(chapter.read_text() + "\nEach {{epochs}} takes a minute.\n")
    config = load_config(tmp_path / "book" / "book.yaml")
    with pytest.raises(FilterError) as caught:
        make_latex(config, Progress(quiet=True))
    diagnostic = caught.value.diagnostics[0]
    assert "unknown glossary term 'epochs'; did you mean 'Epoch'?" in diagnostic.message
    assert diagnostic.file and diagnostic.file.endswith("part1/learning.md")
    assert diagnostic.line == len(chapter.read_text().splitlines())


def chapter_reference_lists(pages: list[str]) -> list[str]:
    """The text of each per-chapter "References" list (up to the next heading or page end)."""
    found = []
    for page in pages:
        text = squash(page)
        for piece in text.split("References ")[1:]:
            if piece.startswith("["):
                found.append(re.split(r" (?:Chapter|Part|Glossary|Appendix) ", piece)[0])
    return found


def test_each_chapter_lists_the_works_it_cites(built: dict[str, Any]) -> None:
    lists = chapter_reference_lists(built["pages"])
    assert len(lists) == 3  # chapters 1, 2 and 4 cite; chapter 3 does not
    first, second, fourth = lists
    assert "[1] C. M. Bishop" in first and "Kingma" not in first
    assert "[2] D. P. Kingma" in second and "[3] I. Goodfellow" in second
    assert "Bishop" not in second
    # numbers follow the first citation across the book: Bishop is [1] again in chapter 4
    assert "[1] C. M. Bishop" in fourth and "Kingma" not in fourth
    assert "\\begin{CSLReferences}" in built["tex"]
    assert built["tex"].count("\\bibitem") == 4


def test_citations_link_to_their_chapters_list(built: dict[str, Any]) -> None:
    pages, reader = built["pages"], built["reader"]
    cite = next(i for i, p in enumerate(pages) if "[1, Ch. 1]" in p)
    own_list = next(
        i for i in range(cite, len(pages)) if "References [1] C. M. Bishop" in squash(pages[i])
    )
    assert own_list in link_pages(reader, cite)
    first_list = next(i for i, p in enumerate(pages) if "References [1]" in squash(p))
    assert first_list < own_list and first_list not in link_pages(reader, cite)


def test_lists_of_figures_and_tables_link(built: dict[str, Any]) -> None:
    pages, reader = built["pages"], built["reader"]
    lof = next(i for i, p in enumerate(pages) if squash(p).startswith("List of Figures"))
    lot = next(i for i, p in enumerate(pages) if squash(p).startswith("List of Tables"))
    figure = next(i for i, p in enumerate(pages) if "Figure 2.1: Training loss" in squash(p))
    table = next(i for i, p in enumerate(pages) if "Table 2.1: Three optimisers" in squash(p))
    assert figure in link_pages(reader, lof)
    assert table in link_pages(reader, lot)


def test_restarted_numbering_and_one_list_at_the_back(built: dict[str, Any]) -> None:
    config = with_settings(built["config"], ["bibliography-numbering=restart"])
    tex, _, _ = make_latex(config, Progress(quiet=True))
    second = tex[tex.index("\\label{refs-c2}") :]
    assert "{[}1{]}" in second[: second.index("\\end{CSLReferences}")]  # Kingma is [1] here
    config = with_settings(built["config"], ["bibliography-placement=end"])
    tex, _, _ = make_latex(config, Progress(quiet=True))
    assert "refs-c1" not in tex and tex.count("\\begin{CSLReferences}") == 1


def test_chapter_rebuilds_stay_right(tmp_path: Path) -> None:
    """A chapter with no apparatus that reaches other chapters rebuilds alone; one whose
    solutions go to the appendix, or that uses glossary terms, is a full build; both give
    the LaTeX of a build from scratch."""
    from .test_incremental import append, cached_build, edit, scratch_build

    shutil.copytree(BOOKS / "apparatus", tmp_path / "book")
    config_path = tmp_path / "book" / "book.yaml"
    cached_build(config_path)
    edit(config_path, "part2/part.md", append("\nThe questions get harder as you go.\n"))
    tex, stages, warnings = cached_build(config_path)
    assert "chapters" in stages
    assert (tex, warnings) == scratch_build(config_path)
    for name, more in (
        ("part2/questions/linear-algebra.md", "\nA [rank]{.index} test and a {{epoch}}.\n"),
        ("part2/questions/probability.md", "\n::: exercise\nWhat is $P(A)$?\n:::\n"),
    ):
        edit(config_path, name, append(more))
        tex, stages, warnings = cached_build(config_path)
        assert "chapters" not in stages, name
        assert (tex, warnings) == scratch_build(config_path), name


def test_set_on_the_command_line_makes_an_edition(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bookbuild.cli import cli

    shutil.copytree(BOOKS / "apparatus", tmp_path / "book")
    runner = CliRunner()
    out = tmp_path / "student.tex"
    result = runner.invoke(
        cli, ["tex", "--book", str(tmp_path / "book"), "--set", "solutions=none", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    tex = out.read_text()
    assert "Exercise~4.1" in tex and "Solution" not in tex
    result = runner.invoke(cli, ["pdf", "--book", str(tmp_path / "book"), "--set", "solutions"])
    assert result.exit_code == 2
    assert "--set 'solutions': write KEY=VALUE" in result.output
