"""filters/deflists.py in-process: bold-term bullet lists, one LaTeX style for definition lists."""

from __future__ import annotations

import subprocess
from pathlib import Path

import panflute as pf
import pytest

from bookbuild.filters import load_filter

from .conftest import pandoc_command, tool_env

FILTER = Path(__file__).resolve().parents[1] / "filters" / "deflists.py"
deflists = load_filter(FILTER)

SKILLS = """\
- **Systems:** systems engineering, container deployment
- **ML:**: linear algebra, ML algorithms, etc.
- **Statistics**: probability, statistics
"""


def run(md: str, fmt: str = "latex") -> pf.Doc:
    doc = pf.convert_text(md, standalone=True)
    doc.format = fmt
    return deflists.main(doc)


def render(md: str, fmt: str = "latex") -> str:
    return pf.convert_text(
        run(md, fmt), input_format="panflute", output_format=fmt, extra_args=["--wrap=none"]
    )


def test_bold_term_list_becomes_a_definition_list_in_the_ast() -> None:
    doc = run(SKILLS, "html")
    (deflist,) = doc.content
    assert isinstance(deflist, pf.DefinitionList)
    terms = [pf.stringify(pf.Plain(*item.term)) for item in deflist.content]
    assert terms == ["Systems", "ML", "Statistics"]
    first = deflist.content[1].definitions[0].content[0]
    assert pf.stringify(first) == "linear algebra, ML algorithms, etc."


def test_latex_style() -> None:
    assert render(SKILLS) == (
        "\\begin{bookbuilddeflist}\n\\tightlist\n\n"
        "\\item[{Systems}] systems engineering, container deployment\n\n"
        "\\item[{ML}] linear algebra, ML algorithms, etc.\n\n"
        "\\item[{Statistics}] probability, statistics\n\n"
        "\\end{bookbuilddeflist}"
    )


def test_partial_list_stays_a_bullet_list() -> None:
    md = "- **Systems:** systems engineering\n- data pipelines\n"
    assert render(md) == (
        "\\begin{itemize}\n\\tightlist\n\\item\n  \\textbf{Systems:} systems engineering\n"
        "\\item\n  data pipelines\n\\end{itemize}"
    )


def test_bold_without_colon_stays_a_bullet_list() -> None:
    doc = run("- **Systems** engineering\n- **ML** algebra\n", "html")
    assert isinstance(doc.content[0], pf.BulletList)


def test_nested_bold_term_list_is_converted_too() -> None:
    md = "- Skills\n  - **Systems:** engineering\n  - **ML:** algebra\n- Other\n"
    doc = run(md, "html")
    outer = doc.content[0]
    assert isinstance(outer, pf.BulletList)
    assert isinstance(outer.content[0].content[1], pf.DefinitionList)


def test_item_with_more_blocks_keeps_them_in_the_definition() -> None:
    md = "- **Systems:** engineering\n\n  More about systems.\n\n- **ML:** algebra\n"
    assert render(md) == (
        "\\begin{bookbuilddeflist}\n\n"
        "\\item[{Systems}] engineering\n\nMore about systems.\n\n"
        "\\item[{ML}] algebra\n\n"
        "\\end{bookbuilddeflist}"
    )


def test_pandoc_definition_list_gets_the_same_style() -> None:
    md = "Term\n:   Definition text.\n\nOther\n:   More text.\n"
    assert render(md) == (
        "\\begin{bookbuilddeflist}\n\\tightlist\n\n"
        "\\item[{Term}] Definition text.\n\n"
        "\\item[{Other}] More text.\n\n"
        "\\end{bookbuilddeflist}"
    )


def test_no_hfill_gap_before_a_nested_list() -> None:
    out = render("Nested list\n:   - first\n    - second\n")
    assert "\\hfill" not in out
    assert out.startswith(
        "\\begin{bookbuilddeflist}\n\\tightlist\n\n\\item[{Nested list}]\\mbox{}\n\n"
        "\\begin{itemize}\n\\tightlist\n\\item\n  first\n"
    )


def test_list_inside_a_div_gets_no_empty_item() -> None:
    out = render("Div first\n:   ::: note\n    Text.\n\n    - a\n    :::\n")
    assert "\\item[]" not in out
    assert "\\hfill" not in out
    assert "\\item[{Div first}] Text.\n\n\\begin{itemize}" in out


def test_code_block_as_definition_puts_the_term_on_its_own_line() -> None:
    out = render("Code\n:   ```python\n    print(1)\n    ```\n")
    assert "\\item[{Code}]\\mbox{}\n\n\\begin{Shaded}" in out
    assert " ~ " not in out


def test_term_with_brackets_is_braced() -> None:
    out = render("A [link](#x) term\n:   Text.\n")
    assert "\\item[{A \\hyperref[x]{link} term}] Text." in out


def test_preamble_added_for_latex_only_when_used() -> None:
    doc = run(SKILLS)
    (raw,) = doc.metadata["header-includes"].content[0].content
    assert raw.format == "latex"
    assert "\\newenvironment{bookbuilddeflist}" in raw.text
    assert "\\bfseries" in raw.text
    assert "header-includes" not in run("- plain\n- list\n").metadata.content
    assert "header-includes" not in run(SKILLS, "html").metadata.content


def test_preamble_appended_to_existing_header_includes() -> None:
    doc = run("---\nheader-includes: \\usepackage{siunitx}\n---\n\n" + SKILLS)
    value = doc.metadata["header-includes"]
    assert isinstance(value, pf.MetaList)
    assert len(value.content) == 2
    assert isinstance(value.content[0], pf.MetaInlines)


def test_html_definition_list() -> None:
    out = render(SKILLS, "html")
    assert out.startswith(
        "<dl>\n<dt>Systems</dt>\n<dd>\nsystems engineering, container deployment\n</dd>"
    )
    assert "<dt>ML</dt>" in out
    assert "bookbuild" not in out
    assert "\\" not in out


def test_switch_off_leaves_the_document_alone() -> None:
    out = render("---\ndefinition_lists: false\n---\n\n" + SKILLS + "\nTerm\n:   Def.\n")
    assert "\\begin{itemize}" in out
    assert "\\textbf{ML:}: linear algebra" in out
    assert "\\begin{description}\n\\tightlist\n\\item[Term]\nDef.\n\\end{description}" in out
    assert "bookbuild" not in out


def test_bad_switch_value_is_an_author_error() -> None:
    with pytest.raises(ValueError, match="'definition_lists' must be true or false, not 'some'"):
        run("---\ndefinition_lists: some\n---\n\n" + SKILLS)


def test_runs_as_a_pandoc_filter() -> None:
    proc = subprocess.run(
        [pandoc_command(), "--filter", str(FILTER), "-t", "latex", "--wrap=none"],
        env=tool_env(),
        input="- **SME:** subject matter expertise\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == (
        "\\begin{bookbuilddeflist}\n\\tightlist\n\n"
        "\\item[{SME}] subject matter expertise\n\n\\end{bookbuilddeflist}\n"
    )


def test_loose_definition_list_has_no_tightlist() -> None:
    out = render("Term\n\n:   A paragraph.\n\nOther\n\n:   Another.\n")
    assert out == (
        "\\begin{bookbuilddeflist}\n\n"
        "\\item[{Term}] A paragraph.\n\n"
        "\\item[{Other}] Another.\n\n"
        "\\end{bookbuilddeflist}"
    )
