from __future__ import annotations

from django.urls import path

from messaging.im.views import im_method

urlpatterns = [path("<slug:name>", im_method, name="im-method")]
