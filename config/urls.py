from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views
from core.asyncapi import asyncapi_view
from core.metrics import metrics_view

urlpatterns = [
    path("", views.index, name="index"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/asyncapi.json", asyncapi_view, name="asyncapi"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("chats.urls")),
    path("api/v1/", include("messaging.urls")),
    path("api/v1/", include("wallet.urls")),
    path("api/v1/", include("redpackets.urls")),
    path("api/v1/", include("remittance.urls")),
    path("api/v1/", include("calls.urls")),
    path("api/v1/", include("reports.urls")),
    path("api/v1/", include("core.urls")),
    path("im/vanke/", include("messaging.jim.urls")),  # the customer-service desk of the J-IM document
    path("im/", include("messaging.im.urls")),  # the im/* facade of the RongCloud-era im/* documents
    path("hx/", include("hxbridge.urls")),
    path("app/", include("webchat.urls")),  # the web chat (docs/webchat.md)
]
