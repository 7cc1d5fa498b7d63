from django.urls import path

from . import views

app_name = "signatures"

urlpatterns = [
    path("", views.home, name="home"),
    path("letters/<slug:slug>/", views.letter_detail, name="letter"),
    path("letters/<slug:slug>/sign/", views.sign, name="sign"),
    path("letters/<slug:slug>/check-your-email/", views.check_email, name="check_email"),
    path("letters/<slug:slug>/signatories/", views.signatories, name="signatories"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
]
