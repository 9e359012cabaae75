"""Every glyph lands: fonts for every character the book uses, picked before LaTeX runs.

bookbuild knows the whole text before the engine does. :func:`setup_fonts` collects the
characters of the document as the filters left it (located at the chapter line of their
first use), asks fontconfig which installed font has each (``fc-list`` with charsets: one
call, about 20 ms, so nothing is cached on disk), and writes the preamble that sends each
character the main font lacks to a font that has it:

- xelatex (and Tectonic): a ``\\newfontfamily`` per fallback font and XeTeX inter-character
  classes, so a run of such characters is set in its font (no active characters: commands,
  math, bookmarks and verbatim are not touched); CJK text breaks its lines by ICU's rules
  (``\\XeTeXlinebreaklocale``);
- lualatex: luaotfload's ``fallback`` feature on the main font (pandoc's ``mainfontfallback``),
  and a break point between two CJK characters (luatexja would be a 330 MB package);
- pdflatex: the characters its UTF-8 input cannot print are warnings (the build then fails
  on the first, as it did before).

A main language written in another script (``lang: fa``, ``ar``, ``he``, ``ru``, ``el``,
``zh``, ``ja``, ``ko`` …) gets a Noto main font (or CJK font) unless the author named one;
pandoc's template then loads babel, which sets right-to-left text with ``dir: rtl``.

A character no installed font has is a warning at the chapter line where it is first used,
e.g. ``book/ch1.md:12: warning: no installed font has U+1FAE0 🫠: it is missing from the
PDF``. The engine's own "Missing character" lines are mapped the same way
(:func:`log_warnings`), as a safety net.

The fonts come from Debian: fonts-noto-core, fonts-noto-cjk and fonts-symbola (emoji in
black and white).
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, diagnostic_from_text
from .filters import filterlib
from .markers import panflute_label
from .paths import display_path

#: Debian packages with the fonts below.
FONT_PACKAGES = "fonts-noto-core fonts-noto-cjk fonts-symbola"

#: The font pandoc's template sets the text in when the book names none (lmodern).
DEFAULT_MAINFONT = "Latin Modern Roman"

#: Fallback fonts, in order: the first that has a character sets it.
FALLBACK_FAMILIES = [
    "Noto Serif",  # Latin extensions, Greek, Cyrillic
    "Noto Sans Math",  # mathematical symbols in text
    "Noto Sans Symbols",
    "Noto Sans Symbols2",
    "Noto Naskh Arabic",
    "Noto Serif Hebrew",
    "Symbola",  # emoji, in black and white
    "DejaVu Sans",
]

#: Main font for a main language written in another script than Latin.
SCRIPT_MAINFONTS = {
    **dict.fromkeys(["fa", "ar", "ur", "ps", "ckb", "sd", "ug"], "Noto Naskh Arabic"),
    **dict.fromkeys(["he", "yi"], "Noto Serif Hebrew"),
    **dict.fromkeys(
        ["ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg", "el", "grc", "vi"],
        "Noto Serif",
    ),
}
#: CJK fonts by language (xeCJK under xelatex, luatexja under lualatex).
CJK_FONTS = {
    "zh": "Noto Serif CJK SC",
    "zh-tw": "Noto Serif CJK TC",
    "zh-hk": "Noto Serif CJK TC",
    "zh-hant": "Noto Serif CJK TC",
    "ja": "Noto Serif CJK JP",
    "ko": "Noto Serif CJK KR",
}
RTL_LANGUAGES = {"fa", "ar", "ur", "ps", "ckb", "sd", "ug", "he", "yi"}
#: Arabic-script languages: the zero-width non-joiner joins no letters, it is no hyphen point.
ARABIC_SCRIPT = {"fa", "ar", "ur", "ps", "ckb", "sd", "ug"}
#: Characters LaTeX prints itself (list labels): given a font like the text's, never warned.
LATEX_CHARACTERS = "•–∗·"

#: Characters xeCJK sets itself (ideographs, kana, hangul, CJK punctuation, full width).
CJK_RANGES = [
    (0x1100, 0x11FF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3040, 0x30FF),
    (0x3100, 0x31FF),
    (0x3200, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x2FA1F),
]


def is_cjk(code: int) -> bool:
    return any(low <= code <= high for low, high in CJK_RANGES)


def ignorable(char: str) -> bool:
    """Characters that print nothing: variation selectors, joiners, direction marks."""
    code = ord(char)
    return (
        char.isspace()
        or unicodedata.category(char) in ("Cc", "Cf")
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


def describe(char: str) -> str:
    """``U+1F333 🌳`` (a character that does not print is shown by its code alone)."""
    code = f"U+{ord(char):04X}"
    return code if unicodedata.category(char).startswith("C") else f"{code} {char}"


# --------------------------------------------------------------------------- coverage


@dataclass
class Font:
    """An installed font face, as fontconfig lists it."""

    file: str
    family: str
    style: str
    charset: str  # fontconfig's ranges, e.g. "20-7e a0-17f"; parsed on first use
    _starts: list[int] = field(default_factory=list, repr=False)
    _ends: list[int] = field(default_factory=list, repr=False)

    def has(self, char: str) -> bool:
        if not self._starts and self.charset:
            for part in self.charset.split():
                low, _, high = part.partition("-")
                self._starts.append(int(low, 16))
                self._ends.append(int(high or low, 16))
        code = ord(char)
        index = bisect.bisect_right(self._starts, code) - 1
        return index >= 0 and code <= self._ends[index]


@functools.cache
def installed_fonts(family: str = "") -> tuple[Font, ...]:
    """Every font fontconfig knows (the TeX fonts included), or those of one family (a
    quicker call: a book that needs no fallback asks for its main font alone); regular faces
    first."""
    if shutil.which("fc-list") is None:
        return ()
    pattern = [re.sub(r"([-:,\\])", r"\\\1", family)] if family else []
    try:
        listing = subprocess.run(
            ["fc-list", "--format", "%{file}|%{family[0]}|%{style[0]}|%{charset}\n", *pattern],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    fonts = []
    for line in listing.splitlines():
        parts = line.split("|")
        if len(parts) == 4:
            fonts.append(Font(parts[0], parts[1], parts[2], parts[3]))

    def rank(font: Font) -> int:
        style = font.style.lower()
        return 0 if style in ("regular", "book", "roman", "10 regular") else 1

    return tuple(sorted(fonts, key=rank))


def find_font(family: str) -> Font | None:
    """The regular face of an installed family (by fontconfig's family name)."""
    wanted = family.strip().lower()
    for font in installed_fonts(family.strip()):
        if font.family.lower() == wanted:
            return font
    return None


def fallback_for(char: str, main: Font | None) -> str | None:
    """The family of the first fallback font with ``char``, else of any installed font that
    has it (Noto first); None when no font has it."""
    for family in FALLBACK_FAMILIES:
        font = find_font(family)
        if font is not None and font is not main and font.has(char):
            return family
    candidates = [f for f in installed_fonts() if f is not main and f.has(char)]
    candidates.sort(
        key=lambda f: (not f.family.startswith("Noto Serif"), not f.family.startswith("Noto"))
    )
    return candidates[0].family if candidates else None


# --------------------------------------------------------------------------- the text


@dataclass
class Place:
    file: str
    line: int


def first_uses(text: str, display: str, chars: set[str] | None = None) -> dict[str, Place]:
    """Each character of ``text`` (or of ``chars``) with the line of its first use."""
    found = {}
    for char in set(text) if chars is None else chars:
        index = text.find(char)
        if index >= 0:
            found[char] = Place(display, text.count("\n", 0, index) + 1)
    return found


def document_chapters(doc: Any, config: Any) -> list[Path]:
    """The chapter files of a document, from the markers assembly left in it."""
    labels = (panflute_label(block) for block in doc.content)
    return [config.source_root / label for label in labels if label is not None]


def book_characters(doc: Any, config: Any) -> dict[str, Place]:
    """Every printable character of the document, with its first use in the chapter files
    (else book.yaml).

    A book's characters are read off its chapter files and metadata (milliseconds; the
    document's JSON would cost 0.7 s on 300 pages). A document of one chapter is read
    itself: chapter rebuilds render the chapter's old and new texts that way and compare
    their preambles, so a character new to the book forces a full build.
    """
    paths = document_chapters(doc, config)
    texts: list[tuple[Path, str]] = []
    for path in [*paths, config.config_path]:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if path == config.config_path:
            text = "\n".join(
                line if not line.lstrip().startswith("#") else "" for line in text.splitlines()
            )
        texts.append((path, text))
    if len(paths) == 1:
        found = set(json.dumps(doc.to_json(), ensure_ascii=False))
    else:
        found = set(str(doc.get_metadata())).union(*(set(text) for _, text in texts))
    wanted = {char for char in found if not ignorable(char)}
    # ASCII is never located: every text font has it (a warning needs no place for it).
    places: dict[str, Place] = {char: Place("", 0) for char in wanted if char < "\x80"}
    for path, text in texts:  # first use wins
        if len(places) == len(wanted):
            break
        places.update(first_uses(text, display_path(path), wanted - places.keys()))
    for char in wanted - places.keys():  # made by a filter, or from a metadata file
        places[char] = Place(display_path(config.config_path), 0)
    for char in LATEX_CHARACTERS:
        places.setdefault(char, Place("", 0))
    return places


# --------------------------------------------------------------------------- the plan


@dataclass
class FontPlan:
    """What the preamble must say, and the characters no font has."""

    engine: str
    mainfont: str
    set_mainfont: bool = False  # True: bookbuild picked the main font for the language
    cjkfont: str | None = None
    cjklocale: str | None = None  # ICU line breaking for CJK text (xelatex)
    fallbacks: dict[str, list[str]] = field(default_factory=dict)  # family -> characters
    missing: dict[str, Place] = field(default_factory=dict)


def language(doc: Any) -> str:
    return str(doc.get_metadata("lang", "") or "").strip().lower().replace("_", "-")


def plan_fonts(doc: Any, config: Any, places: dict[str, Place]) -> FontPlan:
    engine = "xelatex" if config.engine == "tectonic" else config.engine
    lang = language(doc)
    base = lang.split("-")[0]
    author_main = doc.get_metadata("mainfont", None)
    plan = FontPlan(engine, str(author_main or DEFAULT_MAINFONT))
    if author_main is None and base in SCRIPT_MAINFONTS and engine != "pdflatex":
        plan.mainfont = SCRIPT_MAINFONTS[base]
        plan.set_mainfont = True
    author_cjk = doc.get_metadata("CJKmainfont", None)
    cjk_chars = {c for c in places if is_cjk(ord(c))}
    if author_cjk is not None:
        plan.cjkfont = str(author_cjk)
    elif cjk_chars or base in ("zh", "ja", "ko"):
        # The CJK font takes the CJK characters (a fallback like the others); xelatex breaks
        # their lines with ICU's rules for the language. xeCJK (texlive-lang-chinese, 100 MB)
        # and luatexja (texlive-lang-japanese, 330 MB) are used only when the author names a
        # CJKmainfont.
        plan.cjkfont = CJK_FONTS.get(lang) or CJK_FONTS.get(base) or cjk_font_for(cjk_chars)
        region = plan.cjkfont.rsplit(" ", 1)[-1].upper()
        plan.cjklocale = {"JP": "ja", "KR": "ko"}.get(region, "zh")
    if engine == "pdflatex":
        plan.missing = {c: p for c, p in places.items() if not pdflatex_has(c)}
        return plan
    main = find_font(plan.mainfont)
    if main is None:  # a font fontconfig does not know (a file name …): trust the author
        return plan
    cjk = find_font(plan.cjkfont) if plan.cjkfont and author_cjk is None else None
    # A script the main font has only some letters of (Latin Modern: capital Greek) is set
    # all in the fallback font, not a word in two fonts.
    partial = {script(c) for c in places if not main.has(c) and script(c) not in ("", "LATIN")}
    for char in sorted(places):
        if main.has(char) and script(char) not in partial:
            continue
        if author_cjk is not None and is_cjk(ord(char)):
            continue  # xeCJK or luatexja sets them
        if cjk is not None and plan.cjkfont and is_cjk(ord(char)) and cjk.has(char):
            family: str | None = plan.cjkfont
        else:
            family = fallback_for(char, main)
        if family is None:
            plan.missing[char] = places[char]
        else:
            plan.fallbacks.setdefault(family, []).append(char)
    return plan


def script(char: str) -> str:
    """The script of a letter as its Unicode name starts (GREEK, CYRILLIC …); "" for others."""
    if not unicodedata.category(char).startswith("L"):
        return ""
    return unicodedata.name(char, " ").split(" ")[0]


def cjk_font_for(chars: set[str]) -> str:
    """Japanese when the text has kana, Korean when it has hangul, else Simplified Chinese."""
    codes = [ord(c) for c in chars]
    if any(0x3040 <= c <= 0x30FF for c in codes):
        return CJK_FONTS["ja"]
    if any(0xAC00 <= c <= 0xD7AF or 0x1100 <= c <= 0x11FF for c in codes):
        return CJK_FONTS["ko"]
    return CJK_FONTS["zh"]


@functools.lru_cache(maxsize=1)
def pdflatex_characters() -> frozenset[int]:
    """The characters pdflatex's UTF-8 input can print with the T1 and TS1 encodings."""
    codes: set[int] = set(range(0x20, 0x7F))
    if shutil.which("kpsewhich") is None:
        return frozenset(codes)
    try:
        found = subprocess.run(
            ["kpsewhich", "t1enc.dfu", "ts1enc.dfu", "ot1enc.dfu"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return frozenset(codes)
    for name in found:
        text = Path(name).read_text(encoding="utf-8", errors="replace")
        codes.update(
            int(h, 16) for h in re.findall(r"\\DeclareUnicodeCharacter\{([0-9A-Fa-f]+)\}", text)
        )
    return frozenset(codes)


def pdflatex_has(char: str) -> bool:
    return ord(char) in pdflatex_characters()


# --------------------------------------------------------------------------- LaTeX


def xetex_preamble(plan: FontPlan) -> str:
    """XeTeX character classes: each run of characters the main font lacks is set in its
    fallback font (as ucharclasses does, for just the characters the book uses)."""
    if not plan.fallbacks:
        return ""
    lines = ["\\XeTeXinterchartokenstate=1"]
    if plan.cjklocale and plan.cjkfont in plan.fallbacks:  # ICU's line breaks for CJK
        lines.append(f'\\XeTeXlinebreaklocale "{plan.cjklocale}"')
        lines.append("\\XeTeXlinebreakskip=0pt plus 1pt")
    names = {}
    for index, family in enumerate(plan.fallbacks, start=1):
        name = "bookbuildfont" + _letters(index)
        klass = "bookbuildclass" + _letters(index)
        names[family] = (name, klass)
        lines.append(f"\\newfontfamily\\{name}{{{family}}}")
        lines.append(f"\\newXeTeXintercharclass\\{klass}")
    for family, chars in plan.fallbacks.items():
        name, klass = names[family]
        for code in _ranges(sorted(ord(c) for c in chars)):
            low, high = code
            if low == high:
                lines.append(f'\\XeTeXcharclass"{low:X}=\\{klass}')
            else:
                lines.append(
                    f'\\count255="{low:X}\\loop\\XeTeXcharclass\\count255=\\{klass}'
                    f'\\ifnum\\count255<"{high:X}\\advance\\count255 1 \\repeat'
                )
        for other in ("0", "4095"):
            lines.append(f"\\XeTeXinterchartoks {other} \\{klass}={{\\begingroup\\{name}}}")
            lines.append(f"\\XeTeXinterchartoks \\{klass} {other}={{\\endgroup}}")
        for other_family, (other_name, other_klass) in names.items():
            if other_family != family:
                lines.append(
                    f"\\XeTeXinterchartoks \\{klass} \\{other_klass}="
                    f"{{\\endgroup\\begingroup\\{other_name}}}"
                )
    return "\n".join(lines)


def _letters(index: int) -> str:
    out = ""
    while index:
        index, digit = divmod(index - 1, 26)
        out = chr(ord("A") + digit) + out
    return out


def _ranges(codes: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


def apply_plan(doc: Any, plan: FontPlan) -> None:
    """Put the plan into the document's metadata (pandoc's variables) and preamble."""
    import panflute as pf

    if plan.set_mainfont:
        doc.metadata["mainfont"] = pf.MetaString(plan.mainfont)
    if language(doc).split("-")[0] in ARABIC_SCRIPT:  # pandoc would hyphenate at every ZWNJ
        doc.metadata["zero-width-non-joiner"] = pf.MetaBool(False)
    if not plan.fallbacks:
        return
    if plan.engine == "lualatex":
        if doc.get_metadata("mainfont", None) is None:
            doc.metadata["mainfont"] = pf.MetaString(plan.mainfont)
        doc.metadata["mainfontfallback"] = pf.MetaList(
            *[pf.MetaString(f"{family}:mode=harf;") for family in plan.fallbacks]
        )
    elif plan.engine == "xelatex":
        filterlib().add_header_include(doc, xetex_preamble(plan))


def _latin_word(elem: Any) -> bool:
    import panflute as pf

    return isinstance(elem, pf.Str) and any(script(c) == "LATIN" for c in elem.text)


def keep_latin_phrases_left_to_right(doc: Any) -> None:
    """In a right-to-left book under xelatex, a phrase of several Latin words (a title in
    parentheses) is one left-to-right run, as the Unicode bidi algorithm shows it; XeTeX
    would otherwise set its words right to left. (lualatex's babel does this itself.)"""
    import panflute as pf

    def visit(elem: Any, doc: Any) -> None:
        content = getattr(elem, "content", None)
        if not isinstance(elem, pf.Block | pf.Inline) or content is None:
            return
        items = list(content)
        if not items or not isinstance(items[0], pf.Inline):
            return
        out: list[Any] = []
        index = 0
        changed = False
        while index < len(items):
            end = index
            if _latin_word(items[index]):
                probe = index
                while probe + 2 < len(items) and isinstance(items[probe + 1], pf.Space):
                    if not _latin_word(items[probe + 2]):
                        break
                    probe += 2
                end = probe
            if end > index:
                out += [pf.RawInline("\\beginL{}", "latex"), *items[index : end + 1]]
                out.append(pf.RawInline("\\endL{}", "latex"))
                changed = True
                index = end + 1
            else:
                out.append(items[index])
                index += 1
        if changed:
            elem.content = out

    doc.walk(visit)


#: CJK punctuation no line may start with, and that no line may end with (kinsoku).
NO_BREAK_BEFORE = set("、。，．・：；？！）」』】〉》〕｝ー…ぁぃぅぇぉっゃゅょァィゥェォッャュョ")
NO_BREAK_AFTER = set("（「『【〈《〔｛")
#: Stretchable nothing: a place a line may break between two CJK characters (lualatex).
CJK_BREAK = "\\hskip0pt plus 0.1em\\relax{}"


def allow_cjk_line_breaks(doc: Any) -> None:
    """Under lualatex without luatexja, a line may break between two CJK characters (but
    not before closing or after opening punctuation): without it a paragraph of Chinese is
    one overfull line."""
    import panflute as pf

    def visit(elem: Any, doc: Any) -> Any:
        if not isinstance(elem, pf.Str) or not any(is_cjk(ord(c)) for c in elem.text):
            return None
        pieces: list[Any] = []
        current = ""
        for char in elem.text:
            if (
                current
                and is_cjk(ord(char))
                and is_cjk(ord(current[-1]))
                and char not in NO_BREAK_BEFORE
                and current[-1] not in NO_BREAK_AFTER
            ):
                pieces += [pf.Str(current), pf.RawInline(CJK_BREAK, "latex")]
                current = ""
            current += char
        pieces.append(pf.Str(current))
        return pieces if len(pieces) > 1 else None

    doc.walk(visit)


def missing_warnings(plan: FontPlan) -> list[str]:
    """One ``file:line: message`` per character no font (or pdflatex) can print."""
    out: list[str] = []
    if not plan.missing:
        return out
    absent = [f for f in ("Noto Serif", "Noto Serif CJK SC", "Symbola") if find_font(f) is None]
    hint = f" (install the fonts: apt-get install {FONT_PACKAGES})" if absent else ""
    for char, place in sorted(plan.missing.items(), key=lambda i: (i[1].file, i[1].line, i[0])):
        if not place.file:  # a character LaTeX adds, not the author
            continue
        where = f"{place.file}:{place.line}" if place.line else place.file
        if plan.engine == "pdflatex":
            out.append(
                f"{where}: {describe(char)} cannot be printed by pdflatex (use --engine xelatex)"
            )
        else:
            out.append(
                f"{where}: no installed font has {describe(char)}: it is missing from the PDF"
                + hint
            )
    return out


#: The font settings an author names by family (pandoc's LaTeX variables).
FONT_KEYS = ("mainfont", "sansfont", "monofont", "mathfont")
#: A font named by its file, which fontspec finds by name: trusted as written.
_FONT_FILE = re.compile(r"(?i)\.(otf|ttf|ttc|pfb)$|/")


def drop_uninstalled_fonts(doc: Any) -> list[str]:
    """Font families the book names (``monofont: Source Code Pro``, as Quarto and bookdown
    books often do) that no installed font has are dropped, with their ``…fontoptions``:
    the default font sets that text rather than fontspec stopping the build. One warning
    each."""
    out: list[str] = []
    if shutil.which("fc-list") is None:
        return out
    for key in FONT_KEYS:
        name = doc.get_metadata(key, None)
        if not isinstance(name, str) or not name.strip() or _FONT_FILE.search(name.strip()):
            continue
        if find_font(name) is not None:
            continue
        del doc.metadata[key]
        if f"{key}options" in doc.metadata:
            del doc.metadata[f"{key}options"]
        out.append(
            f"{key} '{name}' is not installed: the default font is used "
            "(install it, or name an installed font)"
        )
    return out


def setup_fonts(doc: Any, config: Any) -> FontPlan:
    """Fonts for every character of ``doc``: preamble and pandoc variables set, a warning
    (on ``doc.bookbuild_warnings``) for each character that cannot be printed and for each
    font family named that is not installed (:func:`drop_uninstalled_fonts`)."""
    dropped = drop_uninstalled_fonts(doc)
    places = book_characters(doc, config)
    plan = plan_fonts(doc, config, places)
    apply_plan(doc, plan)
    if plan.engine == "xelatex" and language(doc).split("-")[0] in RTL_LANGUAGES:
        keep_latin_phrases_left_to_right(doc)
    if plan.engine == "lualatex" and plan.cjkfont and doc.get_metadata("CJKmainfont", None) is None:
        allow_cjk_line_breaks(doc)
    warnings = getattr(doc, "bookbuild_warnings", None)
    if isinstance(warnings, list):
        warnings.extend(dropped + missing_warnings(plan))
    doc.bookbuild_font_places = places
    return plan


# --------------------------------------------------------------------------- the log

_MISSING = re.compile(
    r"^Missing character: There is no .+? \(U\+([0-9A-F]{4,6})\) in font ([^!\n]+?)!?$", re.M
)


def log_warnings(log: str, sources: dict[str, Any]) -> list[Any]:
    """The engine's "Missing character" lines (TeX Live's xelatex and lualatex), one warning
    per character at the chapter line of its first use: a safety net under the planning
    above. Characters no installed font has were reported before LaTeX ran and are skipped."""
    out = []
    seen = set()
    chapters = [s for s in sources.values() if s.is_chapter]
    for match in _MISSING.finditer(log):
        char = chr(int(match.group(1), 16))
        if char in seen or ignorable(char):
            continue
        seen.add(char)
        if fallback_for(char, None) is None:
            continue  # no font has it: warned before LaTeX ran
        font = match.group(2).split("/")[0].split(":")[0].strip().strip('"')
        message = f"font {font} has no {describe(char)}: it is missing from the PDF"
        for source in chapters:
            index = source.text.find(char)
            if index >= 0:
                line = source.text.count("\n", 0, index) + 1
                out.append(
                    Diagnostic("warning", message, source.display, line, source.lines[line - 1])
                )
                break
        else:
            out.append(Diagnostic("warning", message))
    return out


def check_glyphs(book: Any) -> list[Any]:
    """``bookbuild check``: the characters ``pdf`` will warn about (no LaTeX run)."""
    dropped = drop_uninstalled_fonts(book.doc)
    plan = plan_fonts(book.doc, book.config, book_characters(book.doc, book.config))
    return [diagnostic_from_text(w) for w in dropped + missing_warnings(plan)]
