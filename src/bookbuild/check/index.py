"""``bookbuild check`` for the index: entries that differ only by case or by spelling.

``[Gradient descent]{.index}`` in one chapter and ``[gradient descent]{.index}`` in another
make two entries in the printed index; so do ``optimiser`` and ``optimizer``. Same letters in
another case: a warning at the second spelling; a close spelling (difflib ratio at least
:data:`SIMILAR`): info, since "model" and "models" may be meant.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic

if TYPE_CHECKING:
    from .book import Book

#: Two entries at least this similar (difflib ratio, lower-cased) are listed as info.
SIMILAR = 0.85


def _misspelt(one: str, other: str) -> bool:
    """Close spellings of one word, not a word inside another (model/models, un-)."""
    if one in other or other in one:
        return False
    return difflib.SequenceMatcher(None, one, other).ratio() >= SIMILAR


def _entry(elem: object) -> str | None:
    import panflute as pf

    if not isinstance(elem, pf.Span) or "index" not in elem.classes:
        return None
    return (elem.attributes.get("entry") or pf.stringify(elem)).strip() or None


def check_index_entries(book: Book) -> list[Diagnostic]:
    """Index entries (each level of ``a!b``) spelled two ways."""
    found: list[Diagnostic] = []
    first: dict[str, str] = {}  # lower-cased entry -> first spelling
    for source, elem in book.elements():
        entry = _entry(elem)
        if entry is None:
            continue
        pattern = re.escape(entry)  # the text, or the entry= value
        key = entry.lower()
        if key in first:
            if first[key] != entry:
                message = (
                    f"index entry '{entry}' differs only by case from '{first[key]}': "
                    "they print as two entries"
                )
                found.append(book.diagnostic(source, pattern, "warning", message))
            continue
        parent, _, leaf = key.rpartition("!")
        siblings = [k for k in first if k.rpartition("!")[0] == parent]  # same level only
        close = [k for k in siblings if _misspelt(k.rpartition("!")[2], leaf)][:1]
        if close:
            message = (
                f"index entry '{entry}' is spelled like '{first[close[0]]}': "
                "one entry, or two on purpose?"
            )
            found.append(book.diagnostic(source, pattern, "info", message))
        first[key] = entry
    return found
