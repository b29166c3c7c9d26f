"""The reporting guidelines a Delphi report is checked against, as data.

Each item is its official number, its section, the kind of evidence the report can give for it
(a key of surveys.reports.checklist.EVIDENCE) and a short topic label in English and Russian.
The labels are our own paraphrases, never the guidelines' wording: read the guideline itself
(the citation) for what each item asks.

Sources: ACCORD's and DELPHISTAR's item counts per section are those their abstracts state
(PMC10805282: 1/3/21/5/2/3; PMC11346927: 3/7/20/4/4); CREDES's 16 recommendations (rationale,
planning and design, conduct, reporting) follow Jünger et al.'s box. The item-to-number order
below should be checked against each paper's checklist table before it is cited.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GuidelineItem:
    number: str
    section: str  # a key of SECTIONS
    evidence: str  # a key of surveys.reports.checklist.EVIDENCE
    topic_en: str
    topic_ru: str


@dataclass(frozen=True)
class Guideline:
    key: str
    name: str
    citation: str
    items: tuple[GuidelineItem, ...]


def _items(rows: list[tuple[str, str, str, str, str]]) -> tuple[GuidelineItem, ...]:
    return tuple(GuidelineItem(*row) for row in rows)


# Section keys -> (English, Russian) headings, shared by the three guidelines.
SECTIONS = {
    "title": ("Title", "Заголовок"),
    "title_abstract": ("Title and abstract", "Заголовок и аннотация"),
    "introduction": ("Introduction", "Введение"),
    "context": ("Context", "Контекст"),
    "methods": ("Methods", "Методы"),
    "results": ("Results", "Результаты"),
    "discussion": ("Discussion", "Обсуждение"),
    "other": ("Other information", "Прочие сведения"),
    "rationale": ("Rationale", "Обоснование"),
    "design": ("Planning and design", "Планирование и дизайн"),
    "conduct": ("Study conduct", "Проведение исследования"),
    "reporting": ("Reporting", "Представление результатов"),
}

ACCORD = Guideline("accord", "ACCORD", "Gattrell et al. 2024, PLoS Med 21(1): e1004326", _items([
    ("1", "title", "authors", "Title names the study as a consensus exercise and its method",
     "Заголовок называет исследование консенсусным и указывает метод"),
    ("2", "introduction", "authors", "Background: what is known and what is missing",
     "Предпосылки: что известно и чего не хватает"),
    ("3", "introduction", "authors", "Why a consensus method rather than another approach",
     "Почему выбран консенсусный метод, а не иной подход"),
    ("4", "introduction", "aims", "Aim, intended audience and scope",
     "Цель, адресаты и охват"),
    ("5", "methods", "protocol", "Registration and where the protocol can be read",
     "Регистрация и где можно прочитать протокол"),
    ("6", "methods", "authors", "How the steering group was chosen",
     "Как формировалась руководящая группа"),
    ("7", "methods", "authors", "Steering group: who they are and their roles",
     "Руководящая группа: состав и роли"),
    ("8", "methods", "panel", "Who could join the panel (eligibility, expertise)",
     "Кто мог войти в панель (критерии, экспертиза)"),
    ("9", "methods", "recruitment", "How panellists were identified and invited",
     "Как экспертов находили и приглашали"),
    ("10", "methods", "composition", "Panel size and composition by stakeholder group",
     "Размер панели и её состав по группам"),
    ("11", "methods", "authors", "Evidence reviewed before the exercise",
     "Какие данные изучены до начала работы"),
    ("12", "methods", "items", "How the initial statements were drafted",
     "Как составлялись исходные утверждения"),
    ("13", "methods", "design", "The consensus method, its rounds and any modifications",
     "Консенсусный метод, его туры и изменения"),
    ("14", "methods", "apriori", "Consensus defined in advance (threshold, scale boxes)",
     "Определение консенсуса заранее (порог, зоны шкалы)"),
    ("15", "methods", "rounds", "Number of rounds planned and when to stop",
     "Сколько туров запланировано и когда остановиться"),
    ("16", "methods", "scales", "Questionnaire, rating scales and the no-opinion option",
     "Анкета, шкалы оценок и вариант «нет мнения»"),
    ("17", "methods", "authors", "Piloting of the questionnaire", "Пилотирование анкеты"),
    ("18", "methods", "anonymity", "Anonymity of the panellists", "Анонимность экспертов"),
    ("19", "methods", "feedback", "Feedback shown to panellists between rounds",
     "Обратная связь между турами"),
    ("20", "methods", "changes", "Statements added, reworded or dropped between rounds",
     "Утверждения, добавленные, изменённые или снятые между турами"),
    ("21", "methods", "missing", "Non-response, drop-outs and missing answers",
     "Неответы, выбывание и пропущенные ответы"),
    ("22", "methods", "analysis", "How the answers were analysed",
     "Как анализировались ответы"),
    ("23", "methods", "outputs", "How the final outputs were drawn up and agreed",
     "Как составлялись и утверждались итоговые документы"),
    ("24", "methods", "authors", "Ethics approval and consent", "Одобрение этики и согласие"),
    ("25", "methods", "timeline", "Dates and duration of each round", "Даты и длительность туров"),
    ("26", "results", "response", "Panellists invited and responding in each round",
     "Приглашённые и ответившие эксперты в каждом туре"),
    ("27", "results", "characteristics", "Characteristics of the panel", "Характеристики панели"),
    ("28", "results", "results", "Results of each round, with and without consensus",
     "Результаты каждого тура, с консенсусом и без"),
    ("29", "results", "outcome", "Final outcome and why the exercise stopped",
     "Итог и причина остановки"),
    ("30", "results", "deviations", "Changes to the registered plan, with reasons",
     "Отступления от зарегистрированного плана и их причины"),
    ("31", "discussion", "authors", "Interpretation in the light of other work",
     "Интерпретация в сравнении с другими работами"),
    ("32", "discussion", "limitations", "Strengths and limitations", "Сильные стороны и ограничения"),
    ("33", "other", "authors", "Funding and the funder's role", "Финансирование и роль спонсора"),
    ("34", "other", "authors", "Conflicts of interest and how they were handled",
     "Конфликт интересов и как с ним обходились"),
    ("35", "other", "authors", "Endorsing or commissioning organisations",
     "Организации, одобрившие или заказавшие работу"),
]))

DELPHISTAR = Guideline(
    "delphistar", "DELPHISTAR", "Niederberger et al. 2024, PLoS One 19(8): e0304651", _items([
        ("1", "title_abstract", "authors", "Title marks the study as a Delphi study",
         "Заголовок обозначает исследование как Дельфи"),
        ("2", "title_abstract", "authors", "Abstract: aim, Delphi variant and panel",
         "Аннотация: цель, вариант Дельфи и панель"),
        ("3", "title_abstract", "authors", "Abstract: main results and consensus criterion",
         "Аннотация: главные результаты и критерий консенсуса"),
        ("4", "context", "authors", "Problem and state of research", "Проблема и состояние исследований"),
        ("5", "context", "aims", "Aim and research questions", "Цель и исследовательские вопросы"),
        ("6", "context", "authors", "Why a Delphi study", "Почему именно Дельфи"),
        ("7", "context", "design", "Delphi variant and its modifications",
         "Вариант Дельфи и его модификации"),
        ("8", "context", "authors", "Research team and their roles", "Исследовательская группа и роли"),
        ("9", "context", "authors", "Ethics approval and consent", "Одобрение этики и согласие"),
        ("10", "context", "authors", "Funding and conflicts of interest",
         "Финансирование и конфликт интересов"),
        ("11", "methods", "panel", "Who counts as an expert", "Кто считается экспертом"),
        ("12", "methods", "panel", "Selection criteria for the panel", "Критерии отбора в панель"),
        ("13", "methods", "recruitment", "Recruitment and invitation", "Набор и приглашение"),
        ("14", "methods", "composition", "Panel size and composition", "Размер и состав панели"),
        ("15", "methods", "items", "How the questionnaire was developed", "Как разрабатывалась анкета"),
        ("16", "methods", "authors", "Pretest of the questionnaire", "Претест анкеты"),
        ("17", "methods", "scales", "Question types and answer scales", "Типы вопросов и шкалы"),
        ("18", "methods", "design", "Survey mode and software", "Способ опроса и программа"),
        ("19", "methods", "rounds", "Number of rounds and stopping criteria",
         "Число туров и критерии остановки"),
        ("20", "methods", "timeline", "Time frame of each round", "Сроки каждого тура"),
        ("21", "methods", "apriori", "Definition of consensus", "Определение консенсуса"),
        ("22", "methods", "feedback", "What feedback the experts received",
         "Какую обратную связь получали эксперты"),
        ("23", "methods", "arguments", "How open answers and arguments were handled",
         "Как обрабатывались открытые ответы и аргументы"),
        ("24", "methods", "changes", "Changes to items between rounds", "Изменения пунктов между турами"),
        ("25", "methods", "analysis", "Statistical analysis", "Статистический анализ"),
        ("26", "methods", "groups", "Comparison of stakeholder groups", "Сравнение групп"),
        ("27", "methods", "anonymity", "Anonymity of the experts", "Анонимность экспертов"),
        ("28", "methods", "missing", "Drop-outs and missing answers", "Выбывание и пропуски"),
        ("29", "methods", "authors", "Reminders and contact with the experts",
         "Напоминания и контакт с экспертами"),
        ("30", "methods", "stability", "Stability criterion between rounds",
         "Критерий стабильности между турами"),
        ("31", "results", "response", "Participation and drop-out per round",
         "Участие и выбывание по турам"),
        ("32", "results", "characteristics", "Characteristics of the panel", "Характеристики панели"),
        ("33", "results", "results", "Results of each round, including dissent",
         "Результаты каждого тура, включая разногласия"),
        ("34", "results", "outcome", "Final results and stopping outcome",
         "Итоговые результаты и исход по правилу остановки"),
        ("35", "discussion", "authors", "Interpretation of the results", "Интерпретация результатов"),
        ("36", "discussion", "limitations", "Methodological limitations", "Методологические ограничения"),
        ("37", "discussion", "authors", "Implications for practice and research",
         "Выводы для практики и исследований"),
        ("38", "discussion", "dissent", "Items without consensus and the reasons given",
         "Пункты без консенсуса и приведённые доводы"),
    ]))

CREDES = Guideline("credes", "CREDES", "Jünger et al. 2017, Palliat Med 31(8): 684-706", _items([
    ("1", "rationale", "authors", "Why the Delphi technique was chosen", "Почему выбран метод Дельфи"),
    ("2", "design", "protocol", "Process planned and documented in advance",
     "Процесс спланирован и задокументирован заранее"),
    ("3", "design", "apriori", "Consensus defined before the study",
     "Консенсус определён до начала исследования"),
    ("4", "conduct", "feedback", "Information given to the experts", "Информация, данная экспертам"),
    ("5", "conduct", "anonymity", "Steps against bias (anonymity, minority views)",
     "Меры против смещения (анонимность, мнение меньшинства)"),
    ("6", "conduct", "results", "How results, including non-consensus, were processed",
     "Обработка результатов, включая отсутствие консенсуса"),
    ("7", "conduct", "authors", "External validation of the outcome", "Внешняя проверка результата"),
    ("8", "reporting", "authors", "Purpose and rationale", "Цель и обоснование"),
    ("9", "reporting", "panel", "Expert panel: selection and characteristics",
     "Панель: отбор и характеристики"),
    ("10", "reporting", "design", "Description of the methods", "Описание методов"),
    ("11", "reporting", "response", "Procedure, shown as a flow of rounds",
     "Процедура в виде схемы туров"),
    ("12", "reporting", "attainment", "Definition of consensus and whether it was reached",
     "Определение консенсуса и достигнут ли он"),
    ("13", "reporting", "results", "Results of each round", "Результаты каждого тура"),
    ("14", "reporting", "limitations", "Limitations", "Ограничения"),
    ("15", "reporting", "authors", "Conclusions that the data support",
     "Выводы, подкреплённые данными"),
    ("16", "reporting", "authors", "Publication, dissemination and funding",
     "Публикация, распространение и финансирование"),
]))

GUIDELINES = (ACCORD, DELPHISTAR, CREDES)
