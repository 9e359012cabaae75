"""Every glyph lands, every script reads (issue 14, point 8).

The sample books are built once each (module-scoped) and read as a reader would: pdftotext,
pdffonts, the engine's log. tests/books/scripts mixes emoji, fractions, Greek, Cyrillic, math
symbols and Chinese/Japanese/Korean in a Latin book; tests/books/persian is a right-to-left
book (``lang: fa``, ``dir: rtl``) that names no font.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from bookbuild import fonts
from bookbuild.books import load_config
from bookbuild.build import BuildResult, build, make_latex
from bookbuild.config import with_engine
from bookbuild.errors import StrictWarningsError
from bookbuild.progress import Progress

from .conftest import BOOKS, pdf_pages, squash

needs_fonts = pytest.mark.skipif(
    fonts.find_font("Noto Serif") is None or fonts.find_font("Symbola") is None,
    reason=f"fonts missing: apt-get install {fonts.FONT_PACKAGES}",
)


def built(tmp_path_factory: pytest.TempPathFactory, name: str, engine: str) -> BuildResult:
    work = tmp_path_factory.mktemp(f"{name}-{engine}") / name
    shutil.copytree(BOOKS / name, work)
    config = with_engine(load_config(work / "book.yaml"), engine)
    return build(config, progress=Progress(quiet=True))


def engine_log(result: BuildResult) -> str:
    logs = list(result.pdf.parent.glob(".*/**/*.log"))  # build/.xelatex, preview/.work/…
    assert logs, "the engine left no log"
    return "\n".join(log.read_text(errors="replace") for log in logs)


def embedded_fonts(pdf: Path) -> dict[str, str]:
    """pdffonts: font name (without its subset tag) -> the 'emb' column."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines()[2:]:
        parts = line.split()
        name = parts[0].split("+", 1)[-1]
        emb = [p for p in parts if p in ("yes", "no")][0]
        found[name] = emb
    return found


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return built(tmp_path_factory, "scripts", "xelatex")


@pytest.fixture(scope="module")
def persian(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return built(tmp_path_factory, "persian", "xelatex")


# --------------------------------------------------------------------------- the PDFs

SCRIPTS_SAMPLES = [
    "⅓ cup of rice vinegar, ¾ cup",
    "library 🌳",
    "press tomorrow 🚀",
    "x ∈ ℝ",
    "b ⇒ b ≥ a",
    "ℕ ⊂ ℤ ⊂ ℚ",
    "✓ collect the type specimens → scan them",
    "Ἐν ἀρχῇ ἦν ὁ λόγος",
    "Καλώς ήρθατε στο τυπογραφείο",
    "Что написано пером",
    "Łódź",
    "Tiếng Việt",
    "北宋时期，毕昇发明了活字印刷术",
    "活版印刷は、十六世紀の終わりに日本へ伝わった。",
    "한글은 1443년에 세종대왕이 만들었다.",
]


@pytest.mark.latex
@needs_fonts
def test_scripts_book_prints_every_character(scripts: BuildResult) -> None:
    assert "Missing character" not in engine_log(scripts)
    assert scripts.warnings == []
    text = squash(" ".join(pdf_pages(scripts.pdf))).replace(" ", "")
    for sample in SCRIPTS_SAMPLES:
        assert sample.replace(" ", "") in text, sample


@pytest.mark.latex
@needs_fonts
def test_scripts_book_embeds_the_fallback_fonts(scripts: BuildResult) -> None:
    embedded = embedded_fonts(scripts.pdf)
    assert set(embedded.values()) == {"yes"}
    names = " ".join(embedded)
    for font in ("Symbola", "NotoSerif-Regular", "NotoSansMath", "NotoSerifCJK"):
        assert font in names, (font, names)


@pytest.mark.latex
@needs_fonts
def test_cjk_paragraphs_break_into_lines(scripts: BuildResult) -> None:
    """The Chinese and Japanese paragraphs have no spaces: they must still wrap within the
    margin (about 40 full-width characters a line at 10 pt; one unbroken line would hold 100)."""
    page = next(p for p in pdf_pages(scripts.pdf) if "北宋" in p)
    lines = [line for line in page.splitlines() if sum(fonts.is_cjk(ord(c)) for c in line) > 5]
    assert len(lines) >= 5
    assert max(sum(fonts.is_cjk(ord(c)) for c in line) for line in lines) <= 45
    assert "Overfull \\hbox" not in engine_log(scripts)


def arabic_text(pdf: Path, first: int) -> str:
    """The Arabic-script letters pdftotext reads from the pages from ``first`` on, as
    ordinary letters (NFKC folds the presentation forms the fonts draw)."""
    out = subprocess.run(
        ["pdftotext", "-f", str(first), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return unicodedata.normalize("NFKC", out)


@pytest.mark.latex
@needs_fonts
def test_persian_book_reads_right_to_left(persian: BuildResult) -> None:
    assert "Missing character" not in engine_log(persian)
    assert persian.warnings == []
    text = arabic_text(persian.pdf, 2)
    arabic = [c for c in text if "ARABIC" in unicodedata.name(c, "")]
    assert len(arabic) > 1000
    letters = "".join(c for c in text if unicodedata.category(c) != "Cf")  # bidi marks, ZWNJ
    words = {word.strip(".,:;«»()") for word in letters.split()}
    for word in ("کتاب", "خواندن", "عادت", "پیشنهاد", "حافظ"):
        assert word in words, word
    # RTL: pdftotext marks the lines right to left (U+202B) and the text is shaped
    # (presentation forms: letters joined in their initial, medial and final forms).
    raw = subprocess.run(
        ["pdftotext", "-f", "2", str(persian.pdf), "-"], capture_output=True, text=True
    ).stdout
    assert "\u202b" in raw
    # A Latin phrase inside the Persian reads left to right, its words in order.
    assert "(One Hundred Years of Solitude)" in raw
    assert any(0xFE70 <= ord(c) <= 0xFEFF for c in raw)
    embedded = embedded_fonts(persian.pdf)
    assert any(name.startswith("NotoNaskhArabic") for name in embedded)
    assert set(embedded.values()) == {"yes"}


@pytest.mark.latex
@needs_fonts
def test_persian_book_uses_babel_rtl_and_no_zwnj_hyphens(persian: BuildResult) -> None:
    tex = next(persian.pdf.parent.glob(".xelatex/*.tex")).read_text()
    assert "persian" in tex and "\\babelfont{rm}" in tex and "Noto Naskh Arabic" in tex
    assert "\\zerowidthnonjoiner" not in tex


# --------------------------------------------------------------------------- warnings


def book_with(tmp_path: Path, text: str, engine: str = "xelatex") -> Path:
    book = tmp_path / "book"
    (book / "part").mkdir(parents=True)
    (book / "book.yaml").write_text(
        "chapters:\n  - intro.md\n  - part/odd.md\nmetadata:\n  title: Odd\n"
        f"build:\n  engine: {engine}\n",
        encoding="utf-8",
    )
    (book / "intro.md").write_text("# Intro\n\nPlain text.\n", encoding="utf-8")
    (book / "part" / "odd.md").write_text(text, encoding="utf-8")
    return book / "book.yaml"


@needs_fonts
def test_a_character_no_font_has_is_a_warning_at_its_line(tmp_path: Path) -> None:
    config = load_config(
        book_with(tmp_path, "# Odd\n\nA melting face 🫠 (Unicode 14).\n\nAnd 🌳.\n")
    )
    tex, warnings, _ = make_latex(config, Progress(quiet=True))
    found = [w for w in warnings if "U+1FAE0 🫠" in w.message]
    assert len(found) == 1
    assert found[0].file is not None and found[0].file.endswith("part/odd.md")
    assert found[0].line == 3
    assert not [w for w in warnings if "1F333" in w.message]
    assert "Symbola" in tex  # the tree has a font


@needs_fonts
def test_missing_glyphs_fail_under_strict(tmp_path: Path) -> None:
    config = load_config(book_with(tmp_path, "# Odd\n\nA new emoji: 🫠\n"))
    with pytest.raises(StrictWarningsError) as caught:
        build(config, progress=Progress(quiet=True), strict=True)
    assert any("U+1FAE0" in d.message for d in caught.value.diagnostics)


def test_pdflatex_warns_per_character_it_cannot_print(tmp_path: Path) -> None:
    text = "# Odd\n\nCafé is fine.\n\nA tree 🌳 and\nΩ here.\n"
    config = load_config(book_with(tmp_path, text, engine="pdflatex"))
    _, warnings, _ = make_latex(config, Progress(quiet=True))
    located = {
        (w.file.rsplit("/", 1)[-1], w.line, w.message.split(" ")[0]) for w in warnings if w.file
    }
    assert ("odd.md", 5, "U+1F333") in located
    assert ("odd.md", 6, "U+03A9") in located
    assert not [w for w in warnings if "U+00E9" in w.message]


@needs_fonts
def test_a_latin_book_gets_no_font_code(tmp_path: Path) -> None:
    """No fallback needed: the .tex is what it was before issue 14 (no extra cost)."""
    config = load_config(book_with(tmp_path, "# Odd\n\nNaïve café — “quoted” – 3×4.\n"))
    tex, warnings, _ = make_latex(config, Progress(quiet=True))
    assert "XeTeXinterchar" not in tex and "newfontfamily" not in tex
    assert warnings == []


def test_engine_log_missing_characters_map_to_the_chapter_line() -> None:
    from bookbuild.diagnostics import SourceText

    sources = {"book/a.md": SourceText("book/a.md", "# A\n\nSee ⅓ here.\n", "book/a.md")}
    log = (
        "Missing character: There is no ⅓ (U+2153) in font [lmroman10-regular]:+tlig;!\n"
        "Missing character: There is no ⅓ (U+2153) in font [lmroman10-regular]:+tlig;!\n"
    )
    found = fonts.log_warnings(log, sources)
    assert len(found) == (1 if fonts.fallback_for("⅓", None) else 0)
    if found:
        assert (found[0].file, found[0].line) == ("book/a.md", 3)
        assert "U+2153 ⅓" in found[0].message


@needs_fonts
def test_check_reports_the_characters_pdf_warns_about(tmp_path: Path) -> None:
    from bookbuild.check import check

    config_path = book_with(tmp_path, "# Odd\n\nFine: ⅓ 🌳 Ω.\n\nNot fine: 🫠.\n")
    report = check(config_path)
    glyphs = [d for d in report.diagnostics if "U+" in d.message]
    assert [(Path(d.file or "").name, d.line, d.severity) for d in glyphs] == [
        ("odd.md", 5, "warning")
    ]
    assert "U+1FAE0 🫠" in glyphs[0].message
    assert report.exit_code(strict=True) == 5


@pytest.mark.latex
@needs_fonts
def test_scripts_book_under_lualatex(tmp_path_factory: pytest.TempPathFactory) -> None:
    """luaotfload's fallback fonts, and CJK paragraphs that wrap."""
    result = built(tmp_path_factory, "scripts", "lualatex")
    log = engine_log(result)
    assert "Missing character" not in log and "Overfull \\hbox" not in log
    # NFKC: luaotfload's ToUnicode maps some ideographs to their compatibility twins
    # (北 as U+F963), which copy and paste then yields too.
    text = unicodedata.normalize("NFKC", squash(" ".join(pdf_pages(result.pdf))))
    for sample in SCRIPTS_SAMPLES:
        wanted = unicodedata.normalize("NFKC", sample).replace(" ", "")
        assert wanted in text.replace(" ", ""), sample
    page = next(p for p in pdf_pages(result.pdf) if "印刷术是" in p)
    lines = [line for line in page.splitlines() if sum(fonts.is_cjk(ord(c)) for c in line) > 5]
    assert len(lines) >= 5


@pytest.mark.latex
@needs_fonts
def test_persian_book_under_lualatex(tmp_path_factory: pytest.TempPathFactory) -> None:
    """luaotfload and babel: the same book, right to left and shaped, no font named."""
    result = built(tmp_path_factory, "persian", "lualatex")
    assert "Missing character" not in engine_log(result)
    text = arabic_text(result.pdf, 2)
    assert sum("ARABIC" in unicodedata.name(c, "") for c in text) > 1000
    assert any(name.startswith("NotoNaskhArabic") for name in embedded_fonts(result.pdf))


@pytest.mark.latex
@needs_fonts
def test_a_chapter_edit_that_needs_a_new_font_rebuilds_the_preamble(tmp_path: Path) -> None:
    """A character new to the book after an edit still gets its font (chapter rebuilds
    compare the chapter's preamble alone, which the fallback fonts are part of)."""
    config_path = book_with(tmp_path, "# Odd\n\nA tree 🌳.\n")
    build(load_config(config_path), progress=Progress(quiet=True))
    chapter = config_path.parent / "part" / "odd.md"
    chapter.write_text("# Odd\n\nA tree 🌳 and a rocket 🚀 and Ωmega.\n", encoding="utf-8")
    result = build(load_config(config_path), progress=Progress(quiet=True))
    assert "Missing character" not in engine_log(result)
    assert "🚀 and Ωmega" in squash(" ".join(pdf_pages(result.pdf)))


@pytest.mark.latex
@needs_fonts
def test_a_preview_gets_the_fallback_fonts_and_the_warnings(tmp_path: Path) -> None:
    """``pdf --chapter`` typesets through the same pipeline: the previewed chapter's emoji
    is printed, and a character no font has fails --strict with no preview PDF written."""
    from bookbuild.preview import preview

    config_path = book_with(tmp_path, "# Odd\n\nA rocket 🚀 and Ωmega.\n")
    result = preview(load_config(config_path), ["odd"], Progress(quiet=True))
    assert "Missing character" not in engine_log(result)
    assert "rocket 🚀 and Ωmega" in squash(" ".join(pdf_pages(result.pdf)))
    (config_path.parent / "part" / "odd.md").write_text(
        "# Odd\n\nA rocket 🚀,\nthen 🫠.\n", encoding="utf-8"
    )
    result.pdf.unlink()
    with pytest.raises(StrictWarningsError) as caught:
        preview(load_config(config_path), ["odd"], Progress(quiet=True), strict=True)
    found = [d for d in caught.value.diagnostics if "U+1FAE0" in d.message]
    assert [(Path(d.file or "").name, d.line) for d in found] == [("odd.md", 4)]
    assert not result.pdf.exists()


@needs_fonts
def test_a_font_family_that_is_not_installed_is_dropped_with_a_warning(tmp_path: Path) -> None:
    # Quarto and bookdown books often name fonts the reader's machine lacks: fontspec would
    # stop the build; the default font sets that text instead
    book = tmp_path / "book"
    book.mkdir()
    (book / "_quarto.yml").write_text(
        "project:\n  type: book\nbook:\n  title: Fonts\n  chapters: [index.qmd]\n"
        "format:\n  pdf:\n    mainfont: Latin Modern Roman\n"
        "    monofont: Grotesque Mono Nobody Has\n    monofontoptions: Scale=0.8\n"
    )
    (book / "index.qmd").write_text("# Preface {.unnumbered}\n\nSome `code` here.\n")
    config = load_config(book / "_quarto.yml")
    tex, warnings, _ = make_latex(config, Progress(quiet=True))
    assert [w.message for w in warnings if "font" in w.message] == [
        "monofont 'Grotesque Mono Nobody Has' is not installed: the default font is used "
        "(install it, or name an installed font)"
    ]
    assert "Grotesque" not in tex and "Scale=0.8" not in tex
    assert "Latin Modern Roman" in tex
