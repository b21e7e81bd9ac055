"""Usernames are found, compared and rate-limited by one normalised form (NFKC + case folding),
stored in a unique column. Existing accounts are backfilled; a later account whose name
collides with an earlier one's under the new rule keeps a key with "#<id>" appended, so the
migration never fails and nobody is renamed (it still logs in by its exact name)."""
from __future__ import annotations

import unicodedata
from typing import Any

from django.db import migrations, models


def _key(name: str) -> str:  # accounts.models.username_key as of this migration
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())[:200]


def backfill(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("accounts", "User")
    seen: set[str] = set()
    for user in User.objects.order_by("pk").only("pk", "username").iterator():
        key = _key(user.username)
        if key in seen:
            key = f"{key}#{user.pk}"
        seen.add(key)
        User.objects.filter(pk=user.pk).update(username_key=key)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_friend_requests")]

    operations = [
        migrations.AddField(
            model_name="user", name="username_key",
            field=models.CharField(editable=False, max_length=224, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user", name="username_key",
            field=models.CharField(editable=False, max_length=224, unique=True),
        ),
    ]
