"""
The public API's description: an OpenAPI 3.1 document written by hand
(signatures/openapi.json) and served at a stable address, and a page that
reads it out for people, without script.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from signatures.caching.http import public_cache
from signatures.caching.pages import shared_public_page
from signatures.text import render_markdown

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "openapi.json"
# Read once per process: the file changes only with a release.
DOCUMENT_TEXT = DOCUMENT_PATH.read_text(encoding="utf-8")
DOCUMENT = json.loads(DOCUMENT_TEXT)


@require_safe
@public_cache(max_age=3600)
def openapi_document(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(DOCUMENT_TEXT, content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _operations() -> list[dict[str, object]]:
    operations = []
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation["summary"],
                    "description": operation.get("description", ""),
                    "parameters": [p for p in operation.get("parameters", []) if p["in"] == "query"],
                    "statuses": sorted(operation["responses"]),
                }
            )
    return operations


@require_safe
@shared_public_page
@public_cache(max_age=3600)
def api_docs(request: HttpRequest) -> HttpResponse:
    context = {
        "info": DOCUMENT["info"],
        # Sanitised like a letter body: the document is ours, but one path for Markdown is easier to trust.
        "description": mark_safe(render_markdown(DOCUMENT["info"]["description"])),
        "operations": _operations(),
    }
    return render(request, "signatures/api/docs.html", context)
