"""The crossref mini book (tests/books/crossref) builds to a PDF with the right numbers.

Helper-free on purpose: it assembles the chapters itself (YAML metadata block, then each
chapter behind its ``<!-- bookbuild:chapter ... -->`` marker), runs ``pandoc --filter
filters/crossref.py --citeproc`` and ``latexmk``, and reads the PDF with ``pdftotext``. It
checks what bookbuild's pipeline will check end to end, before that pipeline exists.
"""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
import yaml

from .conftest import pandoc_command, tool_env

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "tests" / "books" / "crossref"
FILTER = REPO / "filters" / "crossref.py"


def tiny_png(width: int = 16, height: int = 8) -> bytes:
    """A small solid-colour RGB PNG, written with zlib and struct only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x2a\x6f\xb0" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def assemble(book: Path) -> str:
    """book.yaml's metadata as a YAML block, then every chapter behind its marker."""
    config = yaml.safe_load((book / "book.yaml").read_text())
    parts = ["---\n" + yaml.safe_dump(config["metadata"], sort_keys=False) + "---\n"]
    for chapter in config["chapters"]:
        text = (book / chapter).read_text()
        parts.append(f"<!-- bookbuild:chapter {chapter} -->\n\n{text}")
    return "\n\n".join(parts)


def build_pdf(tmp_path: Path, engine: str) -> tuple[str, str]:
    """Build the mini book with ``engine``; return (pdftotext text, pandoc's stderr)."""
    work = tmp_path / "book"
    shutil.copytree(BOOK, work)
    (work / "figures").mkdir()
    (work / "figures" / "dot.png").write_bytes(tiny_png())
    (work / "book.md").write_text(assemble(work))
    pandoc = subprocess.run(
        [pandoc_command(), "book.md", "--from", "markdown", "--to", "latex", "--standalone",
         "--top-level-division=chapter", "--filter", str(FILTER), "--citeproc",
         "-o", "book.tex"],
        env=tool_env(), cwd=work, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert pandoc.returncode == 0, pandoc.stderr
    latex = subprocess.run(
        ["latexmk", f"-{engine}", "-interaction=nonstopmode", "-halt-on-error", "book.tex"],
        cwd=work, capture_output=True, text=True, check=False,
    )  # fmt: skip
    log = work / "book.log"
    assert latex.returncode == 0, log.read_text()[-3000:] if log.exists() else latex.stdout
    text = subprocess.run(
        ["pdftotext", "book.pdf", "-"], cwd=work, capture_output=True, text=True, check=True
    ).stdout
    # pdftotext puts a space between an italic label and the colon after it (pdflatex)
    return re.sub(r" :", ":", " ".join(text.split())), pandoc.stderr


#: What the mini book must say, in the PDF (numbers by LaTeX) and in text output (by the filter).
EXPECTED = (
    "Figure 2.1: The training pipeline",
    "Figure 1.1: A first look at the data",
    "Table 1.1: Metrics reported for every model",
    "Table 2.1: Results of two training runs",
    "(1.1)",
    "(1.2)",
    "(2.1)",
    # chapter 1 points forward, chapter 2 back
    "Section 2 uses them",
    "update rule of eq. 2.1",
    "pipeline in fig. 2.1",
    "Tbl. 1.1 lists",
    "loss of eq. 1.1 from Section 1",
    "metrics of tbl. 1.1 (defined in Section 1.1)",
    "Fig. 2.1 and figs. 1.1, 2.1",
    "against Section 1.2",
    "(1.1 for the loss",
    "see also eqns. 1.1, 1.2)",
)


@pytest.mark.latex
@pytest.mark.parametrize("engine", ["xelatex", "pdflatex", "lualatex"])
def test_mini_book_numbers_in_pdf(tmp_path: Path, engine: str) -> None:
    text, stderr = build_pdf(tmp_path, engine)
    assert stderr.strip() == ""  # no crossref warning, no citeproc "citation not found"
    for expected in EXPECTED:
        assert expected in text, f"{expected!r} not in the PDF text:\n{text}"
    assert "??" not in text
    assert "@" not in text


def test_mini_book_text_numbers_agree_with_pdf(tmp_path: Path) -> None:
    """The numbers the filter computes itself (non-LaTeX outputs) are the ones LaTeX prints."""
    out = subprocess.run(
        [pandoc_command(), "--from", "markdown", "--to", "html", "--mathjax", "--number-sections",
         "--top-level-division=chapter", "--filter", str(FILTER), "--citeproc"],
        env=tool_env(), input=assemble(BOOK), capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stderr == ""
    text = html.unescape(re.sub(r"<[^>]+>", "", out.stdout))
    text = " ".join(text.replace("\u00a0", " ").replace("\\qquad{", " ").split())
    for expected in EXPECTED:
        assert expected in text, f"{expected!r} not in the text output:\n{text}"


@pytest.mark.latex
def test_mini_book_through_bookbuild(tmp_path: Path) -> None:
    """The same checks with the whole pipeline: `bookbuild pdf` on the mini book, no warnings."""
    from bookbuild.books import load_config
    from bookbuild.build import build
    from bookbuild.progress import Progress

    work = tmp_path / "crossref"
    shutil.copytree(BOOK, work)
    (work / "figures").mkdir()
    (work / "figures" / "dot.png").write_bytes(tiny_png())
    result = build(load_config(work / "book.yaml"), progress=Progress(quiet=True))
    assert result.warnings == []
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(result.pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for expected in EXPECTED:
        assert expected in text, f"{expected!r} not in the PDF text:\n{text}"
    assert "??" not in text and "@" not in text
