"""Run the index program between LaTeX passes (makeindex, or upmendex for non-ASCII entries).

A pass writes ``<stem>.idx`` (the ``\\index`` entries with their pages); the program sorts it
into ``<stem>.ind``, which the next pass prints with ``\\printindex``. The engine calls
:func:`update_index` after each pass: the program runs only when the .idx changed (or no .ind
matches it yet), as a plain subprocess in the work directory: LaTeX itself never gets shell
escape. For the "settled" rule the .idx counts through the .ind it produces: a pass that
rewrites the .idx with the same entries, or entries that sort to the same .ind, costs no
further pass.

When bookbuild runs the passes itself, each pass also sorts its own index as it prints it
(:class:`IndexSync`), so the index costs no second pass: a cold xelatex build of a book with
an index still takes the one pass of :mod:`bookbuild.stages.onepass`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
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


# ------------------------------------------------------------------ the index in the same pass

#: Read before the book (with the one-pass helper, if any) when the book prints an index.
HELPER = "bookbuild-index.ltx"
#: The line the pass prints when its .idx is complete and closed, and waits for the .ind.
SORT_LINE = "bookbuild-index: sort"
#: The line the pass prints when an ``\\index`` comes after the index was sorted (an entry in
#: a heading, written again by the contents typeset after it): that pass's .idx lacks it.
LATE_LINE = "bookbuild-index: an entry after the index"


def wants_sync(tex: str, engine: str) -> bool:
    """Whether the pass should sort its index itself: the book prints an index, the engine is
    one bookbuild runs pass by pass, and ``BOOKBUILD_TWO_PASS`` is not set (comparisons)."""
    return (
        engine != "tectonic" and "\\printindex" in tex and not os.environ.get("BOOKBUILD_TWO_PASS")
    )


@dataclass
class IndexSync:
    """One pass's conversation with bookbuild about its index.

    ``\\printindex`` (patched by :data:`HELPER_TEX`) first clears the page, so every page with
    an ``\\index`` write has been shipped out; it closes the .idx, prints :data:`SORT_LINE` and
    reads a line from the terminal (its standard input, a pipe from bookbuild; for that one
    read the pass is in scroll mode, as nonstop mode forbids terminal reads). bookbuild sorts
    the complete .idx (:meth:`on_line`) and answers; the pass goes on and prints the fresh
    .ind. If bookbuild goes away, the read meets the end of its input and TeX stops with an
    error: the pass never waits for ever. No file, pipe or shell escape is involved.
    """

    workdir: Path
    stem: str
    before: dict[Path, bytes]
    env: dict[str, str]
    sorted_idx: bytes | None = None  # the .idx the pass sorted, and the .ind it then read
    printed_ind: bytes | None = None
    program: str | None = None
    late: bool = False
    seconds: float = 0.0

    def on_line(self, line: str) -> str | None:
        """Read a line of the engine's output; return the answer to write to its input."""
        # A line of its own (``\\typeout`` starts one), matched anywhere in it all the same:
        # a line missed would leave the pass waiting for an answer.
        if LATE_LINE in line:
            self.late = True
        if SORT_LINE not in line or self.sorted_idx is not None:
            return None
        start = time.perf_counter()
        idx = self.workdir / f"{self.stem}.idx"
        data = idx.read_bytes() if idx.is_file() else b""
        self.program = update_index(self.workdir, self.stem, self.before, self.env)
        ind = self.workdir / f"{self.stem}.ind"
        self.sorted_idx = data
        self.printed_ind = ind.read_bytes() if ind.is_file() else b""
        self.seconds = time.perf_counter() - start
        return "ok"

    def settled_index(self) -> bool:
        """True when the pass printed the index of all its entries: it sorted the .idx as
        the pass left it, nothing was indexed after that, and the .ind is the one it read."""
        if self.sorted_idx is None or self.late:
            return False
        idx = self.workdir / f"{self.stem}.idx"
        ind = self.workdir / f"{self.stem}.ind"
        return (
            idx.is_file()
            and idx.read_bytes() == self.sorted_idx
            and ind.is_file()
            and ind.read_bytes() == self.printed_ind
        )

    def as_before(self) -> dict[Path, bytes]:
        """The files before the pass as the settled rule should see them: the .idx and .ind
        the pass sorted and printed."""
        assert self.sorted_idx is not None and self.printed_ind is not None
        return {
            **self.before,
            self.workdir / f"{self.stem}.idx": self.sorted_idx,
            self.workdir / f"{self.stem}.ind": self.printed_ind,
        }


#: ``\\printindex`` sorts its index in the pass (see :class:`IndexSync`). imakeidx's own
#: ``\\printindex`` then clears the page again (a no-op) and inputs the .ind.
HELPER_TEX = r"""% bookbuild: the index sorted in the pass that prints it (see indexprog.py).
\makeatletter
\AtBeginDocument{\@ifundefined{printindex}{}{%
  \global\let\bbix@printindex\printindex
  \gdef\printindex{\bbix@sort\bbix@printindex}}}
\def\bbix@sort{%
  \ifx\bbix@sorted\relax\else\@ifundefined{\jobname @idxfile}{}{%
    \global\let\bbix@sorted\relax
    \imki@clearpage
    \immediate\closeout\csname\jobname @idxfile\endcsname
    \global\let\imki@wrindexentrysplit\bbix@late
    \begingroup
      \edef\bbix@mode{\the\interactionmode}%
      \interactionmode=2
      \typeout{bookbuild-index: sort}%
      \endlinechar=-1
      \global\read-1 to\bbix@answer
      \interactionmode=\bbix@mode\relax
    \endgroup}%
  \fi}
\def\bbix@late#1#2#3{\typeout{bookbuild-index: an entry after the index}}
\makeatother
"""
