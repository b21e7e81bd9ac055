"""Symbolic error codes of reports; the socket numbers are in reports/rpc.py."""
from __future__ import annotations

from core.exceptions import register_http_statuses

NOT_REPORTABLE = "not_reportable"
ALREADY_HANDLED = "report_already_handled"

register_http_statuses({NOT_REPORTABLE: 403, ALREADY_HANDLED: 409})
