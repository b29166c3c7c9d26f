"""Two web nodes, as behind a load balancer: a survey respondent moves between two gunicorn
masters (two ports, one PostgreSQL) at every step, one node is stopped mid-survey, and the
respondent finishes on the other with every answer kept. Nothing is node-local: the survey's
browser cookie finds the entry in the database, and the CSRF cookie is checked by any node.

platform/nginx-two-nodes.conf puts nginx in front of two such masters; nginx is not needed here
(CI does not install it), since what is proved is that either node serves any step."""

import re

import httpx
import pytest

from surveys.models import Answer, Entry, Response
from tests.processes import production_env, start_gunicorn, static_root
from tests.surveys.fielding_helpers import PAGES, collector, survey_load

__all__ = ["static_root"]  # a fixture, used by name

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _version(html: str) -> str:
    return re.search(r'name="version"[^>]*value="(\d+)"', html).group(1)


@pytest.fixture
def two_nodes(static_root):
    """Two gunicorn masters with one environment (one secret key, one database)."""
    from tests.conftest import _database_url

    env = production_env(static_root, DATABASE_URL=_database_url())
    nodes = [start_gunicorn(f"survey-node-{n}", env, workers=1) for n in (1, 2)]
    try:
        yield nodes
    finally:
        for web, _url in nodes:
            web.stop()


def test_a_respondent_moves_between_two_nodes_and_loses_nothing_when_one_stops(two_nodes):
    (web_a, a), (_web_b, b) = two_nodes
    study = survey_load("two-nodes")
    token = collector(study).token
    client = httpx.Client(timeout=60)  # one browser: its cookies go to both nodes (one host)
    try:
        opened = client.get(f"{a}/s/{token}/?pid=moving-1")
        assert opened.status_code == 200 and "agora_survey" in client.cookies
        csrf = _csrf(opened.text)
        consented = client.post(f"{b}/s/{token}/consent/",
                                data={"csrfmiddlewaretoken": csrf, "choice": "agree", "version": "v1"})
        assert consented.status_code == 302, consented.text[-500:]
        screened = client.post(f"{a}/s/{token}/screening/",
                               data={"csrfmiddlewaretoken": csrf, "s-role": "expert"})
        assert screened.headers["location"] == f"/s/{token}/page/1/"
        page = client.get(f"{b}/s/{token}/page/1/")
        saved = client.post(f"{a}/s/{token}/page/1/", data={
            **PAGES[1], "csrfmiddlewaretoken": csrf, "version": _version(page.text),
            "action": "next"})
        assert saved.headers["location"] == f"/s/{token}/page/2/"

        web_a.stop()  # node A goes away mid-survey; the respondent goes on with node B

        resumed = client.get(f"{b}/s/{token}/")
        assert resumed.headers["location"] == f"/s/{token}/page/2/"
        back = client.get(f"{b}/s/{token}/page/1/")
        assert 'value="4" checked' in back.text  # page 1, saved through node A
        page = client.get(f"{b}/s/{token}/page/2/")
        done = client.post(f"{b}/s/{token}/page/2/", data={
            **PAGES[2], "csrfmiddlewaretoken": csrf, "version": _version(page.text),
            "action": "finish"})
        assert done.headers["location"] == "https://panel.example.org/done?study=7&pid=moving-1"
    finally:
        client.close()

    entry = Entry.objects.get(collector__study=study)
    assert (entry.external_id, entry.status, entry.pages_done) == ("moving-1", "completed", 2)
    response = Response.objects.get(expert=entry.expert)
    assert response.status == Response.Status.SUBMITTED
    rows = set(Answer.objects.filter(response=response).values_list(
        "item__code", "dimension", "value", "text"))
    assert rows == {("agree", "", 4.0, ""), ("dims", "desirability", 3.0, ""),
                    ("dims", "feasibility", 2.0, ""), ("prob", "", 40.0, ""),
                    ("year", "", 2030.0, ""), ("rank", "a", 1.0, ""), ("rank", "b", 2.0, ""),
                    ("rank", "c", 3.0, ""), ("open", "", None, "A comment")}
