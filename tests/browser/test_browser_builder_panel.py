"""In Chromium: the item form shows only the chosen kind's fields as the kind changes, and the
panel page's search narrows a list of 40 experts."""

import re

import pytest

from tests.conftest import ROOT
from tests.workspace_helpers import make_experts

ARTIFACTS = ROOT / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
KIND_FIELDS = ["dimensions", "min", "max", "decimals", "unit_en", "options"]
AXE = ROOT / "tests" / "vendor" / "axe-4.14.1.min.js"


def _login(page, url, user) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("[name='username']", user.username)
    page.fill("[name='password']", f"{user.username}-pw-123")
    page.press("[name='password']", "Enter")
    page.wait_for_url(re.compile(r"/$"))


def _serious_violations(page, selectors: list[str]) -> list[dict]:
    """axe-core's serious and critical findings inside the given parts of the page."""
    page.evaluate(AXE.read_text())  # through the devtools protocol: the page's CSP stays on
    result = page.evaluate("""async (parts) => {
        const r = await axe.run({include: parts.map(p => [p])},
                                {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, n: v.nodes.length}));
    }""", selectors)
    return [v for v in result if v["impact"] in {"serious", "critical"}]


def _visible(page) -> set[str]:
    return {name for name in KIND_FIELDS
            if page.locator(f".ws-item-form [name='{name}']").first.is_visible()}


def test_switching_the_kind_shows_only_its_fields(page, live_server, study, organizer):
    _login(page, live_server.url, organizer)
    page.goto(f"{live_server.url}/studio/{study.slug}/build/item/")
    assert not page.locator(".ws-kind-show").is_visible()  # the script switches the fields
    expected = {"agreement": set(), "dimensions": {"dimensions"}, "year": {"min", "max", "unit_en"},
                "numeric": {"min", "max", "decimals", "unit_en"}, "ranking": {"options"},
                "probability": set(), "open": set()}
    for kind, fields in expected.items():
        page.select_option("[name='kind']", kind)
        assert _visible(page) == fields, kind
        assert page.get_by_text("This kind needs no further settings.").is_visible() == (
            not fields)
    page.select_option("[name='kind']", "numeric")
    page.fill("[name='code']", "agree")  # taken: the error stands beside the code
    page.fill("[name='text_en']", "Installed capacity in 2035")
    page.fill("[name='text_ru']", "Установленная мощность в 2035 году")
    page.click("button:has-text('Save the item')")
    page.wait_for_selector(".errorlist")
    assert "Another item of this study already has this code." in page.locator(
        "[name='code'] ~ .errorlist").inner_text()
    assert "Required for this kind of item" in page.locator("[name='min'] ~ .errorlist").inner_text()
    assert _visible(page) == {"min", "max", "decimals", "unit_en"}
    assert _serious_violations(page, [".ws-item-form"]) == []
    page.fill("[name='code']", "capacity")
    page.fill("[name='text_en']", "Installed capacity in 2035")
    page.fill("[name='text_ru']", "Установленная мощность в 2035 году")
    page.fill("[name='min']", "0")
    page.fill("[name='max']", "100")
    page.fill("[name='decimals']", "1")
    page.click("button:has-text('Save the item')")
    page.wait_for_selector("#item-capacity")
    assert study.items.get(code="capacity").decimals == 1


def test_panel_search_narrows_the_list(page, live_server, study, organizer):
    make_experts(study, [(f"Expert{n:02}", ("RU", "US", "WE")[n % 3], "en") for n in range(40)]
                 + [("Zoya", "RU", "ru")])
    _login(page, live_server.url, organizer)
    page.goto(f"{live_server.url}/studio/{study.slug}/panel/")
    rows = page.locator("table.ws-panel tbody tr")
    assert rows.count() == 25 and page.locator(".ws-pager").is_visible()
    page.fill("#panel-q", "zoya")
    page.press("#panel-q", "Enter")
    page.wait_for_url(re.compile(r"q=zoya"))
    assert rows.count() == 1 and "Zoya" in rows.first.inner_text()
    assert "1 expert of 41 matches." in page.locator("#panel-counts").inner_text()
    page.select_option("#panel-group", "US")
    page.fill("#panel-q", "")
    page.click(".ws-panel-filter button")
    page.wait_for_url(re.compile(r"in_group=US"))
    assert rows.count() == 13
    assert _serious_violations(page, [".ws-panel-filter", "#panel-counts"]) == []
    page.screenshot(path=str(ARTIFACTS / "panel-filtered-1280.png"), full_page=True)
