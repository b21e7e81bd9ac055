"""Shared infrastructure: the error vocabulary, the event chokepoint and the WebSocket gateway.

It holds no business rules; each domain app owns its own models and services.
"""
