from __future__ import annotations

from django.urls import path
from hello import views

urlpatterns = [
    path("hello/", views.hello),
    path("insert/", views.insert),
]
