"""The "Am I affected?" page: a product and a firmware version → the published advisories that affect it and the
release to install (the answer is computed by `psirt.advisories.queries.check_affected`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from psirt.advisories.queries import AffectedQuery, check_affected, product_choices
from psirt.advisories.views.pagecache import cached_page
from psirt.advisories.views.public import list_head, select_options


@require_GET
def affected(request: HttpRequest) -> HttpResponse:
    """Am I affected? Product + firmware version → the advisories that affect it and the release to install."""
    return cached_page(request, list_head(request)[1], lambda: _render_affected(request))


def _render_affected(request: HttpRequest) -> HttpResponse:
    query = AffectedQuery.from_params(request.GET)
    answer = check_affected(query) if query.ready else None
    status = 400 if query.errors else 200
    choices = product_choices(query, answer)
    context = {
        "query": query,
        "answer": answer,
        "product_options": select_options(choices["products"], query.product_slug) if choices["products"] else "",
        "version_options": select_options(
            [(str(r.public_id), f"{r.version} ({r.variant})" if r.variant else r.version) for r in choices["versions"]],
            str(answer.release.public_id) if answer is not None and answer.release is not None else "",
        ),
        **choices,
    }
    return render(request, "advisories/affected.html", context, status=status)
