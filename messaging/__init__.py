"""Messages, delivery, sync, and the J-IM adapter (issues 3 and 8)."""
