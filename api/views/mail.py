"""The panel's mail and bulk work as the workspace does it: invitations and reminders (each email
queued once per key, sent after the commit), the send log with retries, and the CSV import."""

from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.permissions import WRITE
from api.serializers.organizer import (
    InvitationsInputSerializer,
    MessageSerializer,
    OutboxSerializer,
    PanelImportInputSerializer,
    PanelImportSerializer,
    QueuedSerializer,
    RemindInputSerializer,
)
from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView, one
from surveys.errors import ServiceError
from surveys.models import Expert
from workspace.models import Message, OutboxMessage
from workspace.selectors import message_log
from workspace.selectors_rounds import outbox_queryset
from workspace.services import mail
from workspace.services import panel as panel_services
from workspace.services.outbox import outbox_enabled


def _queued(messages: list[Message], code: int = status.HTTP_201_CREATED) -> Response:
    return Response(QueuedSerializer({"queued": len(messages), "messages": messages}).data,
                    status=code)


class Invitations(StudyView):
    """Email invitations, each with a new personal link (the links an expert holds keep working)."""

    serializer_class = QueuedSerializer
    queryset = Expert.objects.none()

    @extend_schema(request=InvitationsInputSerializer,
                   responses={201: QueuedSerializer, **WRITE_ERRORS},
                   description="Without `experts`: invite every active expert never invited "
                               "(again: nobody is invited twice). With `experts`: send them a new "
                               "invitation; with the same `key` again, nothing is sent twice.")
    def post(self, request, slug):
        data = InvitationsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("experts")
        experts = None
        if ids is not None:
            found = {e.pk: e for e in self.study.experts.filter(pk__in=ids)}
            unknown = sorted(set(ids) - set(found))
            if unknown:
                raise ServiceError(_("Unknown experts."), field_errors={
                    "experts": ", ".join(map(str, unknown))})
            experts = [found[pk] for pk in dict.fromkeys(ids)]
        queued = mail.invitations_send(study=self.study, actor=request.user, experts=experts,
                                       nonce=data.validated_data.get("key", ""))
        return _queued(queued)


class RoundRemind(StudyView):
    """Remind the round's active experts who have not submitted, now, by email."""

    serializer_class = QueuedSerializer
    queryset = Expert.objects.none()

    @extend_schema(request=RemindInputSerializer, responses={201: QueuedSerializer, **WRITE_ERRORS},
                   description="Only while the round is open. A key already used sends nothing "
                               "(queued 0); within MANUAL_REMINDER_WINDOW (10 minutes) of a "
                               "reminder that reached someone, another is refused with 409.")
    def post(self, request, slug, number):
        round_ = one(self.study.rounds, number=number)
        data = RemindInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queued = mail.reminder_send_now(round_=round_, actor=request.user,
                                        nonce=data.validated_data["key"])
        return _queued(queued)


class MessageFilter(filters.FilterSet):
    class Meta:
        model = Message
        fields = ["status", "kind"]


class MessageList(StudyView):
    """The send log, newest first: invitations and reminders, sent or failed (with the error)."""

    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    read_roles = write_roles = WRITE  # it names the recipients
    queryset = Message.objects.none()

    def get_queryset(self):
        return message_log(self.study)

    @extend_schema(responses={200: MessageSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        return self.paginated(self.filter_queryset(self.get_queryset()), MessageSerializer)


class MessageRetry(StudyView):
    """Send a failed email again (under a new key; the failed one stays in the log)."""

    serializer_class = MessageSerializer
    read_roles = write_roles = WRITE
    queryset = Message.objects.none()

    @extend_schema(request=None, responses={201: MessageSerializer, **WRITE_ERRORS})
    def post(self, request, slug, pk):
        message = one(message_log(self.study), pk=pk)
        retry = mail.message_retry(message=message, actor=request.user)
        if retry is None:  # this attempt's key was queued already by a concurrent request
            raise ServiceError(_("The message is queued again already."))
        return Response(MessageSerializer(retry).data, status=status.HTTP_201_CREATED)


class OutboxList(StudyView):
    """The outbox, newest first: each message as the expert received it (subject, body with
    their personal link, language), owners and organizers only. Only where no mail leaves the
    machine or DEBUG is on (settings.AGORA_OUTBOX); in production 404."""

    serializer_class = OutboxSerializer
    read_roles = write_roles = WRITE  # the bodies hold the experts' links
    queryset = OutboxMessage.objects.none()

    @extend_schema(responses={200: OutboxSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        if not outbox_enabled():
            raise Http404
        return self.paginated(outbox_queryset(self.study), OutboxSerializer)


class PanelImport(StudyView):
    """Add experts from a CSV (name, email, group, language): every row is checked; a problem in
    any row adds nobody (400, each problem by line); emails already on the panel are skipped."""

    serializer_class = PanelImportSerializer
    queryset = Expert.objects.none()

    @extend_schema(request=PanelImportInputSerializer,
                   responses={200: PanelImportSerializer, 201: PanelImportSerializer,
                              **WRITE_ERRORS},
                   description="With `dry_run` nothing is added (200); otherwise 201.")
    def post(self, request, slug):
        data = PanelImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        content = data.validated_data["content"].encode("utf-8")
        dry = data.validated_data["dry_run"]
        service = panel_services.panel_csv_read if dry else panel_services.panel_csv_import
        result = service(study=self.study, content=content,
                         **({} if dry else {"actor": request.user}))
        if result.problems:
            raise ServiceError(_("The file has problems; nobody was added."),
                               field_errors={"content": result.problems})
        body = PanelImportSerializer(result).data
        return Response(body, status=status.HTTP_200_OK if dry else status.HTTP_201_CREATED)
