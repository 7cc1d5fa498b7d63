"""The whole site, plus the trivial view the bench measures our stack with."""

from __future__ import annotations

from django.urls import include, path

from letter_site.urls import handler500

from . import views

urlpatterns = [
    path("bench/baseline/", views.baseline, name="bench_baseline"),
    path("", include("letter_site.urls")),
]

__all__ = ["handler500", "urlpatterns"]
