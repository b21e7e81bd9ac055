"""CI's dependency audit verdict: a known vulnerability fails; an unreachable vulnerability
service is reported as "not done" without failing; a clean audit passes."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

spec = importlib.util.spec_from_file_location("audit_deps", Path(__file__).parents[2] / "scripts" / "audit_deps.py")
assert spec and spec.loader
audit_deps: Any = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_deps)


def test_a_known_vulnerability_fails() -> None:
    report = {"dependencies": [
        {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.1"]}]},
        {"name": "channels", "version": "4.3.2", "vulns": []},
    ]}
    status, message = audit_deps.verdict(report)
    assert status == 1 and "django 5.2.0: PYSEC-1 (fixed in: 5.2.1)" in message


def test_an_unreachable_service_is_not_a_pass_but_does_not_fail() -> None:
    report = {"dependencies": [
        {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.19)"},
        {"name": "channels", "skip_reason": "Dependency not found on PyPI and could not be audited: channels (4.3.2)"},
    ]}
    status, message = audit_deps.verdict(report)
    assert status == 0 and message.startswith("DEPENDENCY AUDIT NOT DONE") and "none of the 2" in message


def test_a_clean_audit_passes_and_names_what_was_skipped() -> None:
    report = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []},
                               {"name": "local-pkg", "skip_reason": "not on PyPI"}]}
    assert audit_deps.verdict(report) == (
        0, "dependency audit: 1 package(s) audited, no known vulnerabilities; 1 could not be looked up: local-pkg")
