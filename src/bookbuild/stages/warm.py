"""A warm engine: the LaTeX preamble loaded while Python is still typesetting the body.

A TeX Live pass spends most of a short document's time before the first page: at 300 pages
a preview's xelatex pass is about 0.5 s of packages, 0.27 s of ``\\begin{document}``
(unicode-math's fonts) and 0.1 s of body. A preview of one chapter knows its preamble before
it knows its body: it is the preamble of the previous run of the same job (the same book
settings, filters and chapter features give the same text). So
:func:`bookbuild.stages.compile.start_warm` runs the engine, in the job's work directory and
with the job's name, on that speculated preamble up to and including ``\\begin{document}``,
with its standard input open; at the end of that file TeX waits for a line at its ``*``
prompt. When the real ``.tex`` is written, :meth:`WarmEngine.accepts` compares; the pass then
costs only the line ``\\input{bookbuild-body.ltx}`` (the real ``.tex`` with the lines the
engine has read commented out, so its lines keep their numbers).

A job without files from an earlier pass (a chapter's first preview, a one-pass build) stops
before ``\\begin{document}``, whose .aux is written after the speculation; when the speculated
preamble is another document's, only the whole lines it shares with a third (the full
build's) are loaded, and the rest of the real preamble comes with the body.

A stale preamble is never used. The engine is handed the body only when

- the real preamble is the speculated one, character for character (or, for a shared
  start, begins with exactly the lines loaded);
- every file it could have read before the body is as it was when it started: the job's own
  files that a pass reads back (.aux …, compared byte for byte, and put back as they were
  when the engine is stopped, since ``\\begin{document}`` rewrites the .aux), and the other
  files in the engine's search path and those the caller names (the full build's .aux read by
  ``xr-hyper``), compared by size, time stamp and inode;
- it loaded the preamble without error and is waiting at its prompt.

Otherwise :meth:`WarmEngine.stop` kills it (its whole process group) and the caller runs an
ordinary pass. It is also stopped when the caller leaves the ``with`` block, whatever
happened; and if bookbuild dies, its end of the pipe closes and TeX stops at the end of its
input ("no legal \\end found").
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .watchdog import Watchdog

#: The engines that wait at a ``*`` prompt at the end of their input (TeX Live's).
ENGINES = ("xelatex", "lualatex", "pdflatex")
PREAMBLE_FILE = "bookbuild-warm.ltx"  # not .tex: the work directory's .tex is the job's
BODY_FILE = "bookbuild-body.ltx"
BEGIN_DOCUMENT = "\\begin{document}"
#: Longest wait for the preamble to load after the body is ready (the engine then is killed).
#: An error stops the engine (-halt-on-error); a question on the terminal (a missing file's
#: new name) is seen as a wait for input without the ``*`` prompt.
READY_TIMEOUT = 60.0

Stamp = dict[Path, tuple[int, int, int]]


def split_preamble(tex: str) -> str | None:
    """The text of ``tex`` up to and including its ``\\begin{document}`` line (None: none)."""
    at = 0
    for line in tex.splitlines(keepends=True):
        at += len(line)
        if line.startswith(BEGIN_DOCUMENT):  # (a splice's checkpoints may follow on it)
            return tex[:at]
    return None


def body_text(tex: str, loaded: str) -> str:
    """``tex`` with the lines the engine has ``loaded`` made comments: the rest, at its own
    line numbers."""
    return "%\n" * loaded.count("\n") + tex[len(loaded) :]


def common_lines(text: str, other: str) -> str:
    """The whole lines ``text`` starts with that ``other`` starts with too."""
    common = ""
    for line, theirs in zip(
        text.splitlines(keepends=True), other.splitlines(keepends=True), strict=False
    ):
        if line != theirs or not line.endswith("\n"):
            break
        common += line
    return common


def stamp(folders: list[Path], files: list[Path], skip: list[Path]) -> Stamp:
    """Size, time stamp and inode of the files in ``folders`` and below (not in ``skip``,
    where bookbuild writes, nor hidden ones: an editor's swap files) and of ``files``: what
    the engine may read that bookbuild does not write."""
    found: Stamp = {}
    skipped = {str(folder.resolve()) for folder in skip}
    paths = [p for folder in dict.fromkeys(folders) for p in _files(folder, skipped)]
    for path in [*paths, *files]:
        try:
            info = path.stat()
        except OSError:
            found[path] = (-1, -1, -1)
            continue
        found[path] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return found


def _files(folder: Path, skipped: set[str]) -> list[Path]:
    found = []
    for root, dirs, names in os.walk(folder.resolve()):
        if root in skipped:
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root, name) for name in names if not name.startswith(".")]
    return found


class WarmEngine:
    """An engine that has read a speculated preamble and waits for its body."""

    def __init__(
        self,
        command: list[str],
        workdir: Path,
        env: dict[str, str],
        preamble: str,
        saved: dict[Path, bytes],
        old_pdf: str | None,
        restore: Callable[[], None],
        watched: Callable[[], Stamp],
        shared: str | None = None,
    ):
        self.workdir, self.preamble, self.saved = workdir, preamble, saved
        self.old_pdf = old_pdf  # the PDF's fingerprint before the engine started
        # Through \begin{document} (which reads the job's .aux) when the job has files from
        # an earlier pass; else up to it, so a one-pass build's .aux can be written later;
        # with a ``shared`` preamble (another document's), only the lines both start with.
        self.begun = bool(saved) and shared is None
        self._restore = restore
        self._watched = watched
        self._inputs = watched()
        if self.begun:
            self.loaded = preamble
        else:
            self.loaded = preamble[: preamble.rstrip("\r\n").rfind("\n") + 1]
            if shared is not None:
                self.loaded = common_lines(self.loaded, shared)
        (workdir / PREAMBLE_FILE).write_text(self.loaded, encoding="utf-8")
        self._output: list[str] = []
        self._watchdog: Watchdog | None = None  # from the hand-over (it waits until then)
        self._asks = False
        self._ready = threading.Event()
        self._done = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with everything it runs
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """Collect the engine's output; note when it waits at its ``*`` prompt."""
        assert self.proc is not None and self.proc.stdout is not None
        pending = ""
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            if self._watchdog is not None:
                self._watchdog.heard()
            pending += chunk.decode("utf-8", errors="replace")
            if not self._ready.is_set() and pending.endswith("\n*"):
                self._ready.set()
        self._output.append(pending)
        self._ready.set()
        self._done.set()

    def waiting(self, timeout: float) -> bool:
        """True when the engine loaded the preamble and waits at its prompt."""
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05) and time.monotonic() < deadline:
            if self._reads_terminal():  # a question, not the prompt (which it prints first)
                self._asks = not self._ready.wait(0.2)
                break
        running = self.proc is not None and self.proc.poll() is None
        return running and self._ready.is_set() and not self._done.is_set() and not self._asks

    def _reads_terminal(self) -> bool:
        """True when the engine waits for a line on its standard input (Linux's /proc)."""
        if self.proc is None:
            return False
        try:
            waits = Path(f"/proc/{self.proc.pid}/wchan").read_text()
        except OSError:
            return False
        return "pipe_read" in waits or "pipe_wait" in waits

    def accepts(self, tex: str) -> bool:
        """True when this engine may typeset ``tex``: the same preamble, its inputs unchanged,
        the preamble loaded. It is stopped (and the job's files put back) when not."""
        if self.proc is None:
            return False
        preamble = split_preamble(tex)
        same = preamble == self.preamble if self.begun else tex.startswith(self.loaded)
        ok = (
            preamble is not None
            and same
            and self._watched() == self._inputs
            and self.waiting(READY_TIMEOUT)
        )
        if not ok:
            self.stop()
        return ok

    def run(self, tex: str, helpers: list[str] = []) -> tuple[int, str]:  # noqa: B006
        """Hand the engine ``tex``'s body (after the files ``helpers``); its return code and
        output once it has finished."""
        assert self.proc is not None and self.proc.stdin is not None
        stdin = self.proc.stdin
        body = body_text(tex, self.loaded)
        (self.workdir / BODY_FILE).write_text(body, encoding="utf-8")
        line = "\\nonstopmode" + "".join(f"\\input{{{name}}}" for name in helpers)
        line += f"\\input{{{BODY_FILE}}}\n"
        proc, self.proc = self.proc, None
        self._watchdog = watchdog = Watchdog(proc)
        try:
            with contextlib.suppress(BrokenPipeError):  # it stopped: its return code tells
                stdin.write(line.encode())
                stdin.close()
            returncode = proc.wait()
            self._done.wait()
        except BaseException:  # Ctrl-C: stop the engine and what it started
            watchdog.stop()
            _kill(proc)
            raise
        watchdog.check(self._output)
        return returncode, "".join(self._output)

    def stop(self) -> None:
        """Kill the engine (if it still runs) and put the job's files back as they were."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        _kill(proc)
        self._done.wait(5)
        self._restore()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        if proc.stdin is not None:
            proc.stdin.close()
    proc.wait()


@contextlib.contextmanager
def warm_engine(start: Callable[[], WarmEngine | None]) -> Iterator[WarmEngine | None]:
    """``start()``'s engine for the ``with`` block; killed at its end unless it was used."""
    engine = start()
    try:
        yield engine
    finally:
        if engine is not None:
            engine.stop()
