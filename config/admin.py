"""The Django admin, for the operator's superuser only.

Organizers and analysts work in the workspace and the API, where study roles, locks and the
audit log hold; the admin knows none of them, so it is closed to everyone else (a staff user who
is not a superuser is sent to its login page and never sees a model page). It manages accounts
(users, groups, login lockouts); no study data is registered in it (surveys/admin.py).
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class SuperuserAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)


class SuperuserAdminConfig(AdminConfig):
    default_site = "config.admin.SuperuserAdminSite"
