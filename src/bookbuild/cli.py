"""The ``bookbuild`` command line: a thin layer over :mod:`bookbuild.build`."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import ENGINES

EXIT_CODES = """\b
Exit codes:
  0  ok
  1  build failed (pandoc, a filter or LaTeX reported an error)
  2  usage error (unknown option or command)
  3  configuration invalid (book.yaml)
  4  engine or tool missing (the message names what to install)
  5  warnings under --strict"""

ENGINE_CHOICES = click.Choice(ENGINES)


def book_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--book",
        type=click.Path(path_type=Path, exists=True),
        default=None,
        help="Book directory or its book.yaml (default: nearest book/book.yaml upward).",
    )(func)


def output_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=help_text,
    )


def set_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--set",
        "settings",
        multiple=True,
        metavar="KEY=VALUE",
        help="Set a metadata key for this build (repeatable), e.g. an edition: "
        "--set solutions=none.",
    )(func)


def noise_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("-q", "--quiet", is_flag=True, help="Print errors only.")(func)
    return click.option("-v", "--verbose", is_flag=True, help="Show the engine's output.")(func)


def github_annotations() -> bool:
    """Print ``::error file=…`` lines too: on GitHub Actions under CI."""
    return os.environ.get("CI") == "true" and os.environ.get("GITHUB_ACTIONS") == "true"


@contextlib.contextmanager
def reported_errors(verbose: bool) -> Iterator[None]:
    """Show library errors with details under -v, annotations on CI; Ctrl-C exits 130."""
    from .errors import BookbuildError

    try:
        yield
    except BookbuildError as exc:
        exc.verbose = verbose
        if github_annotations():
            for diagnostic in exc.diagnostics:
                click.echo(diagnostic.github())
        raise
    except KeyboardInterrupt:
        click.echo("interrupted: the previous PDF is unchanged", err=True)
        raise click.exceptions.Exit(130) from None


def _load(book: Path | None, engine: str | None = None) -> Any:
    from .books import config_path_for, load_config
    from .config import with_engine

    return with_engine(load_config(config_path_for(book)), engine)


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from .builddir import output_errors

    with output_errors(output):
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bookbuild")
def cli() -> None:
    """Build a book of Markdown chapters into a printable PDF.

    Reads book/book.yaml, assembles the chapters in order, runs the book's filters,
    and hands the document to pandoc and a LaTeX engine.
    """


@cli.command(epilog=EXIT_CODES)
@book_option
@output_option("PDF to write (default: build/book.pdf, from book.yaml).")
@click.option(
    "--engine",
    type=ENGINE_CHOICES,
    default=None,
    help="LaTeX engine (default: build.engine in book.yaml, xelatex).",
)
@click.option("--strict", is_flag=True, help="Fail (exit 5) when there are warnings.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write a machine-readable build report (stages, warnings, errors) to this file.",
)
@click.option(
    "--chapter",
    "chapters",
    multiple=True,
    metavar="SEL",
    help="Preview only this chapter (number, file stem or title fragment; repeatable): "
    "build/preview/<stem>.pdf, numbered as in the book.",
)
@set_option
@noise_options
def pdf(
    book: Path | None,
    output: Path | None,
    engine: str | None,
    strict: bool,
    json_path: Path | None,
    chapters: tuple[str, ...],
    settings: tuple[str, ...],
    quiet: bool,
    verbose: bool,
) -> None:
    """Build the book's PDF.

    \b
    Example:
      bookbuild pdf                      # book/book.yaml -> build/book.pdf
      bookbuild pdf --engine pdflatex -o /tmp/book.pdf
      bookbuild pdf --chapter 5          # build/preview/math.pdf
      bookbuild pdf --chapter workflows --chapter algorithms
      bookbuild pdf --set solutions=none -o build/student.pdf
    """
    from .build import build, write_report
    from .editions import with_settings
    from .errors import BookbuildError
    from .progress import Progress

    progress = Progress(quiet=quiet, verbose=verbose, annotate=github_annotations())
    with reported_errors(verbose):
        try:
            config = with_settings(_load(book, engine), settings)
            target = output or config.pdf_path
            if not quiet:  # a layout book: what it holds that the PDF leaves out
                from .layouts.shape import layout_notes

                for note in layout_notes(config):
                    click.echo(note, err=True)
            if chapters:
                from .preview import preview

                result = preview(config, list(chapters), progress, output=output, strict=strict)
                target = result.pdf
            else:
                result = build(config, output=output, progress=progress, strict=strict)
        except BookbuildError as exc:
            if json_path:
                write_report(json_path, progress, None, exc, None)
            raise
    if json_path:
        write_report(json_path, progress, result, None, target)


@cli.command(epilog=EXIT_CODES)
@book_option
@output_option("File to write (default: standard output).")
@click.option("--engine", type=ENGINE_CHOICES, default=None, help="Engine the LaTeX is for.")
@set_option
@noise_options
def tex(
    book: Path | None,
    output: Path | None,
    engine: str | None,
    settings: tuple[str, ...],
    quiet: bool,
    verbose: bool,
) -> None:
    """Write exactly the LaTeX that `bookbuild pdf` compiles.

    \b
    Example:
      bookbuild tex -o build/book.tex
    """
    from .build import make_latex
    from .editions import with_settings
    from .progress import Progress

    with reported_errors(verbose):
        config = with_settings(_load(book, engine), settings)
        latex, _, _ = make_latex(config, Progress(quiet=quiet or output is None, verbose=verbose))
    _write_text(latex, output)


@cli.command(epilog=EXIT_CODES)
@book_option
@output_option("File to write (default: standard output).")
def md(book: Path | None, output: Path | None) -> None:
    """Write the assembled book as one Markdown file (metadata + chapters).

    \b
    Example:
      bookbuild md -o build/book.md
    """
    from .stages.assemble import assemble_markdown, chapter_texts

    with reported_errors(verbose=False):
        config = _load(book)
        markdown = assemble_markdown(config, chapter_texts(config))
    _write_text(markdown, output)


@cli.command(epilog=EXIT_CODES)
@book_option
@click.option("--strict", is_flag=True, help="Fail (exit 5) when there are warnings.")
def check(book: Path | None, strict: bool) -> None:
    """Check the book for mistakes without running LaTeX (in well under a second).

    Prints one `file:line: error|warning|info: message` line per finding, then a
    summary. Info lines (empty sections, uncited entries) never fail.

    \b
    Example:
      bookbuild check
      bookbuild check --strict           # warnings fail too (exit 5)
    """
    from .check import check as run_check

    report = run_check(book)
    for diagnostic in report.diagnostics:
        click.echo(diagnostic.format())
    click.echo(report.summary(strict))
    sys.exit(report.exit_code(strict))


@cli.command(epilog=EXIT_CODES)
@book_option
@click.option(
    "--chapter",
    "chapters",
    multiple=True,
    metavar="SEL",
    help="Rebuild only this chapter's preview (as in `pdf --chapter`; repeatable).",
)
@click.option("--engine", type=ENGINE_CHOICES, default=None, help="LaTeX engine.")
@click.option("-v", "--verbose", is_flag=True, help="Show every stage and the engine's output.")
def watch(book: Path | None, chapters: tuple[str, ...], engine: str | None, verbose: bool) -> None:
    """Build once, then rebuild on every save (Ctrl-C stops, exit 0).

    Watches the chapters, book.yaml, the bibliography, images, the preamble and the
    filters. One status line per rebuild; a broken edit prints its error and keeps
    watching.

    \b
    Example:
      bookbuild watch
      bookbuild watch --chapter math     # only build/preview/math.pdf
    """
    from .books import config_path_for
    from .watch import WatchSettings, watch_book

    with reported_errors(verbose):
        settings = WatchSettings(
            config_path_for(book).absolute(), engine, list(chapters), sys.stderr, verbose
        )
    try:
        watch_book(settings)
    except KeyboardInterrupt:
        click.echo("stopped watching", err=True)


@cli.command(epilog=EXIT_CODES)
@book_option
def clean(book: Path | None) -> None:
    """Remove the build cache and the engines' working files (PDFs stay).

    \b
    Example:
      bookbuild clean
    """
    from .builddir import clean as clean_build
    from .paths import display_path

    with reported_errors(verbose=False):
        removed = clean_build(_load(book))
    for folder in removed:
        click.echo(f"removed {display_path(folder)}")


@cli.command(epilog=EXIT_CODES)
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option(
    "--from",
    "from_layout",
    is_flag=True,
    help="Write FOLDER/book.yaml for the GitBook, mdBook, bookdown or Quarto book there.",
)
def init(folder: Path, from_layout: bool) -> None:
    """Start a new book in FOLDER (default: here), or with --from describe a layout book.

    Never overwrites a file.

    \b
    Example:
      bookbuild init mybook && bookbuild pdf --book mybook
      bookbuild init --from ./rust-book     # book.yaml saying `from: book.toml`
    """
    from .layouts.init import init_book, init_from
    from .paths import display_path

    with reported_errors(verbose=False):
        written = init_from(folder) if from_layout else init_book(folder)
    for path in written:
        click.echo(f"wrote {display_path(path)}")


def main() -> None:
    cli(prog_name="bookbuild")


if __name__ == "__main__":
    main()
