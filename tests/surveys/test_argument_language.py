"""Each argument on an expert's page says which language it is written in (experts write in
their own, so a Russian page may show English arguments): screen readers switch voice."""

from surveys.feedback import _with_positions, text_language


def test_an_argument_in_cyrillic_is_russian_and_any_other_english():
    assert text_language("Москва не пойдёт на это без гарантий.") == "ru"
    assert text_language("Moscow will not accept this without guarantees.") == "en"
    assert text_language("ДСНВ and New START: both names.") == "ru"


def test_each_argument_is_marked_with_its_language(round1):
    item = round1.items.get(code="agree")
    raw = {item.pk: [{"id": 1, "author": 1, "text": "Нет гарантий.", "values": {"": 2.0}},
                     {"id": 2, "author": 2, "text": "No guarantees <b>", "values": {"": 4.0}}]}

    russian, english = _with_positions(round1, raw)[item.pk]

    assert '<span lang="ru">Нет гарантий.</span></li>' in russian["html"]
    assert '<span lang="en">No guarantees &lt;b&gt;</span></li>' in english["html"]
