"""A layout book as the :class:`~bookbuild.config.BookConfig` every command uses.

Without a ``book.yaml`` the layout says everything; a ``book.yaml`` beside it that names it
(``from: SUMMARY.md``, ``from: _quarto.yml`` …) adds or overrides ``metadata`` and ``build``
keys, so the upstream files stay untouched. The build directory is ``DIR/build/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..config import (
    BUILD,
    BookConfig,
    Chapter,
    _check_filters,
    _check_metadata,
    _check_section,
    _parse_yaml,
    _Problems,
)
from ..diagnostics import Diagnostic
from ..errors import ConfigError
from ..filters import DEFAULT_FILTERS, resolve_filter
from . import BookTree, layout_of, read_tree
from .shape import plan

#: book.yaml keys allowed beside ``from:`` (the chapters come from the layout).
FROM_KEYS = ("from", "metadata", "build")
#: The two settings the layouts set (declared in BookConfig; book.yaml may override them).
LAYOUT_BUILD_KEYS = ("markdown", "note_scope")


def layout_defaults(tree: BookTree) -> dict[str, Any]:
    """A printed book's defaults: contents and numbered chapters, as the source tools do."""
    defaults: dict[str, Any] = {"toc": True, "numbersections": True}
    if tree.shift_headings:  # the contents show the whole tree
        depth = max((e.depth for e in tree.entries), default=1)
        defaults["toc-depth"] = max(2, min(depth, 5))
    return defaults


def load_layout_config(path: Path) -> BookConfig:
    """The config of the layout book whose layout file (or ``book.yaml`` with ``from:``) is
    ``path``; ConfigError with every problem, each at its file and line (exit 3)."""
    path = path.absolute()
    overrides: dict[str, Any] = {}
    lines: dict[tuple[Any, ...], int] = {}
    config_path = path
    if layout_of(path) is None:  # a book.yaml naming its layout
        data, lines = _parse_yaml(path)
        overrides = data if isinstance(data, dict) else {}
        problems = _Problems(path, lines)
        name = overrides.get("from")
        if not isinstance(name, str) or layout_of(Path(name)) is None:
            problems.add(
                ("from",),
                f"'from': {name!r} is not a layout file (SUMMARY.md, book.toml, book.json, "
                "_bookdown.yml, _quarto.yml or index.Rmd)",
            )
            raise ConfigError(problems.items)
        layout_file = path.parent / name
        if not layout_file.is_file():
            problems.add(("from",), f"'from': '{name}' not found beside {path.name}")
            raise ConfigError(problems.items)
        if Path(name).name == "SUMMARY.md" and (path.parent / "book.json").is_file():
            layout_file = path.parent / "book.json"
        if Path(name).parent != Path("."):  # src/SUMMARY.md of an mdBook
            toml = path.parent / "book.toml"
            layout_file = toml if toml.is_file() else layout_file
        tree = read_tree(layout_file)
    else:
        tree = read_tree(path)
    problems = _Problems(config_path, lines)
    for key in overrides:
        if key not in FROM_KEYS:
            hint = (
                "the chapters come from the layout; edit it, or drop 'from:'"
                if key == "chapters"
                else f"allowed beside 'from': {', '.join(FROM_KEYS)}"
            )
            problems.add((key,), f"'{key}': not allowed with 'from' ({hint})")
    metadata_over = overrides.get("metadata") or {}
    if not isinstance(metadata_over, dict):
        problems.add(("metadata",), "'metadata': expected a mapping beside 'from'")
        metadata_over = {}
    merged = {**layout_defaults(tree), **tree.metadata, **metadata_over}
    metadata, csl_path, bibliography = _check_metadata(
        merged, tree.book_dir, problems, ("metadata",)
    )
    build_over = dict(overrides.get("build") or {})
    layout_settings = {"markdown": tree.markdown, "note_scope": tree.note_scope}
    for key in LAYOUT_BUILD_KEYS:
        if key in build_over and key not in BUILD:
            layout_settings[key] = str(build_over.pop(key))
    build = _check_section(build_over, BUILD, ("build",), problems)
    for key in LAYOUT_BUILD_KEYS:
        if key in BUILD and key not in (overrides.get("build") or {}):
            build[key] = layout_settings[key]
    names = build["filters"]
    if "filters" not in build_over:
        names = [*DEFAULT_FILTERS] + [
            f for f in tree.extra_filters if resolve_filter(f, tree.book_dir) is not None
        ]
    filters = _check_filters(names, tree.book_dir, problems)
    preamble: list[Path] = []
    value = build["preamble"]
    for index, name in enumerate([value] if isinstance(value, str) else value):
        file = tree.book_dir / str(name)
        if file.is_file():
            preamble.append(file.resolve())
        else:
            problems.add(("build", "preamble", index), f"preamble file '{name}' not found")
    if problems.items:
        raise ConfigError(problems.items)
    build_dir_name = build_over.get("build_dir", "build")
    chapters = [
        Chapter(path=e.path, name=e.path.relative_to(tree.book_dir).as_posix(), line=e.line)
        for e in tree.files
        if e.path is not None
    ]
    if not chapters:
        raise ConfigError([Diagnostic("error", "the layout lists no chapter files")])
    config = BookConfig(
        config_path=config_path,
        book_dir=tree.book_dir,
        chapters=chapters,
        metadata=metadata,
        engine=build["engine"],
        output=build["output"],
        build_dir=Path(os.path.normpath(tree.book_dir / build_dir_name)),
        filters=filters,
        preamble=preamble,
        csl_path=csl_path,
        bibliography=bibliography,
    )
    config.markdown = build.get("markdown", layout_settings["markdown"])
    config.note_scope = build.get("note_scope", layout_settings["note_scope"])
    config.layout = plan(tree)
    return config
