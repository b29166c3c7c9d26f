"""Planning and running rounds as the workspace does: plan the next round from the last, change
a draft's items (each change records its provenance), deadlines, reopening, reminders."""

from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.serializers.organizer import ReminderScheduleSerializer, ReminderSerializer
from api.serializers.responses import QuestionItemSerializer
from api.serializers.rounds import (
    DraftAddSerializer,
    ExtendSerializer,
    MergeSerializer,
    NewTextSerializer,
    OpenAnswerSerializer,
    PlanInputSerializer,
    PlanSerializer,
    ReopenSerializer,
    RoundItemSerializer,
    SplitSerializer,
)
from api.serializers.studies import ItemSerializer, RoundSerializer
from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView, errors, one
from api.views.me import round_questions
from surveys.errors import ServiceError
from surveys.models import Expert, Item, Round
from surveys.selectors import round_items
from workspace.models import Reminder
from workspace.selectors import origins_for_round
from workspace.selectors_rounds import plan_proposal, previous_open_answers
from workspace.services import mail, planning
from workspace.services import rounds as round_services

DELETE_ERRORS = errors(400, 401, 403, 404, 429)


class _Round(StudyView):
    serializer_class = RoundSerializer
    pagination_class = None
    queryset = Round.objects.none()  # the schema's hint; views read through self.study

    def round(self, number: int) -> Round:
        return one(self.study.rounds, number=number)

    def item(self, code: str, field: str = "item") -> Item:
        item = self.study.items.select_related("theme").filter(code=code).first()
        if item is None:
            raise ServiceError(_("Unknown item."), field_errors={field: code})
        return item

    def body(self, serializer_class):
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data


class RoundPlan(_Round):
    """The next round planned from the last (which must be aggregated)."""

    @extend_schema(responses={200: PlanSerializer, **READ_ERRORS},
                   description="What the rounds page proposes: the last round's items with "
                               "consensus and stability; `carry` marks those without consensus.")
    def get(self, request, slug):
        plan = plan_proposal(self.study)
        items = [{**row, "code": row["item"].code} for row in plan["items"]]
        return Response(PlanSerializer({**plan, "items": items}).data)

    @extend_schema(request=PlanInputSerializer, responses={201: RoundSerializer, **WRITE_ERRORS},
                   description="Create the next round as a draft asking the carried items (each "
                               "recorded as carried over, or kept despite consensus); the others "
                               "are dropped.")
    def post(self, request, slug):
        codes = self.body(PlanInputSerializer)["carry"]
        found = dict(self.study.items.filter(code__in=codes).values_list("code", "pk"))
        unknown = sorted(set(codes) - set(found))
        if unknown:
            raise ServiceError(_("Unknown items."), field_errors={"carry": ", ".join(unknown)})
        round_ = planning.round_plan_next(study=self.study, include=[found[c] for c in codes],
                                          actor=request.user)
        return Response(RoundSerializer(round_).data, status=status.HTTP_201_CREATED)


class RoundExtend(_Round):
    @extend_schema(request=ExtendSerializer, responses={200: RoundSerializer, **WRITE_ERRORS},
                   description="Move an open round's deadline later.")
    def post(self, request, slug, number):
        round_ = round_services.round_extend(round_=self.round(number), actor=request.user,
                                             **self.body(ExtendSerializer))
        return Response(RoundSerializer(round_).data)


class RoundReopen(_Round):
    @extend_schema(request=ReopenSerializer, responses={200: RoundSerializer, **WRITE_ERRORS},
                   description="Reopen a closed round that is not aggregated yet (and has no "
                               "later round).")
    def post(self, request, slug, number):
        round_ = self.round(number)
        values = self.body(ReopenSerializer)
        round_ = round_services.round_reopen(round_=round_, actor=request.user,
                                             closes_at=values.get("closes_at"))
        return Response(RoundSerializer(round_).data)


class RoundItems(_Round):
    """A round's items with their provenance; POST asks one more study item in a draft."""

    serializer_class = RoundItemSerializer

    @extend_schema(responses={200: RoundItemSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug, number):
        round_ = self.round(number)
        origins = origins_for_round(round_)
        rows = [{"code": i.code, "theme": i.theme, "kind": i.kind, "text_en": i.text_en,
                 "text_ru": i.text_ru, "origins": origins.get(i.pk, [])} for i in round_items(round_)]
        return Response(RoundItemSerializer(rows, many=True).data)

    @extend_schema(request=DraftAddSerializer, responses={201: ItemSerializer, **WRITE_ERRORS},
                   description="Ask a study item (e.g. new from the builder) in this draft; "
                               "`source` records what inspired it.")
    def post(self, request, slug, number):
        round_, values = self.round(number), self.body(DraftAddSerializer)
        source = values.get("source")
        item = planning.draft_item_add(
            round_=round_, item=self.item(values["item"]), actor=request.user,
            source_item=self.item(source, "source") if source else None,
            note=values.get("note", ""))
        return Response(ItemSerializer(item).data, status=status.HTTP_201_CREATED)


class RoundOpenAnswers(_Round):
    """The previous round's answers to open questions (text only, in a stable order), to plan
    new items from: add one with `source` set to the open question."""

    serializer_class = OpenAnswerSerializer

    @extend_schema(responses={200: OpenAnswerSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug, number):
        answers = [{"item": a.item.code, "text": a.text}
                   for a in previous_open_answers(self.round(number))]
        return Response(OpenAnswerSerializer(answers, many=True).data)


class RoundItemRemove(_Round):
    @extend_schema(responses={204: None, **DELETE_ERRORS},
                   description="Take an item out of a draft round (it stays in the study).")
    def delete(self, request, slug, number, code):
        round_ = self.round(number)
        planning.draft_item_remove(round_=round_, item=one(self.study.items, code=code),
                                   actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoundItemReword(_Round):
    @extend_schema(request=NewTextSerializer, responses={201: ItemSerializer, **WRITE_ERRORS},
                   description="Ask a reworded copy (a new item, derived from this one) instead "
                               "of an item an earlier round asked.")
    def post(self, request, slug, number, code):
        round_ = self.round(number)
        item = one(self.study.items.select_related("theme"), code=code)
        new = planning.draft_item_reword(round_=round_, item=item, actor=request.user,
                                         **self.body(NewTextSerializer))
        return Response(ItemSerializer(new).data, status=status.HTTP_201_CREATED)


class RoundItemSplit(_Round):
    @extend_schema(request=SplitSerializer, responses={201: ItemSerializer(many=True),
                                                       **WRITE_ERRORS},
                   description="Ask two to four new items instead of one an earlier round asked.")
    def post(self, request, slug, number, code):
        round_ = self.round(number)
        item = one(self.study.items.select_related("theme"), code=code)
        parts = [dict(part) for part in self.body(SplitSerializer)["parts"]]
        new = planning.draft_item_split(round_=round_, item=item, parts=parts, actor=request.user)
        return Response(ItemSerializer(new, many=True).data, status=status.HTTP_201_CREATED)


class RoundMerge(_Round):
    @extend_schema(request=MergeSerializer, responses={201: ItemSerializer, **WRITE_ERRORS},
                   description="Ask one new item instead of several of the same kind.")
    def post(self, request, slug, number):
        round_, values = self.round(number), self.body(MergeSerializer)
        items = [self.item(code, "items") for code in values.pop("items")]
        new = planning.draft_items_merge(round_=round_, items=items, actor=request.user, **values)
        return Response(ItemSerializer(new).data, status=status.HTTP_201_CREATED)


class RoundReminders(_Round):
    """Reminders scheduled before the round's deadline (e.g. 72 and 24 hours) and sent ones."""

    serializer_class = ReminderSerializer

    @extend_schema(responses={200: ReminderSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug, number):
        # Scheduled ones (latest first), then those sent by hand, on every database.
        reminders = self.round(number).reminders.order_by(
            F("hours_before").desc(nulls_last=True), "pk")
        return Response(ReminderSerializer(reminders, many=True).data)

    @extend_schema(request=ReminderScheduleSerializer,
                   responses={201: ReminderSerializer(many=True), **WRITE_ERRORS},
                   description="Schedule reminders at these hours (1 to 1440) before closing, for "
                               "a draft or open round; hours already scheduled are kept once.")
    def post(self, request, slug, number):
        made = mail.reminder_schedule(round_=self.round(number), actor=request.user,
                                      **self.body(ReminderScheduleSerializer))
        return Response(ReminderSerializer(made, many=True).data, status=status.HTTP_201_CREATED)


class ReminderDetail(_Round):
    serializer_class = ReminderSerializer
    queryset = Reminder.objects.none()

    @extend_schema(responses={204: None, **DELETE_ERRORS},
                   description="Unschedule a reminder that has not been sent.")
    def delete(self, request, slug, number, pk):
        reminder = one(Reminder.objects.filter(round=self.round(number)), pk=pk)
        mail.reminder_unschedule(reminder=reminder, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LanguageParam(serializers.Serializer):
    language = serializers.ChoiceField(choices=["en", "ru"], required=False)


class RoundPreview(_Round):
    """The round's questionnaire exactly as an expert sees it (the items, their texts in the
    chosen language and the panel's feedback); nothing can be saved through it."""

    serializer_class = QuestionItemSerializer

    @extend_schema(parameters=[OpenApiParameter("language", str, enum=["en", "ru"])],
                   responses={200: QuestionItemSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug, number):
        round_ = self.round(number)
        query = LanguageParam(data=request.query_params)
        query.is_valid(raise_exception=True)
        language = query.validated_data.get("language") or self.study.default_language
        # An unsaved stand-in expert (pk 0 matches no row): no answers of its own, as the
        # workspace's preview page does.
        expert = Expert(pk=0, study=self.study, name="", email="", language=language)
        with translation.override(language):
            body = QuestionItemSerializer(round_questions(expert, round_), many=True).data
        return Response(body)
