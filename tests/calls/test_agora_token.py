"""Agora RTC tokens (calls.agora): Agora's own known answers, an independent decoder, bad inputs.

The known answers are the expected strings of Agora's published tests (AgoraIO/Tools,
DynamicKey/AgoraDynamicKey/python3/test/AccessToken2Test.py and go/src/accesstoken2/
accesstoken_test.go): app id, certificate, channel, uid 2882341273, issue ts 1111111, salt 1,
token and join privilege expiring after 600 s. The decoder below reads the AccessToken2 format
by hand from its description (docs/calls.md); it uses nothing from calls.agora.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
import zlib
from dataclasses import dataclass

import pytest

from calls.agora import build_rtc_token, build_rtc_token_with_account

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
UID = 2882341273
ISSUE_TS = 1111111
SALT = 1
EXPIRE = 600

# Agora's Python builder: RTC service, join privilege only (what role 2 gets), uid 2882341273;
# Agora's test gets the same string for the account "2882341273".
AGORA_UID_TOKEN = (
    "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
    "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj"
)
# The same with uid 0 (any uid may join).
AGORA_UID_0_TOKEN = (
    "007eJxTYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
    "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMADacImo="
)
# Agora's Go builder, same token as AGORA_UID_TOKEN but compressed differently (a sync-flushed
# zlib stream): the decoder must read the content, not match bytes.
AGORA_GO_UID_TOKEN = (
    "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
    "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM="
)

KNOWN = {
    "app_id": APP_ID,
    "app_certificate": APP_CERTIFICATE,
    "channel_name": CHANNEL,
    "role": 2,
    "token_expire": EXPIRE,
    "privilege_expire": EXPIRE,
    "issued_at": ISSUE_TS,
    "salt": SALT,
}


# ---------------------------------------------------------------- independent decoder


@dataclass
class Decoded:
    signature: bytes
    signed: bytes  # the content the signature covers: everything after the signature
    app_id: str
    issue_ts: int
    expire: int
    salt: int
    services: dict[int, dict[int, int]]  # service type -> {privilege: expire}
    channel_name: str
    uid: str


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def string(self) -> bytes:
        length = self.take("<H")
        value = self.data[self.pos : self.pos + length]
        assert len(value) == length, "string runs past the end"
        self.pos += length
        return value


def decode(token: str) -> Decoded:
    assert token[:3] == "007", f"version {token[:3]!r}"
    inflater = zlib.decompressobj()
    raw = inflater.decompress(base64.b64decode(token[3:], validate=True)) + inflater.flush()
    reader = Reader(raw)
    signature = reader.string()
    signed_from = reader.pos
    app_id = reader.string().decode()
    issue_ts = reader.take("<I")
    expire = reader.take("<I")
    salt = reader.take("<I")
    services: dict[int, dict[int, int]] = {}
    channel_name = uid = ""
    for _ in range(reader.take("<H")):
        service_type = reader.take("<H")
        privileges = {}
        for _ in range(reader.take("<H")):
            privilege = reader.take("<H")
            privileges[privilege] = reader.take("<I")
        services[service_type] = privileges
        assert service_type == 1, f"an RTC token carries only the RTC service, got {service_type}"
        channel_name = reader.string().decode()
        uid = reader.string().decode()
    assert reader.pos == len(raw), "bytes left after the last service"
    return Decoded(signature, raw[signed_from:], app_id, issue_ts, expire, salt, services, channel_name, uid)


def verifies(decoded: Decoded, certificate: str) -> bool:
    def mac(key: bytes, message: bytes) -> bytes:
        return hmac.new(key, message, hashlib.sha256).digest()

    key = mac(struct.pack("<I", decoded.salt), mac(struct.pack("<I", decoded.issue_ts), certificate.encode()))
    return hmac.compare_digest(mac(key, decoded.signed), decoded.signature)


# ---------------------------------------------------------------- known answers


def test_uid_token_is_agoras():
    assert build_rtc_token(uid=UID, **KNOWN) == AGORA_UID_TOKEN


def test_account_token_is_agoras():
    assert build_rtc_token_with_account(account=str(UID), **KNOWN) == AGORA_UID_TOKEN
    assert build_rtc_token(uid=str(UID), **KNOWN) == AGORA_UID_TOKEN


def test_uid_0_token_is_agoras():
    assert build_rtc_token(uid=0, **KNOWN) == AGORA_UID_0_TOKEN


@pytest.mark.parametrize(
    ("token", "uid"), [(AGORA_UID_TOKEN, str(UID)), (AGORA_UID_0_TOKEN, ""), (AGORA_GO_UID_TOKEN, str(UID))]
)
def test_decoder_reads_agoras_tokens(token, uid):
    """The decoder is checked on Agora's tokens, not only on ours."""
    decoded = decode(token)
    assert (decoded.app_id, decoded.issue_ts, decoded.expire, decoded.salt) == (APP_ID, ISSUE_TS, EXPIRE, SALT)
    assert decoded.services == {1: {1: EXPIRE}}
    assert (decoded.channel_name, decoded.uid) == (CHANNEL, uid)
    assert len(decoded.signature) == 32
    assert verifies(decoded, APP_CERTIFICATE)


# ---------------------------------------------------------------- our tokens, decoded


def _build(**overrides):
    arguments = {
        "app_id": APP_ID,
        "app_certificate": APP_CERTIFICATE,
        "channel_name": "call-42",
        "uid": 7,
        "role": 1,
        "token_expire": 3600,
        "privilege_expire": 1800,
        "issued_at": 1_700_000_000,
        "salt": 4242,
    }
    arguments.update(overrides)
    return build_rtc_token(**arguments)


def test_publisher_may_join_and_publish_everything():
    decoded = decode(_build(role=1))
    assert decoded.app_id == APP_ID
    assert (decoded.channel_name, decoded.uid) == ("call-42", "7")
    assert (decoded.issue_ts, decoded.salt) == (1_700_000_000, 4242)
    assert decoded.expire == 3600  # the token's expiry, seconds after issue_ts
    assert decoded.services == {1: {1: 1800, 2: 1800, 3: 1800, 4: 1800}}  # each privilege's
    assert verifies(decoded, APP_CERTIFICATE)


def test_subscriber_may_only_join():
    decoded = decode(_build(role=2))
    assert decoded.services == {1: {1: 1800}}
    assert decoded.expire == 3600
    assert verifies(decoded, APP_CERTIFICATE)


def test_account_and_uid_0_in_the_token():
    assert decode(_build(uid="alice 01")).uid == "alice 01"
    assert decode(build_rtc_token_with_account(**{**KNOWN, "account": "bob"})).uid == "bob"
    assert decode(_build(uid=0)).uid == ""
    assert decode(_build(uid=2**32 - 1)).uid == "4294967295"


def test_wrong_certificate_or_changed_content_fails_verification():
    decoded = decode(_build())
    assert not verifies(decoded, "0" * 32)
    assert not verifies(decoded, APP_CERTIFICATE.lower())  # the certificate is signed as written
    tampered = Decoded(**{**decoded.__dict__, "signed": decoded.signed.replace(b"call-42", b"call-43")})
    assert not verifies(tampered, APP_CERTIFICATE)
    other_salt = Decoded(**{**decoded.__dict__, "salt": decoded.salt + 1})
    assert not verifies(other_salt, APP_CERTIFICATE)


def test_defaults_are_now_and_a_random_salt():
    before = int(time.time())
    first = decode(_build(issued_at=None, salt=None))
    second = decode(_build(issued_at=None, salt=None))
    after = int(time.time())
    assert before <= first.issue_ts <= after
    assert 1 <= first.salt <= 99_999_999
    assert (first.salt, first.signature) != (second.salt, second.signature)
    assert verifies(first, APP_CERTIFICATE) and verifies(second, APP_CERTIFICATE)


def test_longest_channel_name_and_every_allowed_character():
    allowed = "azAZ09 !#$%&()+-:;<=.>?@[]^_{}|~,"
    assert decode(_build(channel_name=allowed)).channel_name == allowed
    assert decode(_build(channel_name="c" * 64)).channel_name == "c" * 64


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"app_id": ""}, "app_id"),
        ({"app_id": APP_ID[:31]}, "app_id"),
        ({"app_id": APP_ID + "0"}, "app_id"),
        ({"app_id": "Z" + APP_ID[1:]}, "app_id"),
        ({"app_id": " " + APP_ID[1:]}, "app_id"),
        ({"app_id": None}, "app_id"),
        ({"app_certificate": APP_CERTIFICATE[:-1] + "Z"}, "app_certificate"),
        ({"app_certificate": "abc"}, "app_certificate"),
        ({"app_certificate": APP_CERTIFICATE + "\n"}, "app_certificate"),
        ({"channel_name": ""}, "channel_name"),
        ({"channel_name": "c" * 65}, "channel_name"),
        ({"channel_name": "call*1"}, "channel_name"),
        ({"channel_name": "call/1"}, "channel_name"),
        ({"channel_name": "appel-é"}, "channel_name"),
        ({"channel_name": "call\n"}, "channel_name"),
        ({"channel_name": 42}, "channel_name"),
        ({"uid": -1}, "uid"),
        ({"uid": 2**32}, "uid"),
        ({"uid": True}, "uid"),
        ({"uid": 1.5}, "uid"),
        ({"uid": ""}, "account"),
        ({"uid": "a" * 256}, "account"),
        ({"uid": "bob*"}, "account"),
        ({"role": 0}, "role"),
        ({"role": 3}, "role"),
        ({"role": True}, "role"),
        ({"role": "1"}, "role"),
        ({"token_expire": -1}, "token_expire"),
        ({"token_expire": 2**32}, "token_expire"),
        ({"token_expire": "600"}, "token_expire"),
        ({"privilege_expire": -1}, "privilege_expire"),
        ({"privilege_expire": 60.0}, "privilege_expire"),
        ({"issued_at": -1}, "issued_at"),
        ({"salt": 2**32}, "salt"),
    ],
)
def test_bad_input_raises_value_error(overrides, message):
    with pytest.raises(ValueError, match=message):
        _build(**overrides)


def test_account_builder_wants_a_string():
    with pytest.raises(ValueError, match="account"):
        build_rtc_token_with_account(**{**KNOWN, "account": UID})
