"""Find, load and run panflute filters in-process.

A filter is a module in ``filters/`` with ``prepare``/``action``/``finalize`` and
``main(doc=None)``; the same file works as ``pandoc --filter filters/NAME.py``.
bookbuild imports it by path and calls ``main(doc)`` on the document it already holds,
so no subprocess or JSON round trip is paid per filter.

Contract between bookbuild and the filters:
- ``doc.format`` is the output format (``latex``, ``html`` ...).
- Before each chapter's blocks the assembled document holds a RawBlock (format ``html``)
  ``<!-- bookbuild:chapter PATH -->`` naming the chapter file, so a filter can say where a
  problem is: ``_filterlib.chapter_label(block)`` reads it (see :mod:`bookbuild.markers`).
- Warnings: a filter appends one-line messages to ``doc.bookbuild_warnings`` when that list
  exists (in-process) and prints them to stderr otherwise.
- Author errors (a label defined twice ...) are raised as ``ValueError`` subclasses; bookbuild
  reports their message alone. Any other exception is a crash of the filter and is reported
  with the filter's file and line.
- The ``bookbuild-book-dir`` metadata holds the book's folder (set by
  ``stages.transform.apply_filters``, so every path has it: full build, chapter rebuild, preview)
  for filters that read files in it (the quarto filter's ``_variables.yml``, figure files).
- Preamble code goes into the ``header-includes`` metadata list (bookbuild puts the book's own
  preamble there too), never via ``-H``, which would replace it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import FilterError
from .markers import src_place
from .pandoc import point_panflute_at_pandoc

#: Filters a book gets when book.yaml does not list its own, in the order they run.
DEFAULT_FILTERS = (
    "html",
    "texmath",
    "links",
    "code",
    "parts",
    "footnotes",
    "index",
    "glossary",
    "deflists",
    "tables",
    "callouts",
    "crossref",
    "exercises",
)


def builtin_filters_dir() -> Path:
    """The filters shipped with bookbuild (``filters/`` in a checkout, ``_filters`` in a wheel)."""
    packaged = Path(__file__).parent / "_filters"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "filters"


@functools.cache
def filterlib() -> ModuleType:
    """The helpers bookbuild's filters share (``filters/_filterlib.py``), loaded by its path:
    bookbuild adds preamble code and reads Roman numerals the way the filters do."""
    return _import_path(builtin_filters_dir() / "_filterlib.py", "bookbuild_filterlib")


def _import_path(path: Path, name: str) -> ModuleType:
    """Import the Python file at ``path`` as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FilterError(f"cannot load filter {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as importlib's recipe says: dataclasses and typing look
    # modules up in sys.modules while the module body executes.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken filter must not give a traceback
        del sys.modules[spec.name]
        raise FilterError(f"filter failed to import: {exc}", file=path) from exc
    return module


def resolve_filter(name: str, book_dir: Path) -> Path | None:
    """Path of filter ``name``: a path relative to the book, ``<book>/filters``,
    ``<book>/../filters``, then bookbuild's own. None if not found."""
    if name.endswith(".py") or "/" in name:
        candidate = (book_dir / name).resolve()
        return candidate if candidate.is_file() else None
    for folder in (book_dir / "filters", book_dir.parent / "filters", builtin_filters_dir()):
        candidate = folder / f"{name}.py"
        if candidate.is_file():
            return candidate.resolve()
    return None


def load_filter(path: Path) -> ModuleType:
    """Import the filter module at ``path`` (a fresh module per path) and check it has ``main``."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    # As when pandoc runs it as a script, the filter's folder is importable: bookbuild's
    # filters share helpers from filters/_filterlib.py.
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    module = _import_path(path, f"bookbuild_filter_{path.stem}_{digest}")
    if not callable(getattr(module, "main", None)):
        raise FilterError("filter has no main(doc=None) function", file=path)
    return module


def run_filters(
    doc: Any, modules: list[ModuleType], output_format: str = "latex", skip: bool = True
) -> Any:
    """Run each filter's ``main(doc)`` in order on a panflute Doc and return the result.

    With ``skip``, a filter leaves out its walk when its skip rule (its ``NEEDS``) finds
    nothing in the document it could act on (``_filterlib.may_hold``); the output is the
    same either way (``skip=False`` runs every walk, as pandoc running the filters does).

    A filter's error is reported at the chapter line of the block it was working on (found
    from the element in the traceback and the nearest ``% bookbuild:src`` marker before it);
    a crash also names the filter's own file and line.
    """
    point_panflute_at_pandoc()
    doc.format = output_format
    if not hasattr(doc, "bookbuild_warnings"):
        doc.bookbuild_warnings = []
    census = filterlib().CENSUS
    if skip:
        setattr(doc, census, set())  # nothing known yet: taken when a filter asks
    result = doc
    try:
        result = _run_each(doc, modules, output_format)
    finally:
        for each in (doc, result):
            if hasattr(each, census):
                delattr(each, census)
    return result


def _run_each(doc: Any, modules: list[ModuleType], output_format: str) -> Any:
    for module in modules:
        try:
            result = module.main(doc)
        except Exception as exc:
            file, line = _source_of_failure(exc, doc)
            message = str(exc)
            if not isinstance(exc, ValueError):  # a crash, not the author's mistake
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                name = Path(module.__file__ or "?").stem
                message = (
                    f"filter {name} failed: {type(exc).__name__}: {exc} "
                    f"({frame.filename}:{frame.lineno})"
                )
            raise FilterError(message, file=file, line=line) from exc
        if result is not None:
            doc = result
        doc.format = output_format
    return doc


def _source_of_failure(exc: BaseException, doc: Any) -> tuple[str | None, int | None]:
    """The chapter file and line of the element a filter was handling when it raised."""
    import panflute as pf

    elem = None
    tb = exc.__traceback__
    while tb is not None:  # the innermost frame holding an element wins
        candidate = tb.tb_frame.f_locals.get("elem")
        if isinstance(candidate, pf.Element):
            elem = candidate
        tb = tb.tb_next
    while elem is not None and not isinstance(getattr(elem, "parent", None), pf.Doc):
        elem = getattr(elem, "parent", None)
    if elem is None:
        return None, None
    blocks = list(doc.content)
    index = next((i for i, block in enumerate(blocks) if block is elem), None)
    for block in reversed(blocks[: (index or 0) + 1] if index is not None else []):
        place = src_place(block.text) if isinstance(block, pf.RawBlock) else None
        if place is not None:
            return place
    return None, None
