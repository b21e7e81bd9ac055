"""JSON on the wire with exact decimals.

The seeds send and expect amounts as JSON *numbers*; money must never pass through a float.
So inbound JSON is parsed with ``parse_float=Decimal`` (``12.50`` arrives as Decimal("12.50")),
and outbound ``Decimal`` values are written as their exact fixed-point digits (``12.50``,
``0.000000000000000001``), never as ``1E-18`` and never rounded through a float.

``dumps`` uses the standard library encoder (about 3x faster than simplejson here): a Decimal
becomes a string with a per-process random marker, and only frames that contain one are
rewritten into raw digits. Free-form client JSON (message content, relay data) goes through
``plain`` to turn its Decimals back into ordinary numbers before it is stored or pushed.

``loads`` is the one parser for JSON from clients (every socket frame, REST and ``im/*`` body,
``/hx`` body and form field that carries JSON). It is bounded before any value is built:

* a number literal with more than ``JSON_MAX_NUMBER_DIGITS`` digits, or an exponent beyond
  +-``JSON_MAX_NUMBER_EXPONENT``, is refused by the number hooks before ``int()`` or
  ``Decimal()`` sees it (``int(Decimal("1e400000"))`` alone takes minutes and gigabytes);
* nesting deeper than ``JSON_MAX_DEPTH`` is refused by a bracket count over the text with the
  strings blanked out, before the decoder runs (its recursion would otherwise fail at ~1,000);
* NUL characters and lone surrogates (written raw or as ``\\u`` escapes) are refused in every
  string and key: no database stores them, and PostgreSQL refuses them outright.

Every refusal is a ``JSONLimitError``, a ``ValueError``, so each protocol answers it as its
own "malformed JSON" bad request.
"""
from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

_TAG = secrets.token_hex(8)
_MARK = f"\\u0000{_TAG}:"  # how json.dumps escapes the NUL that opens a marked Decimal
_RAW = re.compile('"' + re.escape(_MARK) + r'(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')
_django = DjangoJSONEncoder()


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent as JSON")
        return f"\u0000{_TAG}:{value:f}\u0000"
    return _django.default(value)  # datetimes, UUIDs, lazy strings


def dumps(payload: Any, *, indent: int | None = None) -> str:
    """Compact JSON; ``indent`` for people to read (the console), keys then sorted."""
    text = json.dumps(payload, default=_default, ensure_ascii=False, indent=indent, sort_keys=indent is not None,
                      separators=(",", ":") if indent is None else (",", ": "))
    return _RAW.sub(r"\1", text) if _MARK in text else text


class JSONLimitError(ValueError):
    """Client JSON refused by a bound (number size, nesting, forbidden characters)."""


def _no_constants(name: str) -> Any:
    raise JSONLimitError(f"{name} is not valid JSON")


# A raw NUL or surrogate code point anywhere in the text (a str decoded from UTF-8 never holds
# a surrogate, so any one found is lone).
_RAW_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
# Only text with one of these can hold a forbidden escape; the exact check runs only then.
_ESCAPE_CANDIDATE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
# Escapes from left to right, so an escaped backslash is never read as the start of a \u.
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.S)
# A string literal, or an unterminated one up to the end; possessive, so linear in the text.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def _check_escapes(text: str) -> None:
    """Refuse ``\\u0000`` and a ``\\u`` surrogate escape that is not half of a pair."""
    pending_high = -1  # the end of a high-surrogate escape waiting for its low half
    for match in _ESCAPE.finditer(text):
        hex_digits = match.group(1)
        if pending_high >= 0:
            low = hex_digits is not None and 0xDC00 <= int(hex_digits, 16) <= 0xDFFF
            if not low or match.start() != pending_high:
                raise JSONLimitError("a string holds a lone surrogate")
            pending_high = -1
            continue
        if hex_digits is None:
            continue
        code = int(hex_digits, 16)
        if code == 0:
            raise JSONLimitError("a string holds a NUL character")
        if 0xDC00 <= code <= 0xDFFF:
            raise JSONLimitError("a string holds a lone surrogate")
        if 0xD800 <= code <= 0xDBFF:
            pending_high = match.end()
    if pending_high >= 0:
        raise JSONLimitError("a string holds a lone surrogate")


def _check_depth(text: str, max_depth: int) -> None:
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot be deeper than the number of openers
    brackets = _NOT_BRACKET.sub("", _STRING.sub('""', text))
    steps = memoryview(brackets.encode("ascii").translate(_DEPTH_STEPS)).cast("b")
    if steps and max(accumulate(steps)) > max_depth:
        raise JSONLimitError(f"JSON nested deeper than {max_depth} levels")


def _number_hooks(max_digits: int, max_exponent: int) -> tuple[Any, Any]:
    exponent_chars = len(str(max_exponent)) + 1  # a sign and the exponent's digits

    def parse_int(literal: str) -> int:
        if len(literal) - literal.startswith("-") > max_digits:
            raise JSONLimitError(f"a number has more than {max_digits} digits")
        return int(literal)

    def parse_float(literal: str) -> Decimal:
        mantissa, _, exponent = literal.replace("E", "e").partition("e")
        digits = len(mantissa) - mantissa.startswith("-") - ("." in mantissa)
        if digits > max_digits:
            raise JSONLimitError(f"a number has more than {max_digits} digits")
        if exponent and (len(exponent) > exponent_chars or abs(int(exponent)) > max_exponent):
            raise JSONLimitError(f"a number's exponent is beyond +-{max_exponent}")
        return Decimal(literal)

    return parse_int, parse_float


def loads(text: str | bytes) -> Any:
    """Client JSON, bounded before any value is built (see the module's doc). Non-integers
    arrive as ``Decimal``. Raises ``ValueError`` (``JSONLimitError`` for a bound) when refused."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode(json.detect_encoding(text))  # UnicodeDecodeError is a ValueError
    if _RAW_FORBIDDEN.search(text):
        raise JSONLimitError("NUL characters and lone surrogates are not accepted")
    if _ESCAPE_CANDIDATE.search(text):
        _check_escapes(text)
    _check_depth(text, settings.JSON_MAX_DEPTH)
    parse_int, parse_float = _number_hooks(settings.JSON_MAX_NUMBER_DIGITS, settings.JSON_MAX_NUMBER_EXPONENT)
    try:
        return json.loads(text, parse_float=parse_float, parse_int=parse_int, parse_constant=_no_constants)
    except RecursionError as exc:  # only if the depth bound is set above the interpreter's own
        raise JSONLimitError("JSON nested too deeply") from exc


def loads_own(text: str | bytes) -> Any:
    """JSON this server wrote itself (a push on the channel layer): exact decimals, no bounds,
    since it passed ``loads`` on its way in. Never for client input."""
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constants)


# Integers are written out in full up to this many digits; past that a number becomes a float.
_PLAIN_INT_DIGITS = 400


def plain(value: Any) -> Any:
    """Client JSON without Decimals: numbers that are not money become ints or floats.

    A number written without a fraction (``12``, ``1e3``) becomes an int, one with a fraction
    (``12.5``) a float. Never builds a huge int (``1e400000``) and never yields Infinity or NaN:
    raises ``JSONLimitError`` for a value no JSON number can carry."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise JSONLimitError(f"{value} is not a JSON number")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0 and value.adjusted() < _PLAIN_INT_DIGITS:
            return int(value)
        number = float(value)
        if number in (float("inf"), float("-inf")):
            raise JSONLimitError(f"{value:.6e} is too large for a JSON number")
        return number
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


class ExactEncoder(json.JSONEncoder):
    """For ``JSONField(encoder=...)``: stored JSON keeps Decimals exact (PostgreSQL's jsonb keeps
    numbers as ``numeric``)."""

    def encode(self, o: Any) -> str:
        return dumps(o)


class ExactDecoder(json.JSONDecoder):
    """For ``JSONField(decoder=...)``: stored non-integers come back as Decimal, so an amount
    read from the database is written out with the digits it was stored with."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)
