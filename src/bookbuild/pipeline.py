"""The chapter pipeline: chapters in pandoc JSON -> their LaTeX (transform, then write).

The full build, a chapter rebuild and a preview all typeset through :func:`typeset`: the
book's document, a chapter alone in the book's context, or the previewed chapters.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .config import BookConfig
from .diagnostics import Diagnostic
from .progress import Progress
from .stages.transform import Document, Transformed, transform
from .stages.write import write_latex


@dataclass
class Typeset:
    """A document's LaTeX, the JSON it was written from, and the warnings on the way."""

    tex: str
    transformed: Transformed
    warnings: list[Diagnostic]  # the filters', then the writer's


def typeset(
    documents: list[Document],
    config: BookConfig,
    modules: list[Any],
    *,
    progress: Progress | None = None,
    before_write: Callable[[Transformed], dict[str, Any]] | None = None,
    citeproc: bool = True,
    writer_args: Sequence[str] = (),
) -> list[Typeset]:
    """Each document's LaTeX: transformed, then written by pandoc, one after the other.
    ``before_write`` may give the JSON to write instead of the transformed one (the
    citations around a chapter written alone; a preview's earlier citations), and
    ``writer_args`` more options for the writer's run (a preview's citeproc and filter)."""
    with _stage(progress, "filters", ", ".join(p.stem for p in config.filters)):
        done = [transform(document, config, modules) for document in documents]
    to_write = [json.dumps(before_write(t)) if before_write else t.text for t in done]

    def write(index: int) -> tuple[str, list[Diagnostic]]:
        return write_latex(to_write[index], config, documents[index].sources, citeproc, writer_args)

    with _stage(progress, "latex"):
        # one pandoc at a time: an edit's chapter job is already typesetting beside it, and
        # two more writers would take the build's memory past 400 MB at 300 pages
        written = [write(index) for index in range(len(documents))]
    return [
        Typeset(tex, t, [*t.warnings, *warnings])
        for t, (tex, warnings) in zip(done, written, strict=True)
    ]


@contextlib.contextmanager
def _stage(progress: Progress | None, name: str, detail: str = "") -> Iterator[None]:
    if progress is None:
        yield
    else:
        with progress.stage(name, detail):
            yield
