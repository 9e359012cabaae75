"""Every golden case renders to its expected file (see tests/golden/run_golden.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "run_golden", Path(__file__).parent / "golden" / "run_golden.py"
)
assert _spec and _spec.loader
run_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_golden)


@pytest.mark.parametrize("case", run_golden.case_dirs(), ids=lambda p: p.name)
def test_golden_case(case: Path) -> None:
    diff = run_golden.diff_case(case)
    assert not diff, f"golden case {case.name} differs:\n{diff}"
