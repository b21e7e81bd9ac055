"""manage.py backup and restore: a restore drill into a scratch database gives back the users,
messages, money and media, and ledger_check passes on it."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from accounts.models import User
from messaging.models import Message
from messaging.services import message_send
from tests.e2e.server import database_url
from tests.redpackets.test_redpackets import fund
from tests.wallet.factories import make_coin
from wallet.models import JournalEntry

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A database URL to restore into: a new PostgreSQL database, or a new SQLite file."""
    if connection.vendor == "sqlite":
        path = Path(settings.VAR_DIR) / f"restore-{uuid.uuid4().hex[:8]}.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            path.unlink(missing_ok=True)
        return
    db = connection.settings_dict
    name = f"im_restore_{uuid.uuid4().hex[:8]}"
    host, port, user = db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["USER"] or "postgres"
    admin = f"postgres://{user}:{db.get('PASSWORD') or ''}@{host}:{port}/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{user}:{db.get('PASSWORD') or ''}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def count(url: str, table: str) -> int:
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        assert row is not None
        return int(row[0])


def test_a_backup_restores_into_a_scratch_database_with_its_media(tmp_path: Path, alice: User, bob: User) -> None:
    coin = make_coin(name="cny", decimals=2)
    fund(alice, coin, "50")
    for i in range(3):
        message_send(sender=alice, to=bob.pk, type_=1, content={"text": f"kept {i}"}, client_msg_id=f"b-{i}")
    media_root = tmp_path / "media"
    (media_root / "image" / "2026").mkdir(parents=True)
    (media_root / "image" / "2026" / "photo.jpg").write_bytes(b"\xff\xd8\xff" + b"x" * 100)
    backup = tmp_path / "backup"
    with override_settings(MEDIA_ROOT=str(media_root)):
        call_command("backup", str(backup), stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert {p.name for p in backup.iterdir()} >= {"manifest.json", "media.tar.gz"}

    with scratch_database() as url:
        restored_media = tmp_path / "restored-media"
        call_command("restore", str(backup), database_url=url, media_root=str(restored_media), yes=True,
                     stdout=open(os.devnull, "w"))  # noqa: SIM115
        assert count(url, User._meta.db_table) == User.objects.count()
        assert count(url, Message._meta.db_table) == Message.objects.count() >= 3
        assert count(url, JournalEntry._meta.db_table) == JournalEntry.objects.count() >= 1
        assert (restored_media / "image" / "2026" / "photo.jpg").read_bytes() == b"\xff\xd8\xff" + b"x" * 100
        # the drill's last step: the books balance in the restored database
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
        checked = subprocess.run([sys.executable, "manage.py", "ledger_check"], cwd=settings.BASE_DIR, env=env,
                                 capture_output=True, text=True, timeout=120)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "ledger ok" in checked.stdout


def test_backup_and_restore_refuse_what_would_lose_data(tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(occupied))
    assert (occupied / "keep.txt").read_text() == "mine"

    backup = tmp_path / "b"
    call_command("backup", str(backup), "--no-media", stdout=open(os.devnull, "w"))  # noqa: SIM115
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(backup), database_url=database_url())
    other = "postgres://postgres@127.0.0.1:5432/x" if connection.vendor == "sqlite" else "sqlite:////tmp/x.sqlite3"
    with pytest.raises(CommandError, match="the backup is of a"):
        call_command("restore", str(backup), database_url=other, yes=True)
    with pytest.raises(CommandError, match="holds no backup"):
        call_command("restore", str(tmp_path / "nothing"), yes=True)
