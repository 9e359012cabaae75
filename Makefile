# bookbuild: `make book` builds build/book.pdf, `make test` runs the test suite.
# Both create .venv and install TeX Live (as root) when they are missing.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
# The venv's bin first: its `pandoc` is pypandoc-binary's, for `pandoc --filter filters/….py`.
export PATH := $(abspath $(BIN)):$(PATH)
# Debian packages: the engines, the LaTeX packages the book uses, pdftotext/pdftoppm, and
# latexmk (bookbuild runs the engines itself; the benchmark's plain baseline and a test use it).
# Fonts (issue 14): Noto for Greek, Cyrillic, Arabic, Hebrew, symbols and math (fonts-noto-core,
# 42 MB), CJK (fonts-noto-cjk, 91 MB), emoji in black and white (fonts-symbola, 3 MB): 70 MB to
# download, 140 MB installed, about 20 s.
APT_PACKAGES := texlive-xetex texlive-luatex texlive-latex-recommended texlive-latex-extra \
                texlive-science texlive-fonts-recommended lmodern fonts-lmodern latexmk poppler-utils qpdf \
                texlive-binaries librsvg2-bin fonts-noto-core fonts-noto-cjk fonts-symbola
TEX_PROGRAMS := latexmk xelatex pdflatex lualatex pdftotext rsvg-convert
# One file of each font package: when one is missing, the install step runs.
FONT_FILES   := /usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf \
                /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc \
                /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf

.PHONY: book test lint golden regen-golden bench clean venv tex-engine

book: venv tex-engine
	$(BIN)/bookbuild pdf

test: venv tex-engine
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check src filters tests bench
	$(BIN)/ruff format --check src filters tests bench
	$(BIN)/mypy

golden: venv
	$(BIN)/python tests/golden/run_golden.py

# Rewrites tests/golden/*/expected.*; review the result with `git diff tests/golden`.
regen-golden: venv
	$(BIN)/python tests/golden/run_golden.py --regen
	@git --no-pager diff --stat -- tests/golden || true

# The benchmark of the speed goals (about 3 minutes; BENCH_ARGS="--reps 1" for a quick look).
bench: venv tex-engine
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf build

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	ln -sf "$$($(BIN)/python -c 'import pypandoc; print(pypandoc.get_pandoc_path())')" $(BIN)/pandoc
	touch $@

tex-engine:
	@missing=""; for p in $(TEX_PROGRAMS); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	for f in $(FONT_FILES); do test -f $$f || missing="$$missing $$(basename $$f)"; done; \
	if command -v dpkg-query >/dev/null 2>&1; then for pkg in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$pkg"; \
	done; fi; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "TeX Live or fonts missing ($$missing ) - installing: apt-get install $(APT_PACKAGES)"; \
	if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	else \
	  echo "Run as root:  sudo apt-get install -y --no-install-recommends $(APT_PACKAGES)"; exit 4; \
	fi
