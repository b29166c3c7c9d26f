"""The record of what happened: answers kept as given before the feedback, copies of submitted
responses, and the audit trail of actions on a study."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from surveys.models import Item, Response, Study


class PreFeedbackAnswer(models.Model):
    """The first rated answer (not "no opinion") an expert saved to an item in a round of an
    "answer before you see the group" study: the answer given before its feedback opened.
    Written once and never changed, so analysts can measure how the feedback moved answers."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="pre_feedback")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    dimension = models.CharField(max_length=50, blank=True, default="")
    value = models.FloatField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "item", "dimension"],
                                               name="uniq_pre_feedback_answer")]

    def __str__(self) -> str:
        return f"{self.item_id}{'.' + self.dimension if self.dimension else ''} = {self.value}"


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
