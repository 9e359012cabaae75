"""Stage 5, compile: the LaTeX engine (xelatex, pdflatex or lualatex from TeX Live, or
Tectonic) turns the .tex into a PDF, and its log's first error is traced back to the line
the author wrote.

bookbuild runs the TeX Live engines itself, with latexmk's rule: pass after pass while a file
the pass writes for the next one (.aux, .toc, .lof, .lot, .out ...) changes, at most
:data:`MAX_PASSES`. The work directory keeps those files between builds, so an edit that
moves no page number costs one pass. Each pass writes the PDF directly (xelatex pipes its
output to xdvipdfmx as it goes) rather than an .xdv converted afterwards. Compared with
latexmk that saves its start (Perl, its file database) and the separate xdvipdfmx run:
about 0.4 s per build of a 300-page book. If a pass fails, the files it had started to
rewrite are put back as they were, so the next build starts from the last good state.

Under xelatex, an edit to one chapter of an up-to-date PDF is typeset alone and its pages
spliced into the last PDF (:mod:`bookbuild.stages.splice`, :func:`chapter_splice`) when that
gives what the pass would; otherwise the pass runs as above.

An engine can also be started early on a preamble and handed the rest later
(:mod:`bookbuild.stages.warm`, which owns that process): this module only decides when,
with which command and files, and what to do when it cannot be used (:func:`start_warm` for
a preview's pass, :func:`warm_job` for a chapter job, both falling back to ordinary runs).

LaTeX never runs with shell escape: the engine gets ``-no-shell-escape`` and the environment
sets ``shell_escape=f`` and ``openout_any=p``.

When LaTeX fails, the .tex line of the error is traced back to the nearest source marker
(:mod:`bookbuild.markers`), refined by searching the block's source for the offending token,
and reported as ``book/ml-jobs.md:262: error: …`` with the source line and a hint.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import indexprog
from ..builddir import write_if_changed
from ..config import BookConfig
from ..diagnostics import Diagnostic, SourceText, find_in_source
from ..errors import EngineStalledError, LatexError, ToolMissingError
from ..fingerprint import pdf_fingerprint
from ..indexprog import INDEX_SIDE_FILES, IndexSync, update_index
from ..markers import src_place
from ..paths import display_path
from ..progress import Progress
from . import onepass, splice, warm
from .warm import WarmEngine as WarmEngineType
from .warm import WarmJob
from .watchdog import Watchdog

#: Debian packages that give bookbuild every engine and the LaTeX packages the book uses.
APT_PACKAGES = (
    "texlive-xetex texlive-luatex texlive-latex-recommended texlive-latex-extra "
    "texlive-science texlive-fonts-recommended lmodern fonts-lmodern"
)
INSTALL_HINT = f"install TeX Live: apt-get install {APT_PACKAGES}"

SAFE_ENV = {"shell_escape": "f", "openout_any": "p"}
#: Passes after which the engine stops even if the .aux still changes (as latexmk does).
MAX_PASSES = 5
#: Files of the job that are not read back by the next pass.
#: (``.pages``: the page marks a pass writes and reads back itself, filters/_filterlib.py.)
NOT_REREAD = {
    ".tex",
    ".log",
    ".pdf",
    ".xdv",
    ".dvi",
    ".fls",
    ".fdb_latexmk",
    ".synctex.gz",
    ".pages",
}
#: The kernel's count of pages changes when the contents appear, but no text depends on it.
#: Nor on the splice's chapter checkpoints (comments; stages/splice.py).
IGNORED_AUX_LINE = re.compile(
    rb"^(\\gdef ?\\@abspage@last\{\d+\}|%bookbuild-splice .*)\r?\n?", re.M
)
#: The index's files: settled for the one-pass check when the pass sorted its own index.
INDEX_FILES = {".idx", ".ilg", ".ind"}


@dataclass
class EnginePass:
    """One program run by the engine (a LaTeX pass, xdvipdfmx ...) and its wall time."""

    rule: str
    seconds: float


@dataclass
class EngineResult:
    pdf: Path
    log: Path
    passes: list[EnginePass] = field(default_factory=list)
    settled: bool = True  # False: the .aux still changed after MAX_PASSES passes
    page_count: int | None = None  # known without the log (a spliced chapter's PDF)

    @property
    def pages(self) -> int | None:
        """Page count, as the engine's log states it ("Output written on … (23 pages")."""
        if self.page_count is not None:
            return self.page_count
        if not self.log.is_file():
            return None
        found = re.findall(
            r"Output written on .*?\((\d+) pages?", self.log.read_text(errors="replace")
        )
        return int(found[-1]) if found else None


def required_programs(engine: str) -> list[str]:
    return [engine]


def check_engine(engine: str) -> None:
    """Raise ToolMissingError (exit 4) with the install command when ``engine`` is missing."""
    missing = [p for p in required_programs(engine) if shutil.which(p) is None]
    if not missing:
        return
    if engine == "tectonic":
        raise ToolMissingError(
            "tectonic not found on PATH (no Debian or pip package ships it); "
            "install it or use --engine xelatex"
        )
    raise ToolMissingError(f"{' and '.join(missing)} not found: {INSTALL_HINT}")


def engine_command(engine: str, tex_name: str) -> list[str]:
    """One run of the engine: a LaTeX pass (TeX Live), or all of Tectonic's."""
    if engine == "tectonic":
        return [
            "tectonic",
            "-X",
            "compile",
            "--untrusted",
            "--keep-intermediates",
            "--keep-logs",
            tex_name,
        ]
    return [
        engine,
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        "-no-shell-escape",
        tex_name,
    ]


def engine_env(search_path: list[Path]) -> dict[str, str]:
    """Environment for the engine: safe settings and TEXINPUTS so images and inputs
    next to the book's sources are found."""
    env = dict(os.environ)
    env.update(SAFE_ENV)
    extra = os.pathsep.join(str(p) for p in search_path)
    # A trailing separator keeps TeX's default search path after ours.
    env["TEXINPUTS"] = f".{os.pathsep}{extra}{os.pathsep}{env.get('TEXINPUTS', '')}"
    return env


def start_warm(
    engine: str,
    tex_path: Path,
    speculated: str,
    search: list[Path],
    inputs: list[Path],
    shared: str | None = None,
    written: tuple[Path, ...] = (),
) -> warm.WarmEngine | None:
    """An engine loading the preamble of ``speculated`` (the last .tex of this job or a
    similar one) while the new .tex is being made (:mod:`bookbuild.stages.warm`); None when
    it cannot be of use (another engine, no preamble). ``inputs``: files outside the search
    path that its preamble reads (the full build's .aux); ``written``: folders in the search
    path where bookbuild writes (the build folder), not watched. With ``shared`` (another .tex
    of the book), only the preamble lines the two share are loaded."""
    workdir, stem = tex_path.parent, tex_path.stem
    preamble = warm.split_preamble(speculated)
    other = warm.split_preamble(shared) if shared is not None else None
    saved = reread_files(workdir, stem)
    if engine not in warm.ENGINES or preamble is None:
        return None
    if other is not None and not warm.common_lines(preamble, other):
        return None
    check_engine(engine)
    command = engine_command(engine, warm.PREAMBLE_FILE)
    command.insert(-1, f"-jobname={stem}")
    return warm.WarmEngine(
        command,
        workdir,
        engine_env(search),
        preamble,
        saved,
        pdf_fingerprint(workdir / f"{stem}.pdf"),
        restore=lambda: _restore(workdir, stem, saved),
        watched=lambda: warm.stamp(search, inputs, skip=[workdir, *written]),
        shared=other,
    )


def _reread_paths(workdir: Path, stem: str) -> list[Path]:
    """The files of job ``stem`` that a pass writes for the next one."""
    return [p for p in workdir.glob(f"{stem}.*") if p.suffix not in NOT_REREAD and p.is_file()]


def has_passes(workdir: Path, stem: str) -> bool:
    """True when job ``stem`` has files from an earlier pass (no one-pass build then)."""
    return bool(_reread_paths(workdir, stem))


def reread_files(workdir: Path, stem: str) -> dict[Path, bytes]:
    """The files of job ``stem`` that a pass writes for the next one, with their contents."""
    found = {}
    for path in _reread_paths(workdir, stem):
        with contextlib.suppress(OSError):
            found[path] = path.read_bytes()
    return found


def _settled(before: dict[Path, bytes], after: dict[Path, bytes]) -> bool:
    """True when the pass left every reread file as it found it (the page count aside)."""

    def norm(files: dict[Path, bytes]) -> dict[Path, bytes]:
        return {
            p: IGNORED_AUX_LINE.sub(b"", data)
            for p, data in files.items()
            if p.suffix not in INDEX_SIDE_FILES  # the index counts through its .ind
        }

    return norm(before) == norm(after)


def _restore(workdir: Path, stem: str, saved: dict[Path, bytes]) -> None:
    """Put the reread files back as they were before a failed pass."""
    for path in _reread_paths(workdir, stem):
        if path not in saved:
            path.unlink(missing_ok=True)
    for path, data in saved.items():
        with contextlib.suppress(OSError):
            path.write_bytes(data)


def _run_once(
    command: list[str],
    workdir: Path,
    env: dict[str, str],
    on_output: Callable[[str], None] | None,
    output_lines: list[str],
    answer: Callable[[str], str | None] | None = None,
) -> int:
    """Run one engine process in its own process group (killed with it on Ctrl-C). With
    ``answer``, the engine's input is a pipe: each line of its output goes to ``answer``, and
    what that returns (when not None) is written to the engine as a line."""
    proc = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdin=subprocess.PIPE if answer else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # its own process group, so no engine child outlives us
    )
    assert proc.stdout is not None
    watchdog = Watchdog(proc)
    try:
        for line in proc.stdout:
            watchdog.heard()
            output_lines.append(line)
            if on_output:
                on_output(line.rstrip("\n"))
            reply = answer(line) if answer else None
            if reply is not None and proc.stdin is not None:
                with contextlib.suppress(BrokenPipeError):  # the engine stopped: its exit says why
                    proc.stdin.write(reply + "\n")
                    proc.stdin.flush()
        if proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        returncode = proc.wait()
        watchdog.check(output_lines)
        return returncode
    except BaseException:  # Ctrl-C or an error: stop the engine and everything it started
        watchdog.stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def run_engine(
    engine: str,
    tex_path: Path,
    search_path: list[Path],
    on_output: Callable[[str], None] | None = None,
    on_pass: Callable[[EnginePass], None] | None = None,
    labels: dict[str, str] | None = None,
    warm_engine: warm.WarmEngine | None = None,
) -> EngineResult:
    """Compile ``tex_path`` in its own directory; return the PDF it produced there.

    With ``labels`` (LaTeX label -> number, possibly empty), a cold build tries one pass
    (:mod:`bookbuild.stages.onepass`); when that pass does not come out as a second one
    would, it counts as the loop's first pass. ``warm_engine`` (:func:`start_warm`) makes the
    first pass when it accepts the .tex; when that pass fails, an ordinary one follows (and
    reports the error)."""
    check_engine(engine)
    workdir = tex_path.parent
    stem = tex_path.stem
    command = engine_command(engine, tex_path.name)
    env = engine_env(search_path)
    passes: list[EnginePass] = []
    output_lines: list[str] = []
    log = workdir / (stem + ".log")
    pdf = workdir / (stem + ".pdf")
    tex = tex_path.read_text(encoding="utf-8", errors="replace")
    # the index sorted in the pass that prints it (no second pass for the index)
    sync = indexprog.wants_sync(tex, engine)
    # (a warm engine's standard input is its handoff line: no index sort in its pass)
    if warm_engine is not None and (sync or not warm_engine.accepts(tex)):
        warm_engine.stop()  # the job's files put back
        warm_engine = None
    saved = warm_engine.saved if warm_engine is not None else reread_files(workdir, stem)
    before = saved
    settled = True
    plan = None  # a cold build in one pass (issue 15)
    if labels is not None and engine != "tectonic" and not saved and onepass.enabled():
        plan = onepass.prepare(tex_path, labels)
    if sync:
        write_if_changed(workdir / indexprog.HELPER, indexprog.HELPER_TEX)
    while True:
        start = time.perf_counter()
        old_pdf = pdf_fingerprint(pdf)
        helpers = [onepass.HELPER] if plan is not None and not passes else []
        index = IndexSync(workdir, stem, before, env) if sync else None
        if index is not None:
            helpers.append(indexprog.HELPER)
        run = helper_command(command, tex_path, helpers)
        try:
            if warm_engine is not None:
                old_pdf = warm_engine.old_pdf
                returncode, output = warm_engine.run(tex, helpers)
                warm_engine = None
                if returncode != 0 or pdf_fingerprint(pdf) in (None, old_pdf):
                    _restore(workdir, stem, saved)  # an ordinary pass tells what went wrong
                    if plan is not None:
                        plan = onepass.prepare(tex_path, labels or {})
                    continue
                output_lines.append(output)
                if on_output:
                    for line in output.splitlines():
                        on_output(line)
            else:
                returncode = _run_once(
                    run, workdir, env, on_output, output_lines, index.on_line if index else None
                )
        except BaseException:
            _restore(workdir, stem, saved)
            raise
        waited = index.seconds if index is not None else 0.0  # the pass waited for the sort
        done = EnginePass(engine, time.perf_counter() - start - waited)
        passes.append(done)
        if on_pass:
            on_pass(done)
        if returncode != 0 or pdf_fingerprint(pdf) in (None, old_pdf):  # failed, or no pages
            _restore(workdir, stem, saved)
            raise latex_failure(log, "".join(output_lines))
        if engine == "tectonic":
            break
        if index is not None and index.program and on_pass:
            on_pass(EnginePass(index.program, index.seconds))
        index_done = index is not None and index.settled_index()
        if index is not None and index.late:
            sync = False  # an entry came after the index: sort between passes from now on
        if plan is not None and len(passes) == 1:
            start = time.perf_counter()
            written = [
                p
                for p in _reread_paths(workdir, stem)
                if not (index_done and p.suffix in INDEX_FILES)
            ]
            why = onepass.finish(tex_path, plan, written)
            if not why:
                moved = EnginePass("contents", time.perf_counter() - start)
                if on_pass:
                    on_pass(moved)
                return EngineResult(pdf=pdf, log=log, passes=[*passes, moved])
            if on_output:
                on_output(f"bookbuild-onepass: a second pass ({why})")
        if index is not None and index_done:
            before = index.as_before()  # the index the pass sorted and printed
        after = reread_files(workdir, stem)
        start = time.perf_counter()
        program = update_index(workdir, stem, before, env)  # makeindex when the .idx changed
        if program:
            after = reread_files(workdir, stem)
            if on_pass:
                on_pass(EnginePass(program, time.perf_counter() - start))
        if _settled(before, after):
            break
        if len(passes) >= MAX_PASSES:
            settled = False
            break
        before = after
    return EngineResult(pdf=pdf, log=log, passes=passes, settled=settled)


def warm_job(config: BookConfig, workdir: Path) -> WarmJob | None:
    """Start the chapter job's engine (:class:`~bookbuild.stages.warm.WarmJob`) for the next
    build of ``config`` in ``workdir``, when its last build can take a spliced chapter
    (:mod:`bookbuild.stages.splice`): on the preamble and .aux a chapter job would read."""
    if config.engine != "xelatex" or not splice.enabled() or shutil.which(config.engine) is None:
        return None
    stem = Path(config.output).stem
    head, aux = splice.warm_start(workdir, stem) or ("", b"")
    if not head:
        return None
    return WarmJob(
        engine_command(config.engine, f"{stem}.tex"),
        splice.warm_folder(workdir),
        engine_env([*engine_search_path(config), workdir]),
        stem,
        head,
        aux,
    )


def engine_search_path(config: BookConfig) -> list[Path]:
    """Where the engine looks for the book's images and inputs."""
    return [config.book_dir, *{p.parent for p in config.preamble}]


def chapter_splice(
    engine: str,
    tex_path: Path,
    written: str,
    search_path: list[Path],
    sources: dict[str, SourceText],
    on_output: Callable[[str], None],
    on_pass: Callable[[EnginePass], None],
    warm: WarmJob | None = None,
) -> tuple[EngineResult, Path, Path] | None:
    """The edited chapter typeset alone and spliced into the last PDF
    (:mod:`bookbuild.stages.splice`), with the job's log and the .tex its line numbers refer
    to, or None when
    the full pass must run. A LaTeX error in the chapter is reported at the author's line;
    the last PDF stays as it was. ``warm``: the job's engine, started early, if it can
    take this chapter."""
    workdir, stem = tex_path.parent, tex_path.stem
    job, why = splice.plan(workdir, stem, written)
    if job is None:
        on_output(f"bookbuild-splice: a full pass ({why})")
        return None
    output: list[str] = []
    start = time.perf_counter()
    aux = (workdir / f"{stem}.aux").read_bytes()
    if warm is not None and warm.ready_for(job.head, aux):
        returncode = warm.run(job.body)
        job_tex, mapped, mapped_tex = warm.tex, warm.body, job.body
        output = warm.output
        for line in "".join(output).splitlines():
            on_output(line)
    else:
        job_tex = splice.prepare_job(workdir, stem, job)
        mapped, mapped_tex = job_tex, job.job_tex
        command = engine_command(engine, job_tex.name)
        env = engine_env([*search_path, workdir])
        returncode = _run_once(command, job_tex.parent, env, on_output, output)
    passes = [EnginePass("chapter", time.perf_counter() - start)]
    on_pass(passes[0])
    job_log = job_tex.with_suffix(".log")
    if returncode != 0 or not job_tex.with_suffix(".pdf").is_file():
        failure = latex_failure(job_log, "".join(output))
        diagnostic = latex_diagnostic(
            failure.log_text, mapped_tex, mapped.name, sources, engine, display_path(job_log)
        )
        own = sources.get(job.label)
        killed = returncode < 0  # as a killed pass, the build fails
        if killed or (own is not None and diagnostic.file == own.display):
            raise LatexError(
                diagnostic.message, failure.log_text, job_log, diagnostics=[diagnostic]
            )
        on_output("bookbuild-splice: a full pass (the chapter job failed)")
        return None
    start = time.perf_counter()
    pdf = workdir / f"{stem}.pdf"
    why = splice.check(job, job_tex)
    if not why:
        try:
            why = splice.splice(job, job_tex, pdf)
        except Exception as exc:  # a PDF pikepdf cannot handle: the full pass instead
            why = f"the splice failed: {type(exc).__name__}"
    if why:
        on_output(f"bookbuild-splice: a full pass ({why})")
        return None
    write_if_changed(tex_path, written)
    splice.record(workdir, stem)
    passes.append(EnginePass("splice", time.perf_counter() - start))
    on_pass(passes[-1])
    # Missing glyphs are looked for in the log: the last full pass's and the chapter's.
    log = workdir / splice.JOB_DIR / "combined.log"
    log.parent.mkdir(exist_ok=True)
    old_log = workdir / f"{stem}.log"
    log.write_text(
        (old_log.read_text(errors="replace") if old_log.is_file() else "")
        + "\n"
        + job_log.read_text(errors="replace"),
        encoding="utf-8",
    )
    result = EngineResult(pdf=pdf, log=log, passes=passes, page_count=splice.page_count(pdf))
    return result, job_log, mapped


def helper_command(base: list[str], tex_path: Path, helpers: list[str]) -> list[str]:
    """The engine's command with bookbuild's helper files read before the book."""
    if not helpers:
        return base
    inputs = "".join(f"\\input{{{name}}}" for name in helpers)
    return [*base[:-1], f"-jobname={tex_path.stem}", f"{inputs}\\input{{{tex_path.name}}}"]


def latex_failure(log: Path, output: str) -> LatexError:
    """The engine failed: carry its log and its output (xdvipdfmx reports only there)."""
    text = (log.read_text(errors="replace") if log.is_file() else "") + "\n" + output
    return LatexError("the LaTeX engine failed", log_text=text, log_path=log)


def compile_pdf(
    tex: str,
    config: BookConfig,
    engine: str,
    workdir: Path,
    progress: Progress,
    sources: dict[str, SourceText],
    labels: dict[str, str] | None = None,
    warm: WarmJob | None = None,
    warm_engine: WarmEngineType | None = None,
) -> EngineResult:
    """Stage 5: the engine turns the LaTeX into a PDF inside ``workdir``.

    ``labels`` (LaTeX label -> number, from the last full build) let a cold build take one
    pass (:mod:`bookbuild.stages.onepass`); None (a caller that cannot know them) is the
    same as no labels known. ``warm``: a chapter job started early (:func:`warm_job`);
    ``warm_engine``: an engine loading the preamble (:func:`run_engine`), which is used
    instead of a splice."""
    tex_path = workdir / (Path(config.output).stem + ".tex")
    search_path = engine_search_path(config)
    # xelatex passes leave chapter checkpoints, so a chapter edit can be spliced (issue 15).
    checkpoints = engine == "xelatex" and splice.enabled()
    written = splice.instrument(tex) if checkpoints else tex

    runs: dict[str, int] = {}

    def on_pass(done: EnginePass) -> None:
        runs[done.rule] = runs.get(done.rule, 0) + 1
        progress.record(done.rule, done.seconds, f"pass {runs[done.rule]}")

    def on_output(line: str) -> None:
        if progress.verbose:
            print(line, file=progress.stream, flush=True)

    if checkpoints and warm_engine is None:
        spliced = chapter_splice(
            engine, tex_path, written, search_path, sources, on_output, on_pass, warm
        )
        if spliced is not None:
            result, job_log, mapped = spliced
            _report_overfull(progress, job_log, mapped.read_text(), sources)
            return result
    try:
        splice.forget(workdir)
        write_if_changed(tex_path, written)
        result = run_engine(
            engine,
            tex_path,
            search_path=search_path,
            on_output=on_output,
            on_pass=on_pass,
            labels=labels or {},
            warm_engine=warm_engine,
        )
        if checkpoints:
            splice.record(workdir, tex_path.stem)
    except EngineStalledError:
        raise  # nothing in the log to locate: the engine was stopped, not failed
    except LatexError as exc:
        diagnostic = latex_diagnostic(
            exc.log_text,
            tex,
            tex_path.name,
            sources,
            engine,
            display_path(exc.log_path or tex_path),
        )
        raise LatexError(
            diagnostic.message, exc.log_text, exc.log_path, diagnostics=[diagnostic]
        ) from None
    if not result.settled:
        progress.warn(
            Diagnostic(
                "warning",
                f"LaTeX still changed its .aux after {len(result.passes)} passes: page numbers "
                "or references may be off (a reference whose page moves as it is printed?)",
            )
        )
    _report_overfull(progress, result.log, tex, sources)
    return result


def _report_overfull(
    progress: Progress, log: Path, tex: str, sources: dict[str, SourceText]
) -> None:
    """With -v, the lines LaTeX could not fit (``log`` of a run of ``tex``)."""
    if progress.verbose and log.is_file():
        for box in overfull_boxes(log.read_text(errors="replace"), tex, sources):
            for line in box.lines():
                print(line, file=progress.stream, flush=True)


# --------------------------------------------------------------------------- LaTeX errors

_FILE_LINE = re.compile(r"^(?P<file>[^\s:][^:\n]*\.(?:tex|sty|cls)):(?P<line>\d+): (?P<msg>.*)$")
_FATAL = re.compile(r"^(?P<prog>[\w-]+):fatal: (?P<msg>.*)$")
_CONTEXT_LINE = re.compile(r"^l\.(?P<line>\d+) ?(?P<text>.*)$")


@dataclass
class LatexFailure:
    """The first error of a LaTeX log."""

    message: str
    tex_line: int | None
    context: str  # the text TeX had read on the error line, up to the error
    in_main_file: bool = True


def parse_latex_log(log: str, main_name: str) -> LatexFailure | None:
    lines = log.splitlines()
    for index, line in enumerate(lines):
        fatal = _FATAL.match(line)
        if fatal:
            return LatexFailure(fatal.group("msg").strip(), None, "", in_main_file=False)
        match = _FILE_LINE.match(line)
        bang = line.startswith("! ")
        if not (match or bang):
            continue
        message = match.group("msg") if match else line[2:]
        in_main = not match or Path(match.group("file")).name == main_name
        tex_line = int(match.group("line")) if match else None
        context = ""
        for follow in lines[index + 1 : index + 4]:  # TeX wraps long messages
            if not follow.strip() or follow.startswith(("l.", "<", "See the LaTeX")):
                break
            message += " " + follow.strip()
        for later in lines[index + 1 : index + 15]:
            found = _CONTEXT_LINE.match(later)
            if found:
                context = found.group("text")
                tex_line = tex_line or int(found.group("line"))
                break
        message = re.sub(r"\s+", " ", message).strip().removesuffix(".")
        return LatexFailure(message, tex_line, context, in_main)
    return None


def _last_control_sequence(text: str) -> str | None:
    found = re.findall(r"\\[A-Za-z@]+", text)
    return found[-1] if found else None


def hint_for(message: str, context: str, engine: str) -> tuple[str | None, str | None]:
    """(plain-words hint, the token to look for in the source) for a LaTeX error."""
    if "Undefined control sequence" in message:
        name = _last_control_sequence(context)
        shown = name or "a command"
        return (
            f"{shown} is not defined: a typo, or a package missing from the preamble "
            "(build.preamble)",
            name,
        )
    if "Missing $ inserted" in message:
        name = _last_control_sequence(context)
        what = f"{name} " if name else ""
        return (
            f"math outside math mode: put {what}inside $…$ (e.g. $\\rightarrow$)",
            name,
        )
    sty = re.search(r"File `([^']+)\.sty' not found", message)
    if sty:
        package = STY_PACKAGES.get(sty.group(1))
        install = (
            f"apt-get install {package}"
            if package
            else f"find its Debian package with: apt-file search {sty.group(1)}.sty"
        )
        return f"LaTeX package '{sty.group(1)}' is not installed: {install}", sty.group(1)
    image = re.search(
        r"(?:File `([^']+)' not found|Unable to load picture or PDF file '([^']+)')", message
    )
    if image:
        name = image.group(1) or image.group(2)
        return f"image '{name}' does not exist (paths are relative to book.yaml)", name
    if "Unknown graphics extension" in message:
        return (
            f"{engine} cannot include this image format: use PNG, JPEG or PDF",
            re.sub(r".*\{([^}]*)\}?$", r"\1", context) or None,
        )
    unicode_char = re.search(r"Unicode character (\S+) \(U\+[0-9A-F]+\)", message)
    if unicode_char:
        return (
            f"{engine} has no glyph set up for {unicode_char.group(1)}: build with "
            "--engine xelatex (or lualatex)",
            unicode_char.group(1),
        )
    if "Can be used only in preamble" in message:
        name = _last_control_sequence(context)
        return "this command belongs in the preamble (build.preamble), not a chapter", name
    return None, _last_control_sequence(context)


def latex_diagnostic(
    log: str,
    tex: str,
    tex_name: str,
    sources: dict[str, SourceText],
    engine: str,
    log_path: str,
) -> Diagnostic:
    """A Diagnostic for the first error of ``log``, located in the author's sources."""
    failure = parse_latex_log(log, tex_name)
    if failure is None:
        return Diagnostic(
            "error",
            "the LaTeX engine failed without an error message",
            details=[f"log: {log_path}"],
        )
    hint, needle = hint_for(failure.message, failure.context, engine)
    diagnostic = Diagnostic("error", failure.message, hint=hint)
    tex_lines = tex.splitlines()
    if failure.tex_line and failure.in_main_file:
        start = max(failure.tex_line - 3, 0)
        excerpt = tex_lines[start : failure.tex_line + 2]
        diagnostic.details = [
            f"{tex_name}:{start + i + 1}: {text}" for i, text in enumerate(excerpt)
        ]
        texmap = TexMap.from_tex(tex)
        place = texmap.locate(failure.tex_line) if failure.tex_line > texmap.body_start else None
        if place is None:
            _locate_in_preamble(diagnostic, needle, sources)
        else:
            label, line, following = place
            source = sources.get(label)
            if source is not None:
                lines = source.lines
                if needle:
                    line = find_in_source(lines, needle, line, following) or line
                diagnostic.file, diagnostic.line = source.display, line
                diagnostic.source = lines[line - 1] if line <= len(lines) else None
    else:
        _locate_in_preamble(diagnostic, needle, sources)
    diagnostic.details.append(f"log: {log_path}")
    return diagnostic


def _locate_in_preamble(
    diagnostic: Diagnostic, needle: str | None, sources: dict[str, SourceText]
) -> None:
    """Errors before \\begin{document}: find the token in the preamble files or book.yaml."""
    if not needle:
        return
    for source in sources.values():
        if source.is_chapter:
            continue
        line = find_in_source(source.lines, needle, 1, None)
        if line:
            diagnostic.file, diagnostic.line = source.display, line
            diagnostic.source = source.lines[line - 1]
            return


@dataclass
class TexMap:
    """Which source line each line of the generated .tex came from."""

    tex_lines: list[int]  # 1-based .tex lines of the markers, ascending
    places: list[tuple[str, int]]  # (file, line) for each marker
    body_start: int  # .tex line of \begin{document}

    @classmethod
    def from_tex(cls, tex: str) -> TexMap:
        tex_lines: list[int] = []
        places: list[tuple[str, int]] = []
        body_start = 0
        for number, line in enumerate(tex.splitlines(), start=1):
            place = src_place(line)
            if place is not None:
                tex_lines.append(number)
                places.append(place)
            elif not body_start and line.startswith("\\begin{document}"):
                body_start = number
        return cls(tex_lines, places, body_start)

    def locate(self, tex_line: int) -> tuple[str, int, int | None] | None:
        """(file, first line of the block, first line of the next block in that file)."""
        index = bisect.bisect_right(self.tex_lines, tex_line) - 1
        if index < 0:
            return None
        label, line = self.places[index]
        following = next(
            (ln for lb, ln in self.places[index + 1 :] if lb == label and ln > line), None
        )
        return label, line, following


_OVERFULL = re.compile(
    r"^Overfull \\hbox \((?P<amount>[\d.]+pt) too wide\) "
    r"(?:in paragraph|in alignment|detected) at lines? (?P<line>\d+)",
    re.M,
)


def overfull_boxes(log: str, tex: str, sources: dict[str, SourceText]) -> list[Diagnostic]:
    """Lines LaTeX could not fit in the margin (shown with -v only), at their source line."""
    texmap = TexMap.from_tex(tex)
    found: list[Diagnostic] = []
    for match in _OVERFULL.finditer(log):
        place = texmap.locate(int(match.group("line")))
        source = sources.get(place[0]) if place else None
        message = f"overfull line: {match.group('amount')} too wide"
        if source is None or place is None:
            found.append(Diagnostic("info", message))
            continue
        line = place[1]
        text = source.lines[line - 1] if line <= len(source.lines) else None
        found.append(Diagnostic("info", message, source.display, line, text))
    return found


#: Where LaTeX packages live in Debian (read off TeX Live 2022 with dpkg -S).
STY_PACKAGES = {
    "siunitx": "texlive-science",
    "algorithm2e": "texlive-science",
    "algorithmicx": "texlive-science",
    "algpseudocode": "texlive-science",
    "physics": "texlive-science",
    "mhchem": "texlive-science",
    "ragged2e": "texlive-latex-recommended",
    "booktabs": "texlive-latex-recommended",
    "listings": "texlive-latex-recommended",
    "fontspec": "texlive-latex-recommended",
    "unicode-math": "texlive-latex-recommended",
    "mathtools": "texlive-latex-recommended",
    "xcolor": "texlive-latex-recommended",
    "caption": "texlive-latex-recommended",
    "subcaption": "texlive-latex-recommended",
    "float": "texlive-latex-recommended",
    "microtype": "texlive-latex-recommended",
    "polyglossia": "texlive-latex-recommended",
    "etoolbox": "texlive-latex-recommended",
    "pdfpages": "texlive-latex-recommended",
    "parskip": "texlive-latex-recommended",
    "quoting": "texlive-latex-extra",
    "tcolorbox": "texlive-latex-extra",
    "minted": "texlive-latex-extra",
    "titlesec": "texlive-latex-extra",
    "enumitem": "texlive-latex-extra",
    "multirow": "texlive-latex-extra",
    "makecell": "texlive-latex-extra",
    "csquotes": "texlive-latex-extra",
    "cleveref": "texlive-latex-extra",
    "todonotes": "texlive-latex-extra",
    "framed": "texlive-latex-extra",
    "mdframed": "texlive-latex-extra",
    "wrapfig": "texlive-latex-extra",
    "upquote": "texlive-latex-extra",
    "fvextra": "texlive-latex-extra",
    "needspace": "texlive-latex-extra",
    "footmisc": "texlive-latex-extra",
    "tikz": "texlive-pictures",
    "pgfplots": "texlive-pictures",
    "chemfig": "texlive-pictures",
    "biblatex": "texlive-bibtex-extra",
    "lmodern": "lmodern",
}
