"""A cold build in one LaTeX pass instead of two.

A LaTeX pass reads what the previous pass wrote: the .aux (labels, citations) and the .toc.
A cold build has neither, so until now it took two passes. bookbuild knows most of it before
LaTeX runs: citeproc's citations all read ``\\citeproctext`` and the crossref filter has
numbered every label. What it cannot know is the page of each contents entry. So a cold
build, when the work directory holds nothing from an earlier pass:

1. writes the .aux a first pass would leave for citations and for the labels that ``\\ref``
   asks for (number as the filter counted it; page and title unknown; a placeholder anchor)
   or that an internal link (``\\hyperref[label]``) points at (a placeholder anchor alone);
2. runs the engine once, with ``bookbuild-onepass.ltx`` read before the book: ``\\tableofcontents``
   only clears its page; after the last page the contents are typeset from the entries the
   pass wrote, numbered in roman from where they stood (front matter is numbered in roman
   with a table of contents, so the body's pages do not depend on the contents' length);
3. checks that the pass came out as a second pass would have: the deferral went through (the
   log's ``bookbuild-onepass: ok`` line), no reference was undefined and nothing asked for a
   rerun but the label check, each label's number in the new .aux is the one assumed, and the
   pass wrote no other file for a next pass (.lof, .out ...);
4. with pikepdf, points ``\\ref`` and ``\\hyperref`` links at the real anchors (from the new
   .aux) and moves the contents' pages to where ``\\tableofcontents`` stood. Pages stay the
   same page objects, so named destinations, bookmarks and links keep pointing at them.

A book with an index sorts it in the same pass (:class:`bookbuild.indexprog.IndexSync`): the
caller leaves the index's files out of ``written`` when the pass printed the index of all its
entries.

The pass leaves the .aux and .toc a normal pass would leave, so the next build keeps the
engine's rule (one pass while they do not change). When a check fails, the pass counts as an
ordinary first pass and the engine's loop goes on from its files: two passes, as before.
``BOOKBUILD_TWO_PASS=1`` in the environment turns the one-pass build off (for comparisons).

The pass is the first of :func:`bookbuild.stages.compile.run_engine`'s loop: this module
prepares it (:func:`prepare`; the engine reads :data:`HELPER` before the book) and finishes
or rejects it (:func:`finish`); it imports nothing of bookbuild's, and the label numbers come
in as arguments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HELPER = "bookbuild-onepass.ltx"  # not .tex: the work directory has one .tex, the book
#: The files a pass may leave for the next one and still count as settled.
SETTLED_SUFFIXES = {".aux", ".toc"}
#: Prefix of the placeholder anchors of seeded labels (rewritten in the PDF).
ANCHOR_PREFIX = "bookbuild-onepass."
STATUS = re.compile(
    r"^bookbuild-onepass: (?P<status>[^;\n]*); front (?P<front>\d+), body (?P<body>\d+),\s*"
    r"total (?P<total>\d+)",
    re.M,
)
#: What LaTeX and packages say when a next pass would differ (as latexmk looks for them). The
#: kernel's "Label(s) may have changed" is left out: it follows from the seeded .aux (labels
#: without page or title), and a use of what it lacks is caught by ``\bbop@unknown``.
RERUN = re.compile(
    r"Rerun to|Please rerun|Rerun LaTeX|rerun LaTeX|There were undefined|undefined on input line"
    r"|Temporary extra page|Rerun to correct"
)
LABELS_CHANGED = "LaTeX Warning: Label(s) may have changed. Rerun to get cross-references right."
#: hyperref's PDF page labels (on unless the book has contents) come from the .aux of the pass
#: before; bookbuild puts them in the PDF from this pass's entries instead.
PAGE_LABELS = re.compile(r"Package hyperref Warning: Rerun to get /PageLabels entry\.")
PAGE_LABEL_ENTRY = re.compile(r"^\\HyPL@Entry\{(\d+)(<<.*>>)\}\s*$", re.M)
BIBITEM = re.compile(r"\\bibitem\[\\citeproctext\]\{([^{}]*)\}")
REF = re.compile(r"\\ref\{([^{}]*)\}")
#: ``\\hyperref[label]{text}`` (pandoc's internal links): only the label's anchor is read.
HYPERREF = re.compile(r"\\hyperref\[([^\[\]{}\\]*)\]")
LABEL = re.compile(r"\\label\{([^{}]*)\}")
#: Lines of an .aux whose readers bookbuild knows: the kernel's and hyperref's, labels (a use
#: of a label a next pass would change is an undefined reference or ``\bbop@unknown``),
#: citations, contents lines, longtable's column widths (a change makes longtable ask for a
#: rerun). Any other line may change what a next pass typesets, so it takes that pass.
AUX_KNOWN = re.compile(
    r"\\relax\s*$|\\(citation|bibcite|newlabel|@writefile|hyper@newdestlabel)\{"
    r"|%bookbuild-splice "  # chapter checkpoints (splice.py): comments, read by no one
    r"|\\gdef ?\\@abspage@last\{|\\gdef ?\\LT@[a-z]+ ?\{|\\fi\}\s*$|\\HyPL@Entry\{"
    r"|\\providecommand\*?\\HyPL@Entry\b"
    r"|\\providecommand ?\\(hyper@newdestlabel|HyperFirstAtBeginDocument|HyField@AuxAddTo\w*)\b"
    r"|\\HyperFirstAtBeginDocument\{\\ifx\\hyper@anchor\\@undefined\s*$"
    r"|\\AtEndDocument\{\\ifx\\hyper@anchor\\@undefined\s*$"
    r"|\\global\\let\\(oldnewlabel\\newlabel|OldContentsline\\contentsline|hyper@last\\relax)\s*$"
    r"|\\gdef\\(newlabel|newlabelxx|contentsline|HyperFirstAtBeginDocument)#"
    r"|\\let\\(newlabel\\oldnewlabel|contentsline\\OldContentsline)\s*$"
)


@dataclass
class Plan:
    """What the one-pass run assumed, to check it against what the pass wrote."""

    labels: dict[str, str] = field(default_factory=dict)  # LaTeX label -> number
    anchors: set[str] = field(default_factory=set)  # labels only linked to (\\hyperref)
    bibcites: set[str] = field(default_factory=set)  # the \\bibcite lines written


def label_numbers(
    crossref_labels: dict[str, Any] | None, latex_label: Callable[[str], str]
) -> dict[str, str]:
    """LaTeX label -> number, from the labels the crossref filter numbered in the last full
    build (the ``crossref_labels`` of :mod:`bookbuild.incremental`'s state; the orchestrator
    passes them in, a stage does not read that state), named by ``latex_label`` (the
    filters' ``_filterlib.latex_label``, pandoc's rule)."""
    return {
        latex_label(ident): str(data["number"])
        for ident, data in (crossref_labels or {}).items()
        if isinstance(data, dict) and data.get("number") not in (None, "", "??")
    }


def seed_aux(tex: str, numbers: dict[str, str]) -> tuple[str, Plan]:
    """The .aux a first pass would leave for what the body reads of it."""
    plan = Plan()
    lines = ["\\relax "]
    plan.bibcites = {f"\\bibcite{{{key}}}{{\\citeproctext }}" for key in BIBITEM.findall(tex)}
    lines += sorted(plan.bibcites)
    defined = set(LABEL.findall(tex))
    for name in dict.fromkeys(REF.findall(tex)):
        if name in defined and name in numbers:
            plan.labels[name] = numbers[name]
            lines.append(
                f"\\newlabel{{{name}}}{{{{{numbers[name]}}}{{\\bbop@unknown}}"
                f"{{\\bbop@unknown}}{{{ANCHOR_PREFIX}{name}}}{{}}}}"
            )
    # Internal links need the label's anchor alone: a placeholder, pointed at the real
    # anchor in the PDF; its number, page and title are unknown (a use of them fails).
    for name in dict.fromkeys(HYPERREF.findall(tex)):
        if name in defined and name not in plan.labels:
            plan.anchors.add(name)
            lines.append(
                f"\\newlabel{{{name}}}{{{{\\bbop@unknown}}{{\\bbop@unknown}}"
                f"{{\\bbop@unknown}}{{{ANCHOR_PREFIX}{name}}}{{}}}}"
            )
    return "\n".join(lines) + "\n", plan


def _groups(text: str, start: int, count: int) -> list[str] | None:
    """``count`` brace groups from ``text[start:]`` (balanced), or None."""
    out = []
    i = start
    for _ in range(count):
        if i >= len(text) or text[i] != "{":
            return None
        depth = 0
        for j in range(i, len(text)):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[i + 1 : j])
                    i = j + 1
                    break
        else:
            return None
    return out


def aux_labels(aux: str) -> dict[str, list[str]]:
    """``\\newlabel{name}{{number}{page}{title}{anchor}{}}`` lines of an .aux: name -> fields."""
    found: dict[str, list[str]] = {}
    for match in re.finditer(r"^\\newlabel\{([^{}]*)\}\{", aux, re.M):
        fields = _groups(aux, match.end(), 5)
        if fields is not None:
            found[match[1]] = fields
    return found


def _check(log: str, aux: str, files: list[Path], plan: Plan) -> tuple[str, dict[str, int]]:
    """Why the pass is not as a second pass would be ("" when it is), and its page counts."""
    statuses = list(STATUS.finditer(log))
    if len(statuses) != 1:
        return "no status line from onepass.tex", {}
    status = statuses[0]
    pages = {k: int(status[k]) for k in ("front", "body", "total")}
    if status["status"] not in ("ok", "none"):
        return status["status"], pages
    rerun = RERUN.search(PAGE_LABELS.sub("", log.replace(LABELS_CHANGED, "").replace("\n", "")))
    if rerun:
        return f"LaTeX asks for a rerun ({rerun[0]})", pages
    extra = sorted(p.name for p in files if p.suffix not in SETTLED_SUFFIXES)
    if extra:
        return f"the pass wrote {', '.join(extra)} for a next one", pages
    for line in aux.splitlines():
        if line[:1].isspace() or not line:  # the rest of the line before
            continue
        if not AUX_KNOWN.match(line) or (
            line.startswith("\\bibcite") and line not in plan.bibcites
        ):
            return f"the .aux holds {line[:60]!r}", pages
    real = aux_labels(aux)
    for name, number in plan.labels.items():
        if name not in real or real[name][0] != number:
            return f"label {name} is {real.get(name, ['?'])[0]}, not {number}", pages
    for name in sorted(plan.anchors):
        if not real.get(name, ["", "", "", ""])[3]:  # a link needs the label's anchor
            return f"label {name} was written without an anchor", pages
    return "", pages


def finish_pdf(
    pdf_path: Path, pages: dict[str, int], anchors: dict[str, str], aux: str = ""
) -> None:
    """Point seeded labels' links at their real anchors; move the contents into place; set
    the PDF page labels hyperref would set from this pass's .aux in the next."""
    import pikepdf

    front, body, total = pages["front"], pages["body"], pages["total"]
    tmp = pdf_path.with_name(pdf_path.name + ".onepass.tmp")
    with pikepdf.open(pdf_path) as pdf:
        if len(pdf.pages) != total:
            raise ValueError(f"the PDF has {len(pdf.pages)} pages, the log says {total}")
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", []):
                _retarget(annot, anchors)
        # pdfTeX and LuaTeX add a stand-in destination for each placeholder name.
        names = pdf.Root.get("/Names")
        if names is not None and "/Dests" in names:
            tree = pikepdf.NameTree(names.Dests)
            for name in [k for k in tree if k.startswith(ANCHOR_PREFIX)]:
                del tree[name]
        entries = PAGE_LABEL_ENTRY.findall(aux)
        if entries and entries != [("0", "<</S/D>>")]:  # hyperref leaves out the plain 1, 2 ...
            nums: list[Any] = []
            for index, style in entries:
                nums += [int(index), pikepdf.Object.parse(style.encode())]
            pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(nums))
        if total > body:
            moved = [pdf.pages[i] for i in range(body, total)]
            for i in range(total - 1, body - 1, -1):
                del pdf.pages[i]
            for offset, page in enumerate(moved):
                pdf.pages.insert(front + offset, page)
        pdf.save(tmp)
    os.replace(tmp, pdf_path)


def _retarget(annot: Any, anchors: dict[str, str]) -> None:
    import pikepdf

    action = annot.get("/A")
    holder, key = (action, "/D") if action is not None and "/D" in action else (annot, "/Dest")
    if holder is None or key not in holder:
        return
    dest = holder[key]
    if isinstance(dest, pikepdf.String) and str(dest).startswith(ANCHOR_PREFIX):
        name = str(dest)[len(ANCHOR_PREFIX) :]
        if name not in anchors:
            raise ValueError(f"no anchor for label {name}")
        holder[key] = pikepdf.String(anchors[name])


def enabled() -> bool:
    """False when ``BOOKBUILD_TWO_PASS`` is set (comparisons)."""
    return not os.environ.get("BOOKBUILD_TWO_PASS")


def prepare(tex_path: Path, numbers: dict[str, str]) -> Plan:
    """Before a cold pass: write the helper and the seeded .aux beside ``tex_path``."""
    workdir, stem = tex_path.parent, tex_path.stem
    aux_text, plan = seed_aux(tex_path.read_text(encoding="utf-8", errors="replace"), numbers)
    (workdir / HELPER).write_text(HELPER_TEX, encoding="utf-8")
    (workdir / f"{stem}.aux").write_text(aux_text, encoding="utf-8")
    return plan


def finish(tex_path: Path, plan: Plan, written: list[Path]) -> str:
    """After the one-pass run (``written``: the files it left for a next pass): finish the
    PDF and return "", or return why a second pass is needed (the PDF then stays as the pass
    left it, an ordinary first pass)."""
    workdir, stem = tex_path.parent, tex_path.stem
    log = workdir / f"{stem}.log"
    aux = (workdir / f"{stem}.aux").read_text(errors="replace")
    log_text = log.read_text(errors="replace") if log.is_file() else ""
    why, pages = _check(log_text, aux, written, plan)
    if why:
        return why
    real = aux_labels(aux)
    anchors = {name: real[name][3] for name in [*plan.labels, *plan.anchors]}
    try:
        finish_pdf(workdir / f"{stem}.pdf", pages, anchors, aux)
    except Exception as exc:  # a PDF pikepdf cannot handle: an ordinary second pass
        return f"pikepdf: {exc}"
    return ""


#: Read before the book's .tex in a one-pass run (here, not in a file of its own, so that the
#: build fingerprint, which hashes bookbuild's .py files, covers it).
HELPER_TEX = r"""% bookbuild: a cold build in one LaTeX pass (see onepass.py).
%
% \tableofcontents does not typeset the contents where it stands: it clears the page, notes
% the page number and what the page looks like, and the contents are typeset after the last
% page of the book, when every entry has been written to the .aux, numbered as they would
% have been in front. bookbuild then moves those pages into place. Anything that would make
% the deferred contents differ from contents typeset in place ends the deferral with a
% status other than "ok" in the log, and bookbuild runs an ordinary second pass instead.
%
% Labels and citations come from the .aux bookbuild writes before the pass (numbers known
% from the filters). A page or a title asked of such a label (\pageref, \nameref) is not
% known yet: \bbop@unknown says so in the status.
\makeatletter
\def\bbop@status{none}
\def\bbop@none{none}
\def\bbop@fail#1{\xdef\bbop@status{#1}}
\protected\def\bbop@unknown{\bbop@fail{a label's page or title was used}??}
\def\bbop@state{%
  \the\textwidth/\the\textheight/\the\columnwidth/\the\parindent/\the\parskip/%
  \the\baselineskip/\f@encoding/\f@family/\f@series/\f@shape/\f@size/%
  \if@twocolumn 2\else 1\fi/\@ifundefined{languagename}{}{\languagename}}
\AddToHook{begindocument/end}{%
  \@ifundefined{tableofcontents}{}{%
    \global\let\bbop@toc\tableofcontents
    \gdef\tableofcontents{\bbop@defer}}}
\AddToHook{enddocument/afterlastpage}{\bbop@atend}
\def\bbop@defer{%
  \ifx\bbop@status\bbop@none
    \if@twoside
      \bbop@fail{two-sided}\bbop@toc
    \else
      \bbop@deferred
    \fi
  \else
    \bbop@fail{contents asked for twice}\bbop@toc
  \fi}
\def\bbop@deferred{%
  \clearpage
  \gdef\bbop@status{ok}%
  \global\let\bbop@deferred@done\relax
  \xdef\bbop@front{\the\ReadonlyShipoutCounter}%
  \xdef\bbop@page{\the\c@page}%
  \xdef\bbop@depth{\the\c@tocdepth}%
  \xdef\bbop@where{\bbop@state}%
  \global\let\bbop@oddhead\@oddhead \global\let\bbop@evenhead\@evenhead
  \global\let\bbop@oddfoot\@oddfoot \global\let\bbop@evenfoot\@evenfoot
  \global\let\bbop@mkboth\@mkboth
  \@ifundefined{Hy@linkcounter}{}{%
    % The contents' own \chapter* takes one hyperref anchor here, as in place.
    \xdef\bbop@link{\the\Hy@linkcounter}\global\advance\Hy@linkcounter\@ne}%
  % The body's page numbers must not depend on the contents' length: bookbuild numbers the
  % front matter in roman and starts the body at 1, before the next page is shipped out.
  \global\let\bbop@pagenumbering\pagenumbering
  \gdef\pagenumbering{\global\let\bbop@renumbered\relax\bbop@pagenumbering}%
  \AddToHook{shipout/before}{%
    \ifx\bbop@renumbered\relax\else\bbop@fail{the pages after the contents are not renumbered}\fi}}
\def\bbop@atend{%
  \xdef\bbop@bodyend{\the\ReadonlyShipoutCounter}%
  \ifx\bbop@status\bbop@ok
    \edef\reserved@a{\bbop@state}%
    \ifx\reserved@a\bbop@where\else
      \bbop@fail{layout changed between the contents and the end}%
    \fi
  \fi
  \ifx\bbop@deferred@done\relax
    \@ifundefined{tf@toc}{\bbop@writetoc}{}% (else the contents stood somewhere after all)
  \fi
  \ifx\bbop@status\bbop@ok
    \bbop@typeset
  \else
    \xdef\bbop@front{\bbop@bodyend}%
  \fi
  \typeout{bookbuild-onepass: \bbop@status; front \bbop@front, body \bbop@bodyend,
    total \the\ReadonlyShipoutCounter}}
\def\bbop@ok{ok}
\def\bbop@writetoc{%
  % Every \addcontentsline has been written: close the .aux and copy its toc lines into the
  % .toc, as the end of a pass does (the kernel reads the .aux again after this hook).
  \immediate\closeout\@mainaux
  \begingroup
    \newwrite\bbop@tocfile
    \immediate\openout\bbop@tocfile\jobname.toc\relax
    \expandafter\let\csname tf@toc\endcsname\bbop@tocfile
    \let\@setckpt\@gobbletwo
    \let\@newl@bel\@testdef
    \makeatletter
    \@@input\jobname.aux
    \immediate\closeout\bbop@tocfile
  \endgroup}
\def\bbop@typeset{%
  \bbop@pagenumbering{roman}%
  \global\c@page\bbop@page\relax
  \global\let\@oddhead\bbop@oddhead \global\let\@evenhead\bbop@evenhead
  \global\let\@oddfoot\bbop@oddfoot \global\let\@evenfoot\bbop@evenfoot
  \global\let\@mkboth\bbop@mkboth
  \@ifundefined{Hy@linkcounter}{}{%
    \xdef\bbop@linkend{\the\Hy@linkcounter}\global\Hy@linkcounter\bbop@link\relax}%
  \begingroup
    \def\addcontentsline##1##2##3{\bbop@fail{the contents add a contents line}}%
    \def\addtocontents##1##2{\bbop@fail{the contents add to a contents file}}%
    \c@tocdepth\bbop@depth\relax
    \bbop@toc
    \clearpage
  \endgroup
  \@ifundefined{Hy@linkcounter}{}{%
    \advance\Hy@linkcounter-\bbop@link\relax
    \ifnum\Hy@linkcounter=\@ne\else
      \bbop@fail{the contents took \the\Hy@linkcounter\space hyperref anchors}%
    \fi
    \global\Hy@linkcounter\bbop@linkend\relax}}
\makeatother
"""
