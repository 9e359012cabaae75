"""Run the pandoc binary from pypandoc-binary: read Markdown into a panflute Doc, write LaTeX."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .errors import PandocError, ToolMissingError

#: Markdown as the manuscript is written: pandoc's markdown with its default extensions.
READER = "markdown"


@dataclass
class PandocResult:
    """Output of one pandoc run and the warnings it printed."""

    text: str
    warnings: list[str] = field(default_factory=list)


@cache
def pandoc_path() -> str:
    """The pandoc executable as an absolute path: pypandoc-binary's, else one on PATH."""
    found = _bundled_pandoc()
    if found is None:
        try:
            import pypandoc

            found = shutil.which(str(pypandoc.get_pandoc_path()))
        except (ImportError, OSError):
            found = shutil.which("pandoc")
    if not found:
        raise ToolMissingError(
            "pandoc not found: install bookbuild's dependencies (pip install -e .)"
        )
    return found


def _bundled_pandoc() -> str | None:
    """pypandoc-binary's pandoc, found without importing pypandoc (which pulls in urllib and
    ssl: a tenth of a no-op build's time)."""
    spec = importlib.util.find_spec("pypandoc")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "files" / "pandoc"
    return str(binary) if binary.is_file() and os.access(binary, os.X_OK) else None


#: GHC runtime options for pandoc's run over the whole book (the LaTeX writer): an old
#: generation of at least 64 MB spares most of its major collections, which were half of its
#: time (300 pages: 1.33 s -> 1.15 s of CPU, the same peak memory, the same output).
WHOLE_BOOK_RTS = ("-O64m",)
#: For every run: the bundled pandoc is built to start with a 64 MB heap (``-H64m``), which a
#: chapter's run never needs; 16 MB takes a chapter's citeproc write from 180 to 130 MB (the
#: same time), so an edit's pandoc, beside the engine already typesetting, stays small.
EVERY_RUN_RTS = ("-H16m",)


def rts_args(options: tuple[str, ...]) -> list[str]:
    """``+RTS options -RTS`` for the bundled pandoc, whose runtime takes them; nothing for
    another pandoc (one built without ``-rtsopts`` would refuse them)."""
    if not options or pandoc_path() != _bundled_pandoc():
        return []
    return ["+RTS", *options, "-RTS"]


def point_panflute_at_pandoc() -> None:
    """panflute looks for pandoc on PATH only, where a fresh machine has none (pandoc comes
    from pypandoc-binary); the filters' ``convert_text`` calls run in this process."""
    import panflute.tools

    panflute.tools.PANDOC_PATH = pandoc_path()


def run_pandoc(
    args: list[str], stdin: str, cwd: Path | None = None, rts: tuple[str, ...] = ()
) -> PandocResult:
    """Run pandoc with ``args`` on ``stdin`` (its runtime given :data:`EVERY_RUN_RTS` and
    ``rts``); raise PandocError with its message on failure."""
    proc = subprocess.run(
        [pandoc_path(), *rts_args((*EVERY_RUN_RTS, *rts)), *args],
        input=stdin.encode("utf-8"),
        capture_output=True,
        cwd=cwd,
    )
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        message = " ".join(err.split()) or f"pandoc exited with code {proc.returncode}"
        raise PandocError(message)
    warnings = [line.strip() for line in err.splitlines() if line.strip()]
    return PandocResult(proc.stdout.decode("utf-8"), warnings)


def read_markdown_json(text: str, cwd: Path | None = None, reader: str = READER) -> PandocResult:
    """Parse Markdown (with its YAML metadata block) into pandoc's JSON (``reader``: pandoc's
    ``--from``, see :mod:`bookbuild.flavours`)."""
    return run_pandoc(["--from", reader, "--to", "json", "--standalone"], text, cwd)


def read_markdown(
    text: str, cwd: Path | None = None, reader: str = READER
) -> tuple[Any, list[str]]:
    """Parse Markdown (with its YAML metadata block) into a panflute Doc."""
    import panflute as pf

    result = read_markdown_json(text, cwd, reader)
    return pf.load(io.StringIO(result.text)), result.warnings


def doc_to_json(doc: Any) -> str:
    """Serialise a panflute Doc to pandoc's JSON."""
    import panflute as pf

    out = io.StringIO()
    pf.dump(doc, out)
    return out.getvalue()


def load_json(doc_json: str) -> Any:
    """A panflute Doc of a document in pandoc's JSON."""
    import panflute as pf

    return pf.load(io.StringIO(doc_json))


def write_format(
    doc: Any, to: str, args: list[str] | None = None, cwd: Path | None = None
) -> PandocResult:
    """Write a panflute Doc with pandoc's ``to`` writer (e.g. ``latex``) and extra ``args``."""
    return run_pandoc(["--from", "json", "--to", to, *(args or [])], doc_to_json(doc), cwd)


def json_metadata(doc: Any) -> dict[str, Any]:
    """The document's metadata as plain JSON (for tests and diagnostics)."""
    return dict(json.loads(doc_to_json(doc)).get("meta", {}))


def plain_text(inlines: list[Any]) -> str:
    """The text of pandoc JSON inlines (enough for headings and titles)."""
    out: list[str] = []
    for inline in inlines:
        kind, content = inline.get("t"), inline.get("c")
        if kind == "Str":
            out.append(content)
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif kind in ("Emph", "Strong", "SmallCaps", "Strikeout", "Underline"):
            out.append(plain_text(content))
        elif kind in ("Span", "Link", "Quoted"):  # [attr or quote type, inlines, …]
            out.append(plain_text(content[1]))
        elif kind in ("Code", "Math"):
            out.append(content[1])
    return "".join(out)
