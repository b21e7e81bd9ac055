"""Amounts as operators read them in the console: with their coin's decimals (``12.50`` for a
2-decimal coin), not the 18 places every amount is stored with."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wallet.models import Coin


def money(amount: Decimal | None, coin: Coin | None, *, signed: bool = False) -> str:
    """``amount`` with ``coin``'s decimals, plain fixed-point (``-3.10``, ``+3.10`` if
    ``signed``); without a coin, with its trailing zeros dropped."""
    if amount is None:
        return "-"
    if coin is not None:
        return coin.amount_text(amount, signed=signed)
    amount = amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
    return format(amount, "+f" if signed else "f")


def money_column(field: str, coin: str, *, signed: bool = False) -> Callable[[Any], str]:
    """A console column (or read-only field) showing ``obj.<field>`` with the decimals of
    ``obj.<coin>`` (a dotted path: ``"packet.coin"``); sorted by the stored amount."""

    def shown(obj: Any) -> str:
        target: Any = obj
        for part in coin.split("."):
            target = getattr(target, part)
        return money(getattr(obj, field), target, signed=signed)

    shown.__name__ = f"{field}_shown"
    return admin.display(description=field.replace("_", " "), ordering=field)(shown)


class MoneyAdmin(admin.ModelAdmin):
    """A model admin whose amount fields (``money_fields``: field -> path of its coin) show
    with their coin's decimals in the list and on the (read-only) page of an existing row.
    Where a row is added or edited, the form keeps the plain field."""

    money_fields: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._money_columns = {field: money_column(field, coin) for field, coin in self.money_fields.items()}

    def _shown(self, names: Any) -> list[Any]:
        return [self._money_columns.get(name, name) if isinstance(name, str) else name for name in names]

    def get_list_display(self, request: HttpRequest) -> Any:
        return self._shown(super().get_list_display(request))

    def _read_only_page(self, request: HttpRequest, obj: Any) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        if not self._read_only_page(request, obj):
            return fields
        return list(dict.fromkeys(self._shown(fields)))  # the columns come once, in the field's place

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields: list[Any] = list(super().get_readonly_fields(request, obj))
        if self._read_only_page(request, obj):
            fields = [*self._shown(fields), *(c for f, c in self._money_columns.items() if f not in fields)]
        return fields
