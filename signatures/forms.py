"""Validation and normalisation of what signers type. Forms never write."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import EmailValidator
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from signatures.abuse import bots
from signatures.abuse.disposable import is_disposable_domain
from signatures.abuse.limits import is_allowed_domain
from signatures.caching import organizer_data
from signatures.models import CustomQuestion, Letter, Signature
from signatures.text import collapse_whitespace, has_control_characters, normalize_email

OTHER_PROFESSION = "other"


def is_other(profession_name: str) -> bool:
    """Whether an organizer's profession is their own "Other" (in English or the visitor's language)."""
    name = profession_name.strip().casefold()
    return name in {"other", "others", _("Other").casefold()}


# Bump when the wording of the listing or the updates consent box changes: each
# signature records the version its signer agreed to.
CONSENT_BOX_VERSION = "1"

URL_LIKE = re.compile(r"(https?:|www\.|\w\.(com|net|org|io|ly|co|xyz|ru|info)\b|/{2})", re.IGNORECASE)


def clean_line(value: Any, *, field_label: str | Promise) -> str:
    """One line of text: NFC, whitespace collapsed, no control or format characters."""
    value = unicodedata.normalize("NFC", value or "")
    if has_control_characters(value.replace("\t", " ")):
        raise forms.ValidationError(
            _("%(field)s contains invisible or control characters. Please retype it."),
            code="control_characters",
            params={"field": field_label},
        )
    return collapse_whitespace(value)


TRUE_WORDS = frozenset({"1", "x", "y", "yes", "true", "on", "oui", "ja", "si", "sí", "✓", "✔"})


def answer_field_name(question: CustomQuestion) -> str:
    return f"question_{question.pk}"


def answer_field(question: CustomQuestion) -> forms.Field:
    """The form field for one of the organizers' questions: the same checks on the sign form and in imports."""
    label = question.label
    if question.kind == CustomQuestion.Kind.CHECKBOX:
        return forms.BooleanField(label=label, required=question.is_required)
    if question.kind == CustomQuestion.Kind.CHOICE:
        choices = [(c, c) for c in question.choice_list()]
        return forms.ChoiceField(label=label, required=question.is_required, choices=[("", _("Choose…")), *choices])
    return forms.CharField(label=label, required=question.is_required, max_length=CustomQuestion.MAX_ANSWER_LENGTH)


def clean_answer(question: CustomQuestion, value: Any) -> str | bool:
    """One answer checked as the sign form checks it; raises ValidationError."""
    field = answer_field(question)
    if question.kind == CustomQuestion.Kind.CHECKBOX and isinstance(value, str):
        value = value.strip().lower() in TRUE_WORDS
    cleaned = field.clean(value)
    if isinstance(cleaned, str):
        cleaned = clean_line(cleaned, field_label=question.label)
    return cleaned


class SignatureForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=Signature._meta.get_field("full_name").max_length,
        help_text=_("As you would like it to appear on the letter."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        help_text=_("We send you a link to confirm. It is never shown publicly."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    profession = forms.ChoiceField(label=_("Profession"))
    title = forms.CharField(
        label=_("Title or role"),
        required=False,
        max_length=Signature._meta.get_field("title").max_length,
        help_text=_("For example: Film editor. Required if you chose “Other”."),
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    affiliation = forms.CharField(
        label=_("Affiliation"),
        required=False,
        max_length=Signature._meta.get_field("affiliation").max_length,
        help_text=_("Studio, company, union or school (optional)."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    city = forms.CharField(
        label=_("City"),
        required=False,
        max_length=Signature._meta.get_field("city").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    country = forms.CharField(
        label=_("Country"),
        required=False,
        max_length=Signature._meta.get_field("country").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "country-name"}),
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=Signature._meta.get_field("comment").max_length,
        help_text=_("Why you sign (optional, at most 1,000 characters)."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    wants_listing = forms.BooleanField(
        label=_("Show my name on the public list of signatories"),
        required=False,
        help_text=_("If you leave this unticked, your signature is counted but your name is not shown."),
    )

    # Unticked: updates are mail the signer asked for, never a default.
    wants_updates = forms.BooleanField(
        label=_("Email me updates about this letter"),
        required=False,
        help_text=_("A few emails at most, such as when the letter is delivered. Every one has an unsubscribe link."),
    )

    def __init__(self, *args: Any, letter: Letter, visitor: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.letter = letter
        # The CSRF secret of whoever sends the form: its stamp must have been drawn for them.
        self.visitor = visitor
        self.caught_reason = ""
        professions = organizer_data.professions(letter)
        # An organizer's own "Other" is the same choice as ours: one "Other" in the
        # menu, and those who pick it are filed under the organizer's profession.
        self.other_profession = next((p for p in professions if is_other(p.name)), None)
        self.professions = {str(p.pk): p for p in professions if p is not self.other_profession}
        self.fields["profession"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose your profession")),
            *((pk, p.name) for pk, p in self.professions.items()),
            (OTHER_PROFESSION, _("Other (please give your title)")),
        ]
        self.questions = organizer_data.custom_questions(letter)
        for question in self.questions:
            self.fields[answer_field_name(question)] = answer_field(question)
        self.fields["wants_listing"] = self.fields.pop("wants_listing")  # the consent box stays last

    def clean_full_name(self) -> str:
        name = clean_line(self.cleaned_data["full_name"], field_label=_("Your name"))
        if not name:
            raise forms.ValidationError(_("Please enter your name."), code="required")
        if URL_LIKE.search(name):
            raise forms.ValidationError(_("A name cannot contain a web address."), code="url_in_name")
        return name

    def clean_email(self) -> str:
        raw = self.cleaned_data["email"]
        if has_control_characters(raw):
            raise forms.ValidationError(_("Enter a valid email address."), code="invalid")
        email = unicodedata.normalize("NFC", raw).strip()
        EmailValidator(message=_("Enter a valid email address."))(email)
        domain = normalize_email(email).rpartition("@")[2]
        if (
            settings.SIGNATURES_REJECT_DISPOSABLE_EMAILS
            and is_disposable_domain(domain)
            and not is_allowed_domain(domain)
        ):
            raise forms.ValidationError(
                _(
                    "Addresses at %(domain)s are temporary. Please use an address you will keep: we write to it "
                    "to confirm your signature, and it is how you can withdraw it later."
                ),
                code="disposable",
                params={"domain": domain},
            )
        return email

    def _clean_optional_line(self, name: str) -> str:
        return clean_line(self.cleaned_data.get(name, ""), field_label=self.fields[name].label or name)

    def clean_title(self) -> str:
        return self._clean_optional_line("title")

    def clean_affiliation(self) -> str:
        return self._clean_optional_line("affiliation")

    def clean_city(self) -> str:
        return self._clean_optional_line("city")

    def clean_country(self) -> str:
        return self._clean_optional_line("country")

    def clean_comment(self) -> str:
        comment = unicodedata.normalize("NFC", self.cleaned_data.get("comment", "")).replace("\r\n", "\n")
        if has_control_characters(comment.replace("\n", " ").replace("\t", " ")):
            raise forms.ValidationError(
                _("Your comment contains invisible or control characters. Please retype it."),
                code="control_characters",
            )
        return comment.strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for question in self.questions:
            name = answer_field_name(question)
            if isinstance(cleaned.get(name), str):
                try:
                    cleaned[name] = clean_line(cleaned[name], field_label=question.label)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if cleaned.get("profession") == OTHER_PROFESSION and not cleaned.get("title"):
            self.add_error("title", _("Please give your title or role."))
        verdict = bots.inspect(self.data, self.letter.pk, visitor=self.visitor)
        if verdict == bots.EXPIRED:
            # A person who left the page open for days: the form drawn again has a fresh stamp.
            raise forms.ValidationError(
                _("This form was open for a long time. Please check your details and send it again."),
                code="expired",
            )
        if verdict == bots.HUMAN and not self.errors and not bots.use_stamp(self.data):
            # One drawing of the form, one submission: a script replaying a stamp is a bot.
            verdict = bots.REUSED_STAMP
        # Bots are not told: the view answers as if the signature were taken.
        self.caught_reason = verdict
        return cleaned

    def signature_fields(self) -> dict[str, Any]:
        """The cleaned values, ready for `services.sign_letter`."""
        data = self.cleaned_data
        return {
            "full_name": data["full_name"],
            "email": data["email"],
            "profession": self.other_profession
            if data["profession"] == OTHER_PROFESSION
            else self.professions.get(data["profession"]),
            "title": data["title"],
            "affiliation": data["affiliation"],
            "city": data["city"],
            "country": data["country"],
            "comment": data["comment"],
            "wants_listing": data["wants_listing"],
            "wants_updates": data["wants_updates"],
            "consent_version": self.consent_version(),
            "answers": self.answers(),
        }

    def answers(self) -> dict[str, str | bool]:
        """{question id: answer} for the questions answered; unanswered ones are left out."""
        found: dict[str, str | bool] = {}
        for question in self.questions:
            value: str | bool = self.cleaned_data.get(answer_field_name(question)) or ""
            if value not in (None, "", False):
                found[question.key] = value
        return found

    def question_fields(self) -> list[forms.BoundField]:
        return [self[answer_field_name(question)] for question in self.questions]

    @staticmethod
    def consent_version() -> str:
        """Which wording of the listing box and of the privacy notice the signer saw: 'box/notice'."""
        notice_version = organizer_data.privacy_notice_version()
        return f"{CONSENT_BOX_VERSION}/{notice_version or 'default'}"


class WithdrawalRequestForm(forms.Form):
    """The address a signer signed with; whether it signed is never revealed here."""

    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("The address you signed with. If it signed this letter, we email it a link to withdraw."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])
