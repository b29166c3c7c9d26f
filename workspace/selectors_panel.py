"""The panel page's list: search by name or email, filters by group, status and language, the
count behind each filter value, and pages of PAGE_SIZE experts
(?q=ivan&in_group=RU&status=started&in_language=ru&page=2)."""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from surveys.models import Expert, Response, Round, Study
from workspace.models import Message

PAGE_SIZE = 25
MAX_QUERY = 100  # characters of a search kept
STATUSES = {
    "not_invited": _("not invited"),
    "invited": _("invited"),
    "started": _("started"),
    "submitted": _("submitted"),
    "withdrawn": _("withdrawn"),
}
FACETS = ("group", "status", "language")
# The GET parameter of each filter: not "group" or "language", the names of the add-an-expert
# form's fields on the same page.
PARAMS = {"group": "in_group", "status": "status", "language": "in_language"}


@dataclass
class PanelFilter:
    """What the organizer asked for in the page's GET parameters (unknown values are ignored)."""

    q: str = ""
    group: str = ""
    status: str = ""
    language: str = ""
    page: str = "1"

    def active(self) -> bool:
        return bool(self.q or self.group or self.status or self.language)


@dataclass
class PanelList:
    page: Page
    total: int  # experts on the panel, before any search or filter
    counts: dict[str, list[dict]] = field(default_factory=dict)


def panel_filter(study: Study, params) -> PanelFilter:
    """Read the panel page's GET parameters, keeping only values that exist in this study."""
    groups = set(study.groups.values_list("code", flat=True))
    languages = {code for code, _name in settings.LANGUAGES}
    value = {name: (params.get(PARAMS.get(name, name)) or "").strip()
             for name in (*FACETS, "q", "page")}
    return PanelFilter(
        q=value["q"][:MAX_QUERY], group=value["group"] if value["group"] in groups else "",
        status=value["status"] if value["status"] in STATUSES else "",
        language=value["language"] if value["language"] in languages else "",
        page=value["page"] or "1")


def panel_with_status(study: Study, round_: Round | None) -> QuerySet[Expert]:
    """The study's experts, each with `panel_status`: withdrawn, submitted or started (the
    current round), invited (an invitation sent or on its way), or not_invited."""
    responses = Response.objects.filter(round=round_, expert=OuterRef("pk"))
    invitations = Message.objects.filter(expert=OuterRef("pk"), kind=Message.Kind.INVITATION
                                         ).exclude(status=Message.Status.FAILED)
    return study.experts.select_related("group").annotate(panel_status=Case(
        When(withdrawn_at__isnull=False, then=Value("withdrawn")),
        When(Exists(responses.filter(status=Response.Status.SUBMITTED)), then=Value("submitted")),
        When(Exists(responses.filter(started_at__isnull=False)), then=Value("started")),
        When(Exists(invitations), then=Value("invited")),
        default=Value("not_invited"), output_field=CharField()))


def _narrowed(experts: QuerySet[Expert], wanted: PanelFilter, *, but: str = "") -> QuerySet[Expert]:
    if wanted.q:
        experts = experts.filter(Q(name__icontains=wanted.q) | Q(email__icontains=wanted.q))
    for facet, column in (("group", "group__code"), ("status", "panel_status"),
                          ("language", "language")):
        if facet != but and getattr(wanted, facet):
            experts = experts.filter(**{column: getattr(wanted, facet)})
    return experts


def panel_list(study: Study, round_: Round | None, wanted: PanelFilter,
               *, per_page: int = PAGE_SIZE) -> PanelList:
    """One page of the panel as searched and filtered, by group then name, and for each filter
    the number of experts each of its values would show (with the search and the other filters
    applied)."""
    experts = panel_with_status(study, round_)
    chosen = _narrowed(experts, wanted).order_by("group__position", "name", "pk")
    page = Paginator(chosen, per_page).get_page(wanted.page)

    def tally(facet: str, column: str) -> dict[str, int]:
        rows = _narrowed(experts, wanted, but=facet).values(column).annotate(n=Count("pk"))
        return {row[column]: row["n"] for row in rows.order_by()}

    by_group = tally("group", "group__code")
    by_status = tally("status", "panel_status")
    by_language = tally("language", "language")
    values = {
        "group": [(g.code, f"{g.code}: {g.name}", by_group.get(g.code, 0))
                  for g in study.groups.all()],
        "status": [(k, label, by_status.get(k, 0)) for k, label in STATUSES.items()],
        "language": [(code, name, by_language.get(code, 0)) for code, name in settings.LANGUAGES],
    }
    counts = {facet: [{"value": v, "label": label, "n": n, "selected": getattr(wanted, facet) == v}
                      for v, label, n in rows] for facet, rows in values.items()}
    return PanelList(page=page, total=experts.count(), counts=counts)


FACET_LABELS = {"group": _("Stakeholder group"), "status": _("Status"), "language": _("Language")}


def panel_facets(listing: PanelList) -> list[dict]:
    """The filters in the order the page shows them, each with its label and counted values."""
    return [{"name": facet, "param": PARAMS[facet], "label": FACET_LABELS[facet],
             "values": listing.counts[facet]} for facet in FACETS]
