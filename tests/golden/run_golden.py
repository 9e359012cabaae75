"""Golden tests for the filters: each ``tests/golden/<case>/input.md`` -> ``expected.tex``.

A case folder holds:
  input.md       Markdown (with optional YAML metadata) - a small realistic sample
  expected.tex   the LaTeX pandoc writes after the filters ran
  filters.txt    optional: filter names to run, one per line (default: the part of the
                 folder name before the first '-', e.g. ``parts-basic`` runs ``parts``)
  args.txt       optional: extra pandoc writer arguments, one per line
  format.txt     optional: output format instead of ``latex`` (e.g. ``html``); the expected
                 file is then ``expected.<format>``

Usage: python tests/golden/run_golden.py [--regen] [CASE ...]
Exits 1 and prints a unified diff per failing case; --regen rewrites the expected files.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent
REPO = GOLDEN_DIR.parents[1]
sys.path.insert(0, str(REPO / "src"))

from bookbuild.config import resolve_csl  # noqa: E402
from bookbuild.dialects.cells import normalise_cells  # noqa: E402
from bookbuild.filters import load_filter, resolve_filter, run_filters  # noqa: E402
from bookbuild.pandoc import read_markdown, write_format  # noqa: E402

DEFAULT_WRITER_ARGS = ["--wrap=none", "--top-level-division=chapter"]


def case_dirs() -> list[Path]:
    return sorted(p for p in GOLDEN_DIR.iterdir() if (p / "input.md").is_file())


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]


def case_format(case: Path) -> str:
    return (_lines(case / "format.txt") or ["latex"])[0]


def expected_path(case: Path) -> Path:
    fmt = case_format(case)
    return case / ("expected.tex" if fmt == "latex" else f"expected.{fmt}")


def render_case(case: Path) -> str:
    """What the case's input renders to now."""
    names = _lines(case / "filters.txt") or [case.name.split("-", 1)[0]]
    modules = []
    for name in names:
        path = resolve_filter(name, REPO)
        if path is None:
            raise SystemExit(f"{case.name}: no filter named {name!r}")
        modules.append(load_filter(path))
    fmt = case_format(case)
    # As bookbuild reads a chapter: knitr/Quarto cells made readable, the book's folder known.
    doc, _ = read_markdown(normalise_cells((case / "input.md").read_text()), cwd=case)
    doc.metadata["bookbuild-book-dir"] = str(case)
    doc.bookbuild_warnings = []  # a case's expected warnings are not printed
    doc = run_filters(doc, modules, output_format=fmt)
    csl = doc.get_metadata("csl", None)
    if isinstance(csl, str):  # a style name, as in book.yaml: no CSL file is copied
        doc.metadata["csl"] = str(resolve_csl(csl, case))
    args = DEFAULT_WRITER_ARGS + _lines(case / "args.txt")
    return write_format(doc, fmt, args, cwd=case).text


def diff_case(case: Path) -> str:
    """A unified diff between expected and actual output; empty when they match."""
    actual = render_case(case)
    expected_file = expected_path(case)
    expected = expected_file.read_text() if expected_file.is_file() else ""
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=str(expected_file.relative_to(REPO)),
            tofile=f"{case.name} (actual)",
        )
    )


def main(argv: list[str]) -> int:
    regen = "--regen" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    cases = [c for c in case_dirs() if not wanted or c.name in wanted]
    failed = 0
    for case in cases:
        if regen:
            expected_path(case).write_text(render_case(case))
            print(f"regenerated {case.name}")
            continue
        diff = diff_case(case)
        if diff:
            failed += 1
            print(f"FAIL {case.name}\n{diff}")
        else:
            print(f"ok   {case.name}")
    if not regen:
        print(f"golden: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
