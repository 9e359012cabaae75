"""The layout readers: SUMMARY.md, book.json, book.toml, _bookdown.yml, _quarto.yml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bookbuild.books import config_path_for, load_config
from bookbuild.errors import ConfigError
from bookbuild.filters import DEFAULT_FILTERS
from bookbuild.layouts import detect, pre_numbered
from bookbuild.layouts.bookdown import read_bookdown
from bookbuild.layouts.gitbook import read_gitbook
from bookbuild.layouts.mdbook import read_mdbook
from bookbuild.layouts.quarto import read_quarto
from bookbuild.layouts.shape import layout_notes, plan, shape_chapter

BOOKS = Path(__file__).parent / "books"


def tree_lines(entries):
    return [(e.kind, e.depth, e.title, e.numbered, e.path is not None) for e in entries]


def test_summary_parts_prefix_suffix_drafts_nesting():
    tree = read_mdbook(BOOKS / "mdbook-ferris" / "book.toml")
    got = tree_lines(tree.entries)
    assert got == [
        ("prefix", 1, "Foreword", False, True),
        ("prefix", 1, "Introduction", False, True),
        ("part", 0, "Getting started", True, False),
        ("chapter", 1, "Installation", True, True),
        ("chapter", 2, "Hello, World!", True, True),
        ("chapter", 3, "Anatomy of a Rust Program", True, True),
        ("chapter", 4, "The main function", True, True),
        ("draft", 2, "Hello, Cargo!", True, False),
        ("chapter", 1, "Programming a Guessing Game", True, True),
        ("part", 0, "Core ideas", True, False),
        ("chapter", 1, "Understanding Ownership", True, True),
        ("chapter", 2, "What is Ownership?", True, True),
        ("chapter", 2, "References and Borrowing", True, True),
        ("chapter", 1, "Chapter 4. Traits in Depth", False, True),
        ("draft", 1, "Async, Await and Futures", True, False),
        ("suffix", 1, "Contributors", False, True),
    ]
    assert tree.metadata["title"] == "The Ferris Field Guide"
    assert tree.metadata["author"] == ["Ana Lúcia Ferreira", "Dimitris Papadópoulos"]
    assert tree.metadata["lang"] == "en"
    assert (tree.markdown, tree.note_scope) == ("gfm", "chapter")
    # every entry names the SUMMARY.md line it came from
    summary = (BOOKS / "mdbook-ferris" / "src" / "SUMMARY.md").read_text().splitlines()
    for entry in tree.entries:
        assert entry.title.split()[0].strip("`") in summary[entry.line - 1].replace("`", "")


def test_gitbook_root_readme_intro_parts_anchor_and_external_links():
    tree = read_gitbook(
        BOOKS / "gitbook-fieldecology", BOOKS / "gitbook-fieldecology" / "book.json"
    )
    got = tree_lines(tree.entries)
    assert got[0] == ("prefix", 1, "Introduction", False, True)
    assert ("part", 0, "Part I — Foundations", False, False) in got
    assert ("part", 0, "Part II. Field work", False, False) in got
    assert ("chapter", 4, "Allocation rules", True, True) in got
    titles = [e.title for e in tree.entries]
    assert "Choosing the quadrat size" not in titles  # an anchor into quadrats.md
    assert "Further reading" not in titles  # an external link
    assert tree.metadata == {
        "title": "Field Methods in Ecology",
        "author": "Zoë Ångström",
        "lang": "en",
        "book-variables": {"season": "spring 2026"},  # {{ book.season }} in the pages
    }


def test_bookdown_rmd_files_and_index_yaml():
    tree = read_bookdown(BOOKS / "bookdown-inference")
    assert [e.path.name for e in tree.files] == [
        "index.Rmd",
        "01-intro.Rmd",
        "02-probability.Rmd",
        "03-regression.Rmd",
        "99-appendix.Rmd",
    ]
    assert tree.metadata["title"] == "Notes on Statistical Inference"
    assert tree.metadata["bibliography"] == ["book.bib"]  # packages.bib is knitr's, absent
    assert tree.extra_filters == ["bookdown"] and tree.markdown == "rmarkdown"


def test_bookdown_print_settings_from_index_yaml(tmp_path):
    # the pandoc variables bookdown hands on shape the PDF; what bookbuild does not honour
    # is a note, never dropped without a word
    (tmp_path / "index.Rmd").write_text(
        "---\ntitle: Notes\ndocumentclass: krantz\nfontsize: 12pt\nlof: yes\n"
        "geometry: margin=1in\nbiblio-style: apalike\nsite: bookdown::bookdown_site\n---\n\n"
        "# Preface {-}\n"
    )
    tree = read_bookdown(tmp_path)
    assert {k: tree.metadata.get(k) for k in ("fontsize", "lof", "geometry")} == {
        "fontsize": "12pt",
        "lof": True,
        "geometry": "margin=1in",
    }
    assert "documentclass" not in tree.metadata and "site" not in tree.metadata
    assert [n.split(": note: ", 1)[1] for n in tree.notes] == [
        "documentclass 'krantz': not honoured (typeset with report)"
    ]


def test_bookdown_default_order(tmp_path):
    for name in ["b.Rmd", "index.Rmd", "_skip.Rmd", "a.Rmd"]:
        (tmp_path / name).write_text(f"# {name}\n")
    tree = read_bookdown(tmp_path)
    assert [e.path.name for e in tree.files] == ["index.Rmd", "a.Rmd", "b.Rmd"]


def test_quarto_parts_part_file_and_appendices():
    tree = read_quarto(BOOKS / "quarto-datasci" / "_quarto.yml")
    got = [(e.kind, e.title, e.path.name if e.path else None) for e in tree.entries]
    assert got == [
        ("chapter", "Preface", "index.qmd"),
        ("chapter", "Introduction", "intro.qmd"),
        ("part", "Wrangling", None),
        ("chapter", "Importing data", "import.qmd"),
        ("chapter", "Tidy data", "tidy.qmd"),
        ("part", "Visualise", "visualise.qmd"),
        ("chapter", "Plots that tell the truth", "plots.qmd"),
        ("chapter", "References", "references.qmd"),
        ("appendix", "Tools", "tools.qmd"),
    ]
    assert tree.metadata["author"] == ["Jürgen Weiß", "Inês Conceição"]
    assert tree.metadata["subtitle"] == "From raw files to honest plots"


@pytest.mark.parametrize(
    ("title", "numbered"),
    [
        ("Chapter 1. Intro", True),
        ("1.1 Setup", True),
        ("Part I. Basics", True),
        ("A.2 Tables", True),
        ("Introduction", False),
        ("A tour of Rust", False),
        ("1984 revisited", False),
    ],
)
def test_pre_numbered_titles(title, numbered):
    assert pre_numbered(title) is numbered


def test_detection(tmp_path):
    assert detect(BOOKS / "mdbook-ferris").name == "book.toml"
    assert detect(BOOKS / "gitbook-fieldecology").name == "book.json"
    assert detect(BOOKS / "bookdown-inference").name == "_bookdown.yml"
    assert detect(BOOKS / "quarto-datasci").name == "_quarto.yml"
    (tmp_path / "_quarto.yml").write_text("project:\n  type: website\n")
    assert detect(tmp_path) is None
    assert config_path_for(BOOKS / "minimal").name == "book.yaml"


def _summary_book(tmp_path: Path, summary: str, files=("intro.md",)) -> Path:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# T\n")
    (tmp_path / "SUMMARY.md").write_text(summary)
    return tmp_path / "SUMMARY.md"


def test_missing_file_is_one_line_at_summary_line_with_did_you_mean(tmp_path):
    path = _summary_book(tmp_path, "# Summary\n\n- [Intro](intro.md)\n- [Next](itnro2.md)\n")
    (tmp_path / "intro2.md").write_text("x")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (message,) = info.value.problems
    assert message.endswith(
        "SUMMARY.md:4: error: 'itnro2.md' not found in " + f"{tmp_path}/; did you mean 'intro2.md'?"
    ) or ("SUMMARY.md:4:" in message and "did you mean 'intro2.md'" in message)
    assert info.value.exit_code == 3


def test_path_escaping_the_book(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (tmp_path / "secret.md").write_text("x")
    path = _summary_book(book, "- [Intro](intro.md)\n- [Out](../secret.md)\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "SUMMARY.md:2:" in info.value.problems[0]
    assert "outside the book directory" in info.value.problems[0]


def test_older_book_toml_names_its_author_in_the_singular(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "SUMMARY.md").write_text("- [Start](start.md)\n")
    (tmp_path / "src" / "start.md").write_text("# Start\n")
    (tmp_path / "book.toml").write_text('[book]\ntitle = "Knots"\nauthor = "The Sailing Club"\n')
    assert read_mdbook(tmp_path / "book.toml").metadata["author"] == "The Sailing Club"


def test_gitbook_title_from_a_setext_readme_heading(tmp_path):
    (tmp_path / "README.md").write_text("Knots for Sailors\n=================\n\nWhy knots.\n")
    (tmp_path / "SUMMARY.md").write_text("* [Bowline](bowline.md)\n")
    (tmp_path / "bowline.md").write_text("# Bowline\n")
    assert read_gitbook(tmp_path, tmp_path / "SUMMARY.md").metadata["title"] == "Knots for Sailors"


def test_malformed_book_toml_names_its_line(tmp_path):
    (tmp_path / "book.toml").write_text('[book]\ntitle = "x"\nauthors = [\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "book.toml")
    assert "book.toml:" in info.value.problems[0] and "TOML" in info.value.problems[0]


def test_malformed_quarto_yaml(tmp_path):
    (tmp_path / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  chapters: [a.qmd\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "_quarto.yml")
    assert "_quarto.yml:" in info.value.problems[0]


def test_book_yaml_from_overrides_metadata_and_build(tmp_path):
    book = tmp_path / "ferris"
    shutil.copytree(BOOKS / "mdbook-ferris", book)
    (book / "book.yaml").write_text(
        "from: book.toml\nmetadata:\n  title: Ferris in Print\n  toc-depth: 2\n"
        "build:\n  output: ferris.pdf\n"
    )
    config = load_config(config_path_for(book))
    assert config.metadata["title"] == "Ferris in Print"
    assert config.metadata["author"] == ["Ana Lúcia Ferreira", "Dimitris Papadópoulos"]
    assert config.metadata["toc-depth"] == 2
    assert config.pdf_path == book / "build" / "ferris.pdf"
    assert len(config.chapters) == 12
    (book / "book.yaml").write_text("from: book.toml\nchapters: [a.md]\n")
    with pytest.raises(ConfigError) as info:
        load_config(config_path_for(book))
    assert "book.yaml:2:" in info.value.problems[0]


def test_layout_settings_for_the_other_engineers():
    mdbook = load_config(BOOKS / "mdbook-ferris" / "book.toml")
    quarto = load_config(BOOKS / "quarto-datasci" / "_quarto.yml")
    assert (mdbook.markdown, mdbook.note_scope) == ("gfm", "chapter")
    assert (quarto.markdown, quarto.note_scope) == ("pandoc", "book")
    assert mdbook.build_dir == BOOKS / "mdbook-ferris" / "build"
    # an mdBook gets the default filters; a Quarto book its dialect filter before the others
    # read what it makes (after raw HTML is converted)
    assert [p.stem for p in mdbook.filters] == list(DEFAULT_FILTERS)
    names = [p.stem for p in quarto.filters]
    assert sorted(names) == sorted([*DEFAULT_FILTERS, "quarto"])
    assert names.index("quarto") < names.index("parts") < names.index("crossref")


def _header(level, text):
    return {"t": "Header", "c": [level, [text.lower(), [], []], [{"t": "Str", "c": text}]]}


def test_shape_moves_headings_as_a_whole_and_titles_headingless_pages():
    config = load_config(BOOKS / "mdbook-ferris" / "book.toml")
    src = BOOKS / "mdbook-ferris" / "src"
    anatomy = src / "ch01-00-getting-started" / "anatomy.md"  # depth 3, starts at ###
    blocks = [_header(3, "Anatomy"), _header(4, "Macros")]
    shaped = shape_chapter(config, anatomy, "", blocks)
    assert [b["c"][0] for b in shaped if b["t"] == "Header"] == [3, 4]
    install = src / "ch01-00-getting-started" / "installation.md"  # depth 1, starts at ##
    shaped = shape_chapter(config, install, "", [_header(2, "Installation"), _header(3, "Tr")])
    levels = [(b["c"][0], b["c"][1][1]) for b in shaped if b["t"] == "Header"]
    assert levels[0] == (1, ["part"]) and levels[1:] == [(1, []), (2, [])]
    main_fn = src / "ch01-00-getting-started" / "main-fn.md"  # depth 4, no heading
    shaped = shape_chapter(config, main_fn, "", [{"t": "Para", "c": []}])
    assert shaped[0]["t"] == "Header" and shaped[0]["c"][0] == 4
    game = src / "ch02-guessing-game.md"  # the draft "Hello, Cargo!" (depth 2) comes first
    shaped = shape_chapter(config, game, "", [_header(1, "Programming a Guessing Game")])
    assert [(b["c"][0], b["c"][2][0]["c"]) for b in shaped] == [
        (2, "Hello,"),
        (1, "Programming a Guessing Game"),
    ]
    foreword = src / "foreword.md"  # prefix: unnumbered
    shaped = shape_chapter(config, foreword, "", [_header(1, "Foreword")])
    assert "unnumbered" in shaped[0]["c"][1][1]


def test_shape_rebases_images_to_the_book_dir():
    config = load_config(BOOKS / "mdbook-ferris" / "book.toml")
    page = BOOKS / "mdbook-ferris" / "src" / "ch03-ownership" / "what-is-ownership.md"
    image = {"t": "Image", "c": [["", [], []], [], ["../images/trpl04-01.png", ""]]}
    shape_chapter(config, page, "", [_header(2, "X"), {"t": "Para", "c": [image]}])
    assert image["c"][2][0] == "src/images/trpl04-01.png"


def test_plan_is_per_file():
    tree = read_mdbook(BOOKS / "mdbook-ferris" / "book.toml")
    layout = plan(tree)
    assert len(layout.pages) == 12
    assert layout.max_depth == 4


def test_init_never_overwrites_and_init_from_writes_an_equivalent_book_yaml(tmp_path):
    from click.testing import CliRunner

    from bookbuild.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    config = load_config(tmp_path / "new" / "book.yaml")
    assert [c.name for c in config.chapters] == ["01-introduction.md", "02-first-steps.md"]
    assert config.bibliography and config.build_dir == tmp_path / "new" / "build"
    text = (tmp_path / "new" / "book.yaml").read_text()
    for line in text.splitlines():
        if ":" in line and not line.lstrip().startswith(("#", "-")):
            assert "#" in line, line  # every key carries its comment
    again = runner.invoke(cli, ["init", str(tmp_path / "new")])
    assert again.exit_code == 1 and "never overwrites" in again.output
    book = tmp_path / "quarto"
    shutil.copytree(BOOKS / "quarto-datasci", book)
    assert runner.invoke(cli, ["init", "--from", str(book)]).exit_code == 0
    from_yaml = load_config(config_path_for(book))
    direct = load_config(book / "_quarto.yml")
    assert from_yaml.chapters == direct.chapters
    assert from_yaml.metadata == direct.metadata
    assert from_yaml.config_path.name == "book.yaml"


def test_notes_name_what_the_pdf_leaves_out():

    gitbook = layout_notes(load_config(BOOKS / "gitbook-fieldecology" / "book.json"))
    assert len(gitbook) == 1
    assert gitbook[0].endswith(
        "docs/SUMMARY.md:18: info: 'Further reading' links to "
        "https://example.org/reading-list, not a page of the book: left out of the PDF"
    )
    bookdown = layout_notes(load_config(BOOKS / "bookdown-inference" / "_bookdown.yml"))
    assert bookdown[0].endswith(
        "bookdown-inference/index.Rmd:1: note: bibliography 'packages.bib' is not in the book: "
        "left out (knitr writes it as R builds the book)"
    )
    assert bookdown[1:] == [
        "note: R Markdown code chunks are printed as code, not run (first in index.Rmd)"
    ]
    assert layout_notes(load_config(BOOKS / "minimal" / "book.yaml")) == []


def test_quarto_format_pdf_keys_become_settings_and_the_rest_a_note():
    config = load_config(BOOKS / "quarto-datasci" / "_quarto.yml")
    assert config.metadata["documentclass"] == "scrreprt"
    assert config.metadata["toc-depth"] == 2
    assert config.engine == "xelatex"
    notes = layout_notes(config)
    assert any("_quarto.yml:" in n and "fig-pos" in n for n in notes), notes
    assert not any("documentclass" in n or "toc-depth" in n for n in notes), notes
