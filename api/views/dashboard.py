"""The organizer's dashboard figures, the registered rules, the audit log and Real-Time
snapshots, through the same selectors and services as the workspace pages."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.permissions import OWNER, READ, WRITE
from api.serializers.organizer import (
    AuditEventSerializer,
    ProtocolSerializer,
    RuleInputSerializer,
    RulesSerializer,
)
from api.serializers.rounds import (
    DashboardSerializer,
    RunSerializer,
    SnapshotInputSerializer,
    SnapshotSerializer,
)
from api.serializers.studies import RoundSerializer
from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView
from surveys.figures import round_figures, stopping_status
from surveys.models import AuditEvent, Round, Study
from surveys.selectors import aggregation_progress
from workspace.models import ConsensusRule, ProtocolVersion
from workspace.selectors import audit_events, registered_rule, shown_round, snapshots
from workspace.selectors_protocol import protocol_history, protocol_versions
from workspace.services import rounds as round_services
from workspace.services.rules import rule_register, rules_locked


class RoundParam(serializers.Serializer):
    round = serializers.IntegerField(required=False, min_value=1, max_value=100000)


class Dashboard(StudyView):
    """What the dashboard shows of a round: invited, started, submitted, % and attrition per
    stakeholder group and for the panel ("" group), the median minutes to submit, the
    aggregation's progress, the per-item verdicts and what the stopping rule says."""

    serializer_class = DashboardSerializer
    pagination_class = None
    queryset = Study.objects.none()  # the schema's hint

    @extend_schema(parameters=[OpenApiParameter("round", OpenApiTypes.INT, description=(
        "The round's number; default: the open round, else the latest."))],
        responses={200: DashboardSerializer, **READ_ERRORS})
    def get(self, request, slug):
        query = RoundParam(data=request.query_params)
        query.is_valid(raise_exception=True)
        number = query.validated_data.get("round")
        round_ = shown_round(self.study, number)
        if number is not None and round_ is None:
            raise Http404
        return Response(DashboardSerializer(_dashboard(self.study, round_)).data)


def _dashboard(study: Study, round_: Round | None) -> dict:
    """The dashboard page's figures (surveys.figures.round_figures) in the API's shape."""
    if round_ is None:
        return {"round": None, "status": None, "rates": [], "median_minutes": None,
                "aggregation": None, "verdicts": [], "counts": None, "rule_revision": None,
                "stopping": stopping_status(study)}
    figures = round_figures(round_)
    run = aggregation_progress(round_)
    return {"round": round_.number, "status": round_.status,
            "rates": [{**row, "group": row["group"].code if row["group"] else ""}
                      for row in figures["participation"]],
            "median_minutes": figures["panel"]["median_minutes"],
            "aggregation": RunSerializer(run).data if run is not None else None,
            "verdicts": [{**v, "item": v["item"].code} for v in figures["verdicts"]],
            "counts": figures["counts"], "rule_revision": figures["counts"]["rule_revision"],
            "stopping": figures["stopping"]}


class Rules(StudyView):
    """The consensus, stability and stopping rules: registered before round 1, locked when it
    opens; every change after that carries a written reason (kept with before and after)."""

    serializer_class = RulesSerializer
    pagination_class = None
    read_roles, write_roles = READ, WRITE
    queryset = ConsensusRule.objects.none()

    def _body(self):
        rule = registered_rule(self.study)
        return RulesSerializer({"rule": rule, "locked": rules_locked(self.study),
                                "changes": list(rule.changes.all()) if rule else []}).data

    @extend_schema(responses={200: RulesSerializer, **READ_ERRORS})
    def get(self, request, slug):
        return Response(self._body())

    @extend_schema(request=RuleInputSerializer, responses={200: RulesSerializer, **WRITE_ERRORS},
                   description="Register the rules or change them (fields left out keep their "
                               "value). Once round 1 has opened, a change needs `reason`.")
    def put(self, request, slug):
        data = RuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule_register(study=self.study, actor=request.user, **data.validated_data)
        return Response(self._body())


class Protocol(StudyView):
    """The registered protocol, read-only: every version (frozen with each registration or
    change of the rules; after round 1 opened, an amendment with its reason), with its
    canonical JSON and the SHA-256 of that text."""

    serializer_class = ProtocolSerializer
    pagination_class = None
    queryset = ProtocolVersion.objects.none()

    @extend_schema(responses={200: ProtocolSerializer, **READ_ERRORS})
    def get(self, request, slug):
        changed = {h["version"]: h["changed"] for h in protocol_history(self.study)}
        versions = [{"version": v.version, "frozen_at": v.frozen_at, "amendment": v.amendment,
                     "reason": v.reason, "sha256": v.sha256, "canonical": v.canonical,
                     "changed": changed[v.version]} for v in protocol_versions(self.study)]
        return Response(ProtocolSerializer({"current": versions[-1] if versions else None,
                                            "versions": versions}).data)


class AuditLog(StudyView):
    """Every recorded action on the study, newest first: who, what, when, before and after."""

    serializer_class = AuditEventSerializer
    read_roles = write_roles = OWNER
    queryset = AuditEvent.objects.none()

    @extend_schema(responses={200: AuditEventSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        events = audit_events(self.study)
        return self.paginated(events, AuditEventSerializer)


class Snapshots(StudyView):
    """A Real-Time study's dated snapshots; POST takes one of the live round."""

    serializer_class = SnapshotSerializer
    pagination_class = None
    queryset = Round.objects.none()

    @extend_schema(responses={200: SnapshotSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        return Response(SnapshotSerializer(snapshots(self.study), many=True).data)

    @extend_schema(request=SnapshotInputSerializer, responses={201: RoundSerializer, **WRITE_ERRORS},
                   description="Close the live round `live` (it is aggregated) and open the next "
                               "with every answer carried forward; answers the new live round. "
                               "A `live` that is no longer the live round takes nothing (400).")
    def post(self, request, slug):
        data = SnapshotInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        live = round_services.snapshot_take(study=self.study, actor=request.user,
                                            live_number=data.validated_data["live"])
        return Response(RoundSerializer(live).data, status=status.HTTP_201_CREATED)
