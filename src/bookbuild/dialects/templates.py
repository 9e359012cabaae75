"""GitBook and HonKit template tags (``{% … %}``), made into Markdown pandoc reads.

GitBook and HonKit run every page through a template engine before the Markdown, so their
books carry block tags that would otherwise print as text:

- ``{% raw %}`` … ``{% endraw %}``: the tags go, the text between them stays as written;
- ``{% hint style="info" %}`` … ``{% endhint %}`` (GitBook's hints; ``info``, ``success``,
  ``warning``, ``danger``, also ``tip``/``note``/``caution``): a GitHub alert
  (``> [!NOTE]``), which the callouts filter prints as a titled box;
- ``{% exercise %}`` statement ``{% initial %}`` code ``{% solution %}`` code
  ``{% validation %}`` code ``{% endexercise %}`` (the exercises plugin of GitBook's own
  JavaScript books): a ``::: exercise`` with the statement and the starting code, then a
  ``::: solution`` with the solution's code, for the exercises filter. The validation code is
  what the plugin runs to check an answer; readers never see it there, nor here.

- ``{{ book.name }}``: the value of ``name`` in book.json's ``variables`` (which the GitBook
  layout reader passes on as the ``book-variables`` metadata).

Tags inside code (fenced or indented blocks, code spans) are left alone: GitBook prints them
there as written. Any other tag outside code is left as text with a warning naming its line
(the caller turns ``(line, message)`` into a located warning).

Lines: the rewritten text may have more or fewer lines than the file; :func:`rewrite_tags`
returns, for each line of the new text, the line of the text it came from, so messages keep
pointing at the author's file.
"""

from __future__ import annotations

import re

#: One template tag on a line: ``{% name args %}`` (``{%-`` / ``-%}`` trim markers too).
_TAG = re.compile(r"\{%-?\s*(?P<name>\w+)(?P<args>[^%]*?)-?%\}")
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
#: A book variable: ``{{ book.name }}`` (GitBook's ``variables`` in book.json).
_VARIABLE = re.compile(r"\{\{-?\s*book\.(?P<name>[\w.-]+)\s*-?\}\}")
_STYLE = re.compile(r"""style\s*=\s*["']?(?P<style>\w+)""")
#: A hint's style -> the GitHub alert the callouts filter reads.
ALERTS = {
    "info": "NOTE",
    "note": "NOTE",
    "success": "TIP",
    "tip": "TIP",
    "warning": "WARNING",
    "danger": "CAUTION",
    "caution": "CAUTION",
    "important": "IMPORTANT",
}
#: The code the exercises plugin shows is JavaScript.
EXERCISE_LANGUAGE = "js"


def _outside_code_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of the parts of ``line`` outside backtick code spans."""
    parts, last = [], 0
    for span in re.finditer(r"(`+)(?:(?!\1).)+?\1", line):
        parts.append((last, span.start()))
        last = span.end()
    parts.append((last, len(line)))
    return parts


def _tags(line: str) -> list[re.Match[str]]:
    return [
        m
        for start, end in _outside_code_spans(line)
        for m in _TAG.finditer(line, start, end)
        if m.end() <= end
    ]


def _opens(name: str, exercise: str | None) -> bool:
    """Whether a tag alone on its line is one this module turns into Markdown, where it is."""
    if name in ("hint", "endhint"):
        return True
    return {
        "exercise": exercise is None,
        "initial": exercise == "statement",
        "solution": exercise in ("statement", "initial"),
        "validation": exercise in ("statement", "initial", "solution"),
        "endexercise": exercise is not None,
    }.get(name, False)


def _variables(line: str, number: int, values: dict[str, str], notes: list) -> str:
    """``{{ book.name }}`` outside code spans replaced by its value from ``values``."""
    if "{{" not in line:
        return line
    out, last = [], 0
    for start, end in _outside_code_spans(line):
        out.append(line[last:start])
        piece = line[start:end]

        def value(match: re.Match[str]) -> str:
            name = match.group("name")
            if name in values:
                return values[name]
            notes.append((number, f"variable '{match.group(0)}' is not in book.json 'variables'"))
            return match.group(0)

        out.append(_VARIABLE.sub(value, piece))
        last = end
    out.append(line[last:])
    return "".join(out)


def rewrite_tags(
    text: str, variables: dict[str, str] | None = None
) -> tuple[str, list[int], list[tuple[int, str]]]:
    """``text`` with its template tags rewritten (see the module docstring) and its
    ``{{ book.name }}`` variables replaced (``variables``: book.json's ``variables``); for
    each line of the result, the 1-based line of ``text`` it came from; and (line, message)
    for each tag or variable left as text. Text without ``{%`` or ``{{ book.`` comes back as
    it is."""
    lines = text.split("\n")
    if "{%" not in text and not _VARIABLE.search(text):
        return text, list(range(1, len(lines) + 1)), []
    out: list[str] = []
    origin: list[int] = []
    notes: list[tuple[int, str]] = []
    fence: str | None = None
    exercise: str | None = None  # None, "statement", "initial", "solution", "validation"
    hint_depth = 0
    raw = False  # inside {% raw %} … {% endraw %} across lines

    def emit(line: str, number: int) -> None:
        out.append(("> " + line if line else ">") if hint_depth else line)
        origin.append(number)

    def close_code(number: int) -> None:
        if exercise in ("initial", "solution"):
            emit("```", number)

    for number, line in enumerate(lines, start=1):
        if fence is not None:  # inside a fenced code block: as written
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            if exercise != "validation":
                emit(line, number)
            continue
        opening = _FENCE.match(line)
        if opening and exercise not in ("initial", "solution", "validation"):
            fence = opening.group("fence")
            emit(line, number)
            continue
        if not raw:
            line = _variables(line, number, variables or {}, notes)
        tags = _tags(line)
        if raw:  # between {% raw %} and {% endraw %}: everything as written
            tags = [t for t in tags if t.group("name") == "endraw"][:1]
        if not tags:
            if exercise != "validation":
                emit(line, number)
            continue
        name = tags[0].group("name")
        whole = len(tags) == 1 and not line.replace(tags[0].group(0), "").strip()
        block = whole and _opens(name, exercise)
        kept = line
        for match in reversed(tags):
            if match.group("name") in ("raw", "endraw"):
                kept = kept[: match.start()] + kept[match.end() :]
            elif not block:
                notes.append((number, f"template tag '{match.group(0)}' printed as text"))
        raws = [t.group("name") for t in tags if t.group("name") in ("raw", "endraw")]
        if raws:
            raw = raws[-1] == "raw"  # a {% raw %} left open runs on to its {% endraw %}
        if not block:
            if exercise != "validation":
                emit(kept if kept.strip() or not line.strip() else "", number)
            continue
        if name == "hint":
            hint_depth += 1
            if hint_depth == 1:
                style = _STYLE.search(tags[0].group("args"))
                alert = ALERTS.get(style.group("style").lower() if style else "", "NOTE")
                emit(f"[!{alert}]", number)
        elif name == "endhint":
            hint_depth = max(hint_depth - 1, 0)
            if not hint_depth:
                emit("", number)
        elif name == "exercise":
            emit("::: exercise", number)
            exercise = "statement"
        elif name == "initial":
            emit(f"```{EXERCISE_LANGUAGE}", number)
            exercise = "initial"
        elif name == "solution":
            close_code(number)
            for piece in (":::", "", "::: solution", f"```{EXERCISE_LANGUAGE}"):
                emit(piece, number)
            exercise = "solution"
        elif name == "validation":
            close_code(number)
            emit(":::", number)
            exercise = "validation"
        elif name == "endexercise":
            if exercise != "validation":
                close_code(number)
                emit(":::", number)
            exercise = None
    return "\n".join(out), origin, notes
