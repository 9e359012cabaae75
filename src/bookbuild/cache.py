"""The build cache in ``build/.cache``: per-chapter pandoc ASTs, the book state of chapter
rebuilds and the no-op stamps (see :mod:`bookbuild.fingerprint`).

- Entries are keyed by a SHA-256 of everything that shapes them, written atomically
  (temp file + rename) and carry a checksum line, so a corrupted or half-written entry is
  detected and rebuilt, never trusted.
- The cache is bounded: after a build, the least recently used entries beyond
  :data:`MAX_ENTRIES` are pruned. ``bookbuild clean`` removes it all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

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
