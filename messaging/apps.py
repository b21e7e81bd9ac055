from __future__ import annotations

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from accounts import presence
        from messaging.desk.services import agent_came_online

        # An agent's first socket (either protocol) takes the visitors waiting in the desk's queue.
        presence.came_online.connect(agent_came_online, dispatch_uid="desk-agent-came-online")
