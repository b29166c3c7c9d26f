"""OpenAPI descriptions of our authentication schemes (drf-spectacular extensions)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A staff user's personal API token (agd_…), made at /account/tokens/."}


class InvitationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ExpertTokenAuthentication"
    name = "invitationToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Invitation-Token",
                "description": "The token from an expert's personal link (/e/<token>/)."}
