from django.urls import path

from .views import (
    confirm,
    exports,
    founding,
    health,
    letters,
    privacy,
    share,
    signatories,
    transparency,
    versions,
    withdraw,
)

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
    path("letters/<slug:slug>/share.png", share.share_image, name="share_image"),
    path("confirm/<str:token>/", confirm.confirm, name="confirm"),
    path("letters/<slug:slug>/withdraw/", withdraw.withdraw_request, name="withdraw_request"),
    path("withdraw/<str:token>/", withdraw.withdraw, name="withdraw"),
    path("letters/<slug:slug>/versions/", versions.versions, name="letter_versions"),
    path("letters/<slug:slug>/versions/<int:number>/", versions.version_detail, name="letter_version"),
    path("letters/<slug:slug>/transparency/", transparency.transparency, name="transparency"),
    path("letters/<slug:slug>/delivery/", transparency.delivery, name="delivery"),
    path("reaffirm/<str:token>/", versions.reaffirm, name="reaffirm"),
    path("invitation/<str:token>/", founding.invitation, name="invitation"),
    path("invitation/<str:token>/sign/", founding.invitation_sign, name="invitation_sign"),
    path("invitation/<str:token>/check-your-email/", founding.invitation_check_email, name="invitation_check_email"),
    path("privacy/", privacy.privacy_notice, name="privacy"),
    # Probes; HealthProbeMiddleware answers them first, these make them reversible.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
