"""The Delphi domain: studies, themes, items, the panel, rounds, responses and aggregates.

Writes go through surveys.services, reads through surveys.selectors; models hold no logic
beyond small display helpers.
"""

from django.conf import settings
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
                    "refreshed after every submission and dated snapshots taken by the organizer."),
    )
    answer_before_feedback = models.BooleanField(
        default=False,
        help_text=_("Against anchoring: an item's feedback opens once the expert has answered it "
                    "in this round."),
    )
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
    leaning = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    # Any change shows on the questionnaire at once: per-process caches are keyed by it.
    updated_at = models.DateTimeField(auto_now=True)

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
    email = models.EmailField()
    group = models.ForeignKey(StakeholderGroup, on_delete=models.PROTECT, related_name="experts")
    language = models.CharField(max_length=2, default="en")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "email"], name="uniq_expert_email")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


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


class ResponseRevision(models.Model):
    """A copy of a submitted response as it stood after a submit or a later change."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    version = models.PositiveIntegerField(help_text=_("The response's version at this revision."))
    answers = models.JSONField(default=list)
    rationales = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["response", "number"]
        constraints = [
            models.UniqueConstraint(fields=["response", "number"], name="uniq_response_revision")
        ]

    def __str__(self) -> str:
        return f"response {self.response_id} revision {self.number}"


class Verdict(models.TextChoices):
    """A consensus verdict (analysis.consensus.verdicts); no verdict is stored as ''."""

    AGREE = "agree", _("consensus: agree")
    DISAGREE = "disagree", _("consensus: disagree")
    NONE = "none", _("no consensus")


class Aggregate(models.Model):
    """The snapshot of one round's answers on an item and dimension, for the panel or a group."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="aggregates")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="aggregates")
    dimension = models.CharField(max_length=50, blank=True, default="")
    group = models.CharField(max_length=20, blank=True, default="", help_text=_("'' = panel"))
    n = models.PositiveIntegerField()
    no_opinion = models.PositiveIntegerField(default=0)
    median = models.FloatField(null=True)
    q1 = models.FloatField(null=True)
    q3 = models.FloatField(null=True)
    iqr = models.FloatField(null=True)
    mean = models.FloatField(null=True)
    sd = models.FloatField(null=True)
    pct_agree = models.FloatField(null=True)
    pct_disagree = models.FloatField(null=True)
    distribution = models.JSONField(default=dict)
    # The verdict under the rule its run records (AggregationRun.rule): '' = no verdict.
    verdict = models.CharField(max_length=8, choices=Verdict, blank=True, default="")
    # Stable against the round before under the same rule; null: no verdict (round 1, no pairs).
    stable = models.BooleanField(null=True)
    median_change = models.FloatField(null=True)
    extra = models.JSONField(default=dict)
    # The computation (round, version) that wrote this row; null only for pre-versioning rows.
    run = models.ForeignKey("AggregationRun", on_delete=models.PROTECT, null=True, blank=True,
                            related_name="aggregates")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "item", "dimension", "group"], name="uniq_aggregate"
            )
        ]

    def __str__(self) -> str:
        return f"round {self.round_id} item {self.item_id} {self.dimension} {self.group or 'panel'}"


class AggregationRun(models.Model):
    """One computation of a round's snapshot, version `version`: done at most once.

    The round's Aggregate rows always belong to its latest finished run; an older or repeated
    run never writes over a newer one. Live runs refresh the open round of a Real-Time study.
    """

    class Kind(models.TextChoices):
        ROUND = "round", _("Round snapshot")
        LIVE = "live", _("Live statistics")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        SUPERSEDED = "superseded", _("Superseded")
        FAILED = "failed", _("Failed")

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="aggregation_runs")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.ROUND)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    phase = models.CharField(max_length=20, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("Percent done."))
    answers = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0, help_text=_("0 = computed in one task."))
    chunks_done = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    panel = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # The rules the verdicts were computed under (ConsensusRule.snapshot()) and their revision;
    # revision null: no rule was registered, the default rule applied.
    rule = models.JSONField(default=dict, blank=True)
    rule_revision = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["round", "version"]
        constraints = [
            models.UniqueConstraint(fields=["round", "version"], name="uniq_aggregation_run")
        ]

    def __str__(self) -> str:
        return f"round {self.round_id} v{self.version} {self.kind} {self.status}"


class AggregationChunk(models.Model):
    """A part of a chunked run: some items' rows, or (items null) the round-wide statistics."""

    run = models.ForeignKey(AggregationRun, on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField()
    items = models.JSONField(null=True, blank=True)
    done = models.BooleanField(default=False)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="uniq_aggregation_chunk")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index}"


class AuditEvent(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=50)
    detail = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"
