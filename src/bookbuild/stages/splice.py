"""A chapter edit typeset alone and spliced into the last PDF (issue 15).

After an edit to one chapter, everything in the .tex but that chapter's LaTeX is what the
last pass compiled. A whole pass over a 300-page book costs about 3 s; the chapter alone
costs the preamble (about 0.75 s) and its own pages. So:

1. **Checkpoints.** Every full pass leaves, in the .aux, a checkpoint at the start of each
   chapter that starts a page anyway (its first LaTeX is ``\\chapter``, ``\\part`` …) and at
   the end of the body: after a ``\\clearpage`` (a no-op there: the chapter clears the page
   itself), one comment line holding the pages shipped so far, hyperref's anchor counter,
   the page number as printed and every LaTeX counter (the kernel's ``\\cl@@ckpt`` list, as
   ``\\include`` checkpoints them). The lines are comments, so LaTeX reading the .aux skips
   them. :func:`instrument` adds the calls to the .tex (on lines that already exist, so the
   .tex keeps its line numbers and messages keep pointing at the author's lines).
2. **The chapter job** (:func:`plan`), when the new .tex differs from the one that made the
   PDF in exactly one chapter: the same preamble, the counters of that chapter's checkpoint
   restored, the book's .aux read at ``\\begin{document}`` (so ``\\ref``, ``\\pageref`` and
   citations into other chapters resolve), the chapter's new LaTeX and the checkpoint that
   follows it.
3. **The checks** (:func:`check`): the job's checkpoints equal the old ones (same start, and
   the same pages, counters and anchors at the end, so nothing after the chapter moves), the
   lines the chapter wrote to the .aux (labels, contents entries, citations) equal the old
   ones, it made as many pages as the old chapter had, with the same named destinations
   and bookmarks, and no other file (an index's .idx). Otherwise the caller runs the full
   pass as before; so it does for a book whose pass writes files besides the .aux and the
   contents lists.
4. **The splice** (:func:`splice`, pikepdf): the old chapter pages keep their page objects
   (bookmarks and other chapters' links point at them) and get the new pages' contents,
   resources and links; the named destinations on them are pointed at the new positions.
   The PDF is written beside the old one and renamed over it.

The work directory stays as a full pass leaves it: the .aux and .toc are unchanged (the checks
say so), the .tex is the new one, and :func:`record` notes which .tex made the PDF (a failed
pass leaves a .tex that did not). ``BOOKBUILD_NO_SPLICE=1`` turns the splice off. The engine
itself runs in :mod:`bookbuild.stages.compile` (``chapter_splice``; ``warm_job`` starts the
job's engine, a :class:`bookbuild.stages.warm.WarmJob`, on the preamble, :func:`warm_start`,
in :func:`warm_folder`, while pandoc still writes the chapter); this module imports nothing
of bookbuild's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORD = "bookbuild-splice.json"
JOB_DIR = "chapter-job"
END = "end"
#: Chapter marks of the .tex (markers.TEX_MARK), with or without a checkpoint before them.
MARK = re.compile(
    r"^(?P<call>\\bbsplicecheckpoint\{\w+\})?(?P<mark>% bookbuild:chapter (?P<label>.+))$"
)
#: A chapter whose first LaTeX is one of these starts a page: a \clearpage before it is a no-op.
PAGE_START = re.compile(
    r"\\(chapter|part|bookbuildpartpage|bookbuildunnumberedpart|clearpage|cleardoublepage"
    r"|end\{document\})(?![A-Za-z@])"
)
BEGIN = "\\begin{document}"
ENDDOC = "\\end{document}"
#: The files of a pass the chapter job keeps right: the .aux (checked line by line) and the
#: contents lists (written from it); others (an index's .idx …) take the full pass.
PASS_FILES = {".tex", ".aux", ".toc", ".lof", ".lot", ".log", ".pdf", ".tmp"}
CKPT_PREFIX = "%bookbuild-splice "
CKPT = re.compile(
    r"^%bookbuild-splice (?P<id>\w+);(?P<shipped>\d+);(?P<link>\d*);(?P<counters>[^;]*);"
    r"(?P<thepage>.*?)\|bbsp\|(?P<labels>.*)$"
)

#: The checkpoint macros, put on the ``\begin{document}`` line (the .tex keeps its lines and
#: compiles alone). ``\bbsplicecheckpoint{ID}`` clears the page and writes one comment line
#: to the .aux: ID; pages shipped so far; hyperref's anchor counter; every LaTeX counter
#: (and the depths of numbering and contents, counts a book may set after its preamble); the
#: page number as printed; what a ``\label`` would take (``\@currentlabel``, hyperref's
#: anchor and nameref's title). The chapter job sets them with the other three.
DEFINITIONS = (
    r"\makeatletter"
    r"\def\bbsp@elt#1{#1=\the\csname c@#1\endcsname,}"
    r"\def\bbsp@text#1{\ifdefined#1\unexpanded\expandafter{#1}\fi}"
    r"\protected\def\bbsplicecheckpoint#1{\clearpage\begingroup\let\@elt\bbsp@elt"
    r"\let\protect\@unexpandable@protect"
    r"\edef\bbsp@line{\@percentchar bookbuild-splice #1;\the\ReadonlyShipoutCounter;"
    r"\ifdefined\Hy@linkcounter\the\Hy@linkcounter\fi;"
    r"\cl@@ckpt\bbsp@elt{tocdepth}\bbsp@elt{secnumdepth};\thepage"
    r"|bbsp|\bbsp@text\@currentlabel|bbsp|\bbsp@text\@currentHref"
    r"|bbsp|\bbsp@text\@currentlabelname}"
    r"\immediate\write\@auxout{\unexpanded\expandafter{\bbsp@line}}\endgroup}"
    r"\protected\def\bbsplicerestore#1#2{\@ifundefined{c@#1}{}"
    r"{\global\csname c@#1\endcsname=#2\relax}}"
    r"\protected\def\bbsplicelabels#1#2#3{\gdef\@currentlabel{#1}\gdef\@currentHref{#2}"
    r"\gdef\@currentlabelname{#3}}"
    r"\protected\def\bbsplicelinks#1{\ifdefined\Hy@linkcounter\global\Hy@linkcounter=#1\relax\fi}"
    r"\makeatother"
)


def enabled() -> bool:
    """False when ``BOOKBUILD_NO_SPLICE`` is set (comparisons, tests of the full pass)."""
    return not os.environ.get("BOOKBUILD_NO_SPLICE")


def _significant(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("%")


def instrument(tex: str) -> str:
    """The .tex with the checkpoint calls (same lines, so TeX's line numbers are the .tex's):
    the definitions after ``\\begin{document}``, a checkpoint on each chapter mark whose
    chapter starts a page, and one on the ``\\end{document}`` line."""
    lines = tex.split("\n")
    begin = next((i for i, line in enumerate(lines) if line.startswith(BEGIN)), None)
    end = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith(ENDDOC)), None)
    if begin is None or end is None or end < begin:
        return tex
    lines[begin] = lines[begin] + DEFINITIONS
    ordinal = 0
    for index in range(begin + 1, end):
        match = MARK.match(lines[index])
        if match is None:
            continue
        following = next((line for line in lines[index + 1 : end + 1] if _significant(line)), "")
        if PAGE_START.match(following.lstrip()):
            lines[index] = f"\\bbsplicecheckpoint{{c{ordinal}}}{match['mark']}"
        ordinal += 1
    lines[end] = f"\\bbsplicecheckpoint{{{END}}}" + lines[end]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the record


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record(workdir: Path, stem: str) -> None:
    """After a pass (or a splice) that made the PDF: which .tex made it."""
    try:
        tex = (workdir / f"{stem}.tex").read_bytes()
        pdf = (workdir / f"{stem}.pdf").read_bytes()
    except OSError:
        forget(workdir)
        return
    data = {"tex": _digest(tex), "pdf": _digest(pdf)}
    tmp = workdir / (RECORD + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, workdir / RECORD)


def forget(workdir: Path) -> None:
    """Before a pass: until it succeeds, no PDF is known to come from the .tex."""
    (workdir / RECORD).unlink(missing_ok=True)


def _recorded(workdir: Path, stem: str) -> str | None:
    """The .tex that made the PDF in ``workdir``, if the record vouches for both."""
    try:
        data = json.loads((workdir / RECORD).read_text(encoding="utf-8"))
        tex = (workdir / f"{stem}.tex").read_bytes()
        pdf = (workdir / f"{stem}.pdf").read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tex") != _digest(tex):
        return None
    if data.get("pdf") != _digest(pdf):
        return None
    return tex.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- the plan


@dataclass
class Checkpoint:
    shipped: int
    link: str
    counters: str
    thepage: str
    labels: list[str]  # \@currentlabel, \@currentHref, \@currentlabelname

    def same_place(self, other: Checkpoint) -> bool:
        mine = (self.link, self.counters, self.thepage, self.labels)
        return mine == (other.link, other.counters, other.thepage, other.labels)

    def counter(self, name: str) -> int | None:
        for item in self.counters.split(","):
            key, _, value = item.partition("=")
            if key == name:
                return int(value)
        return None


def checkpoints(aux: str) -> tuple[dict[str, Checkpoint], dict[str, list[str]]]:
    """The checkpoints of an .aux, and the lines written after each up to the next."""
    found: dict[str, Checkpoint] = {}
    written: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in aux.splitlines():
        match = CKPT.match(line)
        if match:
            found[match["id"]] = Checkpoint(
                int(match["shipped"]),
                match["link"],
                match["counters"],
                match["thepage"],
                match["labels"].split("|bbsp|"),
            )
            current = written.setdefault(match["id"], [])
        elif current is not None:
            current.append(line)
    return found, written


def _split(tex: str) -> tuple[str, list[tuple[str, str | None, str]], str] | None:
    """(up to the first chapter mark, [(label, checkpoint id, text)], from \\end{document})."""
    lines = tex.split("\n")
    begin = next((i for i, line in enumerate(lines) if line.startswith(BEGIN)), None)
    end = next((i for i in range(len(lines) - 1, -1, -1) if _is_end(lines[i])), None)
    if begin is None or end is None:
        return None
    marks = [i for i in range(begin + 1, end) if MARK.match(lines[i])]
    if not marks:
        return None
    pieces = []
    for n, start in enumerate(marks):
        stop = marks[n + 1] if n + 1 < len(marks) else end
        match = MARK.match(lines[start])
        assert match is not None
        ident = match["call"][len("\\bbsplicecheckpoint{") : -1] if match["call"] else None
        pieces.append((match["label"], ident, "\n".join(lines[start:stop])))
    return "\n".join(lines[: marks[0]]), pieces, "\n".join(lines[end:])


def _is_end(line: str) -> bool:
    return line.startswith(ENDDOC) or line.startswith(f"\\bbsplicecheckpoint{{{END}}}{ENDDOC}")


def _roman(number: int) -> str:
    out = ""
    for value, letters in (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ):  # fmt: skip
        while number >= value:
            out += letters
            number -= value
    return out


def _numbering(point: Checkpoint) -> str | None:
    """The \\pagenumbering style that prints the checkpoint's page as it was printed."""
    page = point.counter("page")
    if page is None or page < 1:
        return None
    for style, text in (("arabic", str(page)), ("roman", _roman(page))):
        if point.thepage == text:
            return style
        if point.thepage == text.upper():
            return "Roman"
    return None


@dataclass
class Plan:
    """One chapter job: what it compiles and what it must come out as."""

    label: str
    start_id: str
    end_id: str
    head: str  # the job's preamble, through the \\begin{document} line
    body: str  # the rest: counters restored, the chapter, the checkpoint after it
    start: Checkpoint
    end: Checkpoint
    offset: int  # PDF page index of shipped page 0 (contents moved in front by a one-pass)
    aux_lines: list[str]
    written: str  # the new .tex (instrumented)

    @property
    def job_tex(self) -> str:
        return self.head + self.body


def job_head(written: str) -> str | None:
    """The chapter job's preamble: the book's, through its ``\\begin{document}`` line."""
    found = re.search(r"^\\begin\{document\}.*\n", written, re.M)
    return written[: found.end()] if found else None


def plan(workdir: Path, stem: str, written: str) -> tuple[Plan | None, str]:
    """The chapter job for the new .tex ``written`` (instrumented), or None and why not."""
    old = _recorded(workdir, stem)
    if old is None:
        return None, "no record of the .tex that made the PDF"
    if old == written:
        return None, "the .tex did not change"
    old_split, new_split = _split(old), _split(written)
    if old_split is None or new_split is None:
        return None, "no chapter marks"
    (old_head, old_pieces, old_tail), (new_head, new_pieces, new_tail) = old_split, new_split
    if old_head != new_head or old_tail != new_tail:
        return None, "more than a chapter changed"
    if [p[:2] for p in old_pieces] != [p[:2] for p in new_pieces]:
        return None, "the chapters or their page starts changed"
    changed = [i for i, (a, b) in enumerate(zip(old_pieces, new_pieces, strict=True)) if a != b]
    if len(changed) != 1:
        return None, f"{len(changed)} chapters changed"
    index = changed[0]
    label, start_id, text = new_pieces[index]
    end_id = new_pieces[index + 1][1] if index + 1 < len(new_pieces) else END
    if start_id is None or end_id is None:
        return None, "the chapter or the next does not start a page"
    others = [p.name for p in workdir.glob(f"{stem}.*") if p.suffix not in PASS_FILES]
    if others:  # an index, a glossary …: the chapter job would not update them
        return None, f"the pass writes {', '.join(sorted(others))}"
    try:
        aux = (workdir / f"{stem}.aux").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None, "no .aux"
    points, lines = checkpoints(aux)
    if start_id not in points or end_id not in points or END not in points:
        return None, "no checkpoint in the .aux"
    start, end = points[start_id], points[end_id]
    numbering = _numbering(start)
    if numbering is None:
        return None, f"page {start.thepage!r} is not numbered in arabic or roman"
    pdf_pages = page_count(workdir / f"{stem}.pdf")
    offset = pdf_pages - points[END].shipped
    if pdf_pages <= 0 or offset < 0:
        return None, "the PDF's pages do not match the checkpoints"
    head = job_head(written)
    if head is None:
        return None, "no \\begin{document}"
    restore = [f"\\pagenumbering{{{numbering}}}"]
    for item in start.counters.split(","):
        name, _, value = item.partition("=")
        if name:
            restore.append(f"\\bbsplicerestore{{{name}}}{{{value}}}")
    if start.link:
        restore.append(f"\\bbsplicelinks{{{start.link}}}")
    if len(start.labels) != 3:
        return None, "the checkpoint has no labels"
    restore.append("\\bbsplicelabels" + "".join(f"{{{text}}}" for text in start.labels))
    body = f"{''.join(restore)}%\n{text}\n\\bbsplicecheckpoint{{{end_id}}}{ENDDOC}\n"
    own = lines.get(start_id, [])
    return Plan(label, start_id, end_id, head, body, start, end, offset, own, written), ""


def page_count(pdf_path: Path) -> int:
    import pikepdf

    try:
        with pikepdf.open(pdf_path) as pdf:
            return len(pdf.pages)
    except (OSError, pikepdf.PdfError):
        return 0


def prepare_job(workdir: Path, stem: str, job: Plan) -> Path:
    """The job's folder: its .tex and the book's .aux as the job's own (read at
    ``\\begin{document}``, then written afresh). Returns the job's .tex."""
    folder = workdir / JOB_DIR
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shutil.copyfile(workdir / f"{stem}.aux", folder / f"{stem}.aux")
    tex_path = folder / f"{stem}.tex"  # the book's name: it is the book, one chapter of it
    tex_path.write_text(job.job_tex, encoding="utf-8")
    return tex_path


def warm_start(workdir: Path, stem: str) -> tuple[str, bytes] | None:
    """What a chapter job started before the new .tex exists would read: the preamble of the
    .tex that made the PDF and the .aux (both checked again when the job is handed its
    chapter), or None when no chapter can be spliced."""
    old = _recorded(workdir, stem)
    if old is None or "\\bbsplicecheckpoint{" not in old:
        return None
    head = job_head(old)
    if head is None:
        return None
    try:
        return head, (workdir / f"{stem}.aux").read_bytes()
    except OSError:
        return None


def warm_folder(workdir: Path) -> Path:
    """A folder of this process's own for a warm chapter job (it runs before the work
    directory is locked); those of processes that are gone are removed."""
    for folder in workdir.glob(f"{JOB_DIR}.*"):
        pid = folder.suffix[1:]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)
    folder = workdir / f"{JOB_DIR}.{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


# --------------------------------------------------------------------------- the checks


def check(job: Plan, job_tex: Path) -> str:
    """Why the job's result cannot replace the chapter ("" when it can)."""
    aux = job_tex.with_suffix(".aux").read_text(encoding="utf-8", errors="replace")
    points, lines = checkpoints(aux)
    start, end = points.get(job.start_id), points.get(job.end_id)
    if start is None or end is None:
        return "the chapter job wrote no checkpoints"
    if not start.same_place(job.start):
        return "the chapter job did not start where the chapter did"
    if not end.same_place(job.end):
        return "the chapter ends elsewhere (pages, counters or anchors moved)"
    if end.shipped - start.shipped != job.end.shipped - job.start.shipped:
        return "the chapter has a different number of pages"
    if lines.get(job.start_id, []) != job.aux_lines:
        return "its labels, contents entries or citations changed"
    others = [p.name for p in job_tex.parent.iterdir() if p.suffix not in PASS_FILES]
    if others:
        return f"the chapter wrote {', '.join(sorted(others))}"
    return ""


def splice(job: Plan, job_tex: Path, pdf_path: Path) -> str:
    """Put the job's pages in place of the chapter's in ``pdf_path`` (renamed over it when
    done); "" or why not (the PDF is then untouched)."""
    import pikepdf

    first = job.start.shipped + job.offset
    count = job.end.shipped - job.start.shipped
    tmp = pdf_path.with_name(pdf_path.name + ".splice.tmp")
    with pikepdf.open(job_tex.with_suffix(".pdf")) as new, pikepdf.open(pdf_path) as old:
        if len(new.pages) != count or first + count > len(old.pages):
            return f"the chapter job made {len(new.pages)} pages, not {count}"
        old_pages = [old.pages[first + i] for i in range(count)]
        positions = {p.obj.objgen: i for i, p in enumerate(new.pages)}
        old_positions = {p.obj.objgen: i for i, p in enumerate(old_pages)}
        new_dests = _dests(new, positions)
        old_tree, old_dests = _tree(old), _dests(old, old_positions)
        for dests in (new_dests, old_dests):
            dests.pop("Doc-Start", None)  # hyperref's anchor at the first page, kept as it was
        if old_tree is None or set(new_dests) != set(old_dests):
            return "the chapter's named destinations changed"
        if _outline(new, set(new_dests)) != _outline(old, set(old_dests)):
            return "the chapter's bookmarks changed"
        for page in new.pages:
            for annot in page.obj.get("/Annots", []):
                if "/P" in annot or not _named(annot):
                    return "a link on the chapter's pages is not to a named destination"
        for old_page, new_page in zip(old_pages, new.pages, strict=True):
            keys = {str(k) for k in new_page.obj} - {"/Parent", "/Type"}
            for key in [str(k) for k in old_page.obj]:
                if key not in keys and key not in ("/Parent", "/Type"):
                    del old_page.obj[key]
            for key in keys:
                value = new_page.obj[key]
                if not value.is_indirect:  # copy_foreign takes indirect objects only
                    value = new.make_indirect(value)
                old_page.obj[key] = old.copy_foreign(value)
        for name, (index, rest) in new_dests.items():  # rest: /XYZ and numbers, direct
            old_tree[name] = pikepdf.Array([old_pages[index].obj, *rest])
        old.save(tmp)
    os.replace(tmp, pdf_path)
    return ""


def _outline(pdf: Any, names: set[str]) -> list[tuple[int, str, str]]:
    """The bookmarks (depth below the first, title, destination name) that lead to one of
    ``names``."""
    found: list[tuple[int, str, str]] = []
    outlines = pdf.Root.get("/Outlines")

    def walk(item: Any, depth: int) -> None:
        seen = 0
        while item is not None and seen < 100_000:
            seen += 1
            action = item.get("/A")
            target = action.get("/D") if action is not None else item.get("/Dest")
            if target is not None and str(target) in names:
                found.append((depth, str(item.get("/Title", "")), str(target)))
            walk(item.get("/First"), depth + 1)
            item = item.get("/Next")

    if outlines is not None:
        walk(outlines.get("/First"), 0)
    top = min((depth for depth, _, _ in found), default=0)  # alone, a chapter has no part
    return [(depth - top, title, name) for depth, title, name in found]


def _named(annot: Any) -> bool:
    import pikepdf

    action = annot.get("/A")
    if action is not None and "/D" in action:
        return isinstance(action.D, pikepdf.String | pikepdf.Name)
    if "/Dest" in annot:
        return isinstance(annot.Dest, pikepdf.String | pikepdf.Name)
    return True  # a URI or no target


def _tree(pdf: Any) -> Any:
    import pikepdf

    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return None
    return pikepdf.NameTree(names.Dests)


def _dests(pdf: Any, positions: dict[tuple[int, int], int]) -> dict[str, tuple[int, Any]]:
    """Named destinations on the given pages: name -> (index among them, the rest of the
    destination array after the page)."""
    import pikepdf

    tree = _tree(pdf)
    found: dict[str, tuple[int, Any]] = {}
    if tree is None:
        return found
    for name, dest in tree.items():
        array = dest.get("/D") if isinstance(dest, pikepdf.Dictionary) else dest
        if not isinstance(array, pikepdf.Array) or len(array) < 1:
            continue
        page = array[0]
        if not isinstance(page, pikepdf.Dictionary):
            continue
        index = positions.get(page.objgen)
        if index is not None:
            found[name] = (index, list(array)[1:])
    return found
