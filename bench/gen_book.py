#!/usr/bin/env python3
"""Generate a big book for the benchmark from the real book's own text.

    python bench/gen_book.py OUT_DIR [--chapters 40] [--seed 1] [--force]

writes ``OUT_DIR/book/`` (book.yaml, chapters, parts, .bib) and ``OUT_DIR/latex/preamble.tex``.
The chapters repeat and vary the paragraphs, sentences, lists and headings of ``book/*.md``
and add what a real book has: sections to depth 4 with ``{#sec:…}`` labels, labelled display
equations and a labelled table per chapter, citations of the real bibliography and of ~20
generated entries, cross-references into other chapters, and footnotes. The metadata (title
page, TOC, numbering, IEEE style) is the real book's. The output depends only on the seed.
40 chapters give about 470 KB of Markdown and 300 pages.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "book"

#: Layout of every chapter (fixed, so other chapters can refer to its labels).
SECTIONS, SUBSECTIONS, EQUATIONS = 4, 3, 3
#: Markdown bytes of body text per chapter (at least), and the chance that a block after a
#: section's first paragraph is a list (lists fill more pages per byte): together they set
#: the size; 40 chapters (seed 1) measured 471 KB of Markdown, 306 pages.
CHAPTER_BYTES, LIST_SHARE = 5_200, 0.8
CHAPTERS_PER_PART = 10
GENERATED_BIB = 20

EQUATIONS_TEX = [
    r"L(\theta) = -\frac{1}{n} \sum_{i=1}^{n} \log p_\theta(y_i \mid x_i)",
    r"\theta_{t+1} = \theta_t - \eta \nabla L(\theta_t)",
    r"\mathrm{acc} = \frac{1}{n} \sum_{i=1}^{n} [\hat y_i = y_i]",
    r"\sigma(z) = \frac{1}{1 + e^{-z}}",
    r"\mathrm{softmax}(z)_j = \frac{e^{z_j}}{\sum_{k=1}^{K} e^{z_k}}",
    r"\hat{\beta} = (X^\top X)^{-1} X^\top y",
    r"P(A \mid B) = \frac{P(B \mid A)\, P(A)}{P(B)}",
    r"\mathrm{Var}(X) = \mathbb{E}[X^2] - \mathbb{E}[X]^2",
    r"F_1 = \frac{2 \cdot \mathrm{prec} \cdot \mathrm{rec}}{\mathrm{prec} + \mathrm{rec}}",
    r"\mathrm{KL}(p \,\|\, q) = \sum_x p(x) \log \frac{p(x)}{q(x)}",
]
SURNAMES = ["Okafor", "Lindqvist", "Tanaka", "Moreau", "Castillo", "Novak", "Haddad", "Ivanova"]
GIVEN = ["Ada", "Bilal", "Chen", "Dana", "Emil", "Farah", "Goran", "Hana"]
VENUES = ["Journal of Machine Learning Practice", "Proceedings of the Workshop on ML Hiring"]

LIST_MARK = re.compile(r"^(\s*)([-*+]|\d+\.|[ivx]+\.)\s+")
ATTRS = re.compile(r"\s*\{[^}]*\}\s*$")


#: The book's apparatus (index and glossary marks, a glossary chapter) is not running text.
GLOSSARY_CHAPTER = re.compile(r"^#[^\n]*\{[^}\n]*\.glossary\b", re.M)
APPARATUS_SPAN = re.compile(r"\[([^\[\]]*)\]\{\.(?:index|gls)\b[^}]*\}")


#: The opening fence of a callout (``::: note``, ``::: {.tip title="…"}``).
CALLOUT_FENCE = re.compile(r":::+ *\{?\.?(?:note|tip|warning|important|caution)\b")


def apparatus_free(text: str) -> str:
    """``text`` with ``[term]{.index}`` and ``[term]{.gls}`` marks reduced to the term."""
    while True:
        plain = APPARATUS_SPAN.sub(r"\1", text)
        if plain == text:
            return plain
        text = plain


class Pool:
    """Headings, sentences and list blocks of the real book's chapters."""

    def __init__(self, book_dir: Path):
        self.titles: list[str] = []
        self.sentences: list[str] = []
        self.lists: list[str] = []
        config = yaml.safe_load((book_dir / "book.yaml").read_text(encoding="utf-8"))
        for name in config["chapters"]:
            text = (book_dir / name).read_text(encoding="utf-8")
            if GLOSSARY_CHAPTER.search(text):
                continue  # definitions, not running text
            text = apparatus_free(text)
            for block in re.split(r"\n\s*\n", re.sub(r"<!--.*?-->", "", text, flags=re.S)):
                if CALLOUT_FENCE.match(block.lstrip()):  # a callout's text is running text
                    block = "\n".join(block.strip().splitlines()[1:]).removesuffix(":::")
                elif block.lstrip().startswith(":::"):  # exercises, hints, solutions
                    continue
                self._add(block.rstrip())
        #: Plain short sentences: table cells and bibliography titles.
        self.short = [
            s.rstrip(".")
            for s in self.sentences
            if len(s.split()) <= 6 and not any(c in s for c in "*^[|")
        ]

    def _add(self, block: str) -> None:
        if not block.strip() or block.startswith("[^"):
            return
        if block.startswith("#"):
            title = ATTRS.sub("", block.lstrip("#").strip())
            if title != "References":
                self.titles.append(title)
        elif LIST_MARK.match(block):
            self.lists.append(block)
            for line in block.splitlines():
                item = LIST_MARK.sub("", line).strip()
                if len(item.split()) >= 3:
                    end = "" if item[-1] in ".?!" else "."
                    self.sentences.append(item[0].upper() + item[1:] + end)
        elif not block.startswith("**") or not block.endswith("**"):
            parts = re.split(r"(?<=[.!?])\s+(?=[A-Z*])", " ".join(block.split()))
            self.sentences.extend(p for p in parts if len(p.split()) >= 3)


def bib_entries(rng: random.Random, pool: Pool) -> tuple[list[str], str]:
    """~20 generated BibTeX entries: their keys and the text."""
    keys, entries = [], []
    for i in range(GENERATED_BIB):
        surname, given = SURNAMES[i % len(SURNAMES)], GIVEN[(i * 3) % len(GIVEN)]
        year = 2005 + (i * 7) % 19
        key = f"{surname.lower()}:{i + 1:02d}:{year}"
        title = f"{rng.choice(pool.titles)}: {rng.choice(pool.short)}"
        kind = ("article", "inproceedings", "book", "misc")[i % 4]
        fields = {"author": f"{surname}, {given}", "title": f"{{{title}}}", "year": str(year)}
        if kind == "article":
            fields.update(journal=VENUES[0], volume=str(i + 3), pages=f"{10 * i + 1}--{10 * i + 9}")
        elif kind == "inproceedings":
            fields["booktitle"] = VENUES[1]
        elif kind == "book":
            fields["publisher"] = "Sparse Labs Press"
        else:
            fields["url"] = f"https://example.org/notes/{i + 1}"
        body = ",\n".join(f"  {k:<9} = {{{v}}}" for k, v in fields.items())
        keys.append(key)
        entries.append(f"@{kind}{{{key},\n{body},\n}}\n")
    return keys, "\n".join(entries)


class ChapterWriter:
    """One chapter's Markdown; ``n`` counts from 1, ``total`` is the number of chapters."""

    def __init__(self, rng: random.Random, pool: Pool, cites: list[str], n: int, total: int):
        self.rng, self.pool, self.cites, self.n, self.total = rng, pool, cites, n, total
        self.notes: list[str] = []

    def other(self) -> int:
        """Another chapter's number (the chapter itself when the book has only one)."""
        if self.total == 1:
            return self.n
        return self.rng.choice([c for c in range(1, self.total + 1) if c != self.n])

    def reference(self) -> str:
        rng, c = self.rng, f"c{self.other():02d}"
        sec = f"sec:{c}-{rng.randint(1, SECTIONS)}"
        eq1, eq2 = (f"eq:{c}-{k}" for k in rng.sample(range(1, EQUATIONS + 1), 2))
        return rng.choice(
            [
                f"This builds on @{sec}.",
                f"@Sec:{c} gives the background ([@{eq1}; @{eq2}]).",
                f"Compare with @tbl:{c} in @{sec} and with @{eq1}.",
                f"See [@{sec}; @huyen:cs329s:2021] for a longer treatment.",
            ]
        )

    def citation(self) -> str:
        keys = self.rng.sample(self.cites, 2)
        return self.rng.choice(
            [f"as reported in [@{keys[0]}]", f"[@{keys[0]}; @{keys[1]}]", f"(see @{keys[0]})"]
        )

    def paragraph(self) -> str:
        sentences = self.rng.sample(self.pool.sentences, self.rng.randint(3, 6))
        roll = self.rng.random()
        if roll < 0.35:
            sentences[-1] = sentences[-1].rstrip(".") + " " + self.citation() + "."
        elif roll < 0.6:
            sentences.append(self.reference())
        elif roll < 0.66 and "^" not in sentences[0]:
            sentences[0] += f"^[{self.rng.choice(self.pool.sentences)}]"
        elif roll < 0.7 and "^" not in sentences[0]:
            label = f"c{self.n:02d}-{len(self.notes) + 1}"
            self.notes.append(f"[^{label}]: {self.rng.choice(self.pool.sentences)}")
            sentences[0] += f"[^{label}]"
        return " ".join(sentences)

    def list_block(self) -> str:
        block = self.rng.choice(self.pool.lists)
        items: list[list[str]] = []
        for line in block.splitlines():
            if LIST_MARK.match(line) and not line[0].isspace():
                items.append([line])
            elif items:
                items[-1].append(line)
        if len(items) > 3:
            keep = sorted(self.rng.sample(range(len(items)), self.rng.randint(3, len(items))))
            items = [items[i] for i in keep]
        lines = []
        for number, item in enumerate(items, 1):
            first = re.sub(r"^\d+\.", f"{number}.", item[0])
            lines += [first, *item[1:]]
        return "\n".join(lines)

    def body(self, budget: int) -> list[str]:
        blocks: list[str] = []
        while sum(map(len, blocks)) < budget:
            use_list = self.rng.random() < LIST_SHARE and blocks
            blocks.append(self.list_block() if use_list else self.paragraph())
        return blocks

    def equation(self, k: int) -> str:
        tex = self.rng.choice(EQUATIONS_TEX)
        return f"$$ {tex} $$ {{#eq:c{self.n:02d}-{k}}}"

    def table(self) -> str:
        rows = [self.rng.sample(self.pool.short, 3) for _ in range(self.rng.randint(3, 5))]
        lines = ["| Topic | Notes | Skills |", "|-------|-------|--------|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        lines.append(f"\n: {self.rng.choice(self.pool.titles)} {{#tbl:c{self.n:02d}}}")
        return "\n".join(lines)

    def write(self, title: str) -> str:
        rng, c = self.rng, f"c{self.n:02d}"
        leaves = SECTIONS * (SUBSECTIONS + 1)
        budget = CHAPTER_BYTES // leaves
        out = [f"<!-- Generated chapter {self.n} -->", f"# {title} {{#sec:{c}}}"]
        out += self.body(budget)
        equation_at = set(rng.sample(range(leaves), EQUATIONS))
        table_at = rng.randrange(leaves)
        leaf, k = 0, 0
        for s in range(1, SECTIONS + 1):
            out.append(f"## {rng.choice(self.pool.titles)} {{#sec:{c}-{s}}}")
            for sub in range(SUBSECTIONS + 1):
                if sub:
                    out.append(f"### {rng.choice(self.pool.titles)} {{#sec:{c}-{s}-{sub}}}")
                blocks = self.body(budget)
                if sub and rng.random() < 0.4:
                    blocks.insert(len(blocks) // 2, f"#### {rng.choice(self.pool.titles)}")
                if leaf in equation_at:
                    k += 1
                    blocks.insert(1, self.equation(k))
                    blocks.insert(2, f"where @eq:{c}-{k} is the quantity of interest.")
                if leaf == table_at:
                    blocks.insert(1, f"@Tbl:{c} summarises the points below.\n\n{self.table()}")
                out += blocks
                leaf += 1
        return "\n\n".join(out + self.notes) + "\n"


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].rstrip("-")


def generate(out_dir: Path, chapters: int = 40, seed: int = 1, force: bool = False) -> Path:
    """Write the book into ``out_dir``; return its book.yaml."""
    book_dir, latex_dir = out_dir / "book", out_dir / "latex"
    for folder in (book_dir, latex_dir):
        if folder.exists() and any(folder.iterdir()):
            if not force:
                raise SystemExit(f"{folder} is not empty (use --force to replace it)")
            shutil.rmtree(folder)
    book_dir.mkdir(parents=True, exist_ok=True)
    latex_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "latex" / "preamble.tex", latex_dir / "preamble.tex")

    rng = random.Random(seed)
    pool = Pool(SOURCE)
    real = yaml.safe_load((SOURCE / "book.yaml").read_text(encoding="utf-8"))
    metadata = real["metadata"]
    bib_name = metadata["bibliography"]
    keys, generated = bib_entries(rng, pool)
    real_bib = (SOURCE / bib_name).read_text(encoding="utf-8")
    real_keys = re.findall(r"@\w+\{([^,\s]+),", real_bib)
    (book_dir / bib_name).write_text(real_bib.rstrip() + "\n\n" + generated, encoding="utf-8")
    cites = real_keys * 3 + keys  # the real book's works are the most cited

    files = ["front-matter.md"]
    shutil.copy(SOURCE / "front-matter.md", book_dir / "front-matter.md")
    parts = max(1, min(4, chapters // CHAPTERS_PER_PART, chapters))
    used: set[str] = set()
    for n in range(1, chapters + 1):
        if (n - 1) % -(-chapters // parts) == 0:
            part = len([f for f in files if f.startswith("part-")]) + 1
            intro = " ".join(rng.sample(pool.sentences, 4))
            name = f"part-{part}.md"
            title = rng.choice(pool.titles)
            (book_dir / name).write_text(f"# {title} {{.part}}\n\n{intro}\n", encoding="utf-8")
            files.append(name)
        title = rng.choice([t for t in pool.titles if t not in used] or pool.titles)
        used.add(title)
        name = f"ch{n:02d}-{slug(title)}.md"
        text = ChapterWriter(rng, pool, cites, n, chapters).write(title)
        (book_dir / name).write_text(text, encoding="utf-8")
        files.append(name)
    shutil.copy(SOURCE / "references.md", book_dir / "references.md")
    files.append("references.md")

    config = {"chapters": files, "metadata": metadata, "build": real["build"]}
    header = f"# Generated by bench/gen_book.py --chapters {chapters} --seed {seed}\n"
    text = header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)
    (book_dir / "book.yaml").write_text(text, encoding="utf-8")
    return book_dir / "book.yaml"


def markdown_bytes(book_yaml: Path) -> int:
    """Size of the chapter files a book.yaml lists."""
    names = yaml.safe_load(book_yaml.read_text(encoding="utf-8"))["chapters"]
    return sum((book_yaml.parent / name).stat().st_size for name in names)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--chapters", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="replace an existing book")
    args = parser.parse_args(argv)
    if args.chapters < 1:
        parser.error("--chapters must be at least 1")
    book_yaml = generate(args.out_dir, args.chapters, args.seed, args.force)
    size = markdown_bytes(book_yaml) / 1024
    print(f"{book_yaml}: {args.chapters} chapters, {size:.0f} KB of Markdown", file=sys.stderr)


if __name__ == "__main__":
    main()
