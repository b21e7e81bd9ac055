"""Red packets (issue 5)."""
