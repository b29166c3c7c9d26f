"""The outbox: the messages sent to the study's panel, as each expert received them.

Only where settings.AGORA_OUTBOX is on (never in production), and only for the study's owners
and organizers: the bodies carry personal links, with which one could answer as the expert.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from workspace.selectors import study_for_organizer
from workspace.selectors_rounds import OUTBOX_SHOWN, outbox_messages
from workspace.services.outbox import outbox_enabled


@login_required
def outbox_page(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    if not outbox_enabled():
        raise Http404
    return render(request, "workspace/outbox.html", {
        "study": study, "entries": outbox_messages(study), "shown": OUTBOX_SHOWN})
