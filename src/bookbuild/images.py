"""Images of every kind in the PDF: conversions, cached by content, and remote placeholders.

LaTeX engines include PNG, JPEG and PDF. Before the .tex is written, every other image the
book names is converted into the build cache (``build/.cache/images/``), keyed by the file's
content, and the image points at the converted file:

- SVG -> PDF (vector) with ``rsvg-convert`` (Debian ``librsvg2-bin``), else ``cairosvg``;
- GIF, WebP, BMP, TIFF (and ICO, PPM …) -> PNG with Pillow (an animation's first frame).

An image path is relative to book.yaml; as GitBook, HonKit and mdBook have it, a path that
only exists relative to the chapter's own folder (``../assets/x.png``) is taken from there.

Remote images (``http(s)://``) are never fetched: a framed placeholder with the alt text and
the URL takes their place, with a warning naming the chapter file and line. A local image that
does not exist (books kept elsewhere often lack their generated or binary images) gets the same
placeholder and warning, so the rest of the book still builds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .cache import CACHE_SUBDIR, digest
from .config import BookConfig
from .diagnostics import Diagnostic, SourceText, find_in_source
from .filters import filterlib
from .markers import marker_label

#: What engines include as they are.
NATIVE = {".pdf", ".png", ".jpg", ".jpeg"}
VECTOR = {".svg", ".svgz"}
RASTER = {".gif", ".webp", ".bmp", ".tif", ".tiff", ".ico", ".ppm", ".pgm", ".pbm", ".tga"}
#: Bump when a conversion changes, so cached results are made again.
VERSION = "images-v1"


class ConversionError(Exception):
    """An image could not be converted (the message says why, ``hint`` what to do)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


DAMAGED = "the file may be damaged: open it and save it as PNG or JPEG"


def images_dir(config: BookConfig) -> Path:
    return config.build_dir / CACHE_SUBDIR / "images"


def _svg_to_pdf(source: Path, target: Path) -> None:
    rsvg = shutil.which("rsvg-convert")
    if rsvg:
        proc = subprocess.run(
            [rsvg, "--format=pdf", "--output", str(target), str(source)],
            capture_output=True,
            timeout=120,
        )
        if proc.returncode != 0 or not target.is_file():
            error = " ".join(proc.stderr.decode("utf-8", "replace").split())
            raise ConversionError(f"rsvg-convert failed: {error or proc.returncode}", DAMAGED)
        return
    try:
        import cairosvg  # type: ignore[import-not-found]
    except ImportError:
        raise ConversionError(
            "no SVG converter found", "install rsvg-convert: apt-get install librsvg2-bin"
        ) from None
    try:
        cairosvg.svg2pdf(url=str(source), write_to=str(target))
    except Exception as exc:  # cairosvg raises anything on a broken file
        raise ConversionError(f"cairosvg failed: {exc}", DAMAGED) from None


def _raster_to_png(source: Path, target: Path) -> None:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ConversionError("Pillow is not installed", "pip install Pillow") from None
    try:
        with Image.open(source) as image:
            image.seek(0)  # an animation's first frame
            frame = image.convert("RGBA" if _has_alpha(image) else "RGB")
            frame.save(target, format="PNG")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ConversionError(f"Pillow cannot read it: {exc}", DAMAGED) from None


def _has_alpha(image: Any) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def converted(path: Path, config: BookConfig) -> Path:
    """The PNG or PDF the engine includes for ``path`` (made once per content)."""
    suffix = path.suffix.lower()
    if suffix in NATIVE:
        return path
    if suffix in VECTOR:
        convert: Callable[[Path, Path], None] = _svg_to_pdf
        out_suffix = ".pdf"
    elif suffix in RASTER:
        convert, out_suffix = _raster_to_png, ".png"
    else:
        raise ConversionError(f"{suffix or 'a file without extension'} is not an image format")
    key = digest(VERSION, out_suffix, path.read_bytes())
    target = images_dir(config) / key[:2] / f"{key}{out_suffix}"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part{out_suffix}")
    try:
        convert(path, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def source_place(
    sources: dict[str, SourceText], needle: str
) -> tuple[str | None, int | None, str | None]:
    """(file, line, text) of the first chapter line holding ``needle``; for a path made
    relative to the book directory (a layout's ``images/x.png`` in ``src/ch/``), the
    chapter's own shorter spelling of it (``ch/images/x.png``, ``images/x.png``, ``x.png``)."""
    parts = needle.split("/")
    for start in range(len(parts)):
        probe = "/".join(parts[start:])
        for source in sources.values():
            if source.is_chapter:
                line = find_in_source(source.lines, probe, 1, None)
                if line:
                    return source.display, line, source.lines[line - 1]
    return None, None, None


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def placeholder(elem: Any, fmt: str, missing: bool = False) -> Any:
    """A framed box with the image's alt text and URL, in place of a remote image (or, with
    ``missing``, of a local one that does not exist: its path, marked as not found)."""
    import panflute as pf

    alt = list(elem.content) or [pf.Str("image")]
    if missing:
        where: Any = pf.Span(
            pf.Str("image"),
            pf.Space(),
            pf.Str("not"),
            pf.Space(),
            pf.Str("found:"),
            pf.Space(),
            pf.Code(elem.url),
        )
    else:
        where = pf.Link(pf.Str(elem.url), url=elem.url)
    if fmt not in ("latex", "beamer"):
        return pf.Span(pf.Str("["), *alt, pf.Str(":"), pf.Space(), where, pf.Str("]"))
    return pf.Span(
        pf.RawInline("\\fbox{\\parbox{0.8\\linewidth}{\\centering\\small ", "latex"),
        *alt,
        pf.RawInline("\\\\[2pt]\\footnotesize ", "latex"),
        where,
        pf.RawInline("}}", "latex"),
        classes=["missing-image" if missing else "remote-image"],
    )


def prepare_images(
    doc: Any, config: BookConfig, sources: dict[str, SourceText], fmt: str = "latex"
) -> list[Diagnostic]:
    """Convert the book's images the engine cannot include and stand in for remote ones.
    Returns the warnings (remote images) and errors (failed conversions)."""
    import panflute as pf

    found: list[Diagnostic] = []
    chapter_dir = [config.book_dir]

    def visit(elem: Any, _doc: Any) -> Any:
        if isinstance(elem, pf.RawBlock) and elem.format == "html":
            label = marker_label(elem.text)
            if label is not None:
                chapter_dir[0] = (config.source_root / label).parent
            return None
        if not isinstance(elem, pf.Image) or elem.url.startswith("data:"):
            return None
        if elem.url.lower().startswith(("http://", "https://", "//")):
            file, line, text = source_place(sources, elem.url)
            found.append(
                Diagnostic(
                    "warning",
                    f"remote image '{elem.url}' is not downloaded: a placeholder is printed",
                    file,
                    line,
                    text,
                    "save the image in the book and link the file",
                )
            )
            return placeholder(elem, fmt)
        if "://" in elem.url:
            return None
        path = config.book_dir / unquote(elem.url)
        beside = chapter_dir[0] / unquote(elem.url)
        if not path.is_file() and beside.is_file() and _inside(beside, config.book_dir):
            path = beside
            elem.url = os.path.relpath(beside.resolve(), config.book_dir.resolve())
            elem.url = Path(elem.url).as_posix()
        if not path.is_file() and not any(
            path.with_suffix(ext).is_file() for ext in NATIVE
        ):  # nothing printed silently in its place: a framed placeholder and a warning
            file, line, text = source_place(sources, elem.url)
            found.append(
                Diagnostic(
                    "warning",
                    f"image '{elem.url}' not found: a placeholder is printed",
                    file,
                    line,
                    text,
                    "image paths are relative to the chapter file or to the book directory",
                )
            )
            return placeholder(elem, fmt, missing=True)
        suffix = path.suffix.lower()
        if not path.is_file() or suffix in NATIVE or suffix not in VECTOR | RASTER:
            return None  # native, or a format image_errors names
        try:
            elem.url = converted(path, config).as_posix()
        except (ConversionError, OSError, subprocess.TimeoutExpired) as exc:
            file, line, text = source_place(sources, elem.url)
            found.append(
                Diagnostic(
                    "error",
                    f"image '{elem.url}' cannot be converted: {exc}",
                    file,
                    line,
                    text,
                    getattr(exc, "hint", None),
                )
            )
        return None

    filterlib().walk(doc, visit, doc, (pf.RawBlock, pf.Image))
    return found
