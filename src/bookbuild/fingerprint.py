"""Fingerprints of a build's inputs, and the stamps that hold them.

- The no-op stamp records a hash of every input of the last successful build (chapters,
  config, every file in the book directory, filters, preamble, bibliography, CSL, tool and
  bookbuild versions); when nothing changed, ``bookbuild pdf`` stops before pandoc or LaTeX.
- The settings fingerprint is the same without the chapters' texts: while it holds, a
  chapter edit can be rebuilt alone (see :mod:`bookbuild.incremental`).
- A tool is fingerprinted by its resolved path, size and mtime (:func:`tool_fingerprint`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .cache import digest
from .config import BookConfig
from .pandoc import pandoc_path


def _file_fingerprint(path: Path) -> str:
    try:
        return digest(str(path), path.read_bytes())
    except OSError:
        return digest(str(path), "missing")


def tool_fingerprint(path: str | None) -> str:
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
    parts += [tool_fingerprint(t) for t in tools]
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


def panflute_path() -> str | None:
    """panflute's package file, found without importing it: its stat stands for its version."""
    spec = importlib.util.find_spec("panflute")
    return spec.origin if spec is not None else None


def input_files(config: BookConfig, chapters: bool = True) -> list[Path]:
    """Every file a build reads: the book directory's (with or without the chapters), the
    config, preamble, filters (and their ``_*.py`` helpers), bibliography, CSL style, and
    bookbuild's own code."""
    skipped = set() if chapters else {c.path for c in config.chapters}
    files = {
        *(
            p
            for p in book_files(config.book_dir)
            if p not in skipped and not p.is_relative_to(config.build_dir)  # DIR/build/
        ),
        config.config_path,
        *config.preamble,
        *config.filters,
        *(helper for f in config.filters for helper in f.parent.glob("_*.py")),  # _filterlib
        *config.bibliography,
        *([config.csl_path] if config.csl_path else []),
        *Path(__file__).parent.rglob("*.py"),
        *Path(__file__).parent.rglob("*.lua"),
    }
    return sorted(files)


def settings_fingerprint(config: BookConfig) -> str:
    """A hash of every input of the .tex but the chapters' texts: while it holds, a chapter
    edit can be rebuilt alone (see :mod:`bookbuild.incremental`)."""
    tools = [pandoc_path(), panflute_path()]
    return inputs_fingerprint(input_files(config, chapters=False), tools, {"chapters": "aside"})


def build_fingerprint(config: BookConfig, target: Path, programs: list[str]) -> str:
    """A hash of every input of a build (``programs``: the engine's): when it matches the
    last build's, nothing changed."""
    engines = [shutil.which(p) for p in programs]
    tools = [pandoc_path(), panflute_path(), *engines]
    settings = {"engine": config.engine, "target": str(target.absolute())}
    settings["metadata"] = json.dumps(config.metadata, sort_keys=True, default=str)  # --set
    return inputs_fingerprint(input_files(config), tools, settings)
