"""The index program between LaTeX passes (src/bookbuild/indexprog.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bookbuild.indexprog import index_program, update_index
from bookbuild.stages.compile import _settled, engine_env

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
