from django.urls import path

from .views import confirm, letters

app_name = "signatures"

urlpatterns = [
    path("", letters.home, name="home"),
    path("letters/<slug:slug>/", letters.letter_detail, name="letter"),
    path("letters/<slug:slug>/sign/", letters.sign, name="sign"),
    path("letters/<slug:slug>/check-your-email/", letters.check_email, name="check_email"),
    path("letters/<slug:slug>/signatories/", letters.signatories, name="signatories"),
    path("confirm/<str:token>/", confirm.confirm, name="confirm"),
]
