"""Every expert and staff page in Debian's Chromium at 375 and 1280 px, in English and Russian:
no page scrolls sideways (a wide table scrolls inside its own box), axe-core finds nothing
serious or critical, and a screenshot of each is kept as a test artifact."""

import os
from pathlib import Path

import pytest
from django.test import Client

from surveys.services.aggregation import round_aggregate
from surveys.services.panel import expert_issue_token
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from tests.conftest import ROOT, small_study_data
from tests.surveys.test_reports import answer_round

ARTIFACTS = Path(os.environ.get("AGORA_ARTIFACTS") or ROOT / "test-artifacts") / "layout"
WIDTHS = (375, 1280)
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The elements wider than the viewport, deepest first, named so a failure says what to fix.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth, found = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 0.5) continue;
    // Inside a box that scrolls or clips, it does not widen the page; but an absolutely placed
    // element escapes every box up to its containing block (an sr-only header in a scroll box).
    const absolute = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (absolute && !(el.offsetParent && p.contains(el.offsetParent))) continue;
      if (style.overflowX !== 'visible' && p.getBoundingClientRect().right <= width + 0.5) {
        clipped = true; break;
      }
    }
    if (clipped || [...el.children].some(c => c.getBoundingClientRect().right > width + 0.5)) continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.classList.length ? '.' + [...el.classList].join('.') : '');
    found.push(`${name} (right edge ${Math.round(box.right)} px) "${el.textContent.trim().slice(0, 40)}"`);
  }
  return found.slice(0, 8);
}"""


@pytest.fixture
def study(db):
    """The small study (one item of every kind) with the long words real items have: Russian
    ranking options and texts are what overflowed a phone first."""
    from surveys.services.studies import study_load

    data = small_study_data()
    long_ru = ("Совместная система раннего предупреждения о ракетных пусках с круглосуточным "
               "обменом данными и противоракетновзаимодействующими центрами")
    for theme in data["themes"]:
        for item in theme["items"]:
            item["text"] = {"en": "Joint early-warning centres exchange launch data in real time "
                                  "(internationally-coordinated-notification) " * 2,
                            "ru": long_ru}
            for option in item.get("options", []):
                option["text"] = {"en": option["text"]["en"] + ": a joint data-exchange centre",
                                  "ru": option["text"]["ru"] + ": " + long_ru}
    return study_load(data=data)


class Checker:
    """Loads pages at both widths, screenshots them, and collects every problem found."""

    def __init__(self, browser, live_server):
        from axe_playwright_python.sync_playwright import Axe

        self.browser, self.url, self.axe = browser, live_server.url, Axe()
        self.problems: list[str] = []
        self.checked = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def context(self, language: str, session: str = ""):
        context = self.browser.new_context(viewport={"width": WIDTHS[0], "height": 800})
        cookies = [{"name": "django_language", "value": language, "url": self.url}]
        if session:
            cookies.append({"name": "sessionid", "value": session, "url": self.url})
        context.add_cookies(cookies)
        return context

    def check(self, page, path: str, name: str, language: str, *, load: bool = True,
              status: int = 200) -> None:
        if load:
            response = page.goto(self.url + path)
            if response is None or response.status != status:
                got = response.status if response else "no response"
                self.problems.append(f"{name} [{language}]: {path} answered {got}")
                return
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                self.problems.append(f"{name} [{language}] at {width} px is {scroll_width} px wide: "
                                     + "; ".join(page.evaluate(OVERFLOWING)))
            page.screenshot(path=str(ARTIFACTS / f"{name}-{language}-{width}.png"), full_page=True)
        self.accessibility(page, name, language)
        self.checked += 1

    def accessibility(self, page, name: str, language: str) -> None:
        results = self.axe.run(page, options={"resultTypes": ["violations"], "runOnly": [
            "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]})
        for violation in results.response["violations"]:
            if violation["impact"] in {"serious", "critical"}:
                targets = ", ".join(str(n["target"][0]) for n in violation["nodes"][:4])
                self.problems.append(f"{name} [{language}] axe {violation['impact']} "
                                     f"{violation['id']}: {targets}")


def _staff_session(study) -> str:
    from django.contrib.auth import get_user_model

    from surveys.services.panel import member_add

    user = get_user_model().objects.create_user(username="olga", password="olga-pw-123")
    member_add(study=study, user=user, role="owner")  # the owner also sees the audit log
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _expert_pages(checker, expert, language: str, round_number: int) -> None:
    context = checker.context(language)
    page = context.new_page()
    page.goto(f"{checker.url}/e/{expert_issue_token(expert=expert)}/")
    assert page.url == f"{checker.url}/q/"
    prefix = f"expert-round{round_number}"
    checker.check(page, "/q/", prefix + "-questionnaire", language, load=False)
    if round_number == 2:
        page.locator("details.rationales summary, .rationales summary").first.click()
        checker.check(page, "/q/", prefix + "-arguments-open", language, load=False)
    checker.check(page, "/q/?confirm=1", prefix + "-confirm", language)
    checker.check(page, "/q/?submitted=1", prefix + "-submitted", language)
    context.close()


def test_every_page_fits_a_phone_and_a_desktop_without_serious_accessibility_violations(
        browser, live_server, study, round1, alice, bob):
    checker = Checker(browser, live_server)
    type(study).objects.filter(pk=study.pk).update(min_cell=1)
    organizer_session = _staff_session(study)

    # Round 1, no feedback yet: one item of every kind (small_study_data), in both languages.
    for expert, language in ((alice, "en"), (bob, "ru")):
        _expert_pages(checker, expert, language, 1)
    for language in ("en", "ru"):  # a visitor without a session (link lost, cookie gone)
        nobody = checker.context(language).new_page()
        checker.check(nobody, "/q/", "expert-no-session", language, status=403)
        nobody.context.close()

    answer_round(study, round1)
    for expert, year, prob, order in ((alice, 2030, 20, (1, 2, 3)), (bob, 2045, 60, (3, 1, 2))):
        response_submit(expert=expert, round_=round1, answers={
            "agree": ItemAnswer(values={"": 2}, rationale="Joint early warning first."),
            "prob": ItemAnswer(values={"": prob}), "year": ItemAnswer(values={"": year}),
            "rank": ItemAnswer(values=dict(zip("abc", order, strict=True)))})
    round_close(round_=round1)
    round_aggregate(round_id=round1.pk)
    round2 = round_open(round_=round_create(study=study))

    # Round 2: the panel's feedback beside every item.
    for expert, language in ((alice, "en"), (bob, "ru")):
        _expert_pages(checker, expert, language, 2)

    slug = study.slug
    staff_pages = {
        "home": "/", "workspace-home": "/studio/",
        "dashboard": f"/studio/{slug}/", "rules": f"/studio/{slug}/rules/",
        "protocol": f"/studio/{slug}/protocol/",
        "audit": f"/studio/{slug}/audit/", "builder": f"/studio/{slug}/build/",
        "builder-item": f"/studio/{slug}/build/item/rank/", "builder-new-item": f"/studio/{slug}/build/item/",
        "item-history": f"/studio/{slug}/build/item/agree/history/",
        "team": f"/studio/{slug}/team/", "panel": f"/studio/{slug}/panel/",
        "rounds": f"/studio/{slug}/rounds/", "round-1": f"/studio/{slug}/rounds/1/",
        f"round-{round2.number}": f"/studio/{slug}/rounds/{round2.number}/",
        "preview": f"/studio/{slug}/rounds/{round2.number}/preview/",
        "study-overview": f"/studies/{slug}/", "report": f"/studies/{slug}/reports/1/",
    }
    for language in ("en", "ru"):
        context = checker.context(language, organizer_session)
        page = context.new_page()
        for name, path in staff_pages.items():
            checker.check(page, path, "staff-" + name, language)
        context.close()
    for language in ("en", "ru"):
        login = checker.context(language).new_page()
        checker.check(login, "/accounts/login/", "staff-login", language)
        login.context.close()

    assert checker.problems == [], "\n".join(checker.problems)
    assert checker.checked == 2 * (3 + 1 + 4 + len(staff_pages) + 1)

