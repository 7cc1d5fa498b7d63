"""Forms for the organizers' admin pages. Validation only: the admin calls services to act."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext_lazy as _

from signatures.forms import answer_field, answer_field_name, clean_line
from signatures.models import CustomQuestion, ImportRun, Letter, Profession, Signature


class ModerationActionForm(ActionForm):
    """
    The changelist's action menu. No access key on it: the menu is drawn
    above and below the list, and one key on two elements is ambiguous
    (axe's accesskeys rule); the queue's shortcuts (a, v, r) drive it instead.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].widget.attrs["aria-keyshortcuts"] = "a v r"


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional, kept for the record, never shown to the signer)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"size": 60, "autofocus": True}),
    )


class VerifyForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How was the identity checked?"),
        choices=[choice for choice in Signature.VerificationMethod.choices if choice[0]],
        widget=forms.RadioSelect,
    )


class InvalidationForm(forms.Form):
    """Criteria for a bulk invalidation; at least one besides the letter."""

    letter = forms.ModelChoiceField(label=_("Letter"), queryset=Letter.objects.order_by("title"))
    email_domain = forms.CharField(
        label=_("Email domain"), max_length=254, required=False, help_text=_("For example: spam.example")
    )
    ip_hash = forms.CharField(
        label=_("IP hash"), max_length=64, required=False, help_text=_("As shown on a signature or a surge flag.")
    )
    name_pattern = forms.CharField(
        label=_("Name pattern"),
        max_length=120,
        required=False,
        help_text=_("Case and accents do not matter; * stands for any characters, e.g. 'elon m*'."),
    )
    created_from = forms.DateTimeField(
        label=_("Signed from"), required=False, help_text=_("YYYY-MM-DD HH:MM, in the site's time zone.")
    )
    created_until = forms.DateTimeField(label=_("Signed before"), required=False)
    reason = forms.CharField(label=_("Reason (kept with each rejected signature)"), max_length=300, required=False)
    # Set by the preview: the run then covers exactly what was previewed.
    as_of = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    previewed_count = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        criteria = ("email_domain", "ip_hash", "name_pattern", "created_from", "created_until")
        if not any(data.get(name) for name in criteria):
            raise forms.ValidationError(_("Give at least one criterion: a domain, an IP hash, a name or a time."))
        if data.get("name_pattern") and data["name_pattern"].replace("*", "").strip() == "":
            self.add_error("name_pattern", _("A pattern needs at least one letter besides '*'."))
        start, end = data.get("created_from"), data.get("created_until")
        if start and end and start >= end:
            self.add_error("created_until", _("This must be after 'signed from'."))
        return data

    def criteria(self) -> dict[str, Any]:
        names = ("letter", "email_domain", "ip_hash", "name_pattern", "created_from", "created_until")
        return {name: self.cleaned_data[name] for name in names}


class PublishRevisionForm(forms.Form):
    is_major = forms.TypedChoiceField(
        label=_("Kind of change"),
        choices=[
            ("0", _("Minor: a typo or wording that changes no meaning. Nobody is asked anything.")),
            ("1", _("Major: the substance changed. Everyone who signed an earlier text is emailed the difference")),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("What changed (public)"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"size": 80}),
    )


class ProfessionForm(forms.ModelForm):
    # Left blank, a profession keeps its place in the list as typed (see LetterAdmin.save_formset),
    # instead of every row getting 0 and the list falling back to A-Z.
    position = forms.IntegerField(label=_("position"), required=False, min_value=0)

    class Meta:
        model = Profession
        fields = ["name", "position"]


# --- imports and signatures added by hand ---------------------------------------

CONSENT_HELP = _(
    "Invite: each person gets an email to confirm and to choose whether to be listed; nothing shows until they "
    "do. Attested: you hold each person's consent (a signed form, an agent's email) and say where below."
)


class ConsentFormMixin(forms.Form):
    consent = forms.ChoiceField(
        label=_("How consent is obtained"),
        choices=ImportRun.Consent.choices,
        initial=ImportRun.Consent.INVITE,
        widget=forms.RadioSelect,
        help_text=CONSENT_HELP,
    )
    consent_note = forms.CharField(
        label=_("Where the consent is recorded"),
        max_length=500,
        required=False,
        help_text=_("Required for attested: for example 'Signed paper forms from the guild meeting, 3 May'."),
        widget=forms.TextInput(attrs={"size": 80}),
    )
    wants_listing = forms.BooleanField(
        label=_("They agreed to be named on the public list (attested only)"),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("consent") == ImportRun.Consent.ATTESTED and not (cleaned.get("consent_note") or "").strip():
            self.add_error("consent_note", _("Say where the consent is recorded: attested signatures need it."))
        return cleaned


class ImportUploadForm(ConsentFormMixin):
    letter = forms.ModelChoiceField(label=_("Letter"), queryset=Letter.objects.all())
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (comma, semicolon or tab separated) or Excel .xlsx; the first row names the columns."),
    )
    field_order = ["letter", "file", "consent", "consent_note", "wants_listing"]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt", ".tsv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


class ImportMappingForm(forms.Form):
    """One menu per field of ours: which column of the file holds it."""

    def __init__(self, *args: Any, headers: list[str], fields: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        columns = [("", _("(not in the file)")), *((str(i), h or f"#{i + 1}") for i, h in enumerate(headers))]
        for key, label in fields.items():
            self.fields[key] = forms.ChoiceField(label=label, choices=columns, required=key in ("full_name", "email"))

    def mapping(self) -> dict[str, int]:
        return {key: int(value) for key, value in self.cleaned_data.items() if value not in ("", None)}


class AddSignatureForm(ConsentFormMixin):
    """One signature by hand, checked as the sign form checks it."""

    full_name = forms.CharField(label=_("Full name"), max_length=Signature._meta.get_field("full_name").max_length)
    email = forms.EmailField(label=_("Email"), max_length=254)
    profession = forms.ModelChoiceField(label=_("Profession"), queryset=Profession.objects.none(), required=False)
    title = forms.CharField(label=_("Title or role"), max_length=120, required=False)
    affiliation = forms.CharField(label=_("Affiliation"), max_length=150, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.CharField(label=_("Country"), max_length=100, required=False)
    field_order = ["full_name", "email", "profession", "title", "affiliation", "city", "country"]

    def __init__(self, *args: Any, letter: Letter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.letter = letter
        self.fields["profession"].queryset = letter.professions.all()  # type: ignore[attr-defined]
        self.questions = list(CustomQuestion.objects.filter(letter=letter))
        for question in self.questions:
            self.fields[answer_field_name(question)] = answer_field(question)

    def clean_full_name(self) -> str:
        return clean_line(self.cleaned_data["full_name"], field_label=_("Full name"))

    def answers(self) -> dict[str, Any]:
        found = {}
        for question in self.questions:
            value = self.cleaned_data.get(answer_field_name(question))
            if value not in (None, "", False):
                found[question.key] = value
        return found
