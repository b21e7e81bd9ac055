"""``MoneyField``: an amount stored exactly on every database.

PostgreSQL keeps ``NUMERIC(38, 18)`` exactly, and there the field is Django's ``DecimalField``
unchanged (same column type, same SQL, no extra conversion). SQLite (the embedded default)
would store a decimal as a REAL with about 15 significant digits, so an 18-decimal coin would
lose digits; there the field is a TEXT column holding the amount's canonical digits.

The canonical text is plain fixed-point, without an exponent, trailing zeros or a ``+`` sign,
and zero is ``0``: ``12.5``, ``-0.000000000000000001``, ``100``. With that form a text
comparison with zero gives the sign, so the ``CHECK (balance >= 0)`` and ``amount > 0``
constraints hold on SQLite too. Any other comparison, an ordering or a ``SUM`` in SQL would
compare or add text, or floats: on SQLite those are refused (comparisons with anything but
zero raise ``NotSupportedError``; a summed value arrives as a float and raises ``TypeError``),
and the code that needs them adds or compares in Python (``wallet.selectors.exact_sum``).
"""
from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.apps.registry import Apps
from django.conf import settings
from django.db import DataError, NotSupportedError, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import lookups


def money_text(value: Decimal) -> str:
    """The canonical text of an amount: ``Decimal("12.50")`` -> ``"12.5"``, zero -> ``"0"``."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@contextmanager
def exact_arithmetic() -> Iterator[decimal.Context]:
    """A decimal context wide enough that adding amounts of up to ``MONEY_MAX_DIGITS`` digits
    is exact (the default context keeps 28 digits and would round larger balances)."""
    with decimal.localcontext() as context:
        context.prec = max(context.prec, 2 * settings.MONEY_MAX_DIGITS)
        yield context


class MoneyField(models.DecimalField):
    """An exact amount: ``NUMERIC(max_digits, decimal_places)`` on PostgreSQL, canonical text
    on SQLite (see the module's docs)."""

    description = "An exact decimal amount"

    def get_internal_type(self) -> str:
        # Not "DecimalField": Django's SQLite backend would read that column as a float.
        return "MoneyField"

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "sqlite":
            return "text"
        return connection.data_types["DecimalField"] % self.db_type_parameters(connection)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if connection.vendor != "sqlite":
            return super().get_db_prep_value(value, connection, prepared)
        if hasattr(value, "as_sql"):
            return value
        value = self.to_python(value if prepared else self.get_prep_value(value))
        if value is None:
            return None
        return money_text(self._fit(value))

    def _fit(self, value: Decimal) -> Decimal:
        """``value`` rounded to ``decimal_places`` as PostgreSQL's NUMERIC rounds it; an amount
        with more than ``max_digits`` digits is refused as PostgreSQL refuses it."""
        if value.adjusted() >= self.max_digits - self.decimal_places:
            raise DataError(f"numeric field overflow: {value} has more than {self.max_digits} digits")
        return value.quantize(Decimal(1).scaleb(-self.decimal_places), rounding=decimal.ROUND_HALF_UP,
                              context=self.context)

    def get_db_converters(self, connection: BaseDatabaseWrapper) -> list[Callable[..., Any]]:
        converters = super().get_db_converters(connection)
        if connection.vendor == "sqlite":
            return [self._from_text, *converters]
        return converters

    def _from_text(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("an amount came back from SQLite as a float (summed or computed in SQL): "
                            "add amounts in Python on SQLite")
        # PostgreSQL answers NUMERIC(38, 18) with 18 places; so does this, for the same results.
        return Decimal(value).quantize(Decimal(1).scaleb(-self.decimal_places), context=self.context)


class _ZeroOnlyOnSQLite:
    """An ordering comparison of an amount: on SQLite only with zero, whose answer the
    canonical text gives exactly (the sign); any other would compare text."""

    rhs: Any

    def as_sqlite(self, compiler: Any, connection: BaseDatabaseWrapper) -> Any:
        if not (isinstance(self.rhs, Decimal | int) and self.rhs == 0):
            raise NotSupportedError(f"amounts cannot be compared with {self.rhs!r} in SQL on SQLite "
                                    "(they are stored as text): compare them in Python")
        return self.as_sql(compiler, connection)  # type: ignore[attr-defined]


@MoneyField.register_lookup
class MoneyGreaterThan(_ZeroOnlyOnSQLite, lookups.GreaterThan):
    pass


@MoneyField.register_lookup
class MoneyGreaterThanOrEqual(_ZeroOnlyOnSQLite, lookups.GreaterThanOrEqual):
    pass


@MoneyField.register_lookup
class MoneyLessThan(_ZeroOnlyOnSQLite, lookups.LessThan):
    pass


@MoneyField.register_lookup
class MoneyLessThanOrEqual(_ZeroOnlyOnSQLite, lookups.LessThanOrEqual):
    pass


def store_amounts_as_text(*columns: tuple[str, str, str]) -> Callable[[Apps, BaseDatabaseSchemaEditor], None]:
    """A migration step: after the columns became ``MoneyField`` (TEXT on SQLite), rewrite
    each SQLite value in its canonical text. The table copy turned the old REAL values into
    SQLite's own text of them (``100.5``, ``1.0e-05``, ``100``): each is parsed as the exact
    decimal it denotes, the value the old column showed. PostgreSQL has nothing to convert.

    ``columns``: ``(app_label, model_name, field_name)``."""

    def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "sqlite":
            return
        for app_label, model_name, field_name in columns:
            model = apps.get_model(app_label, model_name)
            table = schema_editor.quote_name(model._meta.db_table)
            column = schema_editor.quote_name(model._meta.get_field(field_name).column)
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
                rows = cursor.fetchall()
                updates = [(money_text(Decimal(str(raw))), pk) for pk, raw in rows]
                changed = [(text, pk) for (text, pk), (_, raw) in zip(updates, rows, strict=True) if text != raw]
                cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", changed)  # noqa: S608

    return forwards
