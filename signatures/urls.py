from django.urls import path

from .views import confirm, exports, health, letters, signatories

app_name = "signatures"

urlpatterns = [
    path("", letters.home, name="home"),
    path("letters/<slug:slug>/", letters.letter_detail, name="letter"),
    path("letters/<slug:slug>/sign/", letters.sign, name="sign"),
    path("letters/<slug:slug>/check-your-email/", letters.check_email, name="check_email"),
    path("letters/<slug:slug>/signatories/", signatories.signatories, name="signatories"),
    path("letters/<slug:slug>/signatories.csv", exports.export_csv, name="export_csv"),
    path("letters/<slug:slug>/signatories.json", exports.export_json, name="export_json"),
    path("letters/<slug:slug>/count.json", exports.count_json, name="count_json"),
    path("letters/<slug:slug>/badge/", exports.badge, name="badge"),
    path("letters/<slug:slug>/badge.svg", exports.badge_svg, name="badge_svg"),
    path("confirm/<str:token>/", confirm.confirm, name="confirm"),
    # Probes; HealthProbeMiddleware answers them first, these make them reversible.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
