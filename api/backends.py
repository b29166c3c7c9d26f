"""Staff-login lockout (django-axes) as the first authentication backend."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every login that comes with a request (the login page,
    the admin, the API). authenticate() without a request (the test client's login(), shell
    scripts) cannot come from the network and is passed on to the next backend unchecked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
