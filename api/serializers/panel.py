"""Shapes of the panel: organizers see who the experts are, analysts only pseudonyms."""

from rest_framework import serializers

from api.models import ApiToken
from api.services.tokens import DEFAULT_LIFETIME_DAYS, MAX_LIFETIME_DAYS
from surveys.models import Expert


class ExpertSerializer(serializers.ModelSerializer):
    """For the study's owners and organizers."""

    group = serializers.SlugRelatedField(slug_field="code", read_only=True)
    invited = serializers.SerializerMethodField(help_text="Whether a personal link is active.")

    class Meta:
        model = Expert
        fields = ["id", "name", "email", "group", "language", "invited", "token_issued_at",
                  "withdrawn_at", "created_at"]
        read_only_fields = fields

    def get_invited(self, expert: Expert) -> bool:
        live = getattr(expert, "has_live_link", None)  # annotated by the list (one query)
        return live if live is not None else expert.links.filter(revoked_at__isnull=True).exists()


class ExpertPseudonymSerializer(serializers.Serializer):
    """For analysts: a stable per-study pseudonym, the group and whether they are still in."""

    pseudonym = serializers.CharField()
    group = serializers.CharField()
    withdrawn = serializers.BooleanField()


class ExpertCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField()
    group = serializers.CharField(max_length=20, help_text="Stakeholder group code.")
    language = serializers.ChoiceField(choices=["en", "ru"], required=False,
                                       help_text="Default: the study's default language.")
    invite = serializers.BooleanField(required=False, default=False,
                                      help_text="Email the invitation now.")


class InvitationSerializer(serializers.Serializer):
    link = serializers.URLField(help_text="The expert's personal link; shown once.")
    token = serializers.CharField()


class ApiTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    prefix = serializers.CharField(read_only=True)
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, default=ApiToken.Scope.READ,
                                    help_text="`read`: GET only (any write answers 403); "
                                              "`write`: read and write. Default `read`.")
    expires_in_days = serializers.IntegerField(
        write_only=True, min_value=1, max_value=MAX_LIFETIME_DAYS, default=DEFAULT_LIFETIME_DAYS,
        help_text=f"Lifetime in days, 1 to {MAX_LIFETIME_DAYS}; default {DEFAULT_LIFETIME_DAYS}.")
    created_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret; shown only now.")
