"""format: pdf: keys of a Quarto book as bookbuild metadata (bookbuild.dialects.quarto_format)."""

from __future__ import annotations

from pathlib import Path

from bookbuild.dialects.quarto_format import quarto_format_settings


def test_pdf_keys_map_onto_metadata(tmp_path: Path) -> None:
    (tmp_path / "preamble.tex").write_text("\\usepackage{microtype}\n")
    metadata, warnings = quarto_format_settings(
        {
            "html": {"theme": "cosmo", "code-fold": True},
            "pdf": {
                "documentclass": "scrreprt",
                "classoption": ["twoside"],
                "toc": True,
                "toc-depth": 2,
                "number-sections": True,
                "number-depth": 3,
                "fontsize": "11pt",
                "geometry": ["margin=1in"],
                "mainfont": "Libertinus Serif",
                "include-in-header": ["preamble.tex", {"text": "\\usepackage{xcolor}"}],
                "highlight-style": "tango",
                "keep-tex": True,
                "fig-pos": "H",
            },
        },
        book_dir=tmp_path,
    )
    assert metadata["documentclass"] == "scrreprt"
    assert metadata["classoption"] == ["twoside"]
    assert metadata["toc"] is True and metadata["toc-depth"] == 2
    assert metadata["numbersections"] is True and metadata["secnumdepth"] == 3
    assert metadata["fontsize"] == "11pt" and metadata["geometry"] == ["margin=1in"]
    assert metadata["mainfont"] == "Libertinus Serif"
    assert metadata["highlight-style"] == "tango"
    includes = metadata["header-includes"]
    assert "\\usepackage{microtype}" in includes[0] and "{=latex}" in includes[0]
    assert "\\usepackage{xcolor}" in includes[1]
    assert warnings == ["format.pdf.fig-pos: not honoured by bookbuild"]
    assert "theme" not in metadata  # html: is not the PDF's business


def test_unknown_style_and_escaping_header_warn(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (tmp_path / "secret.tex").write_text("x")
    metadata, warnings = quarto_format_settings(
        {"pdf": {"highlight-style": "github", "include-in-header": "../secret.tex"}},
        book_dir=book,
    )
    assert "highlight-style" not in metadata and "header-includes" not in metadata
    assert any("highlight-style: 'github'" in w for w in warnings)
    assert any("'../secret.tex' is not a file in the book folder" in w for w in warnings)


def test_shared_keys_and_plain_pdf() -> None:
    metadata, warnings = quarto_format_settings("pdf", shared={"toc": True, "lang": "de"})
    assert metadata == {"toc": True, "lang": "de"} and warnings == []
    metadata, _ = quarto_format_settings({"pdf": {"toc": False}}, shared={"toc": True})
    assert metadata["toc"] is False  # pdf: wins over the shared value
