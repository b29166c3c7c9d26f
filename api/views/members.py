"""The study's staff: owners give staff users a role, change it or take it away (the workspace's
team page); a study always keeps at least one owner."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.permissions import OWNER, READ
from api.serializers.studies import MemberCreateSerializer, MemberRoleSerializer, MemberSerializer
from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView, errors, one
from surveys.models import StudyMember
from workspace.services import members


class MemberList(StudyView):
    """Staff with a role in the study; owners add members."""

    serializer_class = MemberSerializer
    read_roles, write_roles = READ, OWNER
    queryset = StudyMember.objects.none()

    @extend_schema(responses={200: MemberSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        staff = self.study.members.select_related("user").order_by("user__username")
        return self.paginated(staff, MemberSerializer)

    @extend_schema(request=MemberCreateSerializer, responses={201: MemberSerializer, **WRITE_ERRORS},
                   description="Give an active staff user a role in the study (or change it).")
    def post(self, request, slug):
        data = MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = members.member_grant(study=self.study, actor=request.user, **data.validated_data)
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberDetail(StudyView):
    serializer_class = MemberSerializer
    read_roles, write_roles = READ, OWNER
    queryset = StudyMember.objects.none()

    def get_member(self, pk: int) -> StudyMember:
        return one(self.study.members.select_related("user", "study"), pk=pk)

    @extend_schema(request=MemberRoleSerializer, responses={200: MemberSerializer, **WRITE_ERRORS},
                   description="Change the member's role; the last owner keeps theirs (400).")
    def patch(self, request, slug, pk):
        member = self.get_member(pk)
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = members.member_grant(study=self.study, username=member.user.get_username(),
                                      role=data.validated_data["role"], actor=request.user)
        return Response(MemberSerializer(member).data)

    @extend_schema(responses={204: None, **errors(400, 401, 403, 404, 429)},
                   description="Take the role away; the last owner stays (400).")
    def delete(self, request, slug, pk):
        members.member_revoke(member=self.get_member(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
