"""Units of issue 14 "nothing lost": reader flavours, the pre-read fixes, note scope, the
html/links filters' warnings, image conversion, pdf's warnings and check's agreement."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import panflute as pf
import pytest

from bookbuild.books import load_config
from bookbuild.build import make_latex
from bookbuild.check import run_checks
from bookbuild.config import Chapter
from bookbuild.diagnostics import SourceText
from bookbuild.errors import BookbuildError, ConfigError
from bookbuild.filters import load_filter, run_filters
from bookbuild.flavours import FLAVOURS, reader_format
from bookbuild.images import converted, prepare_images
from bookbuild.lost import scan_document
from bookbuild.markers import chapter_marker
from bookbuild.pandoc import read_markdown
from bookbuild.progress import Progress
from bookbuild.sourcefix import duplicate_notes, fix_source
from bookbuild.stages.assemble import ChapterText
from bookbuild.stages.read import texts_as_read
from bookbuild.stages.transform import mark_block_sources

from .conftest import BOOKS, REPO

FILTERS = REPO / "filters"


def write_book(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder / "book.yaml"


# -- reader flavours -----------------------------------------------------------------------


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_every_flavour_reads_footnotes_tables_and_dollar_math(flavour: str) -> None:
    text = fix_source(
        "A[^1] and \\(x^2\\).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[^1]: Note.\n", flavour
    )
    doc, warnings = read_markdown(text, reader=reader_format(flavour))
    kinds = {type(e).__name__ for e in _walk(doc)}
    assert {"Note", "Table", "Math"} <= kinds, flavour
    assert warnings == []


def _walk(doc: Any) -> list[Any]:
    found: list[Any] = []
    doc.walk(lambda e, _d: found.append(e))
    return found


def test_a_chapter_entry_may_name_its_own_flavour(tmp_path: Path) -> None:
    config = load_config(
        write_book(
            tmp_path,
            {
                "book.yaml": "chapters:\n  - a.md\n  - {file: b.md, markdown: gfm}\n"
                "build:\n  markdown: commonmark\n  note_scope: chapter\n",
                "a.md": "# A\n",
                "b.md": "# B\n",
            },
        )
    )
    assert config.markdown == "commonmark" and config.note_scope == "chapter"
    assert [c.markdown for c in config.chapters] == [None, "gfm"]


def test_a_bad_flavour_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    path = write_book(
        tmp_path,
        {"book.yaml": "chapters:\n  - a.md\n  - {file: a2.md, markdown: mdbook}\n", "a.md": ""},
    )
    (tmp_path / "a2.md").write_text("")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [(d.line, "mdbook" in d.message) for d in caught.value.diagnostics] == [(3, True)]


# -- pre-read fixes and note scope ---------------------------------------------------------


def test_a_dashes_line_above_notes_becomes_a_rule_on_the_same_line() -> None:
    text = "Text[^1].\n\n-----\n[^1]: one\n[^2]: two\n"
    fixed = fix_source(text, "pandoc")
    assert fixed.splitlines()[2] == "* * *"
    assert len(fixed.splitlines()) == len(text.splitlines())
    # a setext heading (text right above the dashes) is left alone
    assert fix_source("Title\n---\n[^1]: x\n", "pandoc") == "Title\n---\n[^1]: x\n"


def test_backslash_math_is_rewritten_outside_code_only() -> None:
    text = "See \\(a+b\\) and `\\(code\\)`.\n\n```\n\\[ not math \\]\n```\n"
    fixed = fix_source(text, "gfm")
    assert "See $a+b$ and `\\(code\\)`." in fixed
    assert "\\[ not math \\]" in fixed
    assert fix_source(text, "pandoc") == text  # pandoc's reader has the extension


def test_duplicate_notes_name_both_lines() -> None:
    text = "A[^1].\n\n[^1]: first\n\n```\n[^1]: in code\n```\n\n[^1]: again\n"
    assert duplicate_notes(text) == [("1", 3, 9)]


def _chapters(tmp_path: Path, *texts: str) -> list[ChapterText]:
    return [
        ChapterText(Chapter(tmp_path / f"c{i}.md", f"c{i}.md", i + 1), f"book/c{i}.md", t)
        for i, t in enumerate(texts)
    ]


def test_chapter_scope_lends_no_notes(tmp_path: Path) -> None:
    config = load_config(
        write_book(
            tmp_path,
            {
                "book.yaml": "chapters: [a.md]\nbuild:\n  note_scope: chapter\n",
                "a.md": "",
            },
        )
    )
    chapters = _chapters(tmp_path, "One[^1].\n\n[^1]: first.\n", "Two[^1].\n")
    texts, lent = texts_as_read(chapters, config)
    assert "first" not in texts[1] and lent == set()
    assert "first" in texts_as_read(chapters)[0][1]  # book scope lends it


def test_a_note_defined_twice_in_a_chapter_is_an_error_naming_both_lines(
    tmp_path: Path,
) -> None:
    path = write_book(
        tmp_path,
        {
            "book.yaml": "chapters: [a.md, b.md]\nbuild:\n  note_scope: chapter\n",
            "a.md": "# A\n\nOne[^1].\n\n[^1]: first.\n",
            "b.md": "# B\n\nTwo[^1].\n\n[^1]: mine.\n\n[^1]: mine again.\n",
        },
    )
    with pytest.raises(BookbuildError) as caught:
        make_latex(load_config(path), Progress(quiet=True))
    [problem] = caught.value.diagnostics
    assert (Path(problem.file or "").name, problem.line) == ("b.md", 7)
    assert "first on line 5" in problem.message


def test_a_yaml_error_in_a_chapter_names_the_chapter_and_line(tmp_path: Path) -> None:
    files = {f"c{i}.md": f"# C{i}\n\ntext\n" for i in range(6)}
    files["c3.md"] = "Intro.\n\n---\ntitle: [unclosed\nauthor: x\n---\n\nMore.\n"
    names = ", ".join(sorted(files))
    path = write_book(tmp_path, {"book.yaml": f"chapters: [{names}]\n", **files})
    with pytest.raises(BookbuildError) as caught:  # six chapters: read in batches
        make_latex(load_config(path), Progress(quiet=True))
    [problem] = caught.value.diagnostics
    assert (Path(problem.file or "").name, problem.line) == ("c3.md", 5)
    assert "YAML" in problem.message


# -- filters: warnings at file:line --------------------------------------------------------


def _filtered(markdown: str, names: list[str], label: str = "book/ch/page.md") -> Any:
    text = f"{chapter_marker(label)}\n\n{markdown}"
    doc, _ = read_markdown(text, reader=reader_format("gfm"))
    mark_block_sources(doc, {label: SourceText(label, markdown, label)})
    doc.bookbuild_warnings = []
    return run_filters(doc, [load_filter(FILTERS / f"{n}.py") for n in names])


def test_html_warns_about_what_it_cannot_convert_at_the_line() -> None:
    doc = _filtered(
        "# T\n\nText.\n\n<video src='a.mp4'></video>\n\nA <blink>word</blink> here.\n"
        "\n<!-- a comment -->\n",
        ["html"],
    )
    assert doc.bookbuild_warnings == [
        "book/ch/page.md:5: HTML <video> cannot be printed; left out",
        "book/ch/page.md:7: HTML <blink> not converted; its text is kept",
    ]
    assert "word" in pf.stringify(doc)


def test_an_empty_icon_element_is_a_warning_and_its_sentence_stays() -> None:
    """Icon fonts (<i class="fa fa-eye"></i>) draw with CSS: nothing to print, but not
    silently (a real HonKit book's "click the eye ()" lost its icon without a word)."""
    doc = _filtered(
        '# T\n\nPress the eye <i class="fa fa-eye"></i> to show it, <i>really</i>.\n', ["html"]
    )
    assert doc.bookbuild_warnings == [
        'book/ch/page.md:3: HTML <i class="fa fa-eye"> is empty (an icon?); left out'
    ]
    text = pf.stringify(doc)
    assert "Press the eye" in text and "to show it" in text and "really" in text


def test_an_empty_span_with_an_id_stays_an_anchor() -> None:
    doc = _filtered('# T\n\nSee <span id="here" class="anchor"></span> this.\n', ["html"])
    assert doc.bookbuild_warnings == []
    found: list[str] = []
    doc.walk(lambda e, d: found.append(e.identifier) if isinstance(e, pf.Span) else None)
    assert found == ["here"]


def test_html_div_classes_become_callout_divs_and_tables_real_tables() -> None:
    doc = _filtered(
        '<div class="info">\nRead <b>this</b>.\n</div>\n\n'
        "<table><tr><th>a</th><th>b</th></tr><tr><td colspan=2>wide</td></tr></table>\n",
        ["html"],
    )
    divs = [e for e in _walk(doc) if isinstance(e, pf.Div)]
    tables = [e for e in _walk(doc) if isinstance(e, pf.Table)]
    assert [d.classes for d in divs] == [["note"]]
    assert len(tables) == 1 and tables[0].content[0].content[0].content[0].colspan == 2


def test_links_to_a_missing_chapter_warn_and_print_as_text() -> None:
    doc = _filtered("# T\n\nSee [gone](../gone.md) and [here](page.md).\n", ["links"])
    assert doc.bookbuild_warnings == [
        "book/ch/page.md:3: link to '../gone.md': no such chapter in the book; printed as text"
    ]
    links = [e.url for e in _walk(doc) if isinstance(e, pf.Link)]
    assert links == ["#t"]


def test_links_of_a_chapter_rebuilt_alone_use_the_ids_bookbuild_passes() -> None:
    text = f"{chapter_marker('book/a.md')}\n\nSee [B](b.html#deep).\n"
    doc, _ = read_markdown(text)
    doc.bookbuild_chapter_ids = {"book/b.md": ["bee", "deep-1"]}
    doc = run_filters(doc, [load_filter(FILTERS / "links.py")])
    assert [e.url for e in _walk(doc) if isinstance(e, pf.Link)] == ["#deep-1"]


# -- images --------------------------------------------------------------------------------


def test_svg_and_gif_are_converted_once_per_content(tmp_path: Path) -> None:
    source = BOOKS / "gitbook-pasted" / "assets"
    path = write_book(tmp_path, {"book.yaml": "chapters: [a.md]\n", "a.md": ""})
    for name in ("diagrama.svg", "descida.gif"):
        shutil.copy(source / name, tmp_path / name)
    config = load_config(path)
    svg = converted(tmp_path / "diagrama.svg", config)
    gif = converted(tmp_path / "descida.gif", config)
    assert svg.read_bytes().startswith(b"%PDF") and gif.read_bytes().startswith(b"\x89PNG")
    assert converted(tmp_path / "descida.gif", config) == gif  # cached
    (tmp_path / "copy.gif").write_bytes((tmp_path / "descida.gif").read_bytes())
    assert converted(tmp_path / "copy.gif", config) == gif  # by content, not by name


def test_a_remote_image_is_a_placeholder_and_a_warning(tmp_path: Path) -> None:
    config = load_config(write_book(tmp_path, {"book.yaml": "chapters: [a.md]\n", "a.md": ""}))
    markdown = "# A\n\nText.\n\n![A chart](https://example.org/c.png)\n"
    doc, _ = read_markdown(f"{chapter_marker('x/a.md')}\n\n{markdown}")
    found = prepare_images(doc, config, {"x/a.md": SourceText("x/a.md", markdown, "a.md")})
    assert [(d.severity, d.file, d.line) for d in found] == [("warning", "a.md", 5)]
    latex = pf.convert_text(doc, input_format="panflute", output_format="latex")
    assert "\\fbox{\\parbox" in latex and "\\url{https://example.org/c.png}" in latex


# -- pdf and check agree -------------------------------------------------------------------


def test_pdf_warns_about_what_would_print_raw(tmp_path: Path) -> None:
    path = write_book(
        tmp_path,
        {
            "book.yaml": "chapters: [a.md]\nbuild:\n  filters: [parts]\n",
            "a.md": "# A\n\nA \\textbf{bold start.\n\nNo note[^gone] here.\n\n"
            "<center>kept?</center>\n\nAs @silva2019 says.\n",
        },
    )
    _, warnings, _ = make_latex(load_config(path), Progress(quiet=True))
    located = sorted((w.line, w.message.split(" ")[0]) for w in warnings)
    assert located == [(3, "'\\textbf{bold'"), (5, "footnote"), (7, "raw"), (9, "citation")]


def test_scan_finds_nothing_in_a_clean_document() -> None:
    doc, _ = read_markdown(f"{chapter_marker('b/a.md')}\n\n# A\n\nPlain *text*[^1].\n\n[^1]: n\n")
    assert scan_document(doc, {}, bibliography=False) == []


def test_check_finds_the_unconverted_html_pdf_warns_about(tmp_path: Path) -> None:
    path = write_book(
        tmp_path,
        {
            "book.yaml": "chapters: [a.md]\nbuild:\n  markdown: gfm\n",
            "a.md": "# A\n\nText.\n\n<iframe src='x'></iframe>\n\nA \\textbf{x} word.\n",
        },
    )
    config = load_config(path)
    found = [(d.line, d.severity) for d in run_checks(config) if d.severity != "info"]
    _, warnings, _ = make_latex(config, Progress(quiet=True))
    assert (
        sorted(found)
        == sorted((w.line, w.severity) for w in warnings)
        == [
            (5, "warning"),
            (7, "warning"),
        ]
    )


def test_json_of_the_read_cache_depends_on_the_flavour(tmp_path: Path) -> None:
    from bookbuild.cache import Cache
    from bookbuild.stages.read import parse_texts

    cache = Cache(tmp_path / "cache")
    text = "Water is H~2~O and x^2^.\n"
    plain = parse_texts([text], cache, readers=[reader_format("pandoc")])[0]
    gfm = parse_texts([text], cache, readers=[reader_format("gfm")])[0]
    assert json.dumps(plain) != json.dumps(gfm)
    assert cache.misses == 2


def test_texmath_leaves_crossref_templates_in_the_metadata_alone() -> None:
    text = "---\ntableTemplate: '*$$tableTitle$$ $$i$$*: $$t$$'\n---\n\nSize $$n$$ here.\n"
    doc, _ = read_markdown(text)
    doc = run_filters(doc, [load_filter(FILTERS / "texmath.py")])
    kinds = sorted(e.format for e in _walk(doc) if isinstance(e, pf.Math))
    assert kinds == ["DisplayMath", "DisplayMath", "DisplayMath", "InlineMath"]
