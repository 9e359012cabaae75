"""A GitBook-era book, built once and read as a reader reads the PDF: nothing lost.

tests/books/gitbook-pasted has HTML pasted from the web (``<center><img>``, ``<p
align=center>``, a table, ``<details>``, ``<div class="warning">``), inline ``$$n$$``,
footnotes after a dashes line in every chapter (``[^1]`` in several files), links between
chapters (``.md`` and ``.html``, into a folder four deep) and to the web, an SVG, a GIF and a
remote image.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bookbuild.books import load_config
from bookbuild.build import build
from bookbuild.check import run_checks
from bookbuild.progress import Progress

from .conftest import BOOKS, pdf_pages, squash

pytestmark = pytest.mark.latex

RAW_MARKUP = ("<img", "$$", "[^", "</", "<center", "<details", "<table", "\\(", "\\[")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("gitbook") / "book"
    shutil.copytree(BOOKS / "gitbook-pasted", folder)
    config = load_config(folder / "book.yaml")
    result = build(config, progress=Progress(quiet=True))
    pages = [squash(page) for page in pdf_pages(result.pdf)]
    return {"config": config, "result": result, "pages": pages, "text": " ".join(pages)}


def test_no_raw_markup_reaches_the_page(built: dict[str, Any]) -> None:
    for number, page in enumerate(built["pages"], start=1):
        for markup in RAW_MARKUP:
            assert markup not in page, f"page {number}: {markup!r} printed"


def test_the_text_is_all_there_in_book_order(built: dict[str, Any]) -> None:
    text = built["text"]
    in_order = [
        "Prefácio",
        "Agradeço a quem revisou os rascunhos",
        "Introdução",
        "A animação abaixo mostra o gradiente",
        "Mapa de calor publicado no blog do autor",  # the remote image's placeholder
        "Cuidado: normalizar as entradas depois de dividir treino e teste",  # <div warning>
        "Por que não inicializar todos os pesos com zero?",  # <summary>
        "Porque todos os neurônios da camada receberiam o mesmo gradiente",  # <details> body
        "Funções de ativação",
        "Função Fórmula Derivada",  # the HTML table's head row, as a table
        "ReLU max(0, x) 0 ou 1",
        "Tangente hiperbólica (tanh)",
        "pressione Shift+Enter para rodar a célula",
        "Novidade!",  # <marquee>: its text is kept (and warned about)
        "Apêndice: notas e",
        "Com notas de rodapé nomeadas.",
    ]
    positions = [text.find(piece) for piece in in_order]
    missing = [piece for piece, at in zip(in_order, positions, strict=True) if at < 0]
    assert not missing
    assert positions == sorted(positions)


def test_inline_double_dollar_math_stays_in_its_sentence(built: dict[str, Any]) -> None:
    page = next(p for p in built["pages"] if "Uma rede com" in p)
    # one sentence, not broken around display equations
    assert "Uma rede com 𝑛 entradas e 𝑚 saídas tem 𝑛 × 𝑚 pesos na primeira camada" in page


def test_notes_after_a_dashes_line_are_footnotes_of_their_own_chapter(
    built: dict[str, Any],
) -> None:
    pages = built["pages"]
    first = next(p for p in pages if "Prefácio" in p)
    assert "1 As referências seguem a ordem em que aparecem no texto." in first
    intro = next(p for p in pages if "A animação abaixo mostra" in p)
    # [^1] of introducao.md is its own note, not README.md's
    assert "A animação foi gerada com Matplotlib." in intro
    assert "As referências seguem" not in intro
    assert "Por isso ela satura para entradas muito grandes." in built["text"]


def test_every_image_is_in_the_pdf(built: dict[str, Any]) -> None:
    from pypdf import PdfReader

    reader = PdfReader(built["result"].pdf)
    raster, forms = 0, 0
    for page in reader.pages:
        xobjects = page["/Resources"].get_object().get("/XObject")
        for obj in xobjects.get_object().values() if xobjects else []:
            subtype = obj.get_object()["/Subtype"]
            raster += subtype == "/Image"
            forms += subtype == "/Form"
    assert raster == 2  # the PNG cover and the GIF's first frame
    assert forms >= 1  # the SVG, converted to a PDF and included as a vector form


def test_links_between_chapters_resolve_inside_the_pdf(built: dict[str, Any]) -> None:
    from pypdf import PdfReader

    reader = PdfReader(built["result"].pdf)
    names = set(reader.named_destinations)
    internal, external = [], []
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            action = annot.get("/A")
            dest = annot.get("/Dest") or (action.get("/D") if action else None)
            if dest is not None and not str(dest).startswith("Hfootnote"):
                internal.append(str(dest))
            elif action is not None and action.get("/URI"):
                external.append(str(action["/URI"]))
    # prefácio -> introdução, apêndice (.html); introdução -> ativações#anchor, apêndice;
    # ativações -> introdução (.html); apêndice -> prefácio
    assert len(internal) == 6
    assert all(dest in names for dest in internal)
    assert "https://pytorch.org/docs/stable/nn.html" in external
    # the web link's address is printed, in a footnote
    assert "https://pytorch.org/docs/stable/nn.html" in built["text"]


def test_what_is_not_converted_is_a_warning_at_its_line(built: dict[str, Any]) -> None:
    warnings = {(Path(w.file or "").name, w.line): w.message for w in built["result"].warnings}
    assert "remote image" in warnings[("introducao.md", 18)]
    assert "<marquee>" in warnings[("ativacoes.md", 25)]
    assert len(warnings) == 2


def test_check_reports_the_same_and_no_false_footnote_errors(built: dict[str, Any]) -> None:
    found = run_checks(built["config"])
    serious = {(Path(d.file or "").name, d.line) for d in found if d.severity != "info"}
    assert serious == {("introducao.md", 18), ("ativacoes.md", 25)}
