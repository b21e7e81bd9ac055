"""The operator console of messaging: the customer-service desk (messaging/desk/admin.py)."""
from __future__ import annotations

from messaging.desk import admin as _desk_admin  # noqa: F401
