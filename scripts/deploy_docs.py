"""Copies the deployment kit's files into docs/deploy.md's last section, "The deployment files",
so the guide shows them in full. `python scripts/deploy_docs.py` rewrites that section;
`--check` only says whether it is current (the tests run it)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "deploy.md"
HEADING = "## The deployment files"
# (file, code-block language), in the order a reader meets them in the guide.
FILES = (
    ("deploy/im.env.example", "sh"),
    ("deploy/compose.yaml", "yaml"),
    ("deploy/Dockerfile", "dockerfile"),
    ("deploy/entrypoint.sh", "sh"),
    ("deploy/nginx/im.conf", "nginx"),
    ("deploy/nginx/upstream-compose.conf", "nginx"),
    ("deploy/nginx/upstream-systemd.conf", "nginx"),
    ("deploy/systemd/im-server.target", "ini"),
    ("deploy/systemd/im-server@.service", "ini"),
    ("deploy/systemd/im-worker.service", "ini"),
    ("deploy/systemd/im-beat.service", "ini"),
)


def section() -> str:
    parts = [HEADING, "",
             "The files of `deploy/` as this release ships them (this section is generated from them).", ""]
    for name, language in FILES:
        text = (ROOT / name).read_text()
        if "```" in text:
            raise SystemExit(f"{name} contains a code fence")
        parts += [f"### {name}", "", f"```{language}", text.rstrip("\n"), "```", ""]
    return "\n".join(parts)


def rendered(doc: str) -> str:
    head = doc.split(f"\n{HEADING}\n", 1)[0].rstrip("\n")
    return f"{head}\n\n{section()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the section is not current")
    args = parser.parse_args()
    doc = DOC.read_text()
    want = rendered(doc)
    if args.check:
        if doc != want:
            print("docs/deploy.md's deployment files are out of date: run python scripts/deploy_docs.py")
            return 1
        print("docs/deploy.md's deployment files are current")
        return 0
    DOC.write_text(want)
    print(f"wrote {len(FILES)} files into {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
