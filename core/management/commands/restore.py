"""Restore a backup made by ``manage.py backup`` (docs/deploy.md#backups).

    manage.py restore /var/backups/im/2026-12-02 --yes
    manage.py restore /var/backups/im/2026-12-02 --database-url postgres://.../im_drill --media-root /tmp/m --yes

Replaces everything in the database (the configured one, or ``--database-url``: a restore
drill into a scratch database) and unpacks the media files. Stop the server processes, the
worker and beat before restoring over a live database.
"""
from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import environ
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from core.management.commands.backup import DUMP_TIMEOUT_SECONDS, copy_sqlite, pg_environment, pg_tool


class Command(BaseCommand):
    help = "Restore a backup of the database and the media files (replaces what is there)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="a directory written by manage.py backup")
        parser.add_argument("--database-url", help="restore into this database instead of the configured one")
        parser.add_argument("--media-root", help="unpack the media here instead of MEDIA_ROOT")
        parser.add_argument("--no-media", action="store_true", help="the database only")
        parser.add_argument("--yes", action="store_true", help="confirm: everything in the target is replaced")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["directory"])
        try:
            manifest = json.loads((source / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"{source} holds no backup (manifest.json: {exc})") from exc
        db = (environ.Env.db_url_config(options["database_url"]) if options["database_url"]
              else dict(connection.settings_dict))
        vendor = "postgresql" if "postgresql" in db["ENGINE"] else "sqlite" if "sqlite" in db["ENGINE"] else "?"
        if vendor != manifest.get("vendor"):
            raise CommandError(f"the backup is of a {manifest.get('vendor')} database, the target is {vendor}")
        if not options["yes"]:
            raise CommandError(f"this replaces everything in the database {db['NAME']}: add --yes to go on")
        self.stdout.write(f"restoring a backup of version {manifest.get('version')} into {db['NAME']} ...")
        dump = source / manifest["database"]["file"]
        if vendor == "postgresql":
            conn_args, env = pg_environment(db)
            try:
                subprocess.run(  # noqa: S603  (our own arguments; the password goes in the environment)
                    [pg_tool("pg_restore"), *conn_args, "--clean", "--if-exists", "--no-owner", "--single-transaction",
                     "--exit-on-error", "--dbname", db["NAME"], str(dump)],
                    env=env, check=True, capture_output=True, text=True, timeout=DUMP_TIMEOUT_SECONDS)
            except subprocess.CalledProcessError as exc:
                raise CommandError(f"pg_restore failed (nothing was changed): {exc.stderr.strip()}") from exc
            except subprocess.TimeoutExpired as exc:
                raise CommandError(f"pg_restore took longer than {DUMP_TIMEOUT_SECONDS} s") from exc
        else:
            copy_sqlite(dump, Path(db["NAME"]))
        self.stdout.write("  database restored")
        media = manifest.get("media") or {}
        if not options["no_media"] and media.get("file"):
            root = Path(options["media_root"] or settings.MEDIA_ROOT)
            root.mkdir(parents=True, exist_ok=True)
            with tarfile.open(source / media["file"], "r:gz") as archive:
                archive.extractall(root, filter="data")  # no absolute paths, no links out of root
            self.stdout.write(f"  media: {media.get('files', 0):,} files into {root}")
        self.stdout.write(self.style.SUCCESS(
            "restore done; run manage.py ledger_check against it before serving"))
