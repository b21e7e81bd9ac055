"""Private chats, groups, super-groups and moderation (issue 3)."""
