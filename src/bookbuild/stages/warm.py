"""Warm engines: the LaTeX preamble loaded while Python is still typesetting the body.

One mechanism, :class:`EngineProcess`: a TeX Live engine started in errorstopmode on a file
holding a preamble, waiting at TeX's ``*`` prompt at its end; handed the rest with one line
on its standard input (``\\nonstopmode\\input{body}``), its output collected, watched by
:mod:`bookbuild.stages.watchdog` once handed its body, killed with its process group when
not used. Two kinds use it:

- :class:`WarmJob`, a chapter job's engine (:mod:`bookbuild.stages.splice`): started by
  ``compile.warm_job`` on the book's last preamble and .aux in a folder of its own while
  pandoc writes the edited chapter, handed the chapter by ``compile.chapter_splice``;
- :class:`WarmEngine`, a preview's (or a pass's) engine on a speculated preamble, described
  below.

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

import codecs
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


class EngineProcess:
    """A TeX Live engine started on a preamble file in ``folder`` that waits for the rest.

    The one warm-engine mechanism of bookbuild, used by a preview's :class:`WarmEngine` and a
    chapter job's :class:`WarmJob`. ``command`` is an ordinary pass's command
    (``compile.engine_command``); it runs without its ``-interaction`` option, in
    errorstopmode, so that at the end of the file TeX waits at its ``*`` prompt for a line
    on its standard input (in nonstopmode it would stop there). The engine
    runs in its own process group (stopped with everything it starts, xdvipdfmx), a thread
    collects its output (:attr:`output`) and notes the prompt (:meth:`waiting`).
    :meth:`hand_over` writes the body and the line that reads it, in nonstopmode, and waits
    for the engine, watched from then on (:class:`~bookbuild.stages.watchdog.Watchdog`);
    :meth:`kill` stops an engine that was not handed anything."""

    def __init__(self, command: list[str], folder: Path, env: dict[str, str]):
        self.folder = folder
        self.output: list[str] = []  # as it came, in pieces
        self._watchdog: Watchdog | None = None  # from the hand-over (it waits until then)
        self._asks = False
        self._ready = threading.Event()
        self._done = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [a for a in command if not a.startswith("-interaction")],
            cwd=folder,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with everything it runs
        )
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        """Collect the engine's output; note when it waits at its ``*`` prompt."""
        assert proc.stdout is not None
        decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        fd, tail = proc.stdout.fileno(), ""
        while chunk := os.read(fd, 65536):
            if self._watchdog is not None:
                self._watchdog.heard()
            text = decode(chunk)
            self.output.append(text)
            tail = (tail + text)[-2:]
            if tail == "\n*":
                self._ready.set()
        self.output.append(decode(b"", final=True))
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

    def hand_over(self, body: Path, text: str, helpers: list[str] = []) -> int:  # noqa: B006
        """Write ``text`` to ``body``, have the engine read it (after the files ``helpers``)
        in nonstopmode and wait for it to finish: its return code. An engine that stopped
        before (killed) is not handed anything: its exit code. On Ctrl-C it is killed."""
        proc, self.proc = self.proc, None  # handed over: :meth:`kill` leaves it alone
        assert proc is not None and proc.stdin is not None
        if proc.poll() is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            self._done.wait()
            return proc.returncode
        body.write_text(text, encoding="utf-8")
        line = "\\nonstopmode" + "".join(f"\\input{{{name}}}" for name in helpers)
        line += f"\\input{{{body.name}}}\n"
        self._watchdog = watchdog = Watchdog(proc)
        try:
            with contextlib.suppress(OSError):  # it stopped: its return code tells
                proc.stdin.write(line.encode())
                proc.stdin.close()
            returncode = proc.wait()
            self._done.wait()
        except BaseException:  # Ctrl-C: stop the engine and what it started
            watchdog.stop()
            _kill(proc)
            raise
        watchdog.check(self.output)
        return returncode

    def kill(self) -> bool:
        """Kill the engine and what it started, unless it was handed over (or killed) before:
        True when it had not been."""
        proc, self.proc = self.proc, None
        if proc is None:
            return False
        _kill(proc)
        self._done.wait(5)
        return True


class WarmEngine(EngineProcess):
    """A preview's engine that has read a speculated preamble and waits for its body."""

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
        super().__init__(command, workdir, env)

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
        body = body_text(tex, self.loaded)
        returncode = self.hand_over(self.workdir / BODY_FILE, body, helpers)
        return returncode, "".join(self.output)

    def stop(self) -> None:
        """Kill the engine (if it still runs) and put the job's files back as they were."""
        if self.kill():
            self._restore()


class WarmJob(EngineProcess):
    """A chapter job's engine (:mod:`bookbuild.stages.splice`) started on the book's preamble
    while the edited chapter is still being written (the preamble, about 0.75 s, costs
    nothing then): in a folder of its own it reads ``head`` (the book's preamble and
    ``\\begin{document}``, with the book's .aux, ``aux``) and waits at TeX's prompt for the
    rest. ``compile.chapter_splice`` hands it the chapter when the preamble and the .aux are
    still the ones it read (:meth:`ready_for`); else it is killed (:meth:`close`)."""

    def __init__(
        self,
        command: list[str],
        folder: Path,
        env: dict[str, str],
        stem: str,
        head: str,
        aux: bytes,
    ):
        self.head, self.aux = head, aux
        self.tex = folder / f"{stem}.tex"
        self.body = folder / f"{stem}-body.tex"
        (folder / f"{stem}.aux").write_bytes(aux)
        self.tex.write_text(head, encoding="utf-8")
        super().__init__(command, folder, env)

    def ready_for(self, head: str, aux: bytes) -> bool:
        """Whether it read the preamble ``head`` and the .aux ``aux`` the chapter job needs."""
        return self.proc is not None and head == self.head and aux == self.aux

    def run(self, body: str) -> int:
        """Hand it the rest of the job (nonstop from there) and wait for it to finish; if it
        stopped before (killed), its exit code."""
        return self.hand_over(self.body, body)

    def close(self) -> None:
        """Stop the engine if it still runs. Its folder stays (an error message names its
        log) until a later build of another process starts one."""
        self.kill()


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
