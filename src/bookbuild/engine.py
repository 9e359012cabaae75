"""Run the LaTeX engine: xelatex, pdflatex or lualatex (TeX Live), or Tectonic.

bookbuild runs the TeX Live engines itself, with latexmk's rule: pass after pass while a file
the pass writes for the next one (.aux, .toc, .lof, .lot, .out ...) changes, at most
:data:`MAX_PASSES`. The work directory keeps those files between builds, so an edit that
moves no page number costs one pass. Each pass writes the PDF directly (xelatex pipes its
output to xdvipdfmx as it goes) rather than an .xdv converted afterwards. Compared with
latexmk that saves its start (Perl, its file database) and the separate xdvipdfmx run:
about 0.4 s per build of a 300-page book. If a pass fails, the files it had started to
rewrite are put back as they were, so the next build starts from the last good state.

LaTeX never runs with shell escape: the engine gets ``-no-shell-escape`` and the environment
sets ``shell_escape=f`` and ``openout_any=p``.
"""

from __future__ import annotations

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

from .cache import pdf_fingerprint
from .errors import LatexError, ToolMissingError
from .indexprog import INDEX_SIDE_FILES, update_index

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
NOT_REREAD = {".tex", ".log", ".pdf", ".xdv", ".dvi", ".fls", ".fdb_latexmk", ".synctex.gz"}
#: The kernel's count of pages changes when the contents appear, but no text depends on it.
IGNORED_AUX_LINE = re.compile(rb"^\\gdef ?\\@abspage@last\{\d+\}\r?\n?", re.M)


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

    @property
    def pages(self) -> int | None:
        """Page count, as the engine's log states it ("Output written on … (23 pages")."""
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


def _reread_paths(workdir: Path, stem: str) -> list[Path]:
    """The files of job ``stem`` that a pass writes for the next one."""
    return [p for p in workdir.glob(f"{stem}.*") if p.suffix not in NOT_REREAD and p.is_file()]


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
) -> int:
    """Run one engine process in its own process group (killed with it on Ctrl-C)."""
    proc = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # its own process group, so no engine child outlives us
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            output_lines.append(line)
            if on_output:
                on_output(line.rstrip("\n"))
        return proc.wait()
    except BaseException:  # Ctrl-C or an error: stop the engine and everything it started
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
) -> EngineResult:
    """Compile ``tex_path`` in its own directory; return the PDF it produced there."""
    check_engine(engine)
    workdir = tex_path.parent
    stem = tex_path.stem
    command = engine_command(engine, tex_path.name)
    env = engine_env(search_path)
    passes: list[EnginePass] = []
    output_lines: list[str] = []
    log = workdir / (stem + ".log")
    pdf = workdir / (stem + ".pdf")
    saved = reread_files(workdir, stem)
    before = saved
    settled = True
    while True:
        start = time.perf_counter()
        old_pdf = pdf_fingerprint(pdf)
        try:
            returncode = _run_once(command, workdir, env, on_output, output_lines)
        except BaseException:
            _restore(workdir, stem, saved)
            raise
        done = EnginePass(engine, time.perf_counter() - start)
        passes.append(done)
        if on_pass:
            on_pass(done)
        if returncode != 0 or pdf_fingerprint(pdf) in (None, old_pdf):  # failed, or no pages
            _restore(workdir, stem, saved)
            raise latex_failure(log, "".join(output_lines))
        if engine == "tectonic":
            break
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


def latex_failure(log: Path, output: str) -> LatexError:
    """The engine failed: carry its log and its output (xdvipdfmx reports only there)."""
    text = (log.read_text(errors="replace") if log.is_file() else "") + "\n" + output
    return LatexError("the LaTeX engine failed", log_text=text, log_path=log)
