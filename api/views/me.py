"""The expert's own round through their invitation token (X-Invitation-Token).

Experts reach nothing but their own response: there are no ids in these paths. Feedback is what
the questionnaire page shows: the previous round's anonymous panel figures (the panel now in a
Real-Time study), their own previous answer and the panel's rationales, marked only by the
position each argues.
"""

from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response as ApiResponse

from api.authentication import ExpertTokenAuthentication
from api.permissions import ExpertOnly
from api.serializers.responses import MeSerializer, ResponseInputSerializer, RevisionSerializer
from api.services.idempotency import idempotent_call, request_fingerprint
from api.views.base import READ_ERRORS, WRITE_ERRORS
from surveys.errors import RoundNotOpen, ServiceError
from surveys.models import Response, Round
from surveys.questionnaire import questionnaire
from surveys.selectors import response_revisions, round_current, round_items
from surveys.selectors_expert import expert_response, expertise_levels, saved_answers, theme_ids
from surveys.services.responses import questionnaire_save

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
    description="A unique key per submit (e.g. a UUID): a retry with the same key and body gets "
                "the first answer again; the same key with another body gets 409.")


def _panel_feedback(expert, round_: Round) -> dict[str, dict]:
    """Per item code, what the questionnaire page shows the expert of the panel: the figures
    (previous round, or the panel now in a Real-Time study), their own answer there, and the
    panel's rationales with the position each argues, in the order the page shows them. Nothing
    names another expert; the page's gate (answer before you see the group) applies."""
    gated = expert.study.answer_before_feedback
    out: dict[str, dict] = {}
    for view in questionnaire(expert, round_, gated=gated):
        note = _("The panel's figures and arguments are shown once at least %(k)s experts have "
                 "answered.") % {"k": view.withheld} if view.withheld else ""
        if not view.has_feedback:
            out[view.item.code] = {"feedback": [], "rationales": [], "note": note}
            continue
        figures = [{"dimension": part.key, **{k: part.feedback["agg"].get(k) for k in
                                              ("n", "median", "q1", "q3", "distribution")},
                    "own_previous": part.feedback["own"], "live": part.feedback.get("live", False)}
                   for part in view.parts if part.feedback]
        out[view.item.code] = {
            "feedback": figures,
            "rationales": [{"position": r["position"], "text": r["text"]} for r in view.rationales],
            "note": note}
    return out


def me_payload(expert) -> dict:
    """What GET /me/ answers, JSON-ready."""
    return MeSerializer(_me(expert)).data


def round_questions(expert, round_: Round) -> list[dict]:
    """The round's items as the expert's questionnaire shows them, with the panel's feedback."""
    panel = _panel_feedback(expert, round_)
    questions = []
    for item in round_items(round_):
        low, high = item.bounds() or (None, None)
        questions.append({
            "code": item.code, "theme": item.theme.code, "kind": item.kind, "text": item.text,
            "keys": item.answer_keys(), "min": low, "max": high,
            "options": [{"code": o["code"], "text": item.option_text(o["code"])} for o in item.options],
            **panel.get(item.code, {"feedback": [], "rationales": [], "note": ""})})
    return questions


def _me(expert) -> dict:
    study = expert.study
    round_ = round_current(study)
    payload = {"study": {"slug": study.slug, "title": study.title, "description": study.description},
               "round": None, "items": [], "response": None,
               "expertise": expertise_levels(expert)}
    if round_ is None:
        return payload
    payload["round"] = {"number": round_.number, "status": round_.status,
                        "closes_at": round_.closes_at}
    payload["items"] = round_questions(expert, round_)
    response = expert_response(expert, round_)
    if response is not None:
        payload["response"] = {"status": response.status, "version": response.version,
                               "submitted_at": response.submitted_at,
                               "answers": saved_answers(response)}
    return payload


class _MeView(GenericAPIView):
    authentication_classes = [ExpertTokenAuthentication]
    permission_classes = [ExpertOnly]
    serializer_class = MeSerializer
    pagination_class = None
    queryset = Response.objects.none()  # the schema's hint; an expert reads only their own

    @property
    def expert(self):
        return self.request.user.expert

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        translation.activate(self.expert.language)  # texts and errors in the expert's language

    def open_round(self) -> Round:
        round_ = round_current(self.expert.study)
        if round_ is None:
            raise RoundNotOpen(_("There is no round to answer."))
        return round_

    def save(self, *, submit: bool) -> Response:
        data = ResponseInputSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        round_ = self.open_round()
        themes = theme_ids(self.expert.study)
        levels = data.validated_data.get("expertise", {})
        unknown = sorted(set(levels) - set(themes))
        if unknown:
            raise ServiceError(_("Unknown themes."), field_errors={"expertise": ", ".join(unknown)})
        return questionnaire_save(
            expert=self.expert, round_=round_, answers=data.item_answers(), submit=submit,
            expertise={themes[c]: v for c, v in levels.items()},
            expected_version=data.validated_data["version"])


class Me(_MeView):
    """The current round's questionnaire, the expert's saved answers and the feedback."""

    @extend_schema(responses={200: MeSerializer, **READ_ERRORS})
    def get(self, request):
        return ApiResponse(me_payload(self.expert))


class MeResponse(_MeView):
    """PUT saves a draft; items left out keep their answers."""

    @extend_schema(request=ResponseInputSerializer, responses={200: MeSerializer, **WRITE_ERRORS})
    def put(self, request):
        self.save(submit=False)
        return ApiResponse(me_payload(self.expert))


class MeSubmit(_MeView):
    """Save the given answers and submit; resubmitting while the round is open adds a revision."""

    @extend_schema(request=ResponseInputSerializer, parameters=[IDEMPOTENCY],
                   responses={200: MeSerializer, **WRITE_ERRORS})
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        fingerprint = request_fingerprint(method="POST", path=request.path, data=request.data)

        def call():
            self.save(submit=True)
            return 200, me_payload(self.expert)

        status, body, replayed = idempotent_call(
            scope=f"expert:{self.expert.pk}", key=key, fingerprint=fingerprint, call=call)
        answer = ApiResponse(body, status=status)
        answer["Idempotent-Replayed"] = "true" if replayed else "false"
        return answer


class MeRevisions(_MeView):
    """The history of the expert's submitted response in the current round."""

    serializer_class = RevisionSerializer

    @extend_schema(responses={200: RevisionSerializer(many=True), **READ_ERRORS})
    def get(self, request):
        response = expert_response(self.expert, round_current(self.expert.study))
        rows = [] if response is None else response_revisions(response)
        return ApiResponse(RevisionSerializer(rows, many=True).data)
