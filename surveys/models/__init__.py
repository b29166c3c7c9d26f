"""The Delphi domain: studies, themes, items, the panel, rounds, responses and aggregates.

Writes go through surveys.services, reads through surveys.selectors; models hold no logic
beyond small display helpers.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from analysis.frames import RATED_KINDS


def _localized(obj: models.Model, field: str) -> str:
    """Return the field in the active language, falling back to English."""
    lang = (get_language() or "en")[:2]
    return getattr(obj, f"{field}_{lang}", "") or getattr(obj, f"{field}_en")


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        FINISHED = "finished", _("Finished")

    class Mode(models.TextChoices):
        CLASSIC = "classic", _("Classic (rounds)")
        REALTIME = "realtime", _("Real-Time (roundless)")
        SURVEY = "survey", _("Attitude survey (one round, open links)")

    slug = models.SlugField(unique=True)
    title_en = models.CharField(max_length=300)
    title_ru = models.CharField(max_length=300, blank=True)
    description_en = models.TextField(blank=True)
    description_ru = models.TextField(blank=True)
    source = models.TextField(blank=True, help_text=_("Citation of the work the items come from."))
    languages = models.JSONField(default=list)
    default_language = models.CharField(max_length=2, default="en")
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    mode = models.CharField(
        max_length=10, choices=Mode, default=Mode.CLASSIC,
        help_text=_("Real-Time: one live round that experts revisit any time, with statistics "
                    "refreshed in batches of new submissions and dated snapshots taken by the "
                    "organizer."),
    )
    answer_before_feedback = models.BooleanField(
        default=False,
        help_text=_("Against anchoring: an item's feedback opens once the expert has answered it "
                    "in this round."),
    )
    link_lifetime_days = models.PositiveSmallIntegerField(
        default=30,
        help_text=_("Days the experts' personal links keep working after the last round "
                    "closes; while a round is open they always work."),
    )
    # The date the propositions refer to ("today" for the panel), and dated events experts may
    # consult: [{"date": "2019-08-02", "text": {"en": ..., "ru": ...}}, ...].
    as_of = models.DateField(null=True, blank=True)
    timeline = models.JSONField(default=list, blank=True)
    min_cell = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("Experts see no figure or argument on an item until at least this many "
                    "experts have answered it; Real-Time figures change after this many new "
                    "submissions."),
    )
    # A random key of the study's own (never shown, never exported): with SECRET_KEY it keys
    # the order of the panel's arguments and the keys the expert's browser stores drafts
    # under, so neither can be computed from anything an expert sees, even on the embedded
    # default whose SECRET_KEY is public.
    feedback_key = models.CharField(max_length=64, default=secrets.token_hex, editable=False)
    # Surveys: no name or email ever stored; the consent page (Delphi studies may ask it too);
    # screening questions [{code, text: {en, ru}, options: [{code, text}], eligible: [codes]}].
    anonymous = models.BooleanField(default=False)
    consent_required = models.BooleanField(default=False)
    screening = models.JSONField(default=list, blank=True)
    # A survey's Delphi study on the same propositions (its slug): the expert–public gap.
    compare_with = models.SlugField(blank=True)
    # Population margins the survey is weighted to: [{variable: country, category: Russia,
    # share: 0.3, source: "..."}] (analysis.weights); empty: every respondent weighs 1.
    margins = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("studies")

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return _localized(self, "title")

    @property
    def description(self) -> str:
        return _localized(self, "description")


class StudyMember(models.Model):
    """A staff user's role in one study; access to a study goes through this row."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ORGANIZER = "organizer", _("Organizer")
        ANALYST = "analyst", _("Analyst")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=10, choices=Role)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "user"], name="uniq_member")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class StakeholderGroup(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="groups")
    code = models.CharField(max_length=20)
    name_en = models.CharField(max_length=100)
    name_ru = models.CharField(max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="uniq_group")]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return _localized(self, "name")


class Theme(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="themes")
    code = models.CharField(max_length=50)
    title_en = models.CharField(max_length=300)
    title_ru = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    # Any change shows on the questionnaire at once: per-process caches are keyed by it.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="uniq_theme")]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return _localized(self, "title")


def proposition_q(prefix: str = "") -> models.Q:
    """The one test of "is a proposition" (not an instructed-response check), as a filter;
    `prefix` reaches the item from another model, e.g. "item__" from an answer."""
    return models.Q(**{f"{prefix}instructed__isnull": True})


class ItemQuerySet(models.QuerySet):
    def propositions(self) -> "ItemQuerySet":
        return self.filter(proposition_q())  # aggregated, compared, exported, reported


class Item(models.Model):
    class Kind(models.TextChoices):
        AGREEMENT = "agreement", _("Agreement (5-point scale)")
        DIMENSIONS = "dimensions", _("Policy-Delphi dimensions")
        PROBABILITY = "probability", _("Probability (0-100 %)")
        YEAR = "year", _("Year estimate")
        NUMERIC = "numeric", _("Numeric estimate")
        RANKING = "ranking", _("Ranking")
        OPEN = "open", _("Open text")

    RATED = frozenset(RATED_KINDS)  # the one definition, shared with the statistics
    ESTIMATES = {Kind.PROBABILITY, Kind.YEAR, Kind.NUMERIC}

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="items")
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="items")
    code = models.CharField(max_length=50)
    kind = models.CharField(max_length=12, choices=Kind)
    text_en = models.TextField()
    text_ru = models.TextField(blank=True)
    source_paragraph = models.PositiveIntegerField(null=True, blank=True)
    source_anchor = models.CharField(max_length=300, blank=True)
    dimensions = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=list, blank=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    unit_en = models.CharField(max_length=50, blank=True)
    unit_ru = models.CharField(max_length=50, blank=True)
    # Numeric items: how many decimal places an answer may have (0: whole numbers; 1: 12.5).
    decimals = models.PositiveSmallIntegerField(default=0)
    # Shown under the proposition: definitions, what "importance" means, how a forecast resolves.
    help_en = models.TextField(blank=True)
    help_ru = models.TextField(blank=True)
    # Asks experts to judge a claim of the source in the light of what has happened since.
    hindsight = models.BooleanField(default=False)
    # A forecast's resolution: the date it is judged on and the event's definition, so that it
    # can be scored once it resolves.
    resolves_on = models.DateField(null=True, blank=True)
    resolution_en = models.TextField(blank=True)
    resolution_ru = models.TextField(blank=True)
    # Year items: what the maximum value means ("Not by 2045, or never"); empty: just the year.
    never_en = models.CharField(max_length=200, blank=True)
    never_ru = models.CharField(max_length=200, blank=True)
    # The simulated panel: each group's expected position (leaning), its spread, and the
    # arguments simulated experts draw their rationales from ({"low"|"high"|option: [{en, ru}]}).
    leaning = models.JSONField(default=dict, blank=True)
    spread = models.JSONField(default=dict, blank=True)
    arguments = models.JSONField(default=dict, blank=True)
    # An attention check's one right answer ("choose Disagree": 2); it is no proposition.
    instructed = models.FloatField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    # Any change shows on the questionnaire at once: per-process caches are keyed by it.
    updated_at = models.DateTimeField(auto_now=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["theme__position", "position"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="uniq_item")]

    def __str__(self) -> str:
        return f"{self.code}: {self.text_en[:60]}"

    @property
    def text(self) -> str:
        return _localized(self, "text")

    @property
    def unit(self) -> str:
        return _localized(self, "unit")

    @property
    def help(self) -> str:
        return _localized(self, "help")

    @property
    def resolution(self) -> str:
        return _localized(self, "resolution")

    @property
    def never(self) -> str:
        return _localized(self, "never")

    @property
    def is_proposition(self) -> bool:
        return self.instructed is None  # proposition_q's test

    def answer_keys(self) -> list[str]:
        """The dimension keys of this item's answer rows ("" for a one-value item)."""
        if self.kind == self.Kind.DIMENSIONS:
            return list(self.dimensions)
        if self.kind == self.Kind.RANKING:
            return [option["code"] for option in self.options]
        return [""]

    def bounds(self) -> tuple[float, float] | None:
        """The allowed value range, or None for open text."""
        if self.kind in self.RATED:
            return (1.0, 5.0)
        if self.kind == self.Kind.PROBABILITY:
            return (0.0, 100.0)
        if self.kind in {self.Kind.YEAR, self.Kind.NUMERIC}:
            return (self.min_value, self.max_value)
        if self.kind == self.Kind.RANKING:
            return (1.0, float(len(self.options)))
        return None

    def step(self) -> str:
        """The questionnaire input's step: any for probabilities, 0.1 for one decimal place."""
        if self.kind == self.Kind.PROBABILITY:
            return "any"
        if self.kind == self.Kind.NUMERIC and self.decimals:
            return f"{10 ** -self.decimals:.{self.decimals}f}"
        return "1"

    def option_text(self, code: str) -> str:
        lang = (get_language() or "en")[:2]
        for option in self.options:
            if option["code"] == code:
                return option["text"].get(lang) or option["text"]["en"]
        return code


class Expert(models.Model):
    """A panel member; name and email are seen only by the study's organizers."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="experts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)  # blank: a survey respondent
    group = models.ForeignKey(StakeholderGroup, on_delete=models.PROTECT, related_name="experts")
    language = models.CharField(max_length=2, default="en")
    # When the latest personal link was issued (the links themselves are ExpertLink rows).
    token_issued_at = models.DateTimeField(null=True, blank=True)
    # Raised by every revocation (revoke, withdraw, erase): a session remembers the value it
    # was opened under and ends at its next request once they differ.
    access_generation = models.PositiveIntegerField(default=0)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "email"], condition=~models.Q(
            email=""), name="uniq_expert_email")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class ExpertLink(models.Model):
    """One personal link the platform gave an expert (an invitation, a reminder, by hand).

    Only the SHA-256 of the 256-bit token is stored, so a reminder cannot re-send an older
    link: it adds one, and every link keeps working until revoked or the study's link
    lifetime ends."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expert", "revoked_at"], name="expertlink_live")]

    def __str__(self) -> str:
        return f"link of expert {self.expert_id} issued {self.issued_at:%Y-%m-%d %H:%M}"


class ExpertiseRating(models.Model):
    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="expertise")
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT)
    level = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["expert", "theme"], name="uniq_expertise"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="expertise_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expert_id}/{self.theme_id}: {self.level}"


class Round(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        AGGREGATED = "aggregated", _("Aggregated")

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="rounds")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    aggregated_at = models.DateTimeField(null=True, blank=True)
    items = models.ManyToManyField(Item, related_name="rounds")

    class Meta:
        ordering = ["study", "number"]
        constraints = [models.UniqueConstraint(fields=["study", "number"], name="uniq_round")]

    def __str__(self) -> str:
        return f"{self.study.slug} round {self.number}"


class Response(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="responses")
    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="responses")
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=0)
    # The first save of an answer in this round (the response services set it once).
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "expert"], name="uniq_response")]

    def __str__(self) -> str:
        return f"response {self.pk} ({self.status}, v{self.version})"


class Answer(models.Model):
    """One value for an item and dimension; for rankings the dimension is the option code."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    dimension = models.CharField(max_length=50, blank=True, default="")
    value = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True)
    no_opinion = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "item", "dimension"], name="uniq_answer")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}{'.' + self.dimension if self.dimension else ''} = {self.value}"


class Rationale(models.Model):
    """The argument an expert gives for their answer to an item in one round."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="rationales")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="rationales")
    text = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "item"], name="uniq_rationale")]

    def __str__(self) -> str:
        return self.text[:60]


# The aggregation's snapshots, the fielding of surveys and the history of answers and actions live
# in modules of their own; importing them here registers them.
from surveys.models.aggregation import (  # noqa: E402
    Aggregate,
    AggregationChunk,
    AggregationRun,
    LiveArguments,
    Verdict,
)
from surveys.models.fielding import Collector, ConsentText, Entry  # noqa: E402
from surveys.models.history import AuditEvent, PreFeedbackAnswer, ResponseRevision  # noqa: E402

__all__ = ["Aggregate", "AggregationChunk", "AggregationRun", "Answer", "AuditEvent", "Collector",
           "ConsentText", "Entry", "Expert",
           "ExpertLink", "ExpertiseRating", "Item", "LiveArguments", "PreFeedbackAnswer",
           "Rationale", "Response", "ResponseRevision", "Round",
           "StakeholderGroup", "Study", "StudyMember", "Theme", "Verdict"]
