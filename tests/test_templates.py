"""GitBook/HonKit template tags as the read stage sees them (bookbuild.dialects.templates)."""

from __future__ import annotations

from bookbuild.dialects.templates import rewrite_tags

EXERCISE = """Some text.

{% exercise %}
Sum the two counts.
{% initial %}
var total =
{% solution %}
var total = 12 + 30;
{% validation %}
assert(total === 42);
{% endexercise %}

After."""


def test_exercise_becomes_exercise_and_solution_divs_without_the_validation() -> None:
    text, origin, notes = rewrite_tags(EXERCISE)
    assert text.split("\n") == [
        "Some text.",
        "",
        "::: exercise",
        "Sum the two counts.",
        "```js",
        "var total =",
        "```",
        ":::",
        "",
        "::: solution",
        "```js",
        "var total = 12 + 30;",
        "```",
        ":::",
        "",
        "After.",
    ]
    # each new line points at the line it came from; the validation lines are gone
    assert origin == [1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 8, 9, 9, 12, 13]
    assert notes == []


def test_hint_becomes_an_alert_and_raw_tags_vanish() -> None:
    source = (
        '{% hint style="danger" %}\nDo not **drink** it.\n\n- really\n{% endhint %}\n'
        "Write {% raw %}{{ name }}{% endraw %} here.\n"
    )
    text, origin, notes = rewrite_tags(source)
    assert text.split("\n") == [
        "> [!CAUTION]",
        "> Do not **drink** it.",
        ">",
        "> - really",
        "",
        "Write {{ name }} here.",
        "",
    ]
    assert origin == [1, 2, 3, 4, 5, 6, 7] and notes == []


def test_tags_in_code_stay_and_unknown_tags_are_named_with_their_line() -> None:
    source = "```twig\n{% if x %}\n```\n\nUse `{% raw %}` to escape.\n\n{% quiz %}\n"
    text, origin, notes = rewrite_tags(source)
    assert text == source
    assert origin == list(range(1, 9))
    assert notes == [(7, "template tag '{% quiz %}' printed as text")]


def test_book_variables_are_replaced_outside_code_and_unknown_ones_named() -> None:
    source = "Version {{ book.version }} of `{{ book.version }}`; {{book.missing}}.\n"
    text, _, notes = rewrite_tags(source, {"version": "2.1"})
    assert text == "Version 2.1 of `{{ book.version }}`; {{book.missing}}.\n"
    assert notes == [(1, "variable '{{book.missing}}' is not in book.json 'variables'")]


def test_a_raw_region_over_several_lines_keeps_its_tags_as_text_without_warnings() -> None:
    source = "{% raw %}\nUse {% if x %} and {{ book.v }} here.\n{% endraw %}\n{% if y %}\n"
    text, _, notes = rewrite_tags(source, {"v": "1"})
    assert text == "\nUse {% if x %} and {{ book.v }} here.\n\n{% if y %}\n"
    assert notes == [(4, "template tag '{% if y %}' printed as text")]
