"""The Easemob (环信) bridge facade (issue 7)."""
