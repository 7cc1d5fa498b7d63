"""
Imports of signatures gathered elsewhere: upload a file, map its columns,
preview every row's problems with nothing written, then start the import,
which the worker runs while this page shows its progress. And one signature
added by hand, through the same service and consent rules.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from signatures import services
from signatures.admin.forms import AddSignatureForm, ImportMappingForm, ImportUploadForm
from signatures.admin.site import staff_member
from signatures.models import ImportRun, Letter

ERRORS_SHOWN = 500


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "filename",
        "letter",
        "consent",
        "status",
        "total_rows",
        "valid_rows",
        "error_rows",
        "imported_count",
        "held_count",
        "created_at",
    ]
    list_filter = ["status", "consent", "letter"]
    list_select_related = ["letter"]
    change_list_template = "admin/signatures/importrun/change_list.html"

    def has_change_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return False  # an import changes only through its steps

    def has_delete_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return False  # the record of who brought in which signatures stays

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/map/", view(self.map_view), name="signatures_importrun_map"),
            path("<int:pk>/start/", view(require_POST(self.start_view)), name="signatures_importrun_start"),
            path("add-signature/", view(self.add_signature_view), name="signatures_importrun_add_signature"),
            *super().get_urls(),
        ]

    def context(self, request: HttpRequest, title: str, **extra: object) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """Step 1: the file, the letter and how consent was obtained."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                table = services.read_table(data=upload.read(), filename=upload.name)
            except services.ImportFileError as error:
                form.add_error("file", str(error))
            else:
                run = services.create_import(
                    letter=form.cleaned_data["letter"],
                    filename=upload.name,
                    table=table,
                    consent=form.cleaned_data["consent"],
                    consent_note=form.cleaned_data["consent_note"],
                    wants_listing=form.cleaned_data["wants_listing"],
                    created_by=staff_member(request),
                )
                return redirect("admin:signatures_importrun_map", pk=run.pk)
        context = self.context(request, gettext("Import signatures"), form=form)
        return TemplateResponse(request, "admin/signatures/importrun/upload.html", context)

    def map_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Step 2: which column holds what; then the preview of every row, with nothing written."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ImportRun.objects.select_related("letter"), pk=pk)
        if run.status != ImportRun.Status.PREVIEW:
            return redirect("admin:signatures_importrun_change", run.pk)
        headers = run.table.get("headers", [])
        fields = services.mappable_fields(run.letter)
        initial = {key: str(index) for key, index in run.mapping.items()}
        form = ImportMappingForm(request.POST or None, headers=headers, fields=fields, initial=initial)
        if request.method == "POST" and form.is_valid():
            services.preview_import(run=run, mapping=form.mapping())
            return redirect("admin:signatures_importrun_map", pk=run.pk)
        report = run.report if run.is_previewed else {}
        context = self.context(
            request,
            gettext("Import signatures: columns and preview"),
            run=run,
            form=form,
            report=report,
            errors=report.get("errors", [])[:ERRORS_SHOWN],
            samples=run.table.get("rows", [])[:3],
            headers=headers,
        )
        return TemplateResponse(request, "admin/signatures/importrun/map.html", context)

    def start_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Step 3: the worker imports the previewed rows."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ImportRun, pk=pk)
        if services.start_import(run=run):
            messages.success(request, gettext("The import has started."))
        return redirect("admin:signatures_importrun_change", run.pk)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """The import's progress; while it runs the page reloads itself (a meta refresh, no script)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ImportRun.objects.select_related("letter", "created_by"), pk=object_id)
        running = run.status in (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING)
        context = self.context(request, str(run), run=run, running=running)
        return TemplateResponse(request, "admin/signatures/importrun/status.html", context)

    def add_signature_view(self, request: HttpRequest) -> HttpResponse:
        """One signature by hand: choose the letter, then the person and how consent was obtained."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        letter = Letter.objects.filter(pk=request.GET.get("letter") or 0).first()
        form = None
        if letter is not None:
            form = AddSignatureForm(request.POST or None, letter=letter)
            if request.method == "POST" and form.is_valid():
                data = form.cleaned_data
                try:
                    services.add_signature(
                        letter=letter,
                        full_name=data["full_name"],
                        email=data["email"],
                        consent=data["consent"],
                        consent_note=data["consent_note"],
                        wants_listing=data["wants_listing"],
                        profession=data["profession"],
                        title=data["title"],
                        affiliation=data["affiliation"],
                        city=data["city"],
                        country=data["country"],
                        answers=form.answers(),
                    )
                except services.AlreadySigned:
                    form.add_error("email", gettext("This address has already signed this letter."))
                else:
                    messages.success(request, gettext("The signature was added."))
                    url = reverse("admin:signatures_importrun_add_signature")
                    return HttpResponseRedirect(f"{url}?letter={letter.pk}")
        context = self.context(
            request,
            gettext("Add a signature by hand"),
            letter=letter,
            letters=Letter.objects.all(),
            form=form,
        )
        return TemplateResponse(request, "admin/signatures/importrun/add_signature.html", context)
