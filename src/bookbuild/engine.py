"""Run the LaTeX engine: latexmk with xelatex, pdflatex or lualatex (TeX Live), or Tectonic.

LaTeX never runs with shell escape: latexmk gets ``-norc -no-shell-escape`` (so no rc file can
turn it back on) and the environment sets ``shell_escape=f`` and ``openout_any=p``. The working
files stay in the work directory between runs so latexmk can skip passes it does not need.
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

from .errors import LatexError, ToolMissingError

#: Debian packages that give bookbuild every engine and the LaTeX packages the book uses.
APT_PACKAGES = (
    "texlive-xetex texlive-luatex texlive-latex-recommended texlive-latex-extra "
    "texlive-science texlive-fonts-recommended lmodern fonts-lmodern latexmk"
)
INSTALL_HINT = f"install TeX Live: apt-get install {APT_PACKAGES}"

LATEXMK_FLAG = {"xelatex": "-xelatex", "pdflatex": "-pdf", "lualatex": "-lualatex"}
SAFE_ENV = {"shell_escape": "f", "openout_any": "p"}
#: The kernel's count of pages changes when the contents appear, but no text depends on it:
#: latexmk need not run another pass for it.
LATEXMK_SETTINGS = "$hash_calc_ignore_pattern{'aux'} = q/abspage\\@last/;"

_RUN_LINE = re.compile(r"Run number (\d+) of rule '([^']+)'")


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
    return ["tectonic"] if engine == "tectonic" else ["latexmk", engine]


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
        "latexmk",
        "-norc",
        "-e",
        LATEXMK_SETTINGS,
        LATEXMK_FLAG[engine],
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
    command = engine_command(engine, tex_path.name)
    passes: list[EnginePass] = []
    current: tuple[str, float] | None = None
    output_lines: list[str] = []

    def close_pass(now: float) -> None:
        if current is not None:
            done = EnginePass(current[0], now - current[1])
            passes.append(done)
            if on_pass:
                on_pass(done)

    proc = subprocess.Popen(
        command,
        cwd=workdir,
        env=engine_env(search_path),
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
            match = _RUN_LINE.search(line)
            if match:
                now = time.perf_counter()
                close_pass(now)
                current = (match.group(2), now)
        returncode = proc.wait()
    except BaseException:  # Ctrl-C or an error: stop latexmk and every engine it started
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    close_pass(time.perf_counter())
    log = workdir / (tex_path.stem + ".log")
    pdf = workdir / (tex_path.stem + ".pdf")
    if engine == "tectonic" and not passes:
        passes.append(EnginePass("tectonic", 0.0))
    if returncode != 0 or not pdf.is_file():
        raise latex_failure(log, "".join(output_lines))
    return EngineResult(pdf=pdf, log=log, passes=passes)


def latex_failure(log: Path, output: str) -> LatexError:
    """The engine failed: carry its log and its output (xdvipdfmx reports only there)."""
    text = (log.read_text(errors="replace") if log.is_file() else "") + "\n" + output
    return LatexError("the LaTeX engine failed", log_text=text, log_path=log)
