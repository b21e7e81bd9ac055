"""Voice/video call signalling and Agora RTC tokens (issue 6)."""
