"""The suite runs on its own test database, never on the one DATABASE_URL names (which a
developer may point at data they keep): nothing may open a connection before the test database
is set up (a PostgreSQL pool opened at import would keep the original database's name)."""
from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.django_db
def test_the_tests_run_on_the_test_database() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_database()")
            (name,) = cursor.fetchone()
        else:
            cursor.execute("PRAGMA database_list")
            name = next(row[2] for row in cursor.fetchall() if row[1] == "main")
    assert str(name) == str(connection.settings_dict["NAME"])
    assert "test" in str(name)
