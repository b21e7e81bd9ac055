from __future__ import annotations

from django.urls import path

from webchat import views

app_name = "webchat"
urlpatterns = [path("", views.app, name="app")]
