"""Plain data for SPECTACULAR_SETTINGS (imported by the settings, so it imports nothing)."""
from __future__ import annotations

# The OpenAPI tags (core.openapi.AREA_TAGS), in the order the documentation shows them.
OPENAPI_TAGS = [
    {"name": "auth", "description": "Register, log in, log out: the token is the socket's `?token=`."},
    {"name": "accounts", "description": "Your account, other users' profiles and your blacklist."},
    {"name": "friends", "description": "Friends and friend requests."},
    {"name": "chats", "description": "Group chats: members, rights, invite links."},
    {"name": "messages", "description": "Sending, history, sync, read marks, recall."},
    {"name": "media", "description": "Uploads and their signed download links."},
    {"name": "wallet", "description": "Balances, records, payment password, recharge, withdraw, exchanges."},
    {"name": "red packets", "description": "Sending and grabbing red packets."},
    {"name": "remittances", "description": "Transfers to one user, accepted or refunded."},
    {"name": "calls", "description": "Voice and video calls."},
    {"name": "desk", "description": "The customer-service desk (agents)."},
    {"name": "moments", "description": "Moments (朋友圈): posts, likes, comments."},
    {"name": "reports", "description": "Reporting a message or a user to the operators."},
    {"name": "system", "description": "Server time, relayed data, SMS codes."},
    {"name": "web", "description": "Content the operators edit: discover page, menus, app config, versions."},
]

# Choice sets used by fields of the same name in several components (their names would be
# hashes): a moment's visibility, an upload's kind, and the number pair [1, 2] of red-packet
# and remittance record queries (sent/received, paid out/paid in) and of a remittance's kind
# (private/group).
OPENAPI_ENUM_NAMES: dict[str, object] = {
    "MomentVisibilityEnum": "accounts.models.Moment.Visibility",
    "OneOrTwoEnum": [(1, 1), (2, 2)],
    "MediaKindEnum": "messaging.models.Media.Kind",
    "ChatKindEnum": "chats.replies.KINDS",
    "MessageTypeEnum": "messaging.models.Message.Type",
    "DeskProfileKindEnum": "messaging.desk.models.DeskProfile.Kind",
    "DeskCloseReasonEnum": "messaging.replies.CLOSE_REASONS",
    "CallEndEnum": "calls.models.Call.End",
    "WalletRecordTypeEnum": "wallet.models.JournalEntry.Kind",
    "ExchangeStatusEnum": "wallet.models.ExchangeOffer.Status",
    "RedPacketTypeEnum": "redpackets.models.RedPacket.Type",
    "RemittanceTypeEnum": "remittance.models.Remittance.Type",
    "RemittanceStatusEnum": "remittance.models.Remittance.Status",
    "ReportKindEnum": "reports.models.Report.Kind",
    "ReportReasonEnum": "reports.models.Report.Reason",
    "ReportStatusEnum": "reports.models.Report.Status",
}
