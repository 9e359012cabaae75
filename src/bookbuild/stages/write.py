"""Stage 4, write: pandoc's LaTeX writer (with citeproc), the one place it is called."""

from __future__ import annotations

from collections.abc import Sequence

from ..chapter_bibliography import per_chapter
from ..config import BookConfig
from ..diagnostics import Diagnostic, SourceText, pandoc_diagnostic
from ..errors import PandocError
from ..pandoc import WHOLE_BOOK_RTS, run_pandoc


def latex_args(config: BookConfig, citeproc: bool = True) -> list[str]:
    """pandoc's LaTeX writer options: a standalone report-class document, chapters on top;
    citeproc when the book has a bibliography or style (``citeproc``: unless done before)."""
    args = ["--standalone", "--top-level-division=chapter", f"--resource-path={config.book_dir}"]
    if (
        citeproc
        and not per_chapter(config)  # per-chapter lists: citeproc ran in finish_metadata
        and config.metadata.get("citeproc", True)
        and (config.bibliography or config.csl_path)
    ):
        args.append("--citeproc")
    return args


def write_latex(
    doc_json: str,
    config: BookConfig,
    sources: dict[str, SourceText],
    citeproc: bool = True,
    extra_args: Sequence[str] = (),
) -> tuple[str, list[Diagnostic]]:
    """The LaTeX of a document in pandoc JSON, and pandoc's warnings located in ``sources``;
    ``extra_args`` after the writer's own options (filters run in their order)."""
    args = ["--from", "json", "--to", "latex"]
    try:
        result = run_pandoc(
            [*args, *latex_args(config, citeproc), *extra_args],
            doc_json,
            cwd=config.book_dir,
            rts=WHOLE_BOOK_RTS,
        )
    except PandocError as exc:
        located = pandoc_diagnostic(exc.diagnostics[0].message, "error", sources)
        raise PandocError(located.message, diagnostics=[located]) from None
    return result.text, [pandoc_diagnostic(w, "warning", sources) for w in result.warnings]
