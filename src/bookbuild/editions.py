"""Editions from one source: ``--set KEY=VALUE`` overrides a metadata key for one build.

    bookbuild pdf                                               # the reader's edition
    bookbuild pdf --set solutions=none -o build/student.pdf     # the student edition
    bookbuild pdf --set print=true --set trim=6x9in -o build/print.pdf

VALUE is read as YAML (``true``, ``[E, M]``, ``6x9in``); a dotted KEY reaches into a mapping
(``exercises.levels=[E]``). The overrides are part of the build's fingerprint (the metadata),
so switching editions never reuses the other edition's PDF.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import yaml

from .config import BookConfig
from .errors import BookbuildError


class SettingError(BookbuildError):
    """A ``--set`` argument that is not KEY=VALUE (a usage error: exit 2)."""

    exit_code = 2


def parse_setting(text: str) -> tuple[list[str], Any]:
    key, sep, raw = text.partition("=")
    path = [k.strip() for k in key.split(".")]
    if not sep or not all(path):
        raise SettingError(f"--set {text!r}: write KEY=VALUE, e.g. --set solutions=none")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path, value


def with_settings(config: BookConfig, settings: list[str] | tuple[str, ...]) -> BookConfig:
    """The config with each ``KEY=VALUE`` of ``settings`` set in its metadata."""
    if not settings:
        return config
    metadata = copy.deepcopy(config.metadata)
    for text in settings:
        path, value = parse_setting(text)
        node = metadata
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[path[-1]] = value
    return replace(config, metadata=metadata)
