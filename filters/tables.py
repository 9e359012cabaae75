#!/usr/bin/env python3
"""Tables that fit the page: wide tables without column widths get them, so cells wrap.

pandoc's Markdown reader gives a pipe table relative column widths (and wrapping cells) when
a line of it is longer than 72 characters; its CommonMark and GFM readers (GitBook, HonKit and
mdBook books) never do, and the LaTeX writer then sets each column as wide as its longest
cell: a table with a sentence in a cell runs off the page, its text cut at the paper's edge.

Here a table whose columns all have the default width gets the widths the html filter gives
an HTML table (``_filterlib.column_widths``: natural widths when its widest row fits a line,
else shares of the line by each column's longest text). Tables with widths of their own are
left alone, and so are their alignments.

Switch: metadata ``table_widths`` (default true).
"""

from __future__ import annotations

import panflute as pf
from _filterlib import column_widths, run_filter, switch_value

SWITCH = "table_widths"
#: A table's widths depend on the table alone (bookbuild may rebuild a chapter alone).
INCREMENTAL = True


class TableWidthError(ValueError):
    """Table settings the filter cannot use."""


def prepare(doc: pf.Doc) -> None:
    doc.tables_enabled = switch_value(doc, SWITCH, TableWidthError)


def _rows(table: pf.Table) -> list[pf.TableRow]:
    rows = list(table.head.content)
    for body in table.content:
        rows += list(body.content)
    return rows + list(table.foot.content)


#: The elements :func:`action` does anything with (it is called on these alone).
ACTS_ON = (pf.Table,)
#: Skip rule (``_filterlib.census`` tokens): nothing to do in a document without a table.
NEEDS = frozenset({"Table"})


def action(elem: pf.Element, doc: pf.Doc) -> pf.Element | None:
    if not doc.tables_enabled or not isinstance(elem, pf.Table):
        return None
    if any(width != "ColWidthDefault" for _, width in elem.colspec):
        return None
    widths = column_widths(_rows(elem), len(elem.colspec))
    elem.colspec = [
        (align, width) for (align, _), (_, width) in zip(elem.colspec, widths, strict=True)
    ]
    return elem


def main(doc: pf.Doc | None = None) -> pf.Doc:
    """Run as a pandoc filter, or in-process on ``doc``."""
    return run_filter(action, prepare, None, doc, ACTS_ON, NEEDS)


if __name__ == "__main__":
    main()
