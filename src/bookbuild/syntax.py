"""The Markdown that bookbuild itself recognises in chapter texts, each pattern once:
footnote definitions and uses, and pandoc-crossref's labels and references."""

from __future__ import annotations

import re

#: ``[^key]: text`` (up to three spaces in): a footnote definition; group 1 is the key.
NOTE_DEFINITION = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:", re.M)
#: ``[^key]``: a footnote's use (or its definition's start); group 1 is the key.
NOTE_USE = re.compile(r"\[\^([^\]\s]+)\]")

#: Cross-reference label kinds (``{#fig:x}``, ``@fig:x``): section, figure, table,
#: equation, listing.
CROSSREF_KINDS = ("sec", "fig", "tbl", "eq", "lst")
_KIND = "|".join(CROSSREF_KINDS)
_ANY_CASE = "|".join(k for kind in CROSSREF_KINDS for k in (kind, kind.capitalize()))
_LABEL = rf"(?:{_KIND}):[^\s}}]+"

#: A citation id that is a cross-reference (``fig:x``, ``Fig:x``), not a bibliography key.
CROSSREF_ID = re.compile(rf"(?i)^(?:{_KIND}):")
#: A label in an attribute block anywhere (``{#fig:x width=50%}``); group 1 is the label.
LABEL_DEFINITION = re.compile(rf"\{{[^}}\n]*#({_LABEL})")
#: A label at the start of text (``{#tbl:x}`` left in a caption); group 1 is the label.
LEADING_LABEL = re.compile(rf"^\{{#({_LABEL})")
#: A reference in the text (``@fig:x``, ``@Fig:x``); group 1 is the id.
LABEL_REFERENCE = re.compile(rf"@((?:{_ANY_CASE}):[\w:.-]*\w)")
