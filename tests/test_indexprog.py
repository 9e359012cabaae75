"""The index program between LaTeX passes (src/bookbuild/indexprog.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bookbuild import indexprog
from bookbuild.errors import ToolMissingError
from bookbuild.indexprog import HELPER, HELPER_TEX, SORT_LINE, index_program, update_index
from bookbuild.stages.compile import (
    _settled,
    engine_command,
    engine_env,
    helper_command,
    run_engine,
)

pytestmark = pytest.mark.skipif(shutil.which("makeindex") is None, reason="no makeindex")

IDX = (
    "\\indexentry{gradient descent|hyperpage}{3}\n"
    "\\indexentry{learning!supervised|hyperpage}{2}\n"
    "\\indexentry{Adam|seealso{SGD}}{3}\n"
)


def test_makeindex_for_ascii_and_upmendex_for_other_entries() -> None:
    assert index_program(IDX.encode())[0] == "makeindex"
    if shutil.which("upmendex"):
        assert index_program("\\indexentry{Rényi entropy}{4}".encode())[0] == "upmendex"


def test_runs_when_the_idx_changed_and_only_then(tmp_path: Path) -> None:
    idx = tmp_path / "book.idx"
    idx.write_text(IDX)
    env = engine_env([])
    assert update_index(tmp_path, "book", {}, env) == "makeindex"
    ind = (tmp_path / "book.ind").read_text()
    assert "\\begin{theindex}" in ind and "gradient descent" in ind and "supervised" in ind
    before = {idx: idx.read_bytes(), tmp_path / "book.ind": ind.encode()}
    assert update_index(tmp_path, "book", before, env) is None  # same entries: nothing to do
    assert update_index(tmp_path, "other", {}, env) is None  # a book without an index


def test_the_idx_counts_through_its_ind(tmp_path: Path) -> None:
    idx, ind, aux = tmp_path / "b.idx", tmp_path / "b.ind", tmp_path / "b.aux"
    before = {idx: b"old", ind: b"same", aux: b"a"}
    assert _settled(before, {idx: b"new", ind: b"same", aux: b"a"})
    assert not _settled(before, {idx: b"new", ind: b"changed", aux: b"a"})


SMALL_BOOK = r"""\documentclass{report}
\usepackage[noautomatic]{imakeidx}
\makeindex[intoc]
\AtEndDocument{\printindex}
\begin{document}
Zebras\index{zebra} and r\'esum\'es\index{r\'esum\'e}.
\newpage
Aardvarks\index{aardvark}.
\end{document}
"""


def small_book(tmp_path: Path) -> Path:
    tex = tmp_path / "small.tex"
    tex.write_text(SMALL_BOOK)
    return tex


def test_the_pass_prints_the_index_it_sorted(tmp_path: Path) -> None:
    """The pass sorts and prints its own index: the cold build's second pass (for the .aux)
    finds it settled, and an edit that moves an entry's page takes one pass."""
    tex = small_book(tmp_path)
    programs: list[str] = []
    result = run_engine("pdflatex", tex, [], on_pass=lambda p: programs.append(p.rule))
    assert programs == ["pdflatex", "makeindex", "pdflatex"]  # the 2nd pass: a cold .aux
    first = (tmp_path / "small.ind").read_text()
    assert first.index("aardvark") < first.index("zebra")
    text = subprocess.run(
        ["pdftotext", str(result.pdf), "-"], capture_output=True, text=True
    ).stdout.split("\f")
    index = next(page for page in text if page.startswith("Index"))
    assert "aardvark, 2" in index and "zebra, 1" in index
    # an edit that moves an entry to another page, and nothing else: one pass, index fresh
    tex.write_text(
        SMALL_BOOK.replace(
            "\\newpage\nAardvarks\\index{aardvark}.",
            "Aardvarks\\index{aardvark}.\n\\newpage\nAnts.",
        )
    )
    programs.clear()
    result = run_engine("pdflatex", tex, [], on_pass=lambda p: programs.append(p.rule))
    assert programs == ["pdflatex", "makeindex"]
    text = subprocess.run(
        ["pdftotext", str(result.pdf), "-"], capture_output=True, text=True
    ).stdout.split("\f")
    index = next(page for page in text if page.startswith("Index"))
    assert "aardvark, 1" in index and "Aardvarks" in text[0] and "Ants" in text[1]


def test_no_answer_stops_the_pass_instead_of_waiting(tmp_path: Path) -> None:
    """The pass reads its answer from its standard input: at the end of that input (bookbuild
    gone) TeX stops with an error at once, it never waits for ever."""
    tex = small_book(tmp_path)
    (tmp_path / HELPER).write_text(HELPER_TEX)
    command = helper_command(engine_command("pdflatex", tex.name), tex, [HELPER])
    proc = subprocess.run(
        command,
        cwd=tmp_path,
        env=engine_env([]),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert SORT_LINE in proc.stdout and "Emergency stop" in proc.stdout


def test_a_failed_sort_stops_the_engine_and_restores_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error while the pass waits (the index program missing): the engine is stopped, the
    error reaches the user, and the files the pass had started to rewrite are put back."""
    tex = small_book(tmp_path)
    run_engine("pdflatex", tex, [])
    good = {
        p.name: p.read_bytes() for p in tmp_path.glob("small.*") if p.suffix in (".aux", ".ind")
    }
    tex.write_text(SMALL_BOOK.replace("Aardvarks", "Aardvarks and bees\\index{bee}"))

    def missing(*args: object) -> str:
        raise ToolMissingError("makeindex not found")

    monkeypatch.setattr(indexprog, "update_index", missing)
    with pytest.raises(ToolMissingError):
        run_engine("pdflatex", tex, [])
    assert {name: (tmp_path / name).read_bytes() for name in good} == good


def test_an_entry_after_the_index_falls_back_to_sorting_between_passes(tmp_path: Path) -> None:
    """An ``\\index`` after the index was sorted (here on a page after it) is missing from that
    pass's .idx: the pass says so, and the next passes sort between passes as before, so the
    entry is in the book."""
    tex = tmp_path / "small.tex"
    tex.write_text(
        SMALL_BOOK.replace(
            "\\AtEndDocument{\\printindex}",
            "\\AtEndDocument{\\printindex\\clearpage Late\\index{late}}",
        )
    )
    rules: list[str] = []
    result = run_engine("pdflatex", tex, [], on_pass=lambda p: rules.append(p.rule))
    assert rules.count("pdflatex") == 3 and result.settled
    text = subprocess.run(["pdftotext", str(result.pdf), "-"], capture_output=True, text=True)
    index = next(page for page in text.stdout.split("\f") if page.startswith("Index"))
    assert "late, 4" in index and "aardvark, 2" in index
