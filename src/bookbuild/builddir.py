"""The build directory: the engines' work folders, their locks, installing a PDF, cleaning,
and the one-line error any OSError there becomes.

``build/`` holds ``.cache/`` (see :mod:`bookbuild.cache`), one work folder per engine
(``.xelatex/`` …), ``preview/`` and the PDFs. A PDF is copied next to its target and renamed
into place, so a failed build never leaves a half-written PDF.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from .cache import CACHE_SUBDIR
from .config import ENGINES, BookConfig
from .errors import OutputError
from .paths import display_path


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds it (its time stamp then stays)."""
    if path.is_file() and path.read_text(encoding="utf-8", errors="replace") == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True


def install_pdf(built: Path, target: Path) -> None:
    """Copy the engine's PDF next to ``target`` and rename it into place (atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with built.open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def work_dir(config: BookConfig) -> Path:
    """Where the engine keeps its working files between runs: one folder per engine."""
    return config.build_dir / f".{config.engine}"


@contextlib.contextmanager
def build_lock(workdir: Path) -> Iterator[None]:
    """One engine run per work directory at a time (a watch and a make book may overlap)."""
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clean(config: BookConfig) -> list[Path]:
    """Remove the cache and the engines' working files (the PDFs stay); return what went."""
    removed = []
    for folder in [config.build_dir / CACHE_SUBDIR, *(config.build_dir / f".{e}" for e in ENGINES)]:
        if folder.is_dir():
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


def _advice(exc: OSError) -> str:
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "remove or rename it: the build needs a folder there"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "make it writable, or write elsewhere (--output, build.output in book.yaml)"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full: free some space and build again"
    if exc.errno == errno.EISDIR:
        return "a folder stands where a file is written: remove or rename it"
    return "check the path and its permissions"


def _culprit(path: Path) -> Path:
    """The file that stands where a folder of ``path`` should be, else ``path``."""
    for parent in reversed(path.parents):
        if parent.is_file():
            return parent
    return path


def output_error(exc: OSError, writing: Path | None = None) -> OutputError:
    """The one-line error for an OSError in the build directory: the path and what to do
    (``writing``: the file being written, when the error does not name one)."""
    name = exc.filename2 if exc.filename2 is not None else exc.filename
    path = Path(os.fsdecode(name)) if name is not None else writing
    if path is None:
        return OutputError(f"build failed: {exc.strerror or exc}; {_advice(exc)}")
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        path, reason = _culprit(path), "a file, not a folder"
    return OutputError(f"{reason}; {_advice(exc)}", file=display_path(path))


@contextlib.contextmanager
def output_errors(writing: Path | None = None) -> Iterator[None]:
    """Turn an OSError in the body (writing the build directory or an output file,
    ``writing``) into :class:`~bookbuild.errors.OutputError`: one line, exit 1, no traceback."""
    try:
        yield
    except OSError as exc:
        raise output_error(exc, writing) from None
