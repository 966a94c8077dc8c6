"""qa.safety: urgent symptoms, personal dosing and stopping treatment, in English and Chinese."""

from __future__ import annotations

import pytest

from qa.safety import Assessment, Risk, assess

RED_FLAG_EN = [
    "I have a fever of 38.5 during chemo, what should I do?",
    "My dad is coughing blood",
    "I can't breathe properly since my last infusion",
    "My mother has chest pain after her chemo today",
    "I've been vomiting all day and can't keep fluids down",
    "My stool is black since yesterday, I'm on chemotherapy",
    "My husband seems very confused after treatment",
    "She fainted this morning after radiotherapy",
    "My left leg is swollen and painful",
    "I'm having chills and shaking after my chemo",
    "I keep thinking about killing myself",
    "My son had a seizure an hour ago",
    "I have sudden severe pain in my belly",
    "There is heavy bleeding from my wound",
    "I feel short of breath when I walk to the kitchen",
]
RED_FLAG_ZH = [
    "我化疗后发烧到39度",
    "我爸咳血了怎么办",
    "我妈现在呼吸困难",
    "我胸口疼得厉害",
    "我今天拉黑便",
    "我爸突然晕倒了",
    "化疗后我一直剧烈呕吐，喝不下水",
    "我现在喘不上气",
    "我不想活了",
    "我老公抽搐了",
    "我妈意识模糊",
    "我右腿肿得很厉害",
    "放疗后我寒战发抖",
    "我严重腹泻，一天十几次",
    "化疗后发烧怎么办？",
]
DOSING = [
    "How many mg of cisplatin should I take?",
    "Can you prescribe something for my nausea?",
    "What dose should my mother get?",
    "How often should I take my ondansetron?",
    "我该吃多少？",
    "替吉奥一次吃几片？",
    "给我开点止痛药",
    "我应该用什么药？",
    "我妈的顺铂剂量多少合适？",
    # which medicine to take for it: a recommendation for the asker
    "我爸化疗后一直便秘，吃什么药好？",
    "吃什么药能缓解口干？",
    "Which tablets are best for nausea after chemo?",
    "What can I take for the mouth sores?",
]
STOP = [
    "Can I stop my chemo?",
    "Should I skip my next cycle?",
    "My mom wants to quit her tamoxifen, is that okay?",
    "Is it safe to stop taking capecitabine early?",
    "我可以停药吗？",
    "能不能不化疗了？",
    "我想自己停掉靶向药",
]
INFORMATIONAL_EN = [
    "Why would they give me chemo before my operation?",
    "What is the plateau phase?",
    "Does radiotherapy reduce bleeding during surgery?",
    "Why is bleeding a concern after surgery?",
    "When should chemotherapy be stopped?",
    "What drugs are used for NPC?",
    "Which drugs are used in neoadjuvant chemotherapy?",
    "What medicines are good at shrinking tumours before surgery?",
    "Can chemotherapy cause a fever?",
    "What is the usual dose of cisplatin for head and neck cancer?",
    "How long after neoadjuvant chemotherapy is surgery done?",
    "What does RECIST mean?",
    "Is fever a symptom of stage I Hodgkin lymphoma?",
    "Tell me about shortness of breath as a side effect of immunotherapy.",
    "I'm confused about the difference between PET-CT and MRI.",
]
INFORMATIONAL_ZH = [
    "新辅助化疗后多久可以手术？",
    "什么时候应该停止化疗？",
    "化疗药有哪些",
    "鼻咽癌化疗一般用哪些药？",
    "鼻咽癌的常用化疗药有哪些？",
    "什么是平台期？",
    "放疗的原理是什么？",
    "化疗期间为什么容易发烧？",
    "靶向治疗和免疫治疗有什么区别？",
    "化疗会引起胸痛吗？",
    "我国鼻咽癌的发病率高吗？",
    "我想知道化疗会不会引起发热",
    "其他化疗药会导致呼吸困难吗？",
    "顺铂的常见副作用有哪些？",
]


@pytest.mark.parametrize("question", RED_FLAG_EN + RED_FLAG_ZH)
def test_red_flags_are_urgent(question: str) -> None:
    result = assess(question)
    assert Risk.RED_FLAG in result.risks
    assert result.is_urgent
    assert result.primary is Risk.RED_FLAG
    assert result.matched  # the triggering phrase is reported


@pytest.mark.parametrize("question", DOSING)
def test_personal_dosing(question: str) -> None:
    result = assess(question)
    assert Risk.PERSONAL_DOSING in result.risks
    assert not result.is_urgent


@pytest.mark.parametrize("question", STOP)
def test_stop_drug(question: str) -> None:
    result = assess(question)
    assert Risk.STOP_DRUG in result.risks
    assert not result.is_urgent


@pytest.mark.parametrize("question", INFORMATIONAL_EN + INFORMATIONAL_ZH)
def test_informational_questions_raise_nothing(question: str) -> None:
    result = assess(question)
    assert result.risks == frozenset(), result.matched
    assert result.primary is Risk.NONE
    assert not result.is_urgent


def test_matched_names_the_phrase() -> None:
    assert "coughing blood" in assess("My dad is coughing blood").matched
    assert any("停掉" in m for m in assess("我想自己停掉靶向药").matched)


def test_several_risks_at_once() -> None:
    result = assess("I have a fever, should I skip my next cycle of chemo?")
    assert result.risks == {Risk.RED_FLAG, Risk.STOP_DRUG}
    assert result.primary is Risk.RED_FLAG


def test_symptom_needs_a_personal_cue() -> None:
    assert not assess("Is vomiting blood dangerous after chemotherapy?").risks
    assert assess("My wife is vomiting blood after chemotherapy").is_urgent


def test_full_width_and_curly_apostrophes() -> None:
    assert assess("I can’t breathe").is_urgent
    assert Risk.STOP_DRUG in assess("我可以停药吗？").risks


def test_assessment_defaults_and_is_frozen() -> None:
    empty = Assessment()
    assert empty.primary is Risk.NONE and not empty.is_urgent
    with pytest.raises(AttributeError):
        empty.risks = frozenset({Risk.RED_FLAG})  # type: ignore[misc]
    assert Risk.RED_FLAG == "red_flag"
