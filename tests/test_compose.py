"""The previous answer design (qa.compose) with fake models over a real Chroma index; kept
while it serves as the evaluation's side-by-side baseline."""

from __future__ import annotations

import pytest

from core.errors import BadQuestionError
from core.settings import RetrievalSettings, Settings
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from oncoqa.wiring import open_index
from qa import prompts
from qa.compose import ComposeAnswerer as Answerer
from qa.retriever import HybridRetriever
from qa.types import Answer, Turn
from tests.fakes import ScriptedChat
from tests.test_triage import FEVER_EN, FEVER_ZH

NEOADJUVANT = "000_61149c4b2133eace.txt"
NPC = "002_d0e0c941352d6edd.txt"


@pytest.fixture
def hash_settings(settings: Settings) -> Settings:
    # Hash-embedding cosines live on another scale than e5's: gate thresholds to match.
    return settings.model_copy(
        update={"retrieval": RetrievalSettings(min_score=0.2, min_score_zh=0.2)}
    )


@pytest.fixture
def retriever(hash_settings: Settings) -> HybridRetriever:
    embeddings = HashEmbeddings()
    ingest(hash_settings, embeddings)
    store, registry = open_index(hash_settings, embeddings)
    return HybridRetriever(store=store, registry=registry, config=hash_settings.retrieval)


def number_of(retriever: HybridRetriever, question: str, phrase: str) -> int:
    """The [n] of the retrieved passage containing phrase (what a good model would cite)."""
    texts = [p.text for p in retriever.search(question)]
    return next(i for i, text in enumerate(texts, 1) if phrase in text)


def answerer(retriever: HybridRetriever, settings: Settings, *replies: str,
             fail: bool = False) -> tuple[Answerer, ScriptedChat | None]:
    llm = ScriptedChat(replies=list(replies), calls=[], fail=fail) if replies or fail else None
    return Answerer(retriever, llm, settings), llm


def test_extractive_answer_cites_the_right_document(retriever, hash_settings) -> None:
    chain, _ = answerer(retriever, hash_settings)
    answer = chain.answer("How many weeks after neoadjuvant chemotherapy is surgery performed?")
    assert not answer.refused and answer.language == "en"
    assert answer.citations and answer.citations[0].source == NEOADJUVANT
    assert "3 to 4 weeks" in answer.text
    cited = answer.citations[0]
    original = (hash_settings.corpus_dir / NEOADJUVANT).read_text(encoding="utf-8")
    assert original[cited.start : cited.end].startswith(cited.text[:30])
    assert answer.notice == prompts.DISCLAIMER("en")


def test_chinese_question_gets_a_chinese_answer_citing_the_english_source(
    retriever, hash_settings
) -> None:
    question = "新辅助化疗结束后多久可以做手术？"
    retriever.k = 8  # hash embeddings are not cross-lingual: give BM25's glossary hits room
    # the English passage is found through the glossary
    n = number_of(retriever, question, "3 to 4 weeks")
    reply = f"新辅助化疗结束后，通常要等3到4周才能做手术【{n}】。"
    roomy = hash_settings.model_copy(  # eight passages need room for whole sentences
        update={"llm": hash_settings.llm.model_copy(update={"context_tokens": 1600})})
    chain, llm = answerer(retriever, roomy, reply)
    answer = chain.answer(question)
    assert answer.language == "zh" and not answer.refused
    assert "3到4周" in answer.text and answer.backend == "llm"
    assert [(c.n, c.source) for c in answer.citations] == [(n, NEOADJUVANT)]
    system, user = llm.calls[-1]
    assert system.content == prompts.SYSTEM  # fixed, so its cached prefix is reused
    assert "简体中文" in str(user.content) and "3 to 4 weeks" in str(user.content)


def test_unsupported_number_is_removed_and_falls_back(retriever, hash_settings) -> None:
    chain, _ = answerer(retriever, hash_settings,
                        "Surgery is usually done 8 to 10 weeks after neoadjuvant chemotherapy [1].")
    answer = chain.answer("How many weeks after neoadjuvant chemotherapy is surgery performed?")
    assert "8 to 10" not in answer.text
    assert answer.backend == "extractive"
    assert prompts.NO_SUPPORTED_ANSWER_NOTE("en") in answer.text


def test_citation_to_a_missing_passage_is_dropped(retriever, hash_settings) -> None:
    question = "How many weeks after neoadjuvant chemotherapy is surgery performed?"
    n = number_of(retriever, question, "3 to 4 weeks")
    chain, _ = answerer(
        retriever, hash_settings,
        f"Surgery is usually 3 to 4 weeks after the end of neoadjuvant chemotherapy [{n}] [9].",
    )
    answer = chain.answer(question)
    assert "[9]" not in answer.text and f"[{n}]" in answer.text
    assert [c.n for c in answer.citations] == [n] and answer.backend == "llm"


def test_out_of_scope_question_is_refused_without_calling_the_llm(retriever, hash_settings) -> None:
    chain, llm = answerer(retriever, hash_settings, "should not be used")
    for question, lang in [("How do I remove stains from shoes?", "en"),
                           ("驴胶和鹿胶有什么区别？", "zh")]:
        answer = chain.answer(question)
        assert answer.refused and answer.kind == "refusal", question
        assert answer.text.startswith(prompts.NOT_COVERED(lang))
        assert answer.refusal_reason and not answer.citations
    assert llm is not None and llm.calls == []


def test_model_saying_not_covered_becomes_a_refusal(retriever, hash_settings) -> None:
    chain, _ = answerer(retriever, hash_settings, "My documents do not cover this.")
    answer = chain.answer("What happens to the wound after surgery with bevacizumab?")
    assert answer.refused and not answer.citations


def test_follow_up_is_rewritten_from_history(retriever, hash_settings) -> None:
    chain, llm = answerer(
        retriever, hash_settings,
        "How long after bevacizumab treatment can surgery be performed?",
        "Surgery usually needs to be performed at least 6 weeks after stopping bevacizumab [1].",
    )
    history = [Turn("How long after neoadjuvant chemotherapy can I have surgery?", "3 to 4 weeks")]
    answer = chain.answer("And if bevacizumab was used?", history)
    rewritten = "How long after bevacizumab treatment can surgery be performed?"
    assert answer.standalone_question == rewritten
    assert "6 weeks" in answer.text and answer.citations[0].source == NEOADJUVANT
    rewrite_prompt = str(llm.calls[0][0].content)
    assert "How long after neoadjuvant chemotherapy" in rewrite_prompt


def test_follow_up_without_llm_prepends_the_previous_question(retriever, hash_settings) -> None:
    chain, _ = answerer(retriever, hash_settings)
    history = [Turn("鼻咽癌为什么会在治疗期间转移？", "...")]
    answer = chain.answer("那靶向药呢？", history)
    assert answer.standalone_question.startswith("鼻咽癌为什么会在治疗期间转移？")
    assert answer.retrieved[0].source == NPC


FEVER_AND_BREATHLESS_ZH = FEVER_ZH.replace(
    "感染。", "感染。抗癌治疗期间新出现或加重的呼吸困难需要立即检查。")


@pytest.mark.parametrize(
    ("question", "message"),
    [("I have a fever of 39 degrees after my chemo yesterday, what should I do?", FEVER_EN),
     ("我爸化疗后发烧到39度，还喘不上气，怎么办？", FEVER_AND_BREATHLESS_ZH)],
)
def test_red_flags_get_the_urgent_message_first(retriever, hash_settings, question,
                                                message) -> None:
    chain, _ = answerer(retriever, hash_settings)
    answer = chain.answer(question)
    assert answer.kind == "safety"
    assert answer.text.startswith(message)


@pytest.mark.parametrize(
    ("question", "lang"),
    [("How many mg of cisplatin should I take for my nasopharyngeal cancer?", "en"),
     ("我鼻咽癌化疗，顺铂我该吃多少毫克？", "zh")],
)
def test_personal_dosing_gets_no_instruction(retriever, hash_settings, question, lang) -> None:
    chain, llm = answerer(retriever, hash_settings, "Cisplatin is commonly used for NPC [1].")
    answer = chain.answer(question)
    assert answer.text.startswith(prompts.PERSONAL_MEDICATION(lang))
    assert answer.kind == "answer" and not answer.refused
    assert llm is not None and llm.calls  # the model was asked, and told not to advise
    answer_prompt = str(llm.calls[0][-1].content)
    assert prompts.SAFETY_INSTRUCTION(lang) in answer_prompt


@pytest.mark.parametrize("bad", ["", "   ", "x" * 100_000, "😀😀😀", "\x00\x01\x02"])
def test_bad_questions_get_a_clear_message(retriever, hash_settings, bad) -> None:
    chain, _ = answerer(retriever, hash_settings)
    with pytest.raises(BadQuestionError) as info:
        chain.answer(bad)
    assert info.value.message and "Traceback" not in info.value.message


def test_control_characters_are_stripped_not_fatal(retriever, hash_settings) -> None:
    chain, _ = answerer(retriever, hash_settings)
    answer = chain.answer("What is neoadjuvant\x00 chemotherapy?\x1b")
    assert not answer.refused and answer.citations


def test_unreachable_llm_falls_back_to_extractive(retriever, hash_settings) -> None:
    chain, _ = answerer(retriever, hash_settings, fail=True)
    answer = chain.answer("How many weeks after neoadjuvant chemotherapy is surgery performed?")
    assert answer.backend == "extractive" and answer.citations
    assert "connection refused" in answer.text


def test_stream_yields_deltas_then_the_final_answer(retriever, hash_settings) -> None:
    question = "How many weeks after neoadjuvant chemotherapy is surgery done?"
    n = number_of(retriever, question, "3 to 4 weeks")
    reply = f"Surgery is usually 3 to 4 weeks after the end of neoadjuvant chemotherapy [{n}]."
    chain, _ = answerer(retriever, hash_settings, reply)
    events = list(chain.stream(question))
    deltas = [e for e in events if isinstance(e, str)]
    assert len(deltas) > 3 and "".join(deltas) == reply
    assert isinstance(events[-1], Answer) and events[-1].timings.first_token > 0
    assert events[-1].timings.total >= events[-1].timings.first_token


def test_uncited_but_supported_sentences_get_their_citation(retriever, hash_settings) -> None:
    question = "How many weeks after neoadjuvant chemotherapy is surgery performed?"
    n = number_of(retriever, question, "3 to 4 weeks")
    chain, _ = answerer(
        retriever, hash_settings,
        "Surgery is usually 3 to 4 weeks after the end of neoadjuvant chemotherapy. "
        "Patients should also eat chocolate every day.",
    )
    answer = chain.answer(question)
    assert answer.backend == "llm"
    assert f"[{n}]" in answer.text and "chocolate" not in answer.text
    assert [c.n for c in answer.citations] == [n]


def test_chinese_fallback_is_translated_only_if_numbers_survive(retriever, hash_settings) -> None:
    source = "Surgery is usually done 3 to 4 weeks after chemotherapy ends. [2]"
    cases = {
        "化疗结束后，通常3到4周后进行手术。[2]": True,
        "化疗结束后，通常6周后进行手术。[2]": False,  # a number changed
        "化疗结束后，通常3到4周后进行手术。": False,  # the citation marker was lost
        "Surgery is usually done 3 to 4 weeks after chemotherapy ends. [2]": False,  # not Chinese
    }
    for reply, kept in cases.items():
        llm = ScriptedChat(replies=[reply], calls=[])
        result = Answerer(retriever, llm, hash_settings)._translate_extract(source)
        assert (result == reply) is kept, reply
        assert prompts.TRANSLATE_EXTRACT.format(text=source) == llm.calls[0][0].content
