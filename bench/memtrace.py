"""Where a server process's memory goes: daphne under tracemalloc, snapshots on demand.

    python -m bench.memtrace run var/memtrace -- -b 127.0.0.1 -p 8000 config.asgi:application
    python -m bench.sockets ... --signal        # SIGUSR2 at the baseline and after the idle sockets
    python -m bench.memtrace diff var/memtrace/1 var/memtrace/2 --per 10000

``run`` starts daphne (the arguments after ``--``, as on its command line) with tracemalloc
tracing ``--frames`` frames deep. Each SIGUSR2 writes the next numbered directory under the
given one: ``snapshot.pickle`` (tracemalloc) and ``types.json`` (live objects the garbage
collector tracks, counted by type). ``diff`` prints what grew between two of them, by
allocation site (``--group lineno`` or ``traceback``) and by type, with ``--per`` dividing by
the number of sockets opened in between. For profiling only: tracing slows the server down
and adds its own memory.
"""
from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType


def _type_counts() -> dict[str, int]:
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        counts[f"{kind.__module__}.{kind.__qualname__}"] += 1
    return dict(counts)


def run(out: Path, frames: int, daphne_args: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    taken = [0]

    def dump(_signum: int, _frame: FrameType | None) -> None:
        taken[0] += 1
        target = out / str(taken[0])
        target.mkdir(parents=True, exist_ok=True)
        gc.collect()
        tracemalloc.take_snapshot().dump(str(target / "snapshot.pickle"))
        (target / "types.json").write_text(json.dumps(_type_counts()))
        print(f"memtrace: wrote {target}", file=sys.stderr, flush=True)

    tracemalloc.start(frames)
    signal.signal(signal.SIGUSR2, dump)
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(daphne_args)


def diff(first: Path, second: Path, per: int, group: str, top: int) -> None:
    old = tracemalloc.Snapshot.load(str(first / "snapshot.pickle"))
    new = tracemalloc.Snapshot.load(str(second / "snapshot.pickle"))
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
    old, new = old.filter_traces(ignore), new.filter_traces(ignore)
    stats = new.compare_to(old, group)
    total = sum(s.size_diff for s in stats)
    print(f"traced Python allocations grew {total / 1024:.0f} KiB = {total / per:.0f} bytes per socket")
    for stat in stats[:top]:
        print(f"{stat.size_diff / per:8.0f} B {stat.count_diff / per:6.2f} blocks/socket")
        for line in stat.traceback.format()[-(12 if group == "traceback" else 2):]:
            print("    " + line.strip())
    before = json.loads((first / "types.json").read_text())
    after = json.loads((second / "types.json").read_text())
    grown = sorted(((after.get(k, 0) - before.get(k, 0), k) for k in after), reverse=True)
    print("objects tracked by the garbage collector, per socket:")
    for count, kind in grown[:top]:
        if count <= 0:
            break
        print(f"{count / per:8.2f}  {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    runner = sub.add_parser("run")
    runner.add_argument("out", type=Path)
    runner.add_argument("--frames", type=int, default=12)
    runner.add_argument("daphne_args", nargs=argparse.REMAINDER)
    differ = sub.add_parser("diff")
    differ.add_argument("first", type=Path)
    differ.add_argument("second", type=Path)
    differ.add_argument("--per", type=int, default=1)
    differ.add_argument("--group", default="lineno", choices=["lineno", "traceback", "filename"])
    differ.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    if args.command == "run":
        daphne_args = args.daphne_args[1:] if args.daphne_args[:1] == ["--"] else args.daphne_args
        run(args.out, args.frames, daphne_args)
    else:
        diff(args.first, args.second, max(1, args.per), args.group, args.top)


if __name__ == "__main__":
    main()
