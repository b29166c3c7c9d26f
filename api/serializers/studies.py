"""Shapes of studies, their themes, groups, items, rounds and results."""

from rest_framework import serializers

from surveys.models import Aggregate, Item, Round, StakeholderGroup, Study, StudyMember, Theme


class StudySerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="The caller's role in this study.")

    class Meta:
        model = Study
        fields = ["slug", "title_en", "title_ru", "description_en", "description_ru", "source",
                  "languages", "default_language", "status", "mode", "answer_before_feedback",
                  "link_lifetime_days", "min_cell", "as_of", "timeline", "created_at", "role"]
        read_only_fields = fields

    def get_role(self, study: Study) -> str:
        return self.context.get("roles", {}).get(study.pk, "")


class StudyFileSerializer(serializers.Serializer):
    """A study file (the YAML of `load_study`, as JSON); checked in full by the loader, which
    lists every problem with its location."""

    version = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.DictField(child=serializers.CharField())
    description = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    source = serializers.CharField(required=False, allow_blank=True)
    consensus = serializers.DictField(required=False, help_text=(
        "The consensus, stability and stopping rules to register (fields of GET rules/)."))
    answer_before_feedback = serializers.BooleanField(required=False)
    min_cell = serializers.IntegerField(required=False, min_value=1, max_value=50, help_text=(
        "How many experts must have answered an item before experts see its figures and "
        "arguments (default 3)."))
    as_of = serializers.DateField(required=False, help_text=(
        "The date the propositions refer to (docs/organizers.md, \"The study's frame\")."))
    source_first_paragraph = serializers.CharField(required=False, allow_blank=True)
    timeline = serializers.ListField(child=serializers.DictField(), required=False, help_text=(
        "Dated events experts may consult: [{date: YYYY[-MM[-DD]], text: {en, ru}}]."))
    stakeholder_groups = serializers.ListField(child=serializers.DictField())
    themes = serializers.ListField(child=serializers.DictField())


class ThemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["code", "title_en", "title_ru", "position"]
        read_only_fields = fields


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = StakeholderGroup
        fields = ["code", "name_en", "name_ru", "position"]
        read_only_fields = fields


class ItemSerializer(serializers.ModelSerializer):
    theme = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Item
        fields = ["code", "theme", "kind", "text_en", "text_ru", "source_paragraph", "source_anchor",
                  "dimensions", "options", "min_value", "max_value", "decimals", "unit_en", "unit_ru",
                  "help_en", "help_ru", "hindsight", "resolves_on", "resolution_en",
                  "resolution_ru", "never_en", "never_ru", "instructed", "position"]
        read_only_fields = fields


class RoundSerializer(serializers.ModelSerializer):
    items = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Round
        fields = ["number", "status", "opens_at", "closes_at", "closed_at", "aggregated_at", "items"]
        read_only_fields = fields


class RoundCreateSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, allow_empty=False,
        help_text="Item codes to ask (default: the last round's items, or all for round 1).")


class AggregateSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    verdict = serializers.CharField(help_text=(
        '"agree", "disagree", "none", or "" (no verdict), under `rule_revision`.'))
    rule_revision = serializers.IntegerField(source="run.rule_revision", allow_null=True,
                                             default=None, help_text=(
        "The revision of the registered rules the verdict is under (null: none registered)."))

    class Meta:
        model = Aggregate
        fields = ["item", "dimension", "group", "n", "no_opinion", "median", "q1", "q3", "iqr",
                  "mean", "sd", "pct_agree", "pct_disagree", "distribution", "verdict", "stable",
                  "rule_revision", "median_change", "extra"]
        read_only_fields = fields


class RateSerializer(serializers.Serializer):
    """A round's participation for a stakeholder group or the panel (surveys.figures;
    docs/definitions.md)."""

    group = serializers.CharField(allow_blank=True, help_text='Group code; "" for the panel.')
    panel = serializers.IntegerField(help_text="The round's panel.")
    invited = serializers.IntegerField()
    started = serializers.IntegerField()
    submitted = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="Percent of the panel submitted.")
    previous = serializers.IntegerField(allow_null=True, help_text=(
        "Submitted the previous round."))
    lost = serializers.IntegerField(allow_null=True)
    attrition = serializers.FloatField(allow_null=True, help_text=(
        "Percent of `previous` lost; so far only, until the round closes (`final`)."))
    final = serializers.BooleanField(help_text="The round has closed.")
    median_minutes = serializers.FloatField(allow_null=True, help_text=(
        "Median minutes from the first saved answer to the first submit."))


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = StudyMember
        fields = ["id", "username", "role"]
        read_only_fields = ["id", "username"]


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=StudyMember.Role.choices)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=StudyMember.Role.choices)
