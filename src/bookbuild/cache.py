"""The build cache in ``build/.cache``: per-chapter pandoc ASTs and the no-op stamp.

- Entries are keyed by a SHA-256 of everything that shapes them, written atomically
  (temp file + rename) and carry a checksum line, so a corrupted or half-written entry is
  detected and rebuilt, never trusted.
- The cache is bounded: after a build, the least recently used entries beyond
  :data:`MAX_ENTRIES` are pruned. ``bookbuild clean`` removes it all.
- The stamp records a hash of every input of the last successful build (chapters, config,
  every file in the book directory, filters, preamble, bibliography, CSL, tool and bookbuild
  versions); when nothing changed, ``bookbuild pdf`` stops before pandoc or LaTeX run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_SUBDIR = ".cache"
MAX_ENTRIES = 2000
_HEADER = "bookbuild-cache-v1 "


def digest(*parts: bytes | str) -> str:
    """SHA-256 over the parts, each length-prefixed so boundaries cannot collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


class Cache:
    """A folder of checksummed text entries."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / key

    def get(self, kind: str, key: str) -> str | None:
        """The entry's text, or None when absent or corrupted (a corrupted one is removed)."""
        path = self._path(kind, key)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            self.misses += 1
            return None
        header, _, payload = raw.partition("\n")
        if header != _HEADER + digest(payload):
            path.unlink(missing_ok=True)
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: survives pruning
        self.hits += 1
        return payload

    def put(self, kind: str, key: str, payload: str) -> None:
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{_HEADER}{digest(payload)}\n{payload}", encoding="utf-8")
        os.replace(tmp, path)

    def prune(self, max_entries: int = MAX_ENTRIES) -> int:
        """Remove the least recently used entries beyond ``max_entries``; return how many."""
        entries = [p for p in self.folder.glob("*/*/*") if p.is_file()]
        if len(entries) <= max_entries:
            return 0
        entries.sort(key=lambda p: p.stat().st_mtime)
        doomed = entries[: len(entries) - max_entries]
        for path in doomed:
            path.unlink(missing_ok=True)
        return len(doomed)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


# --------------------------------------------------------------------------- no-op stamp


def _file_fingerprint(path: Path) -> str:
    try:
        return digest(str(path), path.read_bytes())
    except OSError:
        return digest(str(path), "missing")


def _tool_fingerprint(path: str | None) -> str:
    """A program by its resolved path, size and mtime (cheaper than asking its version)."""
    if not path:
        return "absent"
    try:
        real = Path(path).resolve()
        stat = real.stat()
        return f"{real}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        return f"{path}:missing"


def book_files(book_dir: Path) -> list[Path]:
    """Every file in the book directory (chapters, images, bibliography …), hidden ones aside."""
    return sorted(
        p
        for p in book_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(book_dir).parts)
    )


def inputs_fingerprint(
    files: Iterable[Path], tools: Iterable[str | None], settings: dict[str, Any]
) -> str:
    """One hash of every input file, every tool, and the build settings."""
    parts = [json.dumps(settings, sort_keys=True, default=str)]
    parts += [_file_fingerprint(p) for p in files]
    parts += [_tool_fingerprint(t) for t in tools]
    return digest(*parts)


def read_stamp(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_stamp(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def pdf_fingerprint(pdf: Path) -> str | None:
    """Size and mtime of a PDF, so a replaced or deleted PDF is rebuilt."""
    try:
        stat = pdf.stat()
    except OSError:
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}"
