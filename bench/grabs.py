"""Red-packet benchmark against a running server: grabs per second on one hot packet.

    python manage.py bench_users --count 301 > var/bench-users.json
    python manage.py bench_redpacket --users var/bench-users.json > var/bench-redpacket.json
    python -m bench.grabs --url http://127.0.0.1:8000 --users var/bench-users.json \\
        --setup var/bench-redpacket.json --shares 100 --rounds 5

Start the server with the per-socket rate limit raised (``WS_RATE_PER_SECOND=100000
WS_RATE_BURST=100000``) on PostgreSQL. Each round the first user creates one lucky packet of
``--shares`` shares in the group; then every other user sends ``redpacket.get`` at the same
moment (one request each, all in flight together). It prints, per round and overall, the
grabs (shares paid) per second from the first request to the last reply, the refusals
(402 all taken) and the reply latency p50/p95/p99. Every member also receives the 2/200
pushes, so the fan-out is part of the cost, as in production.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
from decimal import Decimal

from bench.messages import Client, make_clients, summary


async def grab(client: Client, packet_id: int) -> tuple[int, float]:
    t0 = time.perf_counter()
    reply = await client.call("redpacket.get", {"redPacketId": packet_id})
    return reply["code"], time.perf_counter() - t0


async def run(args: argparse.Namespace) -> None:
    with open(args.users) as f:
        users = json.load(f)
    with open(args.setup) as f:
        setup = json.load(f)
    clients = await make_clients(args.url, users)
    sender, grabbers = clients[0], clients[1:]
    print(f"{len(grabbers)} grabbers online; {args.shares} shares per packet; {args.rounds} rounds")
    total_grabs = total_time = 0.0
    latencies: list[float] = []
    for round_no in range(1, args.rounds + 1):
        made = await sender.call("redpacket.create", {
            "chatId": setup["chatId"], "type": 2, "title": f"bench {round_no}", "count": args.shares,
            "total_price": str(Decimal(args.shares)), "password": setup["password"]})
        if made.get("code") != 200:
            raise SystemExit(f"redpacket.create failed: {made}")
        pid = made["data"]["redPacketId"]
        await asyncio.sleep(0.5)  # let the 2/100 push reach everyone first

        start = time.perf_counter()
        results = await asyncio.gather(*(grab(c, pid) for c in grabbers))
        elapsed = time.perf_counter() - start
        codes = [code for code, _ in results]
        latencies += [lat for _, lat in results]
        paid = codes.count(200)
        others = {code: codes.count(code) for code in set(codes) if code not in (200, 402)}
        total_grabs, total_time = total_grabs + paid, total_time + elapsed
        print(f"round {round_no}: {paid} grabs paid, {codes.count(402)} x 402 in {elapsed:.2f} s = "
              f"{paid / elapsed:.0f} grabs/s ({len(codes) / elapsed:.0f} requests/s)"
              + (f"  other codes {others}" if others else ""))
    print(f"overall: {total_grabs / total_time:.0f} grabs/s on one hot packet")
    print(summary("redpacket.get reply latency", latencies))
    for client in clients:
        await client.ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--users", required=True, help="JSON from manage.py bench_users")
    parser.add_argument("--setup", required=True, help="JSON from manage.py bench_redpacket")
    parser.add_argument("--shares", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
