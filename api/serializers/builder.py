"""Shapes of the builder's input: the study's texts, groups, themes, items and study files.

They check the shape (types, lengths) only; the workspace services check the meaning (the study
file's own checker for items), so the API and the pages refuse the same things.
"""

from rest_framework import serializers

from surveys.models import Item
from surveys.services.studies import DIMENSIONS, MAX_DECIMALS
from workspace.services.transfer import MAX_BYTES

TEXT_MAX = 5000


class StudyUpdateSerializer(serializers.Serializer):
    """Fields left out keep their value."""

    title_en = serializers.CharField(max_length=300, required=False)
    title_ru = serializers.CharField(max_length=300, required=False)
    description_en = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    description_ru = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    link_lifetime_days = serializers.IntegerField(
        required=False, min_value=0, max_value=3650,
        help_text="Days the experts' links keep working after the last round closes (while a "
                  "round is open they always work).")
    min_cell = serializers.IntegerField(
        min_value=1, max_value=50, required=False,
        help_text="Experts see the panel's figures and arguments on an item once at least this "
                  "many experts have answered it; Real-Time figures change after this many new "
                  "submissions.")


class GroupInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20, help_text="Upper-case, e.g. RU; an existing code "
                                                          "renames that group.")
    name_en = serializers.CharField(max_length=100)
    name_ru = serializers.CharField(max_length=100)


class GroupNamesSerializer(serializers.Serializer):
    name_en = serializers.CharField(max_length=100)
    name_ru = serializers.CharField(max_length=100)


class ThemeInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=50, help_text="Lower-case; an existing code retitles "
                                                          "that theme.")
    title_en = serializers.CharField(max_length=300)
    title_ru = serializers.CharField(max_length=300)


class ThemeTitlesSerializer(serializers.Serializer):
    title_en = serializers.CharField(max_length=300)
    title_ru = serializers.CharField(max_length=300)


class TextsSerializer(serializers.Serializer):
    en = serializers.CharField(max_length=TEXT_MAX, allow_blank=True)
    ru = serializers.CharField(max_length=TEXT_MAX, allow_blank=True)


class UnitSerializer(serializers.Serializer):
    en = serializers.CharField(max_length=50, allow_blank=True)
    ru = serializers.CharField(max_length=50, allow_blank=True)


class SourceSerializer(serializers.Serializer):
    paragraph = serializers.IntegerField(min_value=0, max_value=2_000_000_000, required=False)
    anchor = serializers.CharField(max_length=300, allow_blank=True, required=False)


class OptionSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=50)
    text = TextsSerializer()


class ResolutionSerializer(serializers.Serializer):
    date = serializers.DateField()
    criteria = TextsSerializer()


class ItemInputSerializer(serializers.Serializer):
    """An item in the study file's shape, plus the code of its theme."""

    theme = serializers.CharField(max_length=50, help_text="Theme code.")
    code = serializers.CharField(max_length=50)
    kind = serializers.ChoiceField(choices=Item.Kind.choices)
    text = TextsSerializer()
    source = SourceSerializer(required=False)
    dimensions = serializers.ListField(child=serializers.ChoiceField(choices=list(DIMENSIONS)),
                                       required=False, max_length=len(DIMENSIONS))
    min = serializers.FloatField(required=False, allow_null=True)
    max = serializers.FloatField(required=False, allow_null=True)
    unit = UnitSerializer(required=False)
    decimals = serializers.IntegerField(required=False, min_value=0, max_value=MAX_DECIMALS,
                                        help_text="Numeric items: decimal places an answer may "
                                                  "have (default 0, whole numbers).")
    options = serializers.ListField(child=OptionSerializer(), required=False, max_length=50)
    help = TextsSerializer(required=False, help_text="Shown under the proposition.")
    hindsight = serializers.BooleanField(required=False, help_text=(
        "An \"In hindsight\" item: judge a claim of the source in the light of events since."))
    resolution = ResolutionSerializer(required=False, help_text="A forecast's resolution.")
    never = TextsSerializer(required=False, help_text=(
        "Year items: the label of the maximum value, e.g. \"Not by 2045, or never\"."))
    spread = serializers.DictField(child=serializers.FloatField(), required=False, help_text=(
        "The simulated panel: each group's spread (never shown to experts)."))
    arguments = serializers.DictField(child=serializers.ListField(child=TextsSerializer()),
                                      required=False, help_text=(
        "The simulated panel's arguments by position (never shown to experts)."))

    def item_data(self) -> dict:
        """The item as the study file's checker reads it."""
        data = {k: v for k, v in self.validated_data.items() if k != "theme" and v is not None}
        for number in ("min", "max"):
            if number in data and float(data[number]).is_integer():
                data[number] = int(data[number])
        return data


class ItemHistorySerializer(serializers.Serializer):
    round = serializers.IntegerField(source="round.number")
    item = serializers.CharField(source="item.code")
    relation = serializers.CharField()
    source_item = serializers.CharField(source="source_item.code", allow_null=True,
                                        default=None)
    source_round = serializers.IntegerField(source="source_round.number", allow_null=True,
                                            default=None)
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class FileInputSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=MAX_BYTES, trim_whitespace=False,
                                    help_text="The file's text (YAML study file or CSV).")
    apply = serializers.BooleanField(
        default=False, help_text="false: only check and report; true: apply a clean file.")


class ImportReportSerializer(serializers.Serializer):
    """What a clean file adds and changes; `applied` says whether it was applied."""

    slug = serializers.CharField()
    created = serializers.BooleanField(help_text="The file creates a new study.")
    items_new = serializers.ListField(child=serializers.CharField())
    items_changed = serializers.ListField(child=serializers.CharField())
    applied = serializers.BooleanField()


class StudyCreateSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=50)
    title_en = serializers.CharField(max_length=300)
    title_ru = serializers.CharField(max_length=300)
