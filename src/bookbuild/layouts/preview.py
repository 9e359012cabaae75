"""``--chapter`` on a layout book: pages at any depth, numbered as in the book.

:func:`number_pages` follows LaTeX's counters through the shaped book (parts, numbered and
unnumbered headings, ``\\stepcounter`` after titles that carry their own number,
``\\appendix``) and gives each page its number ("1.3.2") and the counters to set before its
heading, so a preview of a nested page prints "1.3.2 Anatomy …" as the book does.
:func:`select_pages` picks pages by number, file stem or path, or title, with a did-you-mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..diagnostics import did_you_mean
from ..errors import SelectionError
from ..pandoc import plain_text
from .shape import COUNTERS, Plan

_STEP = re.compile(r"\\stepcounter\{(\w+)\}")
_NAMES = [COUNTERS[level] for level in sorted(COUNTERS)]


@dataclass
class PageNumber:
    """Where a page stands in the book's numbering."""

    number: str  # "1.3.2", "A", "" when unnumbered
    title: str
    counters: dict[str, int]  # LaTeX counters just before the page's heading
    appendix: bool


def _letter(value: int) -> str:
    return chr(ord("A") + value - 1) if 1 <= value <= 26 else str(value)


def number_pages(layout: Plan, infos: list[Any]) -> list[PageNumber]:
    """Each preview chapter's (page's) number, title and counters, in book order."""
    counts = dict.fromkeys(_NAMES, 0)
    appendix = False
    numbers: list[PageNumber] = []
    for info in infos:
        page = layout.pages.get(info.text.chapter.path)
        skip = len(page.lead) if page is not None else 0
        found: PageNumber | None = None
        for block in info.blocks:
            kind = block.get("t")
            if kind == "RawBlock" and block["c"][0] == "latex":
                if "\\appendix" in block["c"][1]:
                    appendix, counts["chapter"] = True, 0
                    for name in _NAMES[1:]:
                        counts[name] = 0
                for name in _STEP.findall(block["c"][1]):
                    _step(counts, name)
                continue
            if kind != "Header" or "part" in block["c"][1][1]:
                continue
            level, classes = block["c"][0], block["c"][1][1]
            before = dict(counts)
            if "unnumbered" not in classes and level in COUNTERS:
                _step(counts, COUNTERS[level])
            if skip:
                skip -= 1
                continue
            if found is None:
                number = ""
                if "unnumbered" not in classes and level in COUNTERS:
                    parts = [counts[_NAMES[i]] for i in range(level)]
                    first = _letter(parts[0]) if appendix else str(parts[0])
                    number = ".".join([first, *map(str, parts[1:])])
                found = PageNumber(number, plain_text(block["c"][2]), before, appendix)
        numbers.append(found or PageNumber("", "", dict(counts), appendix))
    return numbers


def _step(counts: dict[str, int], name: str) -> None:
    if name not in counts:
        return
    counts[name] += 1
    for deeper in _NAMES[_NAMES.index(name) + 1 :]:
        counts[deeper] = 0


class _Choice:
    def __init__(self, info: Any, number: PageNumber, layout: Plan):
        self.info = info
        self.number = number
        path = info.text.chapter.path
        self.names = {info.stem, path.name, info.text.chapter.name}
        for base in (layout.tree.book_dir, layout.tree.layout_file.parent):
            if path.is_relative_to(base):
                self.names.add(path.relative_to(base).as_posix())

    def describe(self) -> str:
        number = f"{self.number.number} " if self.number.number else ""
        return f"{number}{self.info.text.chapter.name} ({self.number.title})"


def select_pages(layout: Plan, infos: list[Any], selectors: list[str]) -> list[Any]:
    """The pages named by number ("5", "1.3.2"), file stem or path, or a title fragment;
    prepared for the preview (counters set as in the book). SelectionError otherwise."""
    numbers = number_pages(layout, infos)
    choices = [_Choice(i, n, layout) for i, n in zip(infos, numbers, strict=True)]
    chosen: list[_Choice] = []
    for selector in selectors:
        wanted = selector.strip().rstrip(".")
        found = [c for c in choices if c.number.number and c.number.number == wanted]
        if not found:
            found = [c for c in choices if wanted in c.names]
        if not found:
            fragment = wanted.casefold()
            exact = [c for c in choices if c.number.title.casefold() == fragment]
            found = exact or [c for c in choices if fragment in c.number.title.casefold()]
        if not found:
            words = sorted(
                {n for c in choices for n in c.names} | {c.number.title for c in choices}
            )
            raise SelectionError(f"no chapter matches '{selector}'{did_you_mean(wanted, words)}")
        if len(found) > 1:
            names = "; ".join(c.describe() for c in found)
            raise SelectionError(f"'{selector}' matches several chapters: {names}")
        if found[0] not in chosen:
            chosen.append(found[0])
    chosen.sort(key=choices.index)
    for choice in chosen:
        _prepare(choice)
    return [c.info for c in chosen]


def _prepare(choice: _Choice) -> None:
    """The page's counters set before its heading; its title and number for the messages."""
    info = choice.info
    settings = "".join(f"\\setcounter{{{k}}}{{{v}}}" for k, v in choice.number.counters.items())
    prefix = "\\appendix" if choice.number.appendix else ""
    info.blocks.insert(0, {"t": "RawBlock", "c": ["latex", prefix + settings]})
    info.number = None  # preview_document's own \setcounter{chapter} would undo these
    info.title = choice.number.title or info.title
