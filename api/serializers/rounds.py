"""Shapes of running rounds: planning, draft edits with provenance, deadlines, the dashboard."""

from rest_framework import serializers

from api.serializers.studies import RateSerializer

TEXT_MAX = 5000


class RoundStartSerializer(serializers.Serializer):
    opens_at = serializers.DateTimeField(required=False, allow_null=True, help_text=(
        "Open at this time (Celery beat opens it); empty: now."))
    closes_at = serializers.DateTimeField(required=False, allow_null=True, help_text=(
        "The deadline; empty: closed by hand."))


class ExtendSerializer(serializers.Serializer):
    closes_at = serializers.DateTimeField(help_text="The new, later deadline.")


class ReopenSerializer(serializers.Serializer):
    closes_at = serializers.DateTimeField(required=False, allow_null=True)


VERDICT_HELP = ('"agree" or "disagree" (consensus on agreement or rejection), "none" (no '
                'consensus) or null (no verdict: the rule does not apply).')


class PlanItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    verdict = serializers.CharField(allow_null=True, help_text=VERDICT_HELP)
    stable = serializers.BooleanField(allow_null=True)
    carry = serializers.BooleanField(help_text="Proposed: carried over (no consensus yet).")


class CountsSerializer(serializers.Serializer):
    items = serializers.IntegerField(help_text="Items with a verdict.")
    agree = serializers.IntegerField()
    disagree = serializers.IntegerField()
    none = serializers.IntegerField()
    no_verdict = serializers.IntegerField(help_text="Items the rule gives no verdict on.")
    consensus = serializers.IntegerField(help_text="agree + disagree.")
    stable = serializers.IntegerField()
    stability_items = serializers.IntegerField(help_text="Items with a stability verdict.")
    rule_revision = serializers.IntegerField(allow_null=True)


class PlanSerializer(serializers.Serializer):
    from_round = serializers.IntegerField(allow_null=True)
    ready = serializers.BooleanField(help_text="The last round is aggregated: the next can be "
                                               "planned.")
    items = PlanItemSerializer(many=True)
    counts = CountsSerializer(required=False, allow_null=True, help_text=(
        "The last round's verdict counts and the rule revision they are under."))


class PlanInputSerializer(serializers.Serializer):
    carry = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=5000, help_text=(
            "Codes of the last round's items to carry over (or keep despite consensus); the "
            "others are dropped."))


class OriginSerializer(serializers.Serializer):
    relation = serializers.CharField()
    source_item = serializers.CharField(source="source_item.code", allow_null=True, default=None)
    source_round = serializers.IntegerField(source="source_round.number", allow_null=True,
                                            default=None)
    note = serializers.CharField(allow_blank=True)


class RoundItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    theme = serializers.CharField(source="theme.code")
    kind = serializers.CharField()
    text_en = serializers.CharField()
    text_ru = serializers.CharField(allow_blank=True)
    origins = OriginSerializer(many=True, help_text="Where the item comes from in this round.")


class OpenAnswerSerializer(serializers.Serializer):
    item = serializers.CharField(help_text="The open question's code.")
    text = serializers.CharField()


class DraftAddSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=50, help_text="Code of a study item to ask.")
    source = serializers.CharField(max_length=50, required=False, allow_blank=True, help_text=(
        "Code of the item that inspired it (e.g. an open question of the previous round)."))
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class NewTextSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=50, help_text="The new item's code.")
    text_en = serializers.CharField(max_length=TEXT_MAX)
    text_ru = serializers.CharField(max_length=TEXT_MAX)


class SplitSerializer(serializers.Serializer):
    parts = NewTextSerializer(many=True, min_length=2, max_length=4)


class MergeSerializer(NewTextSerializer):
    items = serializers.ListField(child=serializers.CharField(max_length=50), min_length=2,
                                  max_length=20, help_text="Codes of the draft's items to merge.")


class RunSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    phase = serializers.CharField(allow_blank=True)
    progress = serializers.IntegerField(help_text="Percent done.")
    error = serializers.CharField(allow_blank=True)


class VerdictSerializer(serializers.Serializer):
    item = serializers.CharField()
    verdict = serializers.CharField(allow_null=True, help_text=VERDICT_HELP)
    stable = serializers.BooleanField(allow_null=True)
    dimensions = serializers.DictField(child=serializers.CharField(allow_null=True), help_text=(
        "Each dimension's verdict (Policy-Delphi items)."))


class DashboardSerializer(serializers.Serializer):
    round = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    rates = RateSerializer(many=True)
    median_minutes = serializers.FloatField(allow_null=True)
    aggregation = RunSerializer(allow_null=True)
    verdicts = VerdictSerializer(many=True, help_text="Per item, as the aggregation stored "
                                                      "them (aggregated rounds).")
    counts = CountsSerializer(allow_null=True)
    rule_revision = serializers.IntegerField(allow_null=True, help_text=(
        "The revision of the registered rules the verdicts are under (null: none registered)."))
    stopping = serializers.DictField(help_text="What the stopping rule says.")


class SnapshotSerializer(serializers.Serializer):
    round = serializers.IntegerField(source="round.number")
    taken_at = serializers.DateTimeField(allow_null=True)
    aggregated = serializers.BooleanField()
    counts = CountsSerializer()


class SnapshotInputSerializer(serializers.Serializer):
    live = serializers.IntegerField(min_value=1, max_value=100000, help_text=(
        "The live round's number, as last read: a repeated request takes nothing."))
