"""Atom feeds of the public advisories: /feeds/advisories.atom (everything) and /feeds/<line-slug>.atom (the
advisories that name a product of that product line).

One entry per revision of a published (or since withdrawn) advisory: revision 1 is the publication, later ones are
the updates customers must not miss (a fixed release added, a withdrawal). Newest first, the last 50. Drafts, advisories
in review and approved-but-unpublished ones never appear: the query asks for public states only.

Languages: English by default; `?lang=zh-hans` gives the same entries with the Chinese titles and summaries (English
where an advisory has no Chinese text) linking to the Chinese pages. Each public page's <head> announces the feed of
its own language. Any other `lang` value is refused with 400 and a message naming the accepted ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from psirt.advisories.csaf.documents import document_base_url
from psirt.advisories.models import PUBLIC_STATES, Advisory, Revision
from psirt.catalog.models import ProductLine
from psirt.formats.atom import CONTENT_TYPE, FeedEntry, FeedMeta, render_atom
from psirt.formats.csaf import csaf_document_url
from psirt.lib.http import absolute_url, conditional_response
from psirt.lib.severity import Severity
from psirt.organization.models import OrganizationProfile

FEED_SIZE = 50
MAX_AGE = 300  # feed readers poll often; five minutes keeps a new advisory close to real time
# The `lang` query value → (Django language code, xml:lang of the feed).
LANGUAGES = {"en": ("en", "en"), "zh-hans": ("zh-hans", "zh-Hans")}


@dataclass(frozen=True)
class Feed:
    """The XML and the newest change behind it: entries, but also edits of their advisories (a corrected title needs
    no revision) and of the profile (the author name), so that If-Modified-Since never hides a changed body."""

    body: str
    last_modified: datetime


def feed_path(*, line: ProductLine | None = None, lang: str = "en") -> str:
    """Where a feed lives (with its `?lang=` when not English): used in the feeds themselves and in page heads."""
    path = reverse("line_feed", args=[line.slug]) if line is not None else reverse("advisories_feed")
    return path if lang == "en" else f"{path}?lang={lang}"


def _revisions(line: ProductLine | None) -> QuerySet[Revision]:
    revisions = Revision.objects.filter(advisory__state__in=PUBLIC_STATES, advisory__published_at__isnull=False)
    if line is not None:
        revisions = revisions.filter(
            advisory__in=Advisory.objects.filter(affected__product__line=line).values("pk"),
        )
    # Only the columns an entry shows: an advisory's long texts (description, impact, …) would be most of the bytes.
    columns = ["number", "date", "summary_en", "summary_zh", "advisory__advisory_id", "advisory__public_id"]
    columns += [f"advisory__{name}" for name in ("title_en", "title_zh", "summary_en", "summary_zh", "severity")]
    columns += [f"advisory__{name}" for name in ("identifiers", "state", "published_at", "created_at", "updated_at")]
    return revisions.select_related("advisory").only(*columns).order_by("-date", "-number", "-pk")[:FEED_SIZE]


@dataclass(frozen=True)
class _AdvisoryFacts:
    """What every entry of one advisory shares, worked out once per feed (URL reversing and choice labels are the
    bulk of the rendering time otherwise)."""

    url: str
    published: datetime
    categories: tuple[str, ...]
    csaf_url: str


def _facts(advisory: Advisory, severities: dict[str, str]) -> _AdvisoryFacts:
    published = advisory.published_at or advisory.created_at  # never the fallback: the query asks for published_at
    return _AdvisoryFacts(
        url=absolute_url(advisory.get_absolute_url()),
        published=published,
        categories=tuple(term for term in (severities.get(advisory.severity, ""), *advisory.cve_ids) if term),
        csaf_url=csaf_document_url(document_base_url(), advisory.advisory_id, published),
    )


def _entry(revision: Revision, lang: str, facts: _AdvisoryFacts) -> FeedEntry:
    advisory = revision.advisory
    names = {"id": advisory.advisory_id, "title": advisory.title, "number": revision.number}
    if revision.number == 1:
        title = _("%(id)s: %(title)s") % names
        summary = advisory.summary or revision.summary
    else:
        title = _("%(id)s, revision %(number)s: %(title)s") % names
        summary = revision.summary
    return FeedEntry(
        # A name-based UUID: the same revision keeps its ID forever, across host renames; one per language because
        # the two entries say different words.
        id=f"urn:uuid:{uuid.uuid5(advisory.public_id, f'revision/{revision.number}/{lang}')}",
        title=title,
        url=facts.url,
        updated=revision.date,
        published=facts.published,
        summary=summary,
        categories=facts.categories,
        csaf_url=facts.csaf_url,
    )


def build_feed(*, line: ProductLine | None = None, lang: str = "en") -> Feed:
    """The feed as Atom XML and its newest change. `lang` is a key of LANGUAGES."""
    django_lang, xml_lang = LANGUAGES[lang]
    profile = OrganizationProfile.get()
    with translation.override(django_lang):
        revisions = list(_revisions(line))
        severities = {value: str(label) for value, label in Severity.choices}
        facts: dict[int, _AdvisoryFacts] = {}
        for revision in revisions:
            if revision.advisory_id not in facts:
                facts[revision.advisory_id] = _facts(revision.advisory, severities)
        entries = [_entry(revision, lang, facts[revision.advisory_id]) for revision in revisions]
        vendor = profile.name
        if line is None:
            title = _("%(vendor)s security advisories") % {"vendor": vendor}
            page = reverse("advisories:list")
        else:
            title = _("%(vendor)s security advisories: %(line)s") % {"vendor": vendor, "line": line.name}
            page = f"{reverse('advisories:list')}?line={line.slug}"
        subtitle = _("Published advisories and their revisions, newest first.")
    self_url = absolute_url(feed_path(line=line, lang=lang))
    updated = max((e.updated for e in entries), default=profile.updated_at)
    meta = FeedMeta(
        id=self_url,
        title=title,
        self_url=self_url,
        alternate_url=absolute_url(page),
        author=vendor,
        subtitle=subtitle,
        lang=xml_lang,
        updated=updated,
    )
    changes = [updated, profile.updated_at, *(revision.advisory.updated_at for revision in revisions)]
    return Feed(body=render_atom(meta, entries), last_modified=max(changes))


def _answer(request: HttpRequest, line: ProductLine | None) -> HttpResponse:
    lang = request.GET.get("lang", "en")
    if lang not in LANGUAGES:
        return HttpResponseBadRequest(
            "Unknown lang: use lang=en (the default) or lang=zh-hans.\n", content_type="text/plain; charset=utf-8"
        )
    feed = build_feed(line=line, lang=lang)
    return conditional_response(
        request, body=feed.body, content_type=CONTENT_TYPE, max_age=MAX_AGE, last_modified=feed.last_modified
    )


@require_safe
def advisories_feed(request: HttpRequest) -> HttpResponse:
    return _answer(request, None)


@require_safe
def line_feed(request: HttpRequest, slug: str) -> HttpResponse:
    line = ProductLine.objects.filter(slug=slug).first()
    if line is None:
        raise Http404
    return _answer(request, line)
