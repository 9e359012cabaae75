#!/usr/bin/env python3
"""Generate a 100-file mdBook (book.toml + src/SUMMARY.md) for the layout benchmark.

    python bench/gen_summary_book.py OUT_DIR [--files 100]

5 parts of 20 pages each, nested up to 4 deep, in subfolders, with headings starting at
``#``, ``##`` or ``###``. Then ``python bench/layouts.py OUT_DIR`` times a no-op rebuild
(goal <= 0.2 s) and ``bookbuild check`` (goal <= 1 s).
"""

from __future__ import annotations

import argparse
from pathlib import Path

WORDS = [
    "ownership",
    "borrow",
    "trait",
    "lifetime",
    "closure",
    "iterator",
    "module",
    "crate",
    "macro",
    "pattern",
]


def generate(out: Path, files: int = 100) -> Path:
    src = out / "src"
    src.mkdir(parents=True, exist_ok=True)
    (out / "book.toml").write_text(
        '[book]\ntitle = "A Hundred Pages"\nauthors = ["Bench Mark"]\nsrc = "src"\n',
        encoding="utf-8",
    )
    lines = ["# Summary", "", "[Preface](preface.md)", ""]
    (src / "preface.md").write_text("# Preface\n\nWhy this book.\n", encoding="utf-8")
    depths = [1, 2, 3, 4, 2, 1, 2, 3, 2, 2]
    for index in range(files - 1):
        if index % 20 == 0:
            lines += ["", f"# Part {index // 20 + 1} topics", ""]
        depth = depths[index % len(depths)]
        folder = f"part{index // 20 + 1}"
        name = f"{folder}/page-{index:03d}.md"
        word = WORDS[index % len(WORDS)]
        title = f"The {word} page {index}"
        lines.append("    " * (depth - 1) + f"- [{title}]({name})")
        level = "#" * (1 + index % 3)
        body = " ".join(WORDS[(index + k) % len(WORDS)] for k in range(120))
        text = f"{level} {title}\n\n{body}.\n\n{level}# More on {word}\n\n{body}.\n"
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text, encoding="utf-8")
    (src / "SUMMARY.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "book.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=100)
    args = parser.parse_args()
    print(generate(args.out, args.files))


if __name__ == "__main__":
    main()
