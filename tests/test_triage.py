"""Red-flag triage: the rules file, the message each class gets, and the triage gold set."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.text import to_traditional
from eval import triage
from oncoqa.cli import main
from qa import prompts, safety, triage_file
from qa.chain import preface_for
from qa.safety import assess

EMERGENCY_EN = ("Call your cancer team's 24-hour advice line now, or your local emergency "
                "number (for example 911, 112, 999 or 120). Do not wait for an answer here.")
FEVER_EN = (
    "⚠️ A temperature of 37.5 °C or above, shivering, or suddenly feeling unwell during cancer "
    "treatment can be neutropenic sepsis, a life-threatening infection. " + EMERGENCY_EN)
FEVER_ZH = (
    "⚠️ 抗癌治疗期间体温达到 37.5 °C 或以上、寒战或突然感觉很不舒服，可能是中性粒细胞减少性脓毒症，"
    "这是一种危及生命的感染。请立即拨打您的肿瘤治疗团队的 24 小时咨询电话，或拨打当地急救电话"
    "（中国大陆 120，台湾 119，香港 999）。不要等待这里的回答。")
LEG_ZH = (
    "⚠️ 一侧腿或手臂肿胀、发红、发热或疼痛，可能是血栓（深静脉血栓）。请立即拨打您的肿瘤治疗团队的 "
    "24 小时咨询电话，或拨打当地急救电话（中国大陆 120，台湾 119，香港 999）。不要等待这里的回答。")
POISON_EN = (
    "⚠️ Anticancer medicines can harm anyone they were not prescribed for, even in small amounts. "
    "Call your local poison control centre or emergency number now (for example US Poison Help "
    "1-800-222-1222, UK NHS 111, or 911, 112, 999 or 120 if the person is unwell), and keep the "
    "medicine packet with you. If it got on skin or in an eye, rinse with plenty of running "
    "water for at least 15 minutes.")
CRISIS_EN = (
    "You are not alone, and you do not have to carry this by yourself. If you are thinking about "
    "ending your life or hurting yourself, please talk to someone now: call or text 988 (US), "
    "call Samaritans on 116 123 (UK and Ireland), or your local crisis line. If you might act "
    "on these thoughts, call your local emergency number (911, 112 or 999) now. Please also tell "
    "your care team how you feel; they can help.")
CRISIS_ZH = (
    "您并不孤单，不必独自承受这一切。如果您有结束生命或伤害自己的想法，请现在就找人倾诉：中国大陆可"
    "拨打心理援助热线 12356 或北京心理危机研究与干预中心 010-82951332，台湾可拨打安心专线 1925，"
    "香港可致电撒玛利亚防止自杀会 2389 2222。如果您可能会付诸行动，请立即拨打急救电话（120、119 "
    "或 999）。也请把您的感受告诉您的医疗团队，他们可以帮助您。")


_CUES = ("[cues]\nreport = ['i']\nnot_report = ['x']\nhypothetical = ['if']\nnow = ['now']\n"
         "negation_before = ['no $']\n")


def test_the_packaged_rules_load_and_every_class_has_its_messages() -> None:
    rules = triage_file.load()
    names = [c.name for c in rules.classes]
    assert set(names) == set(prompts.TRIAGE_REASON) | {"self_harm"}
    assert {c.action for c in rules.classes} == set(prompts.TRIAGE_ACTION)
    for name in ("fever", "breathlessness", "chest_pain", "bleeding", "diarrhoea_vomiting",
                 "dehydration", "mouth_sores", "leg_swelling", "spinal_cord", "confusion",
                 "extravasation", "drug_exposure", "self_harm"):
        assert name in names  # the UKONS classes issue 10 asks for


@pytest.mark.parametrize(("text", "problem"), [
    ("[cues]\nreport = ['x']\n", "needs non-empty lists not_report, hypothetical, now"),
    (_CUES + "[a]\naction = 'call'\nreported = ['fever', '发烧']\n",
     "[a]: action must be one of emergency, poison, crisis"),
    (_CUES + "[a]\naction = 'emergency'\nreported = ['fever']\n",
     "[a]: needs patterns in both English and Chinese"),
    (_CUES + "[a]\naction = 'emergency'\nreported = ['fever(', '发烧']\n",
     "'fever(' is not a valid regular expression"),
    (_CUES + "[a]\naction = 'emergency'\nreported = [\"can't\", '发烧']\n", "has an apostrophe"),
    (_CUES + "[a]\naction = 'emergency'\nreported = ['发烧']\n[[a.count]]\npattern = '(\\d+)'\n"
     "at_least = 3\n", "count 1: the pattern needs a group (?P<n>...)"),
    (_CUES + "[a]\naction = 'emergency'\nreportd = ['fever', '发烧']\n", "unknown keys reportd"),
])
def test_a_broken_rules_file_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(triage_file.TriageFileError) as err:
        triage_file.parse_rules(text)
    assert problem in str(err.value)


def test_fever_gets_the_sepsis_message_in_both_languages() -> None:
    assert preface_for(assess("I have a fever of 38.5 during chemo"), "en") == FEVER_EN
    assert preface_for(assess("我化疗后发烧到38.5度"), "zh") == FEVER_ZH


def test_a_swollen_leg_in_chinese_gets_the_thrombosis_message() -> None:
    result = assess("我妈化疗后一条腿突然又红又肿，很疼")
    assert result.classes == ("leg_swelling",) and result.is_urgent
    assert preface_for(result, "zh") == LEG_ZH


def test_a_child_swallowing_a_chemo_tablet_gets_poison_control() -> None:
    result = assess("My grandson swallowed one of my capecitabine tablets")
    assert result.classes == ("drug_exposure",)
    assert preface_for(result, "en") == POISON_EN


@pytest.mark.parametrize(("question", "lang", "message"), [
    ("I keep thinking about killing myself", "en", CRISIS_EN),
    ("I don't want to be alive anymore", "en", CRISIS_EN),
    ("我不想活了", "zh", CRISIS_ZH),
])
def test_self_harm_gets_a_crisis_line_not_fever_advice(question: str, lang: str,
                                                       message: str) -> None:
    result = assess(question)
    assert result.classes == ("self_harm",)
    assert preface_for(result, lang) == message
    assert "fever" not in message and "发热" not in message


def test_self_harm_with_a_symptom_puts_the_crisis_line_first() -> None:
    text = preface_for(assess("I have a fever and I want to end my life"), "en")
    assert text == CRISIS_EN + "\n\n" + FEVER_EN


def test_traditional_chinese_is_triaged_like_simplified() -> None:
    assert assess("我媽化療後發燒到38.5度").classes == ("fever",)
    assert assess("我孫子誤服了奶奶的化療藥").classes == ("drug_exposure",)
    assert assess("我最近一直有輕生的念頭").classes == ("self_harm",)
    assert to_traditional(FEVER_ZH).startswith("⚠️ 抗癌治療期間體溫")


@pytest.mark.parametrize("question", [
    "Does radiotherapy make you tired?",
    "What is neutropenia?",
    "How is fever treated in general?",
    "What should I do if I get a fever after chemo?",  # asked as if: information
    "Can chemotherapy cause chest pain?",
    "I don't have a fever but I feel tired",  # negated
    "My temperature is 36.8, is that okay?",  # below the UKONS threshold
    "I had diarrhoea twice today",  # below the threshold
    "化疗会引起口腔溃疡吗？",
    "如果化疗后发烧怎么办？",
    "我没有发烧，只是有点累",
])
def test_information_questions_and_mild_reports_are_not_escalated(question: str) -> None:
    assert not assess(question).is_urgent, assess(question).matched


@pytest.mark.parametrize(("question", "cls"), [
    ("I've had diarrhoea 6 times today", "diarrhoea_vomiting"),
    ("我今天吐了四次", "diarrhoea_vomiting"),
    ("一天拉了七八次", "diarrhoea_vomiting"),
    ("体温三十八度多", "fever"),
    ("Temp is 100.9 F", "fever"),
])
def test_counts_and_readings_at_ukons_thresholds(question: str, cls: str) -> None:
    assert assess(question).classes == (cls,)


def test_the_triage_gold_set_meets_its_thresholds() -> None:
    items = triage.load_items()
    red = [i for i in items if i.expected != triage.NONE]
    ordinary = [i for i in items if i.expected == triage.NONE]
    assert len(red) >= 40 and len(ordinary) >= 20
    assert {i.language for i in red} == {"en", "zh"} == {i.language for i in ordinary}
    results = triage.summarize(triage.run(items))
    assert [r.split for r in results] == ["dev", "held_out"]
    assert [f for r in results for f in r.failures()] == []


def test_eval_triage_writes_the_report(tmp_path) -> None:
    out = tmp_path / "triage.md"
    result = CliRunner().invoke(main, ["eval-triage", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = out.read_text(encoding="utf-8")
    assert report.startswith("# Red-flag triage")
    assert "| fever |" in report and "## held_out" in report and "All thresholds pass." in report


def test_urgent_message_falls_back_to_the_generic_text() -> None:
    assert safety.urgent_message(safety.Assessment(), "en") == prompts.URGENT("en")
