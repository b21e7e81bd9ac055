"""CI's dependency audit: pip-audit against the pinned requirements, with an honest verdict.

    .venv/bin/python scripts/audit_deps.py [requirements.txt]

Exit status 1 on a known vulnerability (each is listed with its fix versions) or when
pip-audit fails for a reason other than the network. When the vulnerability service cannot be
reached (no network, a mirror that does not serve PyPI's JSON API, a DNS failure), pip-audit
cannot look the packages up and reports them as "skipped": that is said loudly as "AUDIT NOT
DONE" and does not fail the build, since it says nothing about the code. Exit status 0 then.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# The whole audit's bound (it installs the requirements into a scratch environment first: about
# 40 s here); CI must not wait on a hung index.
AUDIT_SECONDS = 300
NETWORK_ERRORS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "Temporary failure in name",
                  "Network is unreachable", "timed out")


def verdict(report: dict[str, Any]) -> tuple[int, str]:
    """The exit status and the message for a pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    if vulnerable:
        lines = [f"DEPENDENCY AUDIT FAILED: {len(vulnerable)} package(s) with known vulnerabilities:"]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                lines.append(f"  {dep['name']} {dep.get('version', '?')}: {vuln.get('id')} (fixed in: {fixes})")
        return 1, "\n".join(lines)
    if dependencies and audited == 0:
        reason = skipped[0]["skip_reason"]
        return 0, (f"DEPENDENCY AUDIT NOT DONE: the vulnerability service could not be reached, so none of "
                   f"the {len(dependencies)} pinned packages could be looked up (e.g. {reason}). This is not "
                   "a pass: run scripts/audit_deps.py where PyPI's JSON API (pypi.org) is reachable.")
    message = f"dependency audit: {audited} package(s) audited, no known vulnerabilities"
    if skipped:
        message += f"; {len(skipped)} could not be looked up: " + ", ".join(d["name"] for d in skipped)
    return 0, message


def main(argv: list[str]) -> int:
    requirements = argv[1] if len(argv) > 1 else "requirements.txt"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        try:
            done = subprocess.run(  # noqa: S603  (our own interpreter and arguments)
                [sys.executable, "-m", "pip_audit", "-r", requirements, "--progress-spinner", "off", "-f", "json",
                 "-o", str(out), "--timeout", "30"], capture_output=True, text=True, timeout=AUDIT_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"DEPENDENCY AUDIT NOT DONE: pip-audit took longer than {AUDIT_SECONDS} s (a slow or hung "
                  "package index or vulnerability service)")
            return 0
        report = json.loads(out.read_text()) if out.exists() and out.stat().st_size else None
    if report is None:
        if any(marker in done.stderr for marker in NETWORK_ERRORS):
            print("DEPENDENCY AUDIT NOT DONE: the vulnerability service could not be reached:\n"
                  + done.stderr.strip().splitlines()[-1])
            return 0
        print(f"DEPENDENCY AUDIT FAILED: pip-audit exited with {done.returncode}:\n{done.stderr}")
        return 1
    status, message = verdict(report)
    print(message)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
