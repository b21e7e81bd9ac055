"""The server's version: the one in pyproject.toml (CHANGELOG.md says what each brought)."""
from __future__ import annotations

import tomllib
from pathlib import Path


def _read() -> str:
    try:
        with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


VERSION = _read()
