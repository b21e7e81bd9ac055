"""Back up the database and the media files into one directory (docs/deploy.md#backups).

    manage.py backup /var/backups/im/2026-12-02

writes ``database.dump`` (PostgreSQL: ``pg_dump`` in its custom format) or ``database.sqlite3``
(SQLite: a consistent copy through SQLite's backup API), ``media.tar.gz`` (the local
``MEDIA_ROOT``) and ``manifest.json`` (version, time, sizes). ``manage.py restore`` reads it.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.storage.filesystem import FileSystemStorage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from config.version import VERSION

# The longest a dump may take before it is stopped (a hung database must not hang the job).
DUMP_TIMEOUT_SECONDS = 6 * 3600


def pg_tool(name: str) -> str:
    """The absolute path of a PostgreSQL client tool (pg_dump, pg_restore)."""
    path = shutil.which(name)
    if path is None:
        raise CommandError(f"{name} is not installed (PostgreSQL's client tools)")
    return path


def pg_environment(db: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the PostgreSQL client tools (the password in the environment,
    never on the command line)."""
    args = ["--host", str(db.get("HOST") or "127.0.0.1"), "--port", str(db.get("PORT") or 5432),
            "--username", str(db.get("USER") or "postgres")]
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "PGCONNECT_TIMEOUT": "10"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


class Command(BaseCommand):
    help = "Back up the database and the media files into a new directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="where to write the backup (created; must not exist or be empty)")
        parser.add_argument("--no-media", action="store_true", help="the database only")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(options["directory"])
        if target.exists() and any(target.iterdir()):
            raise CommandError(f"{target} is not empty: a backup never overwrites another")
        target.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        manifest: dict[str, Any] = {"version": VERSION, "createdAt": int(time.time()), "vendor": connection.vendor}
        manifest["database"] = self._database(target)
        if not options["no_media"]:
            manifest["media"] = self._media(target)
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        self.stdout.write(self.style.SUCCESS(f"backup done in {time.monotonic() - started:.1f} s: {target}"))

    def _database(self, target: Path) -> dict[str, Any]:
        db = connection.settings_dict
        if connection.vendor == "postgresql":
            out = target / "database.dump"
            self.stdout.write(f"dumping PostgreSQL database {db['NAME']} ...")
            conn_args, env = pg_environment(db)
            try:
                subprocess.run(  # noqa: S603  (our own arguments; the password goes in the environment)
                    [pg_tool("pg_dump"), *conn_args, "--format=custom", "--no-owner", "--file", str(out), db["NAME"]],
                    env=env, check=True, capture_output=True, text=True, timeout=DUMP_TIMEOUT_SECONDS)
            except subprocess.CalledProcessError as exc:
                raise CommandError(f"pg_dump failed: {exc.stderr.strip()}") from exc
            except subprocess.TimeoutExpired as exc:
                raise CommandError(f"pg_dump took longer than {DUMP_TIMEOUT_SECONDS} s") from exc
        elif connection.vendor == "sqlite":
            out = target / "database.sqlite3"
            self.stdout.write(f"copying SQLite database {db['NAME']} ...")
            source = sqlite3.connect(str(db["NAME"]), timeout=30)
            copy = sqlite3.connect(str(out))
            try:
                source.backup(copy, pages=1024)  # consistent even while the server writes
            finally:
                copy.close()
                source.close()
        else:
            raise CommandError(f"no backup for the {connection.vendor} database")
        size = out.stat().st_size
        self.stdout.write(f"  {out.name}: {size:,} bytes")
        return {"file": out.name, "bytes": size}

    def _media(self, target: Path) -> dict[str, Any]:
        if not isinstance(default_storage, FileSystemStorage):
            self.stdout.write(self.style.WARNING(
                "media: not on this machine's disk (MEDIA_STORAGE_BACKEND); back up its bucket with its own tools"))
            return {"skipped": "remote storage"}
        root = Path(settings.MEDIA_ROOT)
        out = target / "media.tar.gz"
        files = 0
        with tarfile.open(out, "w:gz") as archive:
            if root.exists():
                for path in sorted(root.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        archive.add(path, arcname=str(path.relative_to(root)))
                        files += 1
                        if files % 1000 == 0:
                            self.stdout.write(f"  media: {files:,} files ...")
        self.stdout.write(f"  {out.name}: {files:,} files, {out.stat().st_size:,} bytes")
        return {"file": out.name, "files": files, "bytes": out.stat().st_size}


def copy_sqlite(source: Path, target: Path) -> None:
    """Restore a SQLite backup over ``target`` through the backup API (never a half-written file)."""
    staged = target.with_suffix(target.suffix + ".restoring")
    src, dst = sqlite3.connect(str(source)), sqlite3.connect(str(staged))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    shutil.move(str(staged), str(target))
