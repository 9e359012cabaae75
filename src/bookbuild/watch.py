"""``bookbuild watch``: build once, then rebuild on every save.

Watches the book directory (chapters, book.yaml, bibliography, images), the preamble files'
folders and the filters' folders. One status line per rebuild: what changed, OK or failed,
seconds. A failed rebuild prints its error and keeps watching; the next good save recovers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .books import load_config
from .build import build
from .config import BookConfig, with_engine
from .errors import BookbuildError
from .paths import display_path
from .progress import Progress


@dataclass
class WatchSettings:
    """What to rebuild and where to report."""

    config_path: Path
    engine: str | None
    chapters: list[str]
    stream: TextIO
    verbose: bool = False


def watched_paths(config: BookConfig) -> list[Path]:
    """Folders whose files make the book: the book dir, the preamble's and filters' folders."""
    folders = [
        config.book_dir,
        *(p.parent for p in config.preamble),
        *(p.parent for p in config.filters),
    ]
    unique: list[Path] = []
    for folder in folders:
        folder = folder.resolve()
        if folder not in unique:
            unique.append(folder)
    return unique


def _relevant(build_dir: Path) -> Callable[[object, str], bool]:
    """A watchfiles filter: not the build output, not editor droppings or hidden files."""
    from watchfiles import DefaultFilter

    default = DefaultFilter()
    build_dir = build_dir.resolve()

    def keep(change: object, path: str) -> bool:
        file = Path(path)
        if build_dir == file or build_dir in file.parents:
            return False
        if file.name.startswith((".", "#")) or file.name.endswith("~"):
            return False
        return bool(default(change, path))  # type: ignore[arg-type]

    return keep


def rebuild(settings: WatchSettings) -> tuple[bool, float, Path | None]:
    """One build (or preview) with errors printed; (ok, seconds, pdf)."""
    start = time.perf_counter()
    progress = Progress(
        quiet=not settings.verbose, verbose=settings.verbose, stream=settings.stream
    )
    try:
        config = with_engine(load_config(settings.config_path), settings.engine)
        if settings.chapters:
            from .preview import preview

            result = preview(config, settings.chapters, progress)
        else:
            result = build(config, progress=progress)
    except BookbuildError as exc:
        exc.verbose = settings.verbose
        exc.show(settings.stream)
        return False, time.perf_counter() - start, None
    return True, time.perf_counter() - start, result.pdf


def status(stream: TextIO, what: str, ok: bool, seconds: float, pdf: Path | None) -> None:
    clock = time.strftime("%H:%M:%S")
    outcome = (
        f"OK {seconds:.2f} s -> {display_path(pdf)}"
        if ok and pdf
        else (f"failed {seconds:.2f} s (still watching)")
    )
    print(f"[{clock}] {what}: {outcome}", file=stream, flush=True)


def changes(folders: list[Path], build_dir: Path) -> Iterator[list[str]]:
    """Batches of changed file names (relative to the working dir), as files are saved."""
    from watchfiles import watch

    for batch in watch(*folders, watch_filter=_relevant(build_dir), debounce=300, step=50):
        # an editor's temporary file, created and gone in one batch, is not news
        names = {display_path(Path(p)) for _, p in batch if Path(p).exists() or Path(p).suffix}
        if names:
            yield sorted(names)


def _watchable(settings: WatchSettings) -> list[Path]:
    """The folders to watch; just the config's folder while book.yaml is invalid."""
    try:
        return watched_paths(load_config(settings.config_path))
    except BookbuildError:
        return [settings.config_path.parent.resolve()]


def watch_book(settings: WatchSettings) -> None:
    """Build, then rebuild on every change until Ctrl-C (KeyboardInterrupt) stops it."""
    ok, seconds, pdf = rebuild(settings)
    status(settings.stream, "first build", ok, seconds, pdf)
    build_dir = settings.config_path.parent / "../build"
    with_config = _config_or_none(settings)
    if with_config is not None:
        build_dir = with_config.build_dir
    while True:
        folders = _watchable(settings)
        print(
            f"watching {', '.join(display_path(p) for p in folders)} (Ctrl-C to stop)",
            file=settings.stream,
            flush=True,
        )
        for changed in changes(folders, build_dir):
            what = ", ".join(changed[:3]) + (
                f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            )
            ok, seconds, pdf = rebuild(settings)
            status(settings.stream, f"{what} changed", ok, seconds, pdf)
            if _watchable(settings) != folders:
                break  # book.yaml named new folders (a preamble, a filter): watch those too


def _config_or_none(settings: WatchSettings) -> BookConfig | None:
    try:
        return load_config(settings.config_path)
    except BookbuildError:
        return None
