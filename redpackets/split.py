"""Splitting a lucky packet into random shares (docs/redpackets.md#the-lucky-split).

Amounts are handled as integers of the coin's smallest unit, so the shares sum to the total
exactly. Every share first gets the minimum; the rest is cut at ``count - 1`` points drawn
uniformly at random (with repetition), which gives every share the same distribution
whatever its position (the shares are exchangeable: nobody gains by grabbing first or last).
A share above the maximum is cut back to it and the excess is spread the same way over the
shares that still have room, until nothing is over. The order is shuffled at the end.
"""
from __future__ import annotations

import random
import secrets

_rng = secrets.SystemRandom()


def _spread(amount: int, slots: int, rng: random.Random) -> list[int]:
    """``amount`` units cut into ``slots`` non-negative parts at uniformly random points."""
    if slots == 1:
        return [amount]
    cuts = sorted(rng.randint(0, amount) for _ in range(slots - 1))
    edges = [0, *cuts, amount]
    return [edges[i + 1] - edges[i] for i in range(slots)]


def lucky_split(total: int, count: int, *, minimum: int, maximum: int, rng: random.Random | None = None) -> list[int]:
    """``count`` random shares of ``total`` units, each within ``[minimum, maximum]``.

    The caller has checked ``minimum * count <= total <= maximum * count``.
    """
    if count < 1 or not minimum * count <= total <= maximum * count or minimum > maximum:
        raise ValueError(f"cannot split {total} into {count} shares within [{minimum}, {maximum}]")
    rng = rng or _rng
    shares = [minimum + part for part in _spread(total - minimum * count, count, rng)]
    while True:
        excess = sum(max(0, share - maximum) for share in shares)
        if not excess:
            break
        shares = [min(share, maximum) for share in shares]
        room = [i for i, share in enumerate(shares) if share < maximum]
        for i, part in zip(room, _spread(excess, len(room), rng), strict=True):
            shares[i] += part
    rng.shuffle(shares)
    return shares
