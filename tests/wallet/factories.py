from __future__ import annotations

from decimal import Decimal
from typing import cast

import factory

from wallet.models import Coin


class CoinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coin
        django_get_or_create = ("name",)

    name = "cny"
    decimals = 2
    price = Decimal("1")
    is_default = True


def make_coin(**fields: object) -> Coin:
    """``CoinFactory(...)`` typed as the model it creates."""
    return cast(Coin, CoinFactory(**fields))
