"""The moderation queue: signatures, the watchlist, surge flags, bulk invalidation and the digest."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from signatures import services
from signatures.admin.forms import InvalidationForm, ModerationActionForm, RejectForm, VerifyForm
from signatures.admin.site import staff_member
from signatures.admin.teams import LetterTeamAdmin, LetterTeamFilter
from signatures.csv_export import stream_csv
from signatures.models import (
    NAME_HOLD_REASONS,
    QUEUE_RANK,
    CustomQuestion,
    DigestSubscription,
    InvalidationRun,
    Letter,
    OutgoingEmail,
    Profession,
    Signature,
    SignatureCounter,
    SurgeFlag,
    WatchlistEntry,
)
from signatures.text import name_key, normalize_email

# --- signatures: the moderation queue ----------------------------------------

QUEUE, HELD, MATCHES, HELD_MAIL, ALL = "queue", "held", "matches", "held_mail", "all"
# Holds on the name (an impersonation risk) come before holds on volume.
NAME_HOLDS = tuple(Signature.HoldReason(reason) for reason in NAME_HOLD_REASONS)
IP_HASH = re.compile(r"[0-9a-f]{64}")
EXPORT_COLUMNS = [
    ("letter__slug", _("letter")),
    ("full_name", _("name")),
    ("email", _("email")),
    ("profession__name", _("profession")),
    ("title", _("title or role")),
    ("affiliation", _("affiliation")),
    ("city", _("city")),
    ("country", _("country")),
    ("comment", _("comment")),
    ("state", _("state")),
    ("wants_listing", _("listed")),
    ("is_verified", _("verified")),
    ("verification_method", _("verified how")),
    ("is_notable", _("notable")),
    ("created_at", _("submitted at")),
    ("confirmed_at", _("confirmed at")),
    ("approved_at", _("approved at")),
    ("rejected_at", _("rejected at")),
    ("rejection_reason", _("rejection reason")),
    ("added_by_organizers", _("added by organizers")),
    ("consent_note", _("consent note")),
]


class StatusFilter(admin.SimpleListFilter):
    """State, opening on what awaits a decision: confirmed signatures, held ones included."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        state = Signature.State
        return [
            (QUEUE, _("Awaiting a decision")),
            (HELD, _("Held for review")),
            (MATCHES, _("Possible impersonations")),
            (HELD_MAIL, _("Confirmation email held back")),
            (state.SUBMITTED, _("Awaiting email confirmation")),
            (state.APPROVED, state.APPROVED.label),
            (state.REJECTED, state.REJECTED.label),
            (state.WITHDRAWN, state.WITHDRAWN.label),
            (ALL, _("All")),
        ]

    def choices(self, changelist: ChangeList):
        current = self.value() or QUEUE
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Signature]) -> QuerySet[Signature]:
        value = self.value() or QUEUE
        if value == QUEUE:
            return queryset.filter(state=Signature.State.CONFIRMED)
        if value == HELD:
            return queryset.filter(state=Signature.State.CONFIRMED).exclude(hold_reason="")
        if value == MATCHES:
            return queryset.filter(state=Signature.State.CONFIRMED, hold_reason__in=NAME_HOLDS)
        if value == HELD_MAIL:
            # Attempts that tripped an abuse limit: nothing was sent until a moderator releases it.
            return queryset.filter(pk__in=OutgoingEmail.objects.held().values("signature_id"))
        if value in Signature.State.values:
            return queryset.filter(state=value)
        return queryset


class ProfessionFilter(admin.SimpleListFilter):
    """Professions belong to a letter: shown once a letter is chosen (or if there is only one)."""

    title = _("profession")
    parameter_name = "profession"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        professions = Profession.objects.filter(letter__in=Letter.objects.visible_to(request.user)).order_by(
            "letter__title", "position", "name"
        )
        letter_id = request.GET.get("letter__id__exact", "")
        if letter_id.isdigit():
            professions = professions.filter(letter_id=letter_id)
        elif Letter.objects.visible_to(request.user).count() > 1:
            return []  # hidden until a letter is chosen: a long mixed list helps no one
        return [(str(p.pk), p.name) for p in professions]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Signature]) -> QuerySet[Signature]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(profession_id=value)
        return queryset


class QueueChangeList(ChangeList):
    """
    The changelist, with each row's link carrying the filters itself. Django's
    add_preserved_filters would resolve every row's URL against the whole
    URLconf to learn that it is a change page: a fifth of the queue page's
    time at 100 rows. The links come out the same.
    """

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.row_link_query, self.preserved_filters = self.preserved_filters, ""

    def url_for_result(self, result: models.Model) -> str:
        url = super().url_for_result(result)
        return f"{url}?{self.row_link_query}" if self.row_link_query else url


class CappedCountPaginator(Paginator):
    """
    Counts at most CAP rows (SELECT COUNT(*) over a LIMITed subquery), so the
    changelist never counts a million-row table; deeper pages are reached by
    narrowing the filters.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        # Without the ordering: how many rows there are does not depend on it, and
        # the queue's ordering would sort every confirmed row before counting.
        capped = self.object_list.order_by()[: self.CAP + 1]  # type: ignore[attr-defined]
        return min(capped.count(), self.CAP + 1)

    @property
    def is_capped(self) -> bool:
        return self.count > self.CAP


@admin.register(Signature)
class SignatureAdmin(LetterTeamAdmin):
    list_display = [
        "full_name",
        "letter",
        "profession",
        "title",
        "affiliation",
        "location",
        "comment_excerpt",
        "email_domain",
        "hold_reason",
        "marks",
        "state",
        "confirmed_at",
    ]
    list_display_links = ["full_name"]
    list_filter = [
        StatusFilter,
        ("letter", LetterTeamFilter),
        ProfessionFilter,
        "hold_reason",
        "is_verified",
        "is_notable",
        "wants_listing",
        "is_founding",
        "needs_reaffirmation",
        "added_by_organizers",
        ("created_at", admin.DateFieldListFilter),
        ("confirmed_at", admin.DateFieldListFilter),
    ]
    search_fields = ["full_name", "email_normalized", "affiliation"]
    search_help_text = _(
        "Part of a name or affiliation; an email address (or its beginning); @domain; or a 64-character IP hash."
    )
    list_select_related = ["letter", "profession", "held_for_entry"]
    list_per_page = 100
    list_max_show_all = 500
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    actions_on_bottom = True
    action_form = ModerationActionForm
    actions = [
        "approve",
        "verify_approve_and_mark_notable",
        "reject",
        "reject_as_fraud",
        "mark_verified",
        "mark_notable",
        "unmark",
        "release_held_emails",
        "export_selected",
    ]
    fieldsets = [
        (
            _("Signer"),
            {
                "fields": [
                    "letter",
                    "full_name",
                    "email",
                    "profession",
                    "title",
                    "affiliation",
                    "city",
                    "country",
                    "comment",
                    "wants_listing",
                    "language",
                ]
            },
        ),
        (
            _("Moderation"),
            {
                "fields": [
                    "state",
                    "hold_badge",
                    "matched_entry",
                    "is_verified",
                    "verification_method",
                    "is_notable",
                    "is_founding",
                    "version",
                    "needs_reaffirmation",
                    "reaffirmed_at",
                    "moderated_at",
                    "moderated_by",
                    "rejection_reason",
                    "rejection_category",
                ]
            },
        ),
        (
            _("Consent and answers"),
            {"fields": ["consent_version", "added_by_organizers", "consent_note", "import_run", "answers"]},
        ),
        (
            _("Dates and origin"),
            {
                "fields": [
                    "created_at",
                    "confirmed_at",
                    "approved_at",
                    "rejected_at",
                    "withdrawn_at",
                    "email_domain",
                    "ip_hash",
                ]
            },
        ),
    ]
    # Everything that moves a counter or records a decision changes only
    # through an action (a service), never by editing the form.
    readonly_fields = [
        "letter",
        "consent_version",
        "added_by_organizers",
        "consent_note",
        "import_run",
        "answers",
        "email",
        "profession",
        "wants_listing",
        "language",
        "state",
        "hold_badge",
        "matched_entry",
        "is_verified",
        "verification_method",
        "is_notable",
        "is_founding",
        "version",
        "needs_reaffirmation",
        "reaffirmed_at",
        "moderated_at",
        "moderated_by",
        "rejection_reason",
        "rejection_category",
        "created_at",
        "confirmed_at",
        "approved_at",
        "rejected_at",
        "withdrawn_at",
        "email_domain",
        "ip_hash",
    ]

    # --- permissions ---------------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # signatures come through the public form

    def has_delete_permission(self, request: HttpRequest, obj: Signature | None = None) -> bool:
        return False  # reject or withdraw instead: deleting would bypass the counters and the record

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("signatures.moderate_signature")

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("signatures.export_signature")

    # --- the list ------------------------------------------------------------

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        if request.GET.get(StatusFilter.parameter_name, QUEUE) in (QUEUE, HELD, MATCHES):
            # Possible impersonations first, then other holds, each oldest first. The
            # backlog of confirmed signatures is small, so sorting it costs little.
            return [QUEUE_RANK.asc(), "confirmed_at", "id"]
        return ["-created_at", "-id"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Signature], search_term: str
    ) -> tuple[QuerySet[Signature], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.startswith("@"):
            return queryset.filter(email_domain=term[1:].lower()), False
        if "@" in term:
            return queryset.filter(email_normalized__startswith=normalize_email(term)), False
        if IP_HASH.fullmatch(term.lower()):
            return queryset.filter(ip_hash=term.lower()), False
        key = name_key(term)
        return queryset.filter(Q(name_key__contains=key) | Q(affiliation__icontains=term)), False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return QueueChangeList

    def action_checkbox(self, obj: Signature) -> SafeString:
        # The same markup as Django's, without rendering a form widget
        # template per row: a third of the queue page's time at 100 rows.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            gettext("Select this object for an action - {}").format(obj),
        )

    @admin.display(description=_("location"))
    def location(self, signature: Signature) -> str:
        return signature.location

    @admin.display(description=_("comment"))
    def comment_excerpt(self, signature: Signature) -> str:
        if not signature.comment:
            return ""
        return format_html('<span title="{}">{}</span>', signature.comment, Truncator(signature.comment).chars(60))

    @admin.display(description=_("held because"), ordering="hold_reason")
    def hold_badge(self, signature: Signature) -> str:
        """The hold as a badge a moderator cannot miss, with the match in words."""
        if not signature.hold_reason:
            return ""
        kind = "watchlist" if signature.hold_reason in NAME_HOLDS else "volume"
        return format_html(
            '<span class="hold-badge hold-{}">{}</span>{}',
            kind,
            # The enum's label, not get_hold_reason_display(), which rebuilds a dict of every choice per row.
            Signature.HoldReason(reason).label
            if (reason := signature.hold_reason) in Signature.HoldReason.values
            else reason,
            format_html('<span class="hold-detail">{}</span>', signature.hold_detail) if signature.hold_detail else "",
        )

    @admin.display(description=_("matched watchlist entry"))
    def matched_entry(self, signature: Signature) -> str:
        entry = signature.held_for_entry
        if entry is None:
            return "-"
        url = reverse("admin:signatures_watchlistentry_change", args=[entry.pk])
        how = entry.verification_note or gettext("No verification note.")
        return format_html('<a href="{}">{}</a><p class="verification-note">{}</p>', url, entry.name, how)

    @admin.display(description=_("letter"), ordering="letter__title")
    def letter_short(self, signature: Signature) -> str:
        return format_html(
            '<span title="{}">{}</span>', signature.letter.title, Truncator(signature.letter.title).chars(24)
        )

    @admin.display(description=_("confirmed"), ordering="confirmed_at")
    def confirmed_short(self, signature: Signature) -> str:
        if signature.confirmed_at is None:
            return ""
        moment = timezone.localtime(signature.confirmed_at)
        # date_format(moment, "j M H:i"), spelt out: a DateFormat per row costs more than the rest of the cell.
        shown = f"{moment.day} {MONTHS_3[moment.month].title()} {moment:%H:%M}"
        return format_html('<time datetime="{}">{}</time>', moment.isoformat(timespec="seconds"), shown)

    @admin.display(description=_("marks"))
    def marks(self, signature: Signature) -> str:
        marks = []
        if signature.is_verified:
            marks.append(gettext("verified"))
        if signature.is_notable:
            marks.append(gettext("notable"))
        return ", ".join(marks)

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        # Narrow enough to read without scrolling sideways: the letter only
        # when several are shown, the state only outside the queue.
        columns = [
            "full_name",
            "hold_badge",
            "signer_details",
            "email_domain",
            "comment_excerpt",
            "marks",
            "confirmed_short",
        ]
        if not request.GET.get("letter__id__exact"):
            columns.insert(2, "letter_short")
        if request.GET.get(StatusFilter.parameter_name, QUEUE) not in (QUEUE, HELD):
            columns.insert(-1, "state")
        return columns

    @admin.display(description=_("profession, affiliation, place"))
    def signer_details(self, signature: Signature) -> str:
        parts = [
            signature.profession.name if signature.profession else "",
            signature.title,
            signature.affiliation,
            signature.location,
        ]
        return " · ".join(part for part in parts if part)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        titles = {
            QUEUE: gettext("Moderation queue: awaiting a decision"),
            HELD: gettext("Held for review"),
            MATCHES: gettext("Possible impersonations"),
        }
        status = request.GET.get(StatusFilter.parameter_name, QUEUE)
        extra_context = {
            "title": titles.get(status, gettext("Signatures")),
            # The queue is a workspace: the site's sidebar would leave its table half the screen.
            "is_nav_sidebar_enabled": False,
            **(extra_context or {}),
            "can_export": self.has_export_permission(request),
            "can_invalidate": self.has_moderate_permission(request),
            "export_query": request.GET.urlencode(),
        }
        return super().changelist_view(request, extra_context)

    # --- actions: thin callers of the services -------------------------------

    def _record(self, request: HttpRequest, started: datetime, ids: list[int], message: str) -> None:
        """A LogEntry per signature the service changed, so each decision shows in its History."""
        for start in range(0, len(ids), 2000):
            changed = Signature.objects.filter(
                pk__in=ids[start : start + 2000], moderated_by=staff_member(request), moderated_at__gte=started
            )
            LogEntry.objects.log_actions(
                user_id=staff_member(request).pk, queryset=list(changed), action_flag=CHANGE, change_message=message
            )

    def _confirm_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[Signature],
        *,
        action: str,
        title: str,
        form: forms.Form,
        submit_label: str,
    ) -> TemplateResponse:
        count = queryset.count()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "action": action,
            "count": count,
            "preview": queryset.select_related("letter")[:50],
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across") == "1",
            "submit_label": submit_label,
            "cancel_url": request.get_full_path(),
        }
        return TemplateResponse(request, "admin/signatures/signature/action_confirmation.html", context)

    @admin.action(description=_("Approve selected signatures"), permissions=["moderate"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Signature]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        started = timezone.now()
        count = services.approve_signatures(signature_ids=ids, moderator=staff_member(request))
        self._record(request, started, ids, gettext("Approved."))
        self.message_user(request, ngettext("%d signature approved.", "%d signatures approved.", count) % count)

    @admin.action(description=_("Release held confirmation emails"), permissions=["moderate"])
    def release_held_emails(self, request: HttpRequest, queryset: QuerySet[Signature]) -> None:
        count = services.release_held_emails(signature_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%d held email released.", "%d held emails released.", count) % count)

    @admin.action(description=_("Reject selected signatures…"), permissions=["moderate"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Signature]) -> TemplateResponse | None:
        return self._reject(
            request,
            queryset,
            action="reject",
            title=gettext("Reject these signatures?"),
            submit_label=gettext("Yes, reject them"),
            category=Signature.RejectionCategory.OTHER,
        )

    @admin.action(
        description=_("Reject as fraudulent (counted apart in the public ledger)…"), permissions=["moderate"]
    )
    def reject_as_fraud(self, request: HttpRequest, queryset: QuerySet[Signature]) -> TemplateResponse | None:
        return self._reject(
            request,
            queryset,
            action="reject_as_fraud",
            title=gettext("Reject these signatures as fraudulent?"),
            submit_label=gettext("Yes, they are fraudulent"),
            category=Signature.RejectionCategory.FRAUD,
        )

    def _reject(
        self,
        request: HttpRequest,
        queryset: QuerySet[Signature],
        *,
        action: str,
        title: str,
        submit_label: str,
        category: str,
    ) -> TemplateResponse | None:
        """Ask for an optional reason, then reject through the service and record each decision."""
        form = RejectForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            return self._confirm_page(
                request, queryset, action=action, title=title, form=form, submit_label=submit_label
            )
        reason = form.cleaned_data["reason"]
        ids = list(queryset.values_list("pk", flat=True))
        started = timezone.now()
        count = services.reject_signatures(
            signature_ids=ids, moderator=staff_member(request), reason=reason, category=category
        )
        if category == Signature.RejectionCategory.FRAUD:
            message = gettext("Rejected as fraudulent.")
            done = ngettext("%d signature rejected as fraudulent.", "%d signatures rejected as fraudulent.", count)
        else:
            message = gettext("Rejected: %s") % reason if reason else gettext("Rejected.")
            done = ngettext("%d signature rejected.", "%d signatures rejected.", count)
        self._record(request, started, ids, message)
        self.message_user(request, done % count)
        return None

    @admin.action(description=_("Mark selected as verified…"), permissions=["moderate"])
    def mark_verified(self, request: HttpRequest, queryset: QuerySet[Signature]) -> TemplateResponse | None:
        form = VerifyForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            return self._confirm_page(
                request,
                queryset,
                action="mark_verified",
                title=gettext("Mark these signatures as verified?"),
                form=form,
                submit_label=gettext("Yes, they are verified"),
            )
        method = form.cleaned_data["method"]
        ids = list(queryset.values_list("pk", flat=True))
        started = timezone.now()
        count = services.mark_verified(signature_ids=ids, moderator=staff_member(request), method=method)
        label = Signature.VerificationMethod(method).label
        self._record(request, started, ids, gettext("Marked verified: %s") % label)
        self.message_user(
            request, ngettext("%d signature marked verified.", "%d signatures marked verified.", count) % count
        )
        return None

    @admin.action(description=_("Verify, approve and mark notable…"), permissions=["moderate"])
    def verify_approve_and_mark_notable(
        self, request: HttpRequest, queryset: QuerySet[Signature]
    ) -> TemplateResponse | None:
        """A real notable person in one go: asks how they were verified, then does all three."""
        form = VerifyForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            return self._confirm_page(
                request,
                queryset,
                action="verify_approve_and_mark_notable",
                title=gettext("Verify, approve and mark these signatures notable?"),
                form=form,
                submit_label=gettext("Yes, verified: approve and mark notable"),
            )
        method = form.cleaned_data["method"]
        ids = list(queryset.values_list("pk", flat=True))
        started = timezone.now()
        count = services.verify_approve_and_mark_notable(
            signature_ids=ids, moderator=staff_member(request), method=method
        )
        label = Signature.VerificationMethod(method).label
        self._record(request, started, ids, gettext("Verified (%s), approved and marked notable.") % label)
        self.message_user(
            request,
            ngettext(
                "%d signature verified, approved and marked notable.",
                "%d signatures verified, approved and marked notable.",
                count,
            )
            % count,
        )
        return None

    @admin.action(description=_("Mark selected as notable"), permissions=["moderate"])
    def mark_notable(self, request: HttpRequest, queryset: QuerySet[Signature]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        started = timezone.now()
        count = services.mark_notable(signature_ids=ids, moderator=staff_member(request))
        self._record(request, started, ids, gettext("Marked notable."))
        self.message_user(
            request, ngettext("%d signature marked notable.", "%d signatures marked notable.", count) % count
        )

    @admin.action(description=_("Remove verified and notable marks"), permissions=["moderate"])
    def unmark(self, request: HttpRequest, queryset: QuerySet[Signature]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        started = timezone.now()
        with transaction.atomic():
            count = services.mark_verified(signature_ids=ids, moderator=staff_member(request), is_verified=False)
            services.mark_notable(signature_ids=ids, moderator=staff_member(request), is_notable=False)
        self._record(request, started, ids, gettext("Verified and notable marks removed."))
        self.message_user(request, ngettext("%d signature unmarked.", "%d signatures unmarked.", count) % count)

    @admin.action(description=_("Export selected as CSV (with emails)"), permissions=["export"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Signature]) -> StreamingHttpResponse:
        return self._csv_response(queryset)

    # --- extra pages: CSV export of the filtered list, bulk invalidation -----

    def get_urls(self) -> list:
        return [
            path("export.csv", self.admin_site.admin_view(self.export_view), name="signatures_signature_export"),
            path(
                "invalidate/",
                self.admin_site.admin_view(self.invalidate_view),
                name="signatures_signature_invalidate",
            ),
            *super().get_urls(),
        ]

    def _csv_response(self, queryset: QuerySet[Signature]) -> StreamingHttpResponse:
        fields = [name for name, _label in EXPORT_COLUMNS]
        # Organizers get every answer to their questions, public or not: one column per question.
        questions = list(CustomQuestion.objects.select_related("letter").order_by("letter_id", "position", "id"))
        several_letters = len({q.letter_id for q in questions}) > 1
        header = [str(label) for _name, label in EXPORT_COLUMNS] + [
            f"{q.letter.slug}: {q.label}" if several_letters else q.label for q in questions
        ]
        rows = (
            (*row, *(q.display(answers or {}) for q in questions))
            for *row, answers in queryset.values_list(*fields, "answers").iterator(chunk_size=2000)
        )
        response = StreamingHttpResponse(stream_csv(header, rows), content_type="text/csv; charset=utf-8")
        filename = f"signatures-{timezone.now():%Y%m%d-%H%M}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """The changelist as it is filtered and searched, every row, streamed at constant memory."""
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self._csv_response(changelist.get_queryset(request))

    def invalidate_view(self, request: HttpRequest) -> HttpResponse:
        """Bulk invalidation: criteria, then a preview count, then the run, logged with who ran it."""
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        stage = request.POST.get("stage", "")
        if request.method == "POST":
            form = InvalidationForm(request.POST)
        else:
            form = InvalidationForm(initial=request.GET.dict())
        # Only the letters of the moderator's team can be chosen (a posted id of another is invalid).
        form.fields["letter"].queryset = Letter.objects.visible_to(request.user).order_by("title")  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Invalidate signatures in bulk"),
            "form": form,
            "runs": InvalidationRun.objects.filter(letter__in=Letter.objects.visible_to(request.user)).select_related(
                "letter", "ran_by"
            )[:10],
        }
        if request.method == "POST" and form.is_valid():
            criteria = form.criteria()
            as_of = form.cleaned_data["as_of"] or timezone.now()
            if not criteria["created_until"] or criteria["created_until"] > as_of:
                # Signatures arriving after the preview are not part of what was previewed.
                criteria["created_until"] = as_of
            if stage == "run":
                started = timezone.now()
                run = services.invalidate_signatures(
                    moderator=staff_member(request),
                    reason=form.cleaned_data["reason"],
                    previewed_count=form.cleaned_data["previewed_count"] or 0,
                    **criteria,
                )
                rejected_ids = list(
                    Signature.objects.filter(
                        letter=run.letter, state=Signature.State.REJECTED, moderated_at__gte=started
                    ).values_list("pk", flat=True)
                )
                self._record(
                    request, started, rejected_ids, gettext("Invalidated in bulk: %s") % (run.criteria or "-")
                )
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d signature invalidated (%(public)d of them were public).",
                        "%(count)d signatures invalidated (%(public)d of them were public).",
                        run.signature_count,
                    )
                    % {"count": run.signature_count, "public": run.public_count},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:signatures_signature_invalidate"))
            matching = services.signatures_to_invalidate(**criteria)
            by_state = dict(matching.values("state").annotate(n=Count("id")).values_list("state", "n"))
            context.update(
                {
                    "preview": True,
                    "as_of": as_of,
                    "total": sum(by_state.values()),
                    "by_state": [(state.label, by_state.get(state, 0)) for state in services.INVALIDATABLE_STATES],
                    "public": by_state.get(Signature.State.APPROVED, 0),
                    "examples": matching.order_by("-created_at")[:20],
                }
            )
        return TemplateResponse(request, "admin/signatures/signature/invalidate.html", context)


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(admin.ModelAdmin):
    list_display = ["name", "aliases_shown", "note", "verification_note", "held_count", "created_at"]
    search_fields = ["name", "aliases"]
    fields = ["name", "aliases", "note", "verification_note"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WatchlistEntry]:
        return super().get_queryset(request).annotate(held=Count("held_signatures"))

    @admin.display(description=_("aliases"))
    def aliases_shown(self, entry: WatchlistEntry) -> str:
        return ", ".join(entry.alias_list())

    @admin.display(description=_("signatures held"), ordering="held")
    def held_count(self, entry: WatchlistEntry) -> int:
        # Annotated by get_queryset.
        return entry.held  # type: ignore[attr-defined]

    def save_model(self, request: HttpRequest, obj: WatchlistEntry, form: forms.Form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # A new name or alias may already be on a public list: every letter's
        # confirmed and approved signatures are re-read against it by the worker.
        services.start_watchlist_recheck(entry=obj)
        self.message_user(
            request,
            gettext(
                "Every letter's signatures are being re-read against this entry. Possible matches leave the "
                "public list and wait in the queue as held; this list's “signatures held” column counts them."
            ),
        )


@admin.register(SignatureCounter)
class SignatureCounterAdmin(LetterTeamAdmin):
    list_display = ["letter", "key", "value"]
    list_filter = [("letter", LetterTeamFilter)]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SignatureCounter | None = None) -> bool:
        return False


# --- incidents and organizers' tools -----------------------------------------


@admin.register(SurgeFlag)
class SurgeFlagAdmin(LetterTeamAdmin):
    list_display = [
        "letter",
        "kind",
        "value",
        "signature_count",
        "window_start",
        "last_seen_at",
        "reviewed_at",
        "reviewed_by",
        "look_closer",
    ]
    list_filter = [("reviewed_at", admin.EmptyFieldListFilter), "kind", ("letter", LetterTeamFilter)]
    list_select_related = ["letter", "reviewed_by"]
    actions = ["mark_reviewed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SurgeFlag | None = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("signatures.moderate_signature")

    @admin.display(description=_("look closer"))
    def look_closer(self, flag: SurgeFlag) -> str:
        field = "email_domain" if flag.kind == SurgeFlag.Kind.EMAIL_DOMAIN else "ip_hash"
        search = f"@{flag.value}" if field == "email_domain" else flag.value
        signatures_url = (
            reverse("admin:signatures_signature_changelist")
            + "?"
            + urlencode({"status": ALL, "letter__id__exact": str(flag.letter_id), "q": search})
        )
        invalidate_url = (
            reverse("admin:signatures_signature_invalidate")
            + "?"
            + urlencode(
                {"letter": str(flag.letter_id), field: flag.value, "created_from": flag.window_start.isoformat()}
            )
        )
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            signatures_url,
            gettext("signatures"),
            invalidate_url,
            gettext("invalidate…"),
        )

    @admin.action(description=_("Mark selected flags as reviewed"), permissions=["moderate"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[SurgeFlag]) -> None:
        count = services.review_surge_flags(
            flag_ids=queryset.values_list("pk", flat=True), moderator=staff_member(request)
        )
        self.message_user(request, ngettext("%d flag reviewed.", "%d flags reviewed.", count) % count)


@admin.register(InvalidationRun)
class InvalidationRunAdmin(LetterTeamAdmin):
    """The record of bulk invalidations: read-only."""

    list_display = ["ran_at", "letter", "criteria", "previewed_count", "signature_count", "public_count", "ran_by"]
    list_filter = [("letter", LetterTeamFilter)]
    list_select_related = ["letter", "ran_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: InvalidationRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: InvalidationRun | None = None) -> bool:
        return False


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
