"""An engine that prints nothing for minutes is stuck: stopped, and said so.

TeX in an endless macro loop (``\\def\\a{\\a}\\a`` in raw LaTeX or a preamble) prints nothing and
never ends; without a limit, ``bookbuild pdf`` would wait forever. Every engine process
bookbuild waits for (a pass, a chapter job, a warm engine) is watched: when it has printed
nothing for :data:`STALL_SECONDS` its process group is killed and the build fails with
:class:`~bookbuild.errors.EngineStalledError` (the last good PDF is kept, as for any failure).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic
from ..errors import EngineStalledError

#: Seconds an engine may print nothing before it counts as stuck; the environment variable
#: overrides it (a book whose pages take minutes each).
STALL_SECONDS = 300.0
STALL_ENV = "BOOKBUILD_ENGINE_STALL"


def stall_seconds() -> float:
    try:
        return float(os.environ.get(STALL_ENV, STALL_SECONDS))
    except ValueError:
        return STALL_SECONDS


class Watchdog:
    """Kills ``proc``'s process group when nothing was :meth:`heard` from it for too long."""

    def __init__(self, proc: subprocess.Popen[Any], seconds: float | None = None):
        self.proc = proc
        self.seconds = stall_seconds() if seconds is None else seconds
        self.fired = False
        self._last = time.monotonic()
        self._stopped = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def heard(self) -> None:
        """The engine printed something."""
        self._last = time.monotonic()

    def _watch(self) -> None:
        while not self._stopped.wait(min(1.0, self.seconds / 4)):
            if time.monotonic() - self._last > self.seconds and self.proc.poll() is None:
                self.fired = True
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                return

    def check(self, output: list[str] | str = "") -> None:
        """Stop watching; raise :class:`EngineStalledError` if the engine had to be stopped."""
        self._stopped.set()
        if not self.fired:
            return
        name = Path(str(self.proc.args[0] if isinstance(self.proc.args, list) else "engine"))
        message = (
            f"{name.name} printed nothing for {self.seconds:g} s and was stopped: an endless "
            "loop in the book's LaTeX? (the last good PDF is kept)"
        )
        hint = (
            "look for a macro that calls itself in raw LaTeX or the preamble; "
            f"{STALL_ENV}=SECONDS allows a slower pass"
        )
        text = output if isinstance(output, str) else "".join(output)
        raise EngineStalledError(
            message, text, diagnostics=[Diagnostic("error", message, hint=hint)]
        )

    def stop(self) -> None:
        self._stopped.set()
