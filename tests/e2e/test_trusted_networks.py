"""The trusted networks of the Easemob bridge and the desk through a real daphne: the client
address is the peer daphne saw, so an X-Forwarded-For a client writes gets nobody in; only
with ``--proxy-headers`` (a balancer that sets the header itself, docs/deploy.md) does the
header decide."""
from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.e2e.server import daphne

pytestmark = pytest.mark.django_db(transaction=True)

ENV = {"HX_CLIENT_ID": "YXA6JH8nAJ6nEeixewFFX1ukgw", "HX_CLIENT_SECRET": "YXA6bNlbOqkLsI-test-secret",
       "DESK_API_KEY": "live-desk-key"}
SEED_INIT_USER = {"senderId": "098f64aa0ac8ad53", "receiverId": "", "avatar": "ggggfff", "nick": "测试",
                  "terminal": "pc", "token": "b92cecbf47a4f04f3", "type": 0}


def post(url: str, body: dict[str, Any] | None, **headers: str) -> tuple[int, dict[str, Any]]:
    data = b"" if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_a_spoofed_forwarded_for_gets_nobody_in() -> None:
    env = {**ENV, "HX_TRUSTED_NETWORKS": "10.0.0.0/8", "DESK_TRUSTED_NETWORKS": "10.0.0.0/8,127.0.0.1"}
    with daphne(env=env, output=subprocess.DEVNULL) as port:
        url = f"http://127.0.0.1:{port}"
        # the Easemob document's getToken (no parameters), claiming a trusted address
        assert post(f"{url}/hx/getToken", None, **{"X-Forwarded-For": "10.0.0.5"})[1]["code"] == 401
        # the desk trusts the real peer (127.0.0.1): the document's initUser, no key
        assert post(f"{url}/im/vanke/initUser", SEED_INIT_USER) == (200, {"code": 200, "msg": "success",
                                                                           "data": None})


def test_with_proxy_headers_the_balancers_header_decides() -> None:
    env = {**ENV, "HX_TRUSTED_NETWORKS": "10.0.0.0/8"}
    with daphne("--proxy-headers", env=env, output=subprocess.DEVNULL) as port:
        url = f"http://127.0.0.1:{port}"
        assert post(f"{url}/hx/getToken", None)[1]["code"] == 401  # the peer itself is not listed
        status, reply = post(f"{url}/hx/getToken", None, **{"X-Forwarded-For": "10.0.0.5"})
        assert (status, reply["code"]) == (200, 200) and reply["data"]["access_token"]
