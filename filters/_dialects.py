"""Helpers the quarto and bookdown filters share: where a block came from, Markdown snippets
read in one pandoc run, code cells, and numbered theorem-like environments.

Not a filter (no ``main``): ``filters/quarto.py`` and ``filters/bookdown.py`` import it.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import panflute as pf
import yaml
from _filterlib import add_header_include, chapter_label, latex_label, text_inlines, walk, warn

SRC_MARK = "% bookbuild:src "
LATEX_FORMATS = ("latex", "beamer")
#: The attributes ``bookbuild.dialects.cells`` gives a cell's fence.
CELL = "bookbuild-cell"
CELL_VERBATIM = "bookbuild-cell-verbatim"
#: ``#|`` option lines (``//|`` in JavaScript/OJS, ``--|`` in SQL).
OPTION_LINE = re.compile(r"^\s*(#\||//\||--\||%%\|)\s?(.*)$")
#: ``knitr::include_graphics("images/x.png")``: the figure is a file the book already has.
INCLUDE_GRAPHICS = re.compile(r"\binclude_graphics\s*\(\s*(?:path\s*=\s*)?(['\"])([^'\"]+)\1")
#: Inline code that knitr or Quarto would run: `r expr`, `{r} expr`, `{python} expr`.
INLINE_CELL = re.compile(r"^(?:\{(?P<braced>[A-Za-z]\w*)\}|(?P<r>r))\s+(?P<expr>\S.*)$", re.S)
#: knitr's output-format test around HTML-only text: `r if (knitr::is_html_output()) '…'`.
HTML_ONLY = re.compile(
    r"""^if\s*\(\s*(?:knitr:::?)?is_html_output\(\s*\)\s*\)\s*(['"]).*\1\s*$""", re.S
)
#: Cell engines and the language their code is shown in.
LANGUAGES = {"ojs": "javascript", "mermaid": "text", "dot": "text", "Rcpp": "cpp", "rcpp": "cpp"}
#: Figure files knitr and Quarto write, best first.
IMAGE_EXTS = (".pdf", ".png", ".jpg", ".jpeg")
SKIP_DIRS = {".git", ".venv", "node_modules", "renv", ".quarto", "__pycache__", "build"}

#: Theorem-like environments: kind -> (Quarto id prefix, default title, numbered).
THEOREMS: dict[str, tuple[str, str, bool]] = {
    "theorem": ("thm", "Theorem", True),
    "lemma": ("lem", "Lemma", True),
    "corollary": ("cor", "Corollary", True),
    "proposition": ("prp", "Proposition", True),
    "conjecture": ("cnj", "Conjecture", True),
    "definition": ("def", "Definition", True),
    "example": ("exm", "Example", True),
    "hypothesis": ("hyp", "Hypothesis", True),
    "remark": ("rem", "Remark", False),
    "proof": ("prf", "Proof", False),
}
#: Environments the exercises filter numbers (left to it as ``.exercise``/``.solution`` Divs).
EXERCISES = {"exercise": "exr", "solution": "sol", "hint": "hint"}


# ---------------------------------------------------------------------------- places


@dataclass
class Place:
    """The chapter file and source line of the block being read (from bookbuild's markers)."""

    file: str = ""
    line: int = 0
    root: Path | None = None  # the folder chapter labels are relative to (the book's parent)
    texts: dict[str, list[str]] = field(default_factory=dict)

    def line_of(self, needle: str) -> int:
        """The line at or after the block's first line that holds ``needle`` (else the
        block's line): a warning names the line the author wrote."""
        if not (self.file and self.line and self.root and needle):
            return self.line
        if self.file not in self.texts:
            try:
                text = (self.root / self.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            self.texts[self.file] = text.split("\n")
        lines = self.texts[self.file]
        for number in range(self.line - 1, min(len(lines), self.line + 400)):
            if needle in lines[number]:
                return number + 1
        return self.line

    def track(self, elem: pf.Element) -> bool:
        """Follow chapter and source markers; True if ``elem`` is one."""
        if isinstance(elem, pf.RawBlock):
            if elem.format == "html":
                label = chapter_label(elem)
                if label is not None:
                    self.file, self.line = label, 0
                    return True
            elif elem.format == "latex" and elem.text.startswith(SRC_MARK):
                file, _, line = elem.text[len(SRC_MARK) :].rpartition(":")
                if line.isdigit():
                    self.file, self.line = file, int(line)
                return True
        return False

    def __str__(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


def located(where: str, message: str) -> str:
    """``where: message``, or the message alone when the place is unknown."""
    return f"{where}: {message}" if where else message


def warn_at(doc: pf.Doc, place: Place, message: str, prefix: str, needle: str = "") -> None:
    """A warning naming the file and line (the line holding ``needle`` when given)."""
    where = str(place)
    if needle and place.file and place.line:
        where = f"{place.file}:{place.line_of(needle)}"
    warn(doc, f"{where}: {message}" if where else message, prefix)


def walk_located(doc: pf.Doc, place: Place, visit: Any) -> None:
    """Call ``visit(elem)`` on every element in document order (children first, as panflute
    does), with ``place`` following the markers; ``visit`` returns a replacement or None."""

    def action(elem: pf.Element, _doc: pf.Doc) -> Any:
        if place.track(elem):
            return None
        return visit(elem)

    walk(doc, action)
    place.file, place.line = "", 0


def book_dir(doc: pf.Doc) -> Path:
    """The book's folder: the ``bookbuild-book-dir`` metadata bookbuild sets, else the
    working directory (pandoc running the filter)."""
    value = doc.get_metadata("bookbuild-book-dir", None)
    return Path(str(value)) if value else Path.cwd()


def is_latex(doc: pf.Doc) -> bool:
    return (doc.format or "") in LATEX_FORMATS


def clone(elem: Any) -> Any:
    """A deep copy of a panflute element (through its JSON)."""
    import json

    return json.loads(json.dumps(elem.to_json()), object_hook=pf.elements.from_json)


def read_snippets(snippets: list[str]) -> list[list[pf.Block]]:
    """Markdown snippets read with one pandoc run (cell captions, theorem bodies)."""
    if not snippets:
        return []
    separator = "<!-- bookbuild:snippet -->"
    text = ("\n\n" + separator + "\n\n").join(snippets)
    blocks = list(pf.convert_text(text, input_format="markdown", output_format="panflute"))
    out: list[list[pf.Block]] = [[]]
    for block in blocks:
        if isinstance(block, pf.RawBlock) and block.text.strip() == separator:
            out.append([])
        else:
            out[-1].append(block)
    if len(out) != len(snippets):  # a snippet held the separator: read them one by one
        return [list(pf.convert_text(s, output_format="panflute")) for s in snippets]
    return out


def first_inlines(blocks: list[pf.Block]) -> list[pf.Inline]:
    """The inlines of the first paragraph of ``blocks`` (a caption read as Markdown)."""
    for block in blocks:
        if isinstance(block, pf.Para | pf.Plain):
            return list(block.content)
    return []


# ---------------------------------------------------------------------------- cells


def _split_top(text: str, seps: str) -> list[str]:
    """Split at ``seps`` outside quotes and brackets."""
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in seps and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


class RCode(str):
    """A knitr option value that is R code (``fig.cap = paste(...)``), not a literal."""


def _r_value(text: str) -> Any:
    """A knitr option value: TRUE/FALSE, a quoted string, a number, else the R source."""
    text = text.strip()
    if text in ("TRUE", "T"):
        return True
    if text in ("FALSE", "F"):
        return False
    if text == "NULL":
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace("\\" + text[0], text[0])
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return RCode(text)


def parse_chunk_header(header: str) -> dict[str, Any]:
    """knitr's ``label, key=value, ...`` (label optional) as a dict; keys with ``.`` as ``-``."""
    options: dict[str, Any] = {}
    for n, item in enumerate(_split_top(header, ",")):
        key, eq, value = item.partition("=")
        if not eq:
            if n == 0:  # "{r label}" / "{r label, ...}" (a space may also separate it)
                options["label"] = _r_value(item)
            continue
        key = key.strip()
        if n == 0 and " " in key:  # "{r label echo=FALSE}"
            label, _, key = key.partition(" ")
            options["label"] = label.strip()
            key = key.strip()
        options[key.replace(".", "-")] = _r_value(value)
    return options


def parse_option_lines(code: str) -> tuple[dict[str, Any], str, str]:
    """Quarto's leading ``#|`` option lines: (options, code without them, a problem or "")."""
    lines = code.split("\n")
    option_lines: list[str] = []
    index = 0
    while index < len(lines):
        found = OPTION_LINE.match(lines[index])
        if not found:
            break
        option_lines.append(found.group(2))
        index += 1
    rest = "\n".join(lines[index:]).strip("\n")
    if not option_lines:
        return {}, rest, ""
    try:
        loaded = yaml.safe_load("\n".join(option_lines))
    except yaml.YAMLError as exc:
        return {}, rest, f"cell options are not YAML ({str(exc).splitlines()[0]})"
    if not isinstance(loaded, dict):
        return {}, rest, "cell options are not 'key: value' lines"
    return {str(k).replace(".", "-"): v for k, v in loaded.items()}, rest, ""


#: knitr's tests of the output format in an option (``include = knitr::is_html_output()``,
#: ``echo = !knitr::is_latex_output()``, ``include = identical(knitr:::pandoc_to(), 'html')``).
FORMAT_TEST = re.compile(
    r"""^(?P<not>!\s*)?(?:(?:knitr:::?)?is_(?P<fmt>html|latex)_output\(\s*\)"""
    r"""|identical\(\s*(?:knitr:::?)?pandoc_to\(\s*\)\s*,\s*(['"])(?P<to>\w+)\3\s*\))$"""
)


def _truthy(value: Any, default: bool = True, latex: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, RCode):  # a test of the output format, answered for this one
        found = FORMAT_TEST.match(str(value).strip())
        if found:
            wanted = found.group("fmt") or found.group("to")
            answer = (wanted == "latex") == latex
            return not answer if found.group("not") else answer
    return str(value).strip().lower() not in ("false", "no", "0", "none")


@dataclass
class Cell:
    """A code cell as the author wrote it."""

    elem: pf.CodeBlock
    engine: str
    options: dict[str, Any]
    code: str
    place: str
    verbatim: bool = False
    chapter: str = ""  # the chapter file's label (as in bookbuild's markers)


@dataclass
class CellStats:
    shown: int = 0
    hidden: int = 0
    placeholders: int = 0
    images: int = 0

    def summary(self) -> str | None:
        total = self.shown + self.hidden
        if not total:
            return None
        text = f"{self.shown} code cells shown, not run"
        if self.hidden:
            text += f" ({self.hidden} hidden by echo/include)"
        text += f"; {self.placeholders} figures from cells are placeholders"
        if self.images:
            text += f", {self.images} taken from image files already in the book"
        return text


def find_cells(doc: pf.Doc, place: Place, prefix: str = "") -> list[Cell]:
    """Every code cell of the document, with its options (chunk header and ``#|`` lines)."""
    cells: list[Cell] = []

    def visit(elem: pf.Element) -> None:
        if not isinstance(elem, pf.CodeBlock):
            return
        verbatim = CELL_VERBATIM in elem.attributes
        if CELL not in elem.attributes and not verbatim:
            return
        header = elem.attributes.get(CELL_VERBATIM if verbatim else CELL, "")
        engine = elem.classes[0] if elem.classes else "text"
        options = parse_chunk_header(header) if header else {}
        extra, code, problem = parse_option_lines(elem.text)
        if problem:
            warn(doc, located(str(place), f"{problem}; the cell's #| options are ignored"), prefix)
        options.update(extra)
        if verbatim:
            code = elem.text
        cells.append(Cell(elem, engine, options, code, str(place), verbatim, place.file))

    walk_located(doc, place, visit)
    return cells


def _image_index(root: Path) -> dict[str, list[Path]]:
    """Figure files knitr/Quarto left in the book (``*_files/figure-*/``, ``_book/``), by
    file stem, the best format first."""
    index: dict[str, list[Path]] = {}
    if not root.is_dir():
        return index
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        here = Path(folder)
        rel = here.relative_to(root).parts
        if not (here.name.startswith("figure-") or (rel and rel[0] == "_book")):
            continue
        for name in files:
            path = here / name
            if path.suffix.lower() in IMAGE_EXTS:
                index.setdefault(path.stem, []).append(path.relative_to(root))
    for paths in index.values():
        paths.sort(key=lambda p: (IMAGE_EXTS.index(p.suffix.lower()), "html" in str(p), str(p)))
    return index


def _caption_text(value: Any) -> str | None:
    if value is None or value is False:
        return None
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if v is not None) or None
    return str(value)


#: ``kable(..., caption = "…")``: knitr makes a table labelled ``tab:<chunk label>``.
KABLE_CAPTION = re.compile(r"\bkable\s*\((?:.|\n)*?\bcaption\s*=\s*(['\"])(.*?)\1", re.S)


@dataclass
class CellPlan:
    """What one cell becomes: its code (if shown) and the figure or table it makes."""

    cell: Cell
    show_code: bool
    label: str  # the crossref id of its figure/table ("fig:x", "tbl:x"), "" if none
    kind: str  # "fig", "tbl" or ""
    caption: str | None


class CellRenderer:
    """Turns cells into shown code and figure placeholders (or the figure files found)."""

    def __init__(self, doc: pf.Doc, dialect: str, prefix: str):
        self.doc = doc
        self.dialect = dialect  # "quarto" or "bookdown": how a chunk label becomes an id
        self.prefix = prefix
        self.stats = CellStats()
        self.root = book_dir(doc)
        self._images: dict[str, list[Path]] | None = None
        self.latex = is_latex(doc)
        self.used_placeholder = False

    def images(self) -> dict[str, list[Path]]:
        if self._images is None:
            self._images = _image_index(self.root)
        return self._images

    def plan(self, cell: Cell) -> CellPlan:
        if cell.verbatim:  # ```{{r}}: the cell itself is what the author shows
            return CellPlan(cell, True, "", "", None)
        opts = cell.options
        label = str(opts.get("label") or "")
        include = _truthy(opts.get("include"), latex=self.latex)
        echo_value = opts.get("echo")
        show = include and (
            _truthy(echo_value, latex=self.latex) or str(echo_value).lower() == "fenced"
        )
        evaluate = _truthy(opts.get("eval"), latex=self.latex)
        kind, ident = "", ""
        caption = _caption_text(opts.get("fig-cap"))
        output = _truthy(opts.get("output")) and str(opts.get("results")).lower() != "hide"
        evaluate = evaluate and output and str(opts.get("fig-show")).lower() != "hide"
        if include and evaluate and caption is not None:
            kind = "fig"
        elif include and evaluate and _caption_text(opts.get("tbl-cap")) is not None:
            kind, caption = "tbl", _caption_text(opts.get("tbl-cap"))
        elif include and evaluate and self.dialect == "bookdown" and label:
            found = KABLE_CAPTION.search(cell.code)
            if found:
                kind, caption = "tbl", found.group(2)
        if include and evaluate and not kind and INCLUDE_GRAPHICS.search(cell.code):
            kind = "img"  # knitr::include_graphics() without a caption: the image, uncaptioned
        if kind in ("fig", "tbl"):
            ident = self.ident_for(label, kind)
        for key in ("fig-cap", "tbl-cap"):
            if isinstance(opts.get(key), RCode) and kind:
                option, name = key.replace("-", "."), label or "unlabelled"
                message = f"{option} of cell '{name}' is R code, not run: the caption shows it"
                warn(self.doc, located(cell.place, message), self.prefix)
                caption = "`" + str(opts[key]).replace("`", "") + "`"
        return CellPlan(cell, show, ident, kind, caption)

    def ident_for(self, label: str, kind: str) -> str:
        """The crossref id a cell's figure or table gets from its chunk label."""
        if not label:
            return ""
        if self.dialect == "quarto":
            return f"{kind}:{label[4:]}" if label.startswith(f"{kind}-") else ""
        return f"{kind}:{label}"  # bookdown: chunk "cars" makes fig:cars / tab:cars

    def render(self, plan: CellPlan, caption: list[pf.Inline]) -> list[pf.Block]:
        cell = plan.cell
        out: list[pf.Block] = []
        if not cell.verbatim and not _truthy(cell.options.get("include"), latex=self.latex):
            self.stats.hidden += 1
            return out
        if plan.show_code:
            self.stats.shown += 1
            language = LANGUAGES.get(cell.engine, cell.engine)
            code = cell.code
            if cell.verbatim or str(cell.options.get("echo")).lower() == "fenced":
                header = cell.elem.attributes.get(CELL_VERBATIM, cell.elem.attributes.get(CELL, ""))
                code = f"```{{{cell.engine}{(' ' + header) if header else ''}}}\n{code}\n```"
                language = "markdown"
            if code.strip():
                out.append(pf.CodeBlock(code, classes=[language]))
        else:
            self.stats.hidden += 1
        if plan.kind == "fig":
            out.append(self.figure(plan, caption))
        elif plan.kind == "img":
            out.append(self.image(plan))
        elif plan.kind == "tbl":
            out.append(self.table(plan, caption))
        return out

    def _label_text(self, plan: CellPlan) -> str:
        return str(plan.cell.options.get("label") or "") or "unlabelled cell"

    def placeholder(self, plan: CellPlan, what: str, missing: str = "") -> pf.Block:
        """A framed box saying which cell would have drawn what here (or, with ``missing``,
        which image file it shows that the book lacks)."""
        self.used_placeholder = True
        engine = {"r": "R", "python": "Python", "julia": "Julia"}.get(
            plan.cell.engine, plan.cell.engine
        )
        article = "an" if engine[:1].upper() in "AEFHILMNORSX" else "a"
        note = text_inlines(f"{what} from {article} {engine} code cell, not run")
        if missing:
            note = text_inlines(f"{what} file {missing} is not in the book")
        if self.latex:
            return pf.Plain(
                pf.RawInline("\\bookbuildcellplaceholder{", format="latex"),
                pf.Code(self._label_text(plan)),
                pf.RawInline("}{", format="latex"),
                *note,
                pf.RawInline("}", format="latex"),
            )
        return pf.Div(
            pf.Plain(pf.Code(self._label_text(plan))),
            pf.Plain(*note),
            classes=["cell-placeholder"],
        )

    def figure(self, plan: CellPlan, caption: list[pf.Inline]) -> pf.Block:
        label = str(plan.cell.options.get("label") or "")
        found = self.images().get(f"{label}-1") if label else None
        found = self.included_graphic(plan.cell) or found
        if found:
            self.stats.images += 1
            image = pf.Image(*[x for x in caption], url=found[0].as_posix())
            content: pf.Block = pf.Plain(image)
        else:
            self.stats.placeholders += 1
            named = INCLUDE_GRAPHICS.search(plan.cell.code)
            content = self.placeholder(plan, "Figure", named.group(2) if named else "")
        return pf.Figure(content, caption=pf.Caption(pf.Plain(*caption)), identifier=plan.label)

    def image(self, plan: CellPlan) -> pf.Block:
        """The image ``knitr::include_graphics()`` shows without a caption (a placeholder
        when its file is not in the book)."""
        found = self.included_graphic(plan.cell)
        if found:
            self.stats.images += 1
            alt = text_inlines(str(plan.cell.options.get("fig-alt") or ""))
            return pf.Para(pf.Image(*alt, url=found[0].as_posix()))
        self.stats.placeholders += 1
        named = INCLUDE_GRAPHICS.search(plan.cell.code)
        return self.placeholder(plan, "Image", named.group(2) if named else "")

    def included_graphic(self, cell: Cell) -> list[Path] | None:
        """The file of ``knitr::include_graphics("…")`` (relative to the book or to the
        chapter's folder, inside the book), as a path relative to the book; a file that is
        not there is a warning at the cell (its figure is then a placeholder)."""
        found = INCLUDE_GRAPHICS.search(cell.code)
        if not found:
            return None
        root = self.root.resolve()
        folders = [root]
        if cell.chapter:
            folders.append((root.parent / cell.chapter).parent)
        for folder in folders:
            path = (folder / found.group(2)).resolve()
            if path.is_file() and path.is_relative_to(root):
                return [path.relative_to(root)]
        message = (
            f"include_graphics('{found.group(2)}'): no such file in the book: "
            "a placeholder is printed"
        )
        warn(self.doc, located(cell.place, message), self.prefix)
        return None

    def table(self, plan: CellPlan, caption: list[pf.Inline]) -> pf.Block:
        self.stats.placeholders += 1
        box = self.placeholder(plan, "Table")
        row = pf.TableRow(pf.TableCell(box))
        return pf.Table(
            pf.TableBody(row),
            caption=pf.Caption(pf.Plain(*caption)),
            identifier=plan.label,
            colspec=[("AlignCenter", 1.0)],
        )

    def preamble(self) -> None:
        if self.latex and self.used_placeholder:
            add_header_include(
                self.doc,
                "% bookbuild: a figure a code cell would draw, not run\n"
                "\\providecommand{\\bookbuildcellplaceholder}[2]{\\begingroup\\centering"
                "\\fbox{\\parbox[c][3.2cm][c]{0.7\\linewidth}{\\centering\\small #1\\\\[1ex]"
                "\\itshape #2}}\\par\\endgroup}",
            )


def convert_cells(doc: pf.Doc, place: Place, renderer: CellRenderer, text_refs: Any = None) -> None:
    """Replace every cell of ``doc`` by what ``renderer`` makes of it (captions read as
    Markdown in one pandoc run; ``text_refs`` may rewrite them first)."""
    cells = find_cells(doc, place, renderer.prefix)
    if not cells:
        return
    plans = [renderer.plan(cell) for cell in cells]
    captions_md = [p.caption or "" for p in plans if p.kind]
    if text_refs is not None:
        captions_md = [text_refs(c) for c in captions_md]
    read = iter(read_snippets(captions_md))
    replacements: dict[int, list[pf.Block]] = {}
    for plan in plans:
        caption = first_inlines(next(read)) if plan.kind else []
        if plan.kind in ("fig", "tbl") and not plan.label:
            what = "figure" if plan.kind == "fig" else "table"
            wanted = f"a {plan.kind}- label" if renderer.dialect == "quarto" else "a chunk label"
            message = (
                f"cell '{renderer._label_text(plan)}' has a caption but not {wanted}: "
                f"its {what} cannot be referred to"
            )
            warn(doc, located(plan.cell.place, message), renderer.prefix)
        replacements[id(plan.cell.elem)] = renderer.render(plan, caption)

    def swap(elem: pf.Element, _doc: pf.Doc) -> Any:
        return replacements.get(id(elem)) if isinstance(elem, pf.CodeBlock) else None

    walk(doc, swap)


def inline_cell(elem: pf.Code, latex: bool = False) -> pf.Code | list[pf.Inline] | None:
    """`r expr` / `{python} expr` -> the expression as code in its language. In LaTeX output,
    `r if (knitr::is_html_output()) '…'` (text for the HTML book only, as bookdown's
    templates write a References heading) is nothing, as knitr makes it for a PDF."""
    if elem.classes:
        return None
    found = INLINE_CELL.match(elem.text)
    if not found:
        return None
    engine = found.group("braced") or "r"
    if latex and engine == "r" and HTML_ONLY.match(found.group("expr").strip()):
        return []
    if latex:  # plain \texttt: an expression can be long, and \texttt can break, \VERB not
        return pf.Code(found.group("expr").strip())
    return pf.Code(found.group("expr").strip(), classes=[LANGUAGES.get(engine, engine)])


# ---------------------------------------------------------------------------- theorems


@dataclass
class Theorems:
    """Numbered theorem-like environments: LaTeX numbers them (amsthm, per chapter); other
    outputs get the numbers counted here."""

    latex: bool
    titles: dict[str, str] = field(default_factory=dict)  # kind -> printed name
    used: set[str] = field(default_factory=set)
    numbers: dict[str, str] = field(default_factory=dict)  # id -> number (non-LaTeX)
    kinds: dict[str, str] = field(default_factory=dict)  # id -> kind

    def title(self, kind: str) -> str:
        return self.titles.get(kind, THEOREMS[kind][1])

    def collect(self, doc: pf.Doc, kind_of: Any) -> None:
        """Number every theorem-like Div in document order (``kind_of(div)`` names its kind,
        or None), as LaTeX will: per kind, per chapter."""
        chapter = 0
        counts: dict[str, int] = {}

        def visit(elem: pf.Element, _doc: pf.Doc) -> None:
            nonlocal chapter, counts
            if isinstance(elem, pf.Header):
                if elem.level == 1 and not {"part", "unnumbered"} & set(elem.classes):
                    chapter, counts = chapter + 1, {}
                return
            if not isinstance(elem, pf.Div):
                return
            kind = kind_of(elem)
            if kind is None or not THEOREMS[kind][2]:
                return
            counts[kind] = counts.get(kind, 0) + 1
            number = f"{chapter}.{counts[kind]}" if chapter else str(counts[kind])
            if elem.identifier:
                self.numbers[elem.identifier] = number
                self.kinds[elem.identifier] = kind

        # Headers before the Divs holding them: panflute visits children first, so walk
        # the top-level blocks in order and count their headers first.
        for block in doc.content:
            if isinstance(block, pf.Header):
                visit(block, doc)
            else:
                walk(block, visit)

    def render(
        self, kind: str, ident: str, name: list[pf.Inline], body: list[pf.Block]
    ) -> list[pf.Block]:
        """The environment around ``body``: LaTeX amsthm, else a bold run-in heading."""
        number = self.numbers.get(ident, "") if THEOREMS[kind][2] else ""
        if self.latex:
            self.used.add(kind)
            env = f"bookbuild{kind}"
            begin: list[pf.Inline] = [pf.RawInline(f"\\begin{{{env}}}", format="latex")]
            if name:
                begin += [
                    pf.RawInline("[", format="latex"),
                    *name,
                    pf.RawInline("]", format="latex"),
                ]
            if ident:
                begin.append(pf.RawInline(f"\\label{{{latex_label(ident)}}}", format="latex"))
            end = pf.RawBlock(f"\\end{{{env}}}", format="latex")
            return [pf.Plain(*begin), *body, end]
        head: list[pf.Inline] = text_inlines(self.title(kind) + (f" {number}" if number else ""))
        if name:
            head += [pf.Space(), pf.Str("("), *name, pf.Str(")")]
        lead = pf.Strong(*head, pf.Str("."))
        if body and isinstance(body[0], pf.Para):
            body[0].content.insert(0, pf.Space())
            body[0].content.insert(0, lead)
        else:
            body.insert(0, pf.Para(lead))
        return [pf.Div(*body, identifier=ident, classes=[kind])]

    def preamble(self, doc: pf.Doc) -> None:
        if not (self.latex and self.used):
            return
        lines = ["% bookbuild: theorem-like environments", "\\usepackage{amsthm}", "\\makeatletter"]
        for kind in sorted(self.used):
            env, title = f"bookbuild{kind}", self.title(kind)
            if kind == "proof":
                lines.append(f"\\newenvironment{{{env}}}[1][{title}]{{\\begin{{proof}}[#1]}}"
                             "{\\end{proof}}")  # fmt: skip
                continue
            style = "definition" if kind in ("definition", "example", "remark") else "plain"
            star = "" if THEOREMS[kind][2] else "*"
            lines.append(f"\\theoremstyle{{{style}}}")
            if star:
                lines.append(f"\\newtheorem*{{{env}}}{{{title}}}")
            else:
                lines.append(
                    f"\\@ifundefined{{c@chapter}}{{\\newtheorem{{{env}}}{{{title}}}}}"
                    f"{{\\newtheorem{{{env}}}{{{title}}}[chapter]}}"
                )
        lines += ["\\theoremstyle{plain}", "\\makeatother"]
        add_header_include(doc, "\n".join(lines))

    def reference(self, ident: str, with_title: bool) -> list[pf.Inline]:
        """A reference to a theorem: "Theorem 2.1" (or just "2.1")."""
        kind = self.kinds.get(ident, "")
        words: list[pf.Inline] = []
        if with_title and kind:
            words = [pf.Str(self.title(kind)), pf.Str("\u00a0")]
        if self.latex:
            return [*words, pf.RawInline(f"\\ref{{{latex_label(ident)}}}", format="latex")]
        return [*words, pf.Link(pf.Str(self.numbers.get(ident, "??")), url=f"#{ident}")]


def heading_number_known(doc: pf.Doc, elem: pf.Header) -> bool:
    """Whether LaTeX numbers this heading (``numbersections`` and ``secnumdepth``)."""
    if "unnumbered" in elem.classes or "part" in elem.classes:
        return False
    if not _truthy(doc.get_metadata("numbersections", False), False):
        return False
    try:
        depth = int(str(doc.get_metadata("secnumdepth", 5)))
    except ValueError:
        depth = 5
    return elem.level - 1 <= depth


def heading_reference(doc: pf.Doc, header: pf.Header, number: str, words: str) -> list[pf.Inline]:
    """A reference to a heading: "Chapter 2"/"Section 2.1" (``words`` before the number, may
    be empty), or the heading's title as a link when it has no number."""
    if not heading_number_known(doc, header):
        return [pf.Link(*[_copy(x) for x in header.content], url=f"#{header.identifier}")]
    lead: list[pf.Inline] = [pf.Str(words), pf.Str("\u00a0")] if words else []
    if is_latex(doc):
        return [*lead, pf.RawInline(f"\\ref{{{latex_label(header.identifier)}}}", format="latex")]
    return [*lead, pf.Link(pf.Str(number or "??"), url=f"#{header.identifier}")]


def _copy(elem: pf.Element) -> pf.Element:
    import json

    return json.loads(json.dumps(elem.to_json()), object_hook=pf.elements.from_json)


def heading_numbers(doc: pf.Doc) -> dict[str, str]:
    """Heading id -> its number as LaTeX would print it (for outputs other than LaTeX)."""
    counters = [0] * 6
    appendix = False
    out: dict[str, str] = {}

    def visit(elem: pf.Element, _doc: pf.Doc) -> None:
        nonlocal appendix
        if isinstance(elem, pf.RawBlock) and re.search(r"\\appendix\b", elem.text):
            appendix, counters[:] = True, [0] * 6
        if not isinstance(elem, pf.Header) or not heading_number_known(doc, elem):
            return
        level = min(elem.level, 6)
        counters[level - 1] += 1
        for deeper in range(level, 6):
            counters[deeper] = 0
        first = chr(64 + counters[0]) if appendix and 1 <= counters[0] <= 26 else str(counters[0])
        if elem.identifier:
            out[elem.identifier] = ".".join([first, *map(str, counters[1:level])])

    walk(doc, visit)
    return out


def finish(doc: pf.Doc, theorems: "Theorems", cells: "CellRenderer", prefix: str) -> None:
    """What both dialect filters do last: the theorems' and cells' preamble code, and the one
    warning that counts the cells shown but not run."""
    theorems.preamble(doc)
    cells.preamble()
    summary = cells.stats.summary()
    if summary:
        warn(doc, summary, prefix)
