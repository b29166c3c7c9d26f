"""The report's statistics across items (#ranking, #groups, #dissent): hand-worked Kendall's W
and mean ranks per round, group tests with Holm and Benjamini-Hochberg (checked against
statsmodels), the heat map as a shaded HTML table, and the dissent register's three sides."""

import math
import re
from pathlib import Path

import pytest
from statsmodels.stats.multitest import multipletests

from surveys.reports.data import report_data
from surveys.reports.render import report_html
from surveys.reports.statistics import heat_class
from surveys.services.aggregation import round_aggregate
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open

pytestmark = pytest.mark.django_db

GROUPS = ["RU", "RU", "RU", "US", "US", "WE", "WE"]
# agree: one agrees (4), six are neutral (3), nobody disagrees: one empty side, mostly neutral.
AGREE = [3, 3, 3, 3, 3, 4, 3]
AGREE_REASONS = ["Hard to say.", "", "", "", "", "Costs will fall.", ""]
# desirability: 4 agree, 2 disagree (1 2), 1 neutral; feasibility: 3 disagree, 3 agree, 1
# neutral (a tie for the largest side). dims has one rationale per expert for both dimensions.
DESIRABILITY = [4, 4, 4, 4, 1, 2, 3]
FEASIBILITY = [1, 1, 1, 5, 5, 5, 3]
DIMS_REASONS = ["Wanted.", "", "", "", "Not wanted.", "Not wanted.", "Unsure."]
# rank, round 1, four experts ranking a, b, c (1 = first):
#   E0 1 2 3, E1 1 3 2, E2 2 1 3, E3 1 2 3. Rank sums a 5, b 8, c 11; their mean m (n + 1) / 2 =
#   4 x 4 / 2 = 8; S = 3² + 0² + 3² = 18. W = 12 S / (m² (n³ - n)) = 216 / (16 x 24) = 0.5625;
#   chi² = m (n - 1) W = 4 x 2 x 0.5625 = 4.5 on n - 1 = 2 df; p = e^(-4.5/2) = e^-2.25.
#   Mean ranks a 5/4 = 1.25, b 8/4 = 2, c 11/4 = 2.75.
# Round 2: all four rank 1 2 3: rank sums 4 8 12, S = 32, W = 384 / 384 = 1, chi² = 8, p = e^-4.
RANKS_1 = [{"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 3, "c": 2}, {"a": 2, "b": 1, "c": 3},
           {"a": 1, "b": 2, "c": 3}]
RANKS_2 = [{"a": 1, "b": 2, "c": 3}] * 4


def _submit(experts, round_, ranks) -> None:
    for k, expert in enumerate(experts):
        answers = {
            "agree": ItemAnswer(values={"": AGREE[k]}, rationale=AGREE_REASONS[k]),
            "dims": ItemAnswer(values={"desirability": DESIRABILITY[k],
                                       "feasibility": FEASIBILITY[k]}, rationale=DIMS_REASONS[k]),
        }
        if k < len(ranks):
            answers["rank"] = ItemAnswer(values=ranks[k])
        response_submit(expert=expert, round_=round_, answers=answers)


def _aggregated(round_):
    round_close(round_=round_)
    round_aggregate(round_id=round_.pk)
    round_.refresh_from_db()
    return round_


@pytest.fixture
def experts(study):
    return [expert_create(study=study, name=f"Panelist {k}", email=f"p{k}@example.org",
                          group_code=g) for k, g in enumerate(GROUPS)]


@pytest.fixture
def first(round1, experts):
    _submit(experts, round1, RANKS_1)
    return _aggregated(round1)


@pytest.fixture
def second(first, experts):
    round2 = round_open(round_=round_create(study=first.study))
    _submit(experts, round2, RANKS_2)
    return _aggregated(round2)


# --- #ranking ---------------------------------------------------------------------------------


def test_kendalls_w_and_mean_ranks_per_ranking_item_and_round(second):
    [rank] = report_data(second)["ranking"]
    assert (rank["label"], rank["numbers"]) == ("rank", [1, 2])
    one, two = rank["rounds"]
    assert (one["w"], one["chi2"], one["df"], one["n"]) == (pytest.approx(0.5625), pytest.approx(4.5),
                                                            2, 4)
    assert one["p"] == pytest.approx(math.exp(-2.25))
    assert (two["w"], two["chi2"], two["n"]) == (pytest.approx(1), pytest.approx(8), 4)
    assert two["p"] == pytest.approx(math.exp(-4))
    # Options by their mean rank in the latest round (a 1, b 2, c 3), named by their text.
    assert [(o["text"], o["ranks"]) for o in rank["options"]] == [
        ("Option A", [1.25, 1]), ("Option B", [2, 2]), ("Option C", [2.75, 3])]


def test_the_ranking_section_shows_the_option_texts_and_every_round(second):
    html = report_html(second, standalone=True)
    section = html.split('<section id="ranking">', 1)[1].split("</section>", 1)[0]
    assert "Option A" in section and "Round 2" in section
    # W 0.5625 to three places (half up): 0.563; n is a whole number.
    assert "0.563" in section and "4.50" in section and "1.25" in section
    assert ">4</td><td class=\"num\">4</td></tr>" in section


# --- #groups ----------------------------------------------------------------------------------


def test_group_tests_are_adjusted_over_the_rounds_family_as_statsmodels_does(first):
    comparison = report_data(first)["comparison"]
    rows = comparison["rows"]
    assert [r["label"] for r in rows] == ["agree", "dims/desirability", "dims/feasibility"]
    p = [r["p"] for r in rows]
    assert all(value is not None for value in p)
    assert [r["p_holm"] for r in rows] == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert [r["p_bh"] for r in rows] == pytest.approx(list(multipletests(p, method="fdr_bh")[1]))
    note = comparison["note"]
    assert (note["tests"], note["alpha"]) == (3, 0.05)
    assert note["raw"] == sum(value < 0.05 for value in p)
    assert note["holm"] <= note["bh"] <= note["raw"]
    # agree: RU 3 3 3, US 3 3, WE 4 3 -> medians 3, 3, 3.5; shades heat-30, heat-30, heat-35.
    assert rows[0]["cells"] == [(3, "heat-30"), (3, "heat-30"), (3.5, "heat-35")]
    # Kruskal-Wallis on agree: six 3s share rank 3.5, the 4 has rank 7; rank sums RU 10.5,
    # US 7, WE 10.5. H = 12 / (7 x 8) x (10.5²/3 + 7²/2 + 10.5²/2) - 3 x 8 = 24.9375 - 24 =
    # .9375, over the tie correction 1 - (6³ - 6) / (7³ - 7) = .375: H = 2.5; p = e^(-2.5/2).
    assert rows[0]["test"] == "kruskal-wallis"
    assert (rows[0]["statistic"], rows[0]["p"]) == (pytest.approx(2.5), pytest.approx(math.exp(-1.25)))
    # Holm by hand on the three p (.2865 agree, .1991 desirability, .0639 feasibility): sorted
    # 3 x .0639 = .1918, 2 x .1991 = .3981, 1 x .2865 -> running max .3981.
    assert rows[0]["p_holm"] == pytest.approx(2 * p[1]) and rows[2]["p_holm"] == pytest.approx(3 * p[2])


def test_heat_classes_bin_the_median_to_half_points():
    assert [heat_class(v) for v in (1, 1.2, 1.3, 2.5, 4.74, 5, None)] == [
        "heat-10", "heat-10", "heat-15", "heat-25", "heat-45", "heat-50", "heat-none"]


def test_the_heat_map_is_an_html_table_with_full_group_names_and_no_image(first):
    html = report_html(first, standalone=True)
    section = html.split('<section id="groups">', 1)[1].split("</section>", 1)[0]
    assert "<img" not in section and '<table class="heatmap">' in section
    assert '<th scope="col" class="group-name">Western Europe</th>' in section
    assert '<td class="heat heat-35">3.5</td>' in section
    assert "family is all 3 group tests of this round's rated items" in section


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _heat_block(path: Path) -> str:
    text = path.read_text()
    return text[text.index("/* groups heat map */"):text.index("/* end groups heat map */")]


def test_every_shade_has_text_of_at_least_4_5_to_1_contrast_in_both_stylesheets():
    root = Path(__file__).resolve().parents[2] / "surveys"
    site = _heat_block(root / "static" / "surveys" / "site.css")
    standalone = _heat_block(root / "templates" / "surveys" / "reports" / "standalone.html")
    assert site == standalone
    shades = re.findall(r"\.(heat-\w+) \{ background: (#\w{6}); color: (#\w{6}); \}", site)
    assert {name for name, _, _ in shades} == {heat_class(v / 2) for v in range(2, 11)} | {
        "heat-none"}
    for name, background, text in shades:
        light, dark = sorted([_luminance(background), _luminance(text)], reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, name


# --- #dissent ---------------------------------------------------------------------------------


def _sides(dissent) -> dict[str, tuple[int, bool, list[str]]]:
    return {s.key: (s.size, s.minority, s.rationales) for s in dissent.sides}


def test_an_item_with_one_empty_side_and_mostly_neutral_answers_is_listed(first):
    register = {d.label: d for d in report_data(first)["dissent"]}
    agree = register["agree"]
    # 1 agrees, 6 neutral, 0 disagree: the largest side is neutral; the one minority side is
    # agree (disagree is empty); its rationale, not the neutral expert's.
    assert _sides(agree) == {"agree": (1, True, ["Costs will fall."]), "neutral": (6, False, []),
                             "disagree": (0, False, [])}
    assert agree.mostly_neutral and agree.majority.key == "neutral" and agree.n == 7
    assert [(g.name, g.agree, g.neutral, g.disagree) for g in agree.by_group] == [
        ("Russia", 0, 3, 0), ("United States", 0, 2, 0), ("Western Europe", 1, 1, 0)]


def test_both_sides_present_lists_every_minority_with_its_rationales(first):
    register = {d.label: d for d in report_data(first)["dissent"]}
    desirability = register["dims/desirability"]
    # 4 agree (RU RU RU US), 2 disagree (US 1, WE 2), 1 neutral (WE 3): agree is the largest;
    # minorities disagree (two identical rationales, shown once) and neutral.
    assert _sides(desirability) == {"agree": (4, False, []),
                                    "neutral": (1, True, ["Unsure."]),
                                    "disagree": (2, True, ["Not wanted."])}
    assert not desirability.mostly_neutral and desirability.majority.key == "agree"
    assert [(g.name, g.agree, g.neutral, g.disagree) for g in desirability.by_group] == [
        ("Russia", 3, 0, 0), ("United States", 1, 0, 1), ("Western Europe", 0, 1, 1)]
    # feasibility: 3 disagree (RU RU RU), 3 agree (US US WE), 1 neutral (WE): agree and
    # disagree tie for the largest, so no side is a majority and every side is a minority.
    feasibility = register["dims/feasibility"]
    assert feasibility.majority is None
    assert _sides(feasibility) == {"agree": (3, True, ["Not wanted."]),
                                   "neutral": (1, True, ["Unsure."]),
                                   "disagree": (3, True, ["Wanted."])}


def test_the_issues_cases_one_empty_side_and_a_neutral_majority_with_both_sides(round1, study):
    """The issue's two items of 28 answers: arch-1/importance (1 agree, 0 disagree, 27 neutral:
    was skipped) and one with 3 agree, 6 disagree and 19 neutral (was "Minority: 3 of 28
    agree")."""
    agree = [4] * 3 + [1] * 6 + [3] * 19
    desirability = [5] + [3] * 27
    for k in range(28):
        expert = expert_create(study=study, name=f"Voter {k}", email=f"v{k}@example.org",
                               group_code=GROUPS[k % 7])
        response_submit(expert=expert, round_=round1, answers={
            "agree": ItemAnswer(values={"": agree[k]}, rationale=f"Reason {agree[k]}."),
            "dims": ItemAnswer(values={"desirability": desirability[k], "feasibility": 4})})
    register = {d.label: d for d in report_data(_aggregated(round1))["dissent"]}
    assert _sides(register["dims/desirability"]) == {
        "agree": (1, True, []), "neutral": (27, False, []), "disagree": (0, False, [])}
    both = register["agree"]
    assert _sides(both) == {"agree": (3, True, ["Reason 4."]), "neutral": (19, False, []),
                            "disagree": (6, True, ["Reason 1."])}
    assert both.mostly_neutral and both.majority.key == "neutral"
    html = report_html(round1, standalone=True)
    assert "Minority: agree, 3 of 28; disagree, 6 of 28." in html
    assert "Most answers (19 of 28) are neutral." in html
    assert "Most answers (27 of 28) are neutral." in html


def test_the_register_says_so_in_words(first):
    html = report_html(first, standalone=True)
    section = html.split('<section id="dissent">', 1)[1].split("</section>", 1)[0]
    assert "Most answers (6 of 7) are neutral." in section
    assert "Largest side: neutral, 6 of 7." in section and "Minority: agree, 1 of 7." in section
    assert "Minority: neutral, 1 of 7; disagree, 2 of 7." in section
    assert "No side is larger than the others." in section
    assert "Panelist" not in section and "@example.org" not in section


def test_the_three_sections_speak_russian(second):
    from django.utils import translation

    with translation.override("ru"):
        html = report_html(second, standalone=True)
    for text in ("Пункты-ранжирования", "W Кендалла", "Вариант А", "p (Холм)", "p (БХ)",
                 "этого тура (их 3)", "Большинство ответов (6 из 7) нейтральны.",
                 "Меньшинство: согласны, 1 из 7.", "Обоснования стороны меньшинства «согласны»",
                 "7 ответов:"):
        assert text in html, text
    for english in ("Most answers", "Minority:", "Kendall's W", "Largest side", "Median:",
                    "Rationales on", "The family is"):
        assert english not in html, english


# --- the heat map in print -------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_printed_heat_map_shows_every_item_with_its_header_on_every_page(db):
    """45 rated items and five groups, one with a long name: the table runs over several A4
    pages, each starting with the header row, and lists every item; pages go to PNG files in
    test-artifacts/ for a person to look at."""
    import io

    import pdfplumber
    import pypdfium2

    from surveys.reports.render import html_to_pdf
    from surveys.services.studies import study_load
    from tests.conftest import small_study_data

    data = small_study_data("many-items")
    data["stakeholder_groups"] += [
        {"code": "NGO", "name": {"en": "Non-governmental organisations and civil society",
                                 "ru": "Некоммерческие организации и гражданское общество"}},
        {"code": "CEE", "name": {"en": "Central and Eastern Europe", "ru": "ЦВЕ"}}]
    text = {"en": "A proposition", "ru": "Утверждение"}
    data["themes"][0]["items"] += [{"code": f"long-{k}", "kind": "agreement", "text": text}
                                   for k in range(45)]
    study = study_load(data=data)
    round_ = round_open(round_=round_create(study=study))
    for e, group in enumerate(["RU", "RU", "US", "US", "WE", "WE", "NGO", "NGO", "CEE", "CEE"]):
        expert = expert_create(study=study, name=f"Printer {e}", email=f"pr{e}@example.org",
                               group_code=group)
        answers = {f"long-{k}": ItemAnswer(values={"": 1 + (e * (k + 1) + k) % 5})
                   for k in range(45)}
        response_submit(expert=expert, round_=round_, answers=answers)
    round_ = _aggregated(round_)
    pdf = html_to_pdf(report_html(round_, standalone=True))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-groups.pdf").write_bytes(pdf)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        pages = [page.extract_text() or "" for page in document.pages]
        assert all(page.height <= 842 + 1 for page in document.pages)  # A4: 842 pt tall
    header = re.compile(r"^Item Russia United .*\bTest p\b", re.MULTILINE)
    groups_pages = [k for k, page in enumerate(pages) if header.search(page) and "(Holm)" in page]
    assert len(groups_pages) >= 2  # the header row repeats on each page of the table
    # A row: its label, five medians, the test, and statistic and three p-values (or dashes),
    # each number whole on the row's line.
    row = re.compile(r"^(long-\d+)(?: (?:[1-5](?:\.5)?|–)){5} (?:H\s\d+\.\d{3}|–)"
                     r"(?: (?:\d\.\d{4}|–)){3}$", re.MULTILINE)
    rows = [m.group(1) for k in groups_pages for m in row.finditer(pages[k])]
    assert sorted(rows) == sorted(f"long-{k}" for k in range(45))  # every item, once
    assert "governmental" in pages[groups_pages[0]]  # the group names in full
    rendered = pypdfium2.PdfDocument(pdf)
    for k in groups_pages:
        rendered[k].render(scale=1.5).to_pil().save(ARTIFACTS / f"report-groups-page-{k + 1}.png")
