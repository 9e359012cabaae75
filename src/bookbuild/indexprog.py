"""Run the index program between LaTeX passes (makeindex, or upmendex for non-ASCII entries).

A pass writes ``<stem>.idx`` (the ``\\index`` entries with their pages); the program sorts it
into ``<stem>.ind``, which the next pass prints with ``\\printindex``. The engine calls
:func:`update_index` after each pass: the program runs only when the .idx changed (or no .ind
matches it yet), as a plain subprocess in the work directory: LaTeX itself never gets shell
escape. For the "settled" rule the .idx counts through the .ind it produces: a pass that
rewrites the .idx with the same entries, or entries that sort to the same .ind, costs no
further pass.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .errors import ToolMissingError

#: Files of the index program that the settled rule looks at through the .ind instead.
INDEX_SIDE_FILES = {".idx", ".ilg"}


def index_program(idx: bytes) -> list[str]:
    """The command that sorts this .idx: upmendex (Unicode-aware) when an entry is not ASCII
    and upmendex exists, else makeindex."""
    if not idx.isascii() and shutil.which("upmendex"):
        return ["upmendex", "-q"]
    return ["makeindex", "-q"]


def update_index(
    workdir: Path, stem: str, before: dict[Path, bytes], env: dict[str, str]
) -> str | None:
    """Sort ``<stem>.idx`` into ``<stem>.ind`` when the pass changed it; return the program
    run (for the progress line), or None when nothing needed to run."""
    idx = workdir / f"{stem}.idx"
    ind = workdir / f"{stem}.ind"
    if not idx.is_file():
        return None
    data = idx.read_bytes()
    if before.get(idx) == data and ind.is_file():
        return None
    command = index_program(data)
    if shutil.which(command[0]) is None:
        raise ToolMissingError(
            f"{command[0]} not found: the book has an index; install texlive-binaries"
        )
    subprocess.run(
        [*command, idx.name],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,  # problems are in the .ilg; an unsorted entry must not stop the book
    )
    return command[0]
