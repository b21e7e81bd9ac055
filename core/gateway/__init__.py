"""The native WebSocket gateway: one consumer, one method registry.

Apps register methods from their ``rpc.py``::

    from core.gateway import registry

    @registry.method("users.info", params=UsersInfoParams)
    def users_info(ctx: RpcContext, params: dict) -> list[dict]:
        ...

A plain ``def`` handler runs on the gateway's database thread pool; an ``async def``
handler (no database work) runs on the event loop without a thread hop.
"""
