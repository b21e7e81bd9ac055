"""A production install takes requirements.txt alone: the server must start without the
development tools of requirements-dev.txt."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Import names of what only requirements-dev.txt installs.
DEV_ONLY = ("pytest", "pytest_django", "pytest_asyncio", "factory", "websockets", "qrcode", "schemathesis",
            "ruff", "mypy", "django_stubs_ext", "pip_audit", "uvicorn", "httptools", "hypothesis", "playwright")

STARTUP = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is a development tool, not in requirements.txt")
        return None
sys.meta_path.insert(0, Block())
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns
import config.asgi
from django.core.management import call_command
call_command("check")
print("started without the development tools")
"""


def _names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[=<>\[ ]", line)[0].lower())
    return names


def test_runtime_requirements_hold_no_development_tools() -> None:
    runtime = _names(ROOT / "requirements.txt")
    dev = _names(ROOT / "requirements-dev.txt")
    assert {"django", "daphne", "channels", "psycopg"} <= runtime
    assert not runtime & {"pytest", "ruff", "mypy", "schemathesis", "pip-audit", "py-spy"}
    assert not runtime & dev, "a package pinned in both files"
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_the_server_starts_without_the_development_tools() -> None:
    done = subprocess.run(
        [sys.executable, "-c", STARTUP, ",".join(DEV_ONLY)], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.base",
                          "HOME": str(ROOT / "var")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "started without the development tools" in done.stdout
