from __future__ import annotations

from django.urls import path

from core.api import rpc_view

urlpatterns = [
    path("web/discover", rpc_view("web.discover", "GET"), name="web-discover"),
    path("web/cs-numbers", rpc_view("web.system.getCSNumbers", "GET"), name="web-cs-numbers"),
    path("web/custom-menus", rpc_view("web.system.getCustomMenus", "GET"), name="web-custom-menus"),
    path("web/app-config", rpc_view("web.system.getAppConfig", "GET"), name="web-app-config"),
    path("web/app-version", rpc_view("web.app.getVersion", "GET"), name="web-app-version"),
]
