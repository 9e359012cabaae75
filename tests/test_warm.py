"""The warm engine (stages/warm.py): a preamble loaded ahead of the body is used only when it
is the document's own, with its inputs unchanged; otherwise the pass is an ordinary one. The
process mechanism it shares with the chapter job is checked on a stand-in for TeX."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from bookbuild.stages.compile import run_engine, start_warm
from bookbuild.stages.warm import (
    BODY_FILE,
    EngineProcess,
    body_text,
    common_lines,
    split_preamble,
)

from .conftest import pdf_pages, processes_in, squash

ENGINE = "xelatex"


def document(who: str, body: str, extra: str = "") -> str:
    return (
        "\\documentclass{article}\n"
        f"\\newcommand{{\\who}}{{{who}}}\n{extra}"
        "\\begin{document}\n"
        "\\section{Start}\\label{sec:start}\n"
        f"{body} Said \\who{{}} in section \\ref{{sec:start}}.\n"
        "\\end{document}\n"
    )


def compile_with(job: Path, tex: str, speculated: str | None, inputs: list[Path]) -> str:
    """Write ``tex`` to ``job`` and compile it, with a warm engine started on ``speculated``
    before the .tex was written; the PDF's text."""
    search = [job.parent.parent / "book"]
    warm = start_warm(ENGINE, job, speculated, search, inputs) if speculated else None
    try:
        job.write_text(tex, encoding="utf-8")
        run_engine(ENGINE, job, search, warm_engine=warm)
    finally:
        if warm is not None:
            warm.stop()
    return squash(" ".join(pdf_pages(job.with_suffix(".pdf"))))


def warm_pass(job: Path) -> bool:
    """True when the last pass typeset the body through the warm engine."""
    return BODY_FILE in job.with_suffix(".log").read_text(errors="replace")


@pytest.fixture
def job(tmp_path: Path) -> Path:
    (tmp_path / "book").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    return work / "chapter.tex"


#: A stand-in for TeX at the end of its input: it prints its ``*`` prompt, reads one line
#: and prints it with the last file the line inputs.
PROMPTING = """
import re, sys
print("preamble loaded"); sys.stdout.write("*"); sys.stdout.flush()
line = sys.stdin.readline()
print("handed:", line.strip())
print(open(re.findall(r"\\\\input\\{([^}]*)\\}", line)[-1]).read())
"""


def test_an_engine_process_waits_at_its_prompt_then_reads_its_body(tmp_path: Path) -> None:
    # an ordinary pass's command: its nonstopmode option dropped (python would refuse it)
    engine = EngineProcess(
        [sys.executable, "-interaction=nonstopmode", "-c", PROMPTING], tmp_path, dict(os.environ)
    )
    assert engine.waiting(30)
    code = engine.hand_over(tmp_path / "body.ltx", "The body.\n", ["helper.tex"])
    output = "".join(engine.output)
    assert code == 0
    assert "handed: \\nonstopmode\\input{helper.tex}\\input{body.ltx}" in output
    assert "The body." in output
    assert not engine.kill()  # handed over: nothing left to stop


def test_an_unused_engine_process_is_killed(tmp_path: Path) -> None:
    engine = EngineProcess([sys.executable, "-c", PROMPTING], tmp_path, dict(os.environ))
    proc = engine.proc
    assert proc is not None and engine.waiting(30)
    assert engine.kill()
    assert proc.returncode < 0 and engine.proc is None
    assert not engine.kill()
    assert not (tmp_path / "body.ltx").exists()


def test_preamble_and_body_split_at_begin_document() -> None:
    tex = document("Ada", "Hello.")
    preamble = split_preamble(tex)
    assert preamble is not None and preamble.endswith("\\begin{document}\n")
    body = body_text(tex, preamble)
    assert body.splitlines()[preamble.count("\n") :] == tex.splitlines()[preamble.count("\n") :]
    assert len(body.splitlines()) == len(tex.splitlines())  # errors keep their line numbers
    assert split_preamble("\\documentclass{article}\n") is None
    other = document("Grace", "Hello.")
    assert common_lines(tex, other) == "\\documentclass{article}\n"
    assert "\\begin{document}" in body_text(tex, common_lines(tex, other))


@pytest.mark.latex
def test_the_same_preamble_is_used_and_the_new_body_typeset(job: Path) -> None:
    first = document("Ada", "First draft.")
    compile_with(job, first, None, [])
    text = compile_with(job, document("Ada", "Second draft."), first, [])
    assert warm_pass(job)
    assert "1 Start Second draft. Said Ada in section 1." in text
    assert "First draft" not in text
    assert processes_in(job.parent) == []


@pytest.mark.latex
def test_a_stale_preamble_is_never_used(job: Path) -> None:
    old = document("Ada", "Text.")
    compile_with(job, old, None, [])
    text = compile_with(job, document("Grace", "Text."), old, [])
    assert not warm_pass(job)
    assert "Said Grace in section 1." in text and "Ada" not in text
    assert processes_in(job.parent) == []


@pytest.mark.latex
def test_a_changed_input_of_the_preamble_is_never_used(job: Path) -> None:
    macros = job.parent.parent / "book" / "macros.tex"
    macros.write_text("\\newcommand{\\place}{Paris}\n", encoding="utf-8")
    external = job.parent.parent / "external.aux"
    external.write_text("% nothing\n", encoding="utf-8")
    tex = document("Ada", "In \\place.", extra="\\input{macros.tex}\n")
    compile_with(job, tex, None, [])

    search = [job.parent.parent / "book"]
    warm = start_warm(ENGINE, job, tex, search, [external])
    assert warm is not None
    try:
        macros.write_text("\\newcommand{\\place}{Rome}\n", encoding="utf-8")
        os.utime(macros, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
        run_engine(ENGINE, job, search, warm_engine=warm)
    finally:
        warm.stop()
    assert not warm_pass(job)
    assert "In Rome." in squash(" ".join(pdf_pages(job.with_suffix(".pdf"))))

    # the full build's .aux (read by xr-hyper) counts as an input too
    warm = start_warm(ENGINE, job, tex, search, [external])
    assert warm is not None
    external.write_text("% changed\n", encoding="utf-8")
    assert not warm.accepts(tex)
    # and so does a file in a folder of the book (but not where bookbuild writes)
    (search[0] / "tex").mkdir()
    (search[0] / "build").mkdir()
    nested = search[0] / "tex" / "more.tex"
    nested.write_text("% one\n", encoding="utf-8")
    warm = start_warm(ENGINE, job, tex, search, [], written=(search[0] / "build",))
    assert warm is not None
    (search[0] / "build" / "cache.json").write_text("{}", encoding="utf-8")
    assert warm.accepts(tex)
    warm.stop()
    warm = start_warm(ENGINE, job, tex, search, [], written=(search[0] / "build",))
    assert warm is not None
    nested.write_text("% two, longer\n", encoding="utf-8")
    assert not warm.accepts(tex)
    assert processes_in(job.parent) == []


@pytest.mark.latex
def test_an_unused_engine_is_stopped_and_the_job_files_put_back(job: Path) -> None:
    tex = document("Ada", "Text.")
    compile_with(job, tex, None, [])
    aux = job.with_suffix(".aux").read_bytes()
    warm = start_warm(ENGINE, job, tex, [job.parent], [])
    assert warm is not None
    assert warm.waiting(60)  # through \begin{document}: it has rewritten the .aux
    warm.stop()
    assert processes_in(job.parent) == []
    assert job.with_suffix(".aux").read_bytes() == aux


@pytest.mark.latex
def test_an_error_in_the_body_is_reported_by_an_ordinary_pass(job: Path) -> None:
    from bookbuild.errors import LatexError

    good = document("Ada", "Text.")
    compile_with(job, good, None, [])
    aux = job.with_suffix(".aux").read_bytes()
    with pytest.raises(LatexError) as failure:
        compile_with(job, document("Ada", "Broken \\nosuchcommand here."), good, [])
    assert "Undefined control sequence" in failure.value.log_text
    assert f"./{job.name}:" in failure.value.log_text  # the job's own file, not the warm one
    assert job.with_suffix(".aux").read_bytes() == aux
    assert processes_in(job.parent) == []


@pytest.mark.latex
def test_a_preamble_that_asks_for_a_missing_file_is_not_waited_for(job: Path) -> None:
    tex = document("Ada", "Text.", extra="\\input{gone.tex}\n")
    compile_with(job, document("Ada", "Text."), None, [])  # files from an earlier pass
    warm = start_warm(ENGINE, job, tex, [job.parent], [])
    assert warm is not None
    assert not warm.accepts(tex)  # TeX asks for another file name: stopped at once
    assert processes_in(job.parent) == []


@pytest.mark.latex
def test_another_documents_preamble_is_loaded_as_far_as_it_is_shared(job: Path) -> None:
    sibling = document("Ada", "Text.", extra="\\newcommand{\\sibling}{S}\n")
    book = document("Ada", "Text.", extra="\\newcommand{\\book}{B}\n")
    tex = document("Ada", "Own text.", extra="\\newcommand{\\own}{O}\n")
    compile_with(job, tex, None, [])  # its .aux, so that the warm pass is the only one
    warm = start_warm(ENGINE, job, sibling, [job.parent], [], shared=book)
    assert warm is not None
    try:
        job.write_text(tex.replace("Own text.", "Own new text."), encoding="utf-8")
        run_engine(ENGINE, job, [job.parent], warm_engine=warm)
    finally:
        warm.stop()
    assert warm_pass(job)
    text = squash(" ".join(pdf_pages(job.with_suffix(".pdf"))))
    assert "Own new text. Said Ada in section 1." in text
    assert processes_in(job.parent) == []
