"""Smoke test of the benchmark's book generator (bench/gen_book.py): a small book, no LaTeX."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bookbuild.books import load_config
from bookbuild.check import check

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "bench" / "gen_book.py"


def generate(out: Path, chapters: int = 3, seed: int = 1) -> Path:
    args = [str(out), "--chapters", str(chapters), "--seed", str(seed)]
    subprocess.run([sys.executable, str(GENERATOR), *args], check=True, capture_output=True)
    return out / "book" / "book.yaml"


def test_generated_book_is_a_valid_book(tmp_path: Path) -> None:
    config = load_config(generate(tmp_path))
    names = [c.name for c in config.chapters]
    chapters = [n for n in names if n.startswith("ch")]
    assert len(chapters) == 3
    assert names[0] == "front-matter.md" and names[-1] == "references.md"
    assert any(n.startswith("part-") for n in names)
    assert config.metadata["title"] == "On Machine Learning Interviews"
    assert config.metadata["toc"] is True and config.csl_path is not None
    assert (tmp_path / "latex" / "preamble.tex").is_file()
    assert config.preamble == [(tmp_path / "latex" / "preamble.tex").resolve()]

    bib = config.bibliography[0].read_text(encoding="utf-8")
    bib_keys = set(re.findall(r"@\w+\{([^,\s]+),", bib))
    assert {"huyen:machinelearning:2021", "huyen:cs329s:2021"} <= bib_keys
    assert len(bib_keys) >= 20

    text = "\n".join((config.book_dir / n).read_text(encoding="utf-8") for n in chapters)
    labels = set(re.findall(r"\{#((?:sec|eq|tbl):[^}\s]+)\}", text))
    refs = {r.lower() for r in re.findall(r"@((?:[Ss]ec|[Ee]q|[Tt]bl):[\w-]*\w)", text)}
    for kind in ("sec", "eq", "tbl"):
        assert any(label.startswith(kind) for label in labels), kind
        assert any(ref.startswith(kind) for ref in refs), kind
    assert refs <= labels, refs - labels
    cited = set(re.findall(r"@([a-z]+:\d\d:\d{4}|huyen:[a-z]+:\d{4})", text))
    assert cited and cited <= bib_keys
    assert re.search(r"^#### ", text, re.M)  # sections to depth 4
    assert "^[" in text or "[^c" in text  # a footnote

    report = check(config.config_path)
    problems = [d for d in report.diagnostics if d.severity in ("error", "warning")]
    assert not problems, [d.format() for d in problems]


def test_generator_is_deterministic(tmp_path: Path) -> None:
    first, second = generate(tmp_path / "a"), generate(tmp_path / "b")
    files = sorted(p.name for p in first.parent.iterdir())
    assert files == sorted(p.name for p in second.parent.iterdir())
    for name in files:
        assert (first.parent / name).read_bytes() == (second.parent / name).read_bytes(), name
    other = generate(tmp_path / "c", seed=2)
    assert [p.read_bytes() for p in sorted(other.parent.glob("ch*.md"))] != [
        p.read_bytes() for p in sorted(first.parent.glob("ch*.md"))
    ]
