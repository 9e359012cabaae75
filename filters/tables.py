#!/usr/bin/env python3
"""Tables that fit the page: wide tables without column widths get them, so cells wrap.

pandoc's Markdown reader gives a pipe table relative column widths (and wrapping cells) when
a line of it is longer than 72 characters; its CommonMark and GFM readers (GitBook, HonKit and
mdBook books) never do, and the LaTeX writer then sets each column as wide as its longest
cell: a table with a sentence in a cell runs off the page, its text cut at the paper's edge.

Here a table whose columns all have the default width, and whose longest cells add up to
more than a line (72 characters, pandoc's own measure), gets relative widths: short columns
keep what their longest cell needs, the long ones share the rest in proportion to their text
(code counts a little wider: it is set in a monospaced font). Tables with widths of their own,
and tables that fit, are left alone.

Switch: metadata ``table_widths`` (default true).
"""

from __future__ import annotations

import panflute as pf
from _filterlib import switch_value

SWITCH = "table_widths"
#: A table's widths depend on the table alone (bookbuild may rebuild a chapter alone).
INCREMENTAL = True
#: A line, in characters (pandoc's ``--columns`` default, the measure its Markdown reader uses).
LINE = 72
#: Room between columns, in characters.
GAP = 3


class TableWidthError(ValueError):
    """Table settings the filter cannot use."""


def prepare(doc: pf.Doc) -> None:
    doc.tables_enabled = switch_value(doc, SWITCH, TableWidthError)


def _length(cell: pf.TableCell) -> float:
    """The cell's text length in characters (code a fifth wider)."""
    length = 0.0

    def count(elem: pf.Element, _doc: pf.Doc) -> None:
        nonlocal length
        if isinstance(elem, pf.Str):
            length += len(elem.text)
        elif isinstance(elem, pf.Space | pf.SoftBreak):
            length += 1
        elif isinstance(elem, pf.Code):
            length += 1.2 * len(elem.text)

    cell.walk(count)
    return length


def _rows(table: pf.Table) -> list[pf.TableRow]:
    rows = list(table.head.content)
    for body in table.content:
        rows += list(body.content)
    rows += list(table.foot.content)
    return rows


def column_lengths(table: pf.Table) -> list[float]:
    """Each column's longest cell (cells spanning columns are left out)."""
    lengths = [0.0] * len(table.colspec)
    for row in _rows(table):
        column = 0
        for cell in row.content:
            if cell.colspan == 1 and column < len(lengths):
                lengths[column] = max(lengths[column], _length(cell))
            column += cell.colspan
    return lengths


def shares(lengths: list[float], line: float = LINE) -> list[float]:
    """Fractions of the line for columns of these lengths: a column shorter than an even
    share of what is left keeps its length; the others split the rest by their lengths."""
    room = line - GAP * (len(lengths) - 1)
    given: dict[int, float] = {}
    waiting = sorted(range(len(lengths)), key=lambda i: lengths[i])
    while waiting:
        left = room - sum(given.values())
        fair = left / len(waiting)
        index = waiting[0]
        if lengths[index] + 1 <= fair:
            given[index] = lengths[index] + 1
            waiting.pop(0)
            continue
        total = sum(lengths[i] for i in waiting)
        for i in waiting:
            given[i] = left * lengths[i] / total
        break
    return [round(given[i] / room, 3) for i in range(len(lengths))]


def action(elem: pf.Element, doc: pf.Doc) -> pf.Element | None:
    if not doc.tables_enabled or not isinstance(elem, pf.Table):
        return None
    if any(width != "ColWidthDefault" for _, width in elem.colspec):
        return None
    lengths = column_lengths(elem)
    if sum(lengths) + GAP * (len(lengths) - 1) <= LINE:
        return None
    elem.colspec = [
        (align, share) for (align, _), share in zip(elem.colspec, shares(lengths), strict=True)
    ]
    return elem


def main(doc: pf.Doc | None = None) -> pf.Doc:
    """Run as a pandoc filter, or in-process on ``doc``."""
    return pf.run_filter(action, prepare=prepare, doc=doc)


if __name__ == "__main__":
    main()
