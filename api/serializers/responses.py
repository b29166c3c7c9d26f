"""Shapes of an expert's own round: the questionnaire, their answers, the feedback, history."""

from rest_framework import serializers

from surveys.services.responses import MAX_TEXT, ItemAnswer


class AnswerInputSerializer(serializers.Serializer):
    values = serializers.DictField(
        child=serializers.FloatField(allow_null=True), required=False,
        help_text='Dimension (or ranking option) to value; "" for a one-value item.')
    no_opinion = serializers.BooleanField(required=False, default=False)
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)
    text = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)


class ResponseInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1,
        help_text="Required: the version you last read (0 before your first save); a stale "
                  "version gets 409, a missing or malformed one 400, and neither changes anything.")
    answers = serializers.DictField(child=AnswerInputSerializer(), required=False,
                                    help_text="Item code to answer; items left out keep theirs.")
    expertise = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5),
                                      required=False, help_text="Theme code to level 1-5.")

    def item_answers(self) -> dict[str, ItemAnswer]:
        return {code: ItemAnswer(values=dict(a.get("values", {})),
                                 no_opinion=a.get("no_opinion", False),
                                 rationale=a.get("rationale", ""), text=a.get("text", ""))
                for code, a in self.validated_data.get("answers", {}).items()}


class AnswerSerializer(serializers.Serializer):
    values = serializers.DictField(child=serializers.FloatField(allow_null=True))
    no_opinion = serializers.BooleanField()
    rationale = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)


class OwnResponseSerializer(serializers.Serializer):
    status = serializers.CharField()
    version = serializers.IntegerField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    answers = serializers.DictField(child=AnswerSerializer())


class FeedbackSerializer(serializers.Serializer):
    """The previous round's panel result on an item (anonymous), and the expert's own answer."""

    dimension = serializers.CharField(allow_blank=True)
    n = serializers.IntegerField()
    median = serializers.FloatField(allow_null=True)
    q1 = serializers.FloatField(allow_null=True)
    q3 = serializers.FloatField(allow_null=True)
    distribution = serializers.DictField()
    own_previous = serializers.FloatField(allow_null=True)
    live = serializers.BooleanField(help_text="The panel now (Real-Time study), not the previous "
                                              "round.")


class PanelRationaleSerializer(serializers.Serializer):
    """Another expert's rationale, anonymous: only the position it argues and its text."""

    position = serializers.CharField(help_text="The author's answer on the item, in words.")
    text = serializers.CharField()


class QuestionItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    theme = serializers.CharField()
    kind = serializers.CharField()
    text = serializers.CharField()
    keys = serializers.ListField(child=serializers.CharField(allow_blank=True))
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    options = serializers.ListField(child=serializers.DictField())
    feedback = FeedbackSerializer(many=True)
    rationales = PanelRationaleSerializer(
        many=True, help_text="The panel's rationales in an order of this expert's own (the "
                             "expert's own left out); empty while the feedback is not shown.")
    note = serializers.CharField(
        allow_blank=True, help_text="Why the panel's figures or arguments are not shown yet "
                                    "(fewer answers than the study's min_cell); empty otherwise.")


class MeSerializer(serializers.Serializer):
    study = serializers.DictField()
    round = serializers.DictField(allow_null=True)
    items = QuestionItemSerializer(many=True)
    response = OwnResponseSerializer(allow_null=True)
    expertise = serializers.DictField(child=serializers.IntegerField())


class RevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    answers = serializers.ListField(child=serializers.DictField())
    rationales = serializers.ListField(child=serializers.DictField())
