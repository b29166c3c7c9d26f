"""A survey's collectors through the API: list, add, change, close and reopen them, by the
services the workspace's Collectors page calls (both refuse the same things: a Delphi study
lists none and cannot add one)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView, one
from surveys.models import Collector
from surveys.selectors_fielding import collector_is_open, survey_round
from surveys.services.collectors import FIELDS, collector_close, collector_save


class CollectorSettingsSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="A stakeholder group code of the study.")
    country = serializers.CharField(required=False, allow_blank=True, max_length=100)
    quota = serializers.IntegerField(required=False, allow_null=True,
                                     help_text="Completions accepted; null: no quota.")
    opens_at = serializers.DateTimeField(required=False, allow_null=True)
    closes_at = serializers.DateTimeField(required=False, allow_null=True)
    id_param = serializers.CharField(required=False, allow_blank=True, max_length=30)
    complete_redirect = serializers.CharField(required=False, allow_blank=True, max_length=500)
    screenout_redirect = serializers.CharField(required=False, allow_blank=True, max_length=500)
    speeder_seconds = serializers.IntegerField(required=False, allow_null=True)


class CollectorInputSerializer(CollectorSettingsSerializer):
    code = serializers.CharField(max_length=50)


class CollectorSerializer(CollectorInputSerializer):
    link = serializers.CharField(help_text="The open link (/s/<token>/); it never changes.")
    state = serializers.ChoiceField(choices=["open", "not_yet", "closed"])


def _shown(request, collector: Collector, state: str) -> dict:
    return {"code": collector.code, "group": collector.group.code,
            "link": request.build_absolute_uri(f"/s/{collector.token}/"), "state": state,
            **{key: getattr(collector, key) for key in FIELDS if key != "group"}}


class _Collectors(StudyView):
    pagination_class = None
    queryset = Collector.objects.none()

    def answer(self, request, collector: Collector, code=status.HTTP_200_OK) -> Response:
        state = collector_is_open(collector, survey_round(self.study))
        return Response(CollectorSerializer(_shown(request, collector, state)).data, status=code)


class CollectorList(_Collectors):
    """A survey's collectors with their links and states; POST adds one."""

    serializer_class = CollectorSerializer

    @extend_schema(responses={200: CollectorSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        round_ = survey_round(self.study)
        rows = [_shown(request, c, collector_is_open(c, round_))
                for c in self.study.collectors.select_related("group").order_by("code")]
        return Response(CollectorSerializer(rows, many=True).data)

    @extend_schema(request=CollectorInputSerializer,
                   responses={201: CollectorSerializer, **WRITE_ERRORS})
    def post(self, request, slug):
        data = CollectorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        code = values.pop("code")
        collector = collector_save(study=self.study, actor=request.user, code=code,
                                   values=values, new=True)
        return self.answer(request, collector, status.HTTP_201_CREATED)


class CollectorDetail(_Collectors):
    """One collector: PUT replaces its settings (its code and link stay); POST to close/ or
    reopen/ closes the link now or opens it again."""

    serializer_class = CollectorSerializer

    @extend_schema(responses={200: CollectorSerializer, **READ_ERRORS})
    def get(self, request, slug, code):
        collector = one(self.study.collectors.select_related("group"), code=code)
        return self.answer(request, collector)

    @extend_schema(request=CollectorSettingsSerializer,
                   responses={200: CollectorSerializer, **WRITE_ERRORS})
    def put(self, request, slug, code):
        one(self.study.collectors, code=code)
        data = CollectorSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collector = collector_save(study=self.study, actor=request.user, code=code,
                                   values=dict(data.validated_data))
        return self.answer(request, collector)


class CollectorState(_Collectors):
    """Close the link now (close/) or reopen it (reopen/)."""

    serializer_class = CollectorSerializer

    @extend_schema(request=None, responses={200: CollectorSerializer, **WRITE_ERRORS})
    def post(self, request, slug, code, action):
        one(self.study.collectors, code=code)
        collector = collector_close(study=self.study, actor=request.user, code=code,
                                    close=action == "close")
        return self.answer(request, collector)
