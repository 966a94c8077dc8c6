"""The answer chain (select, phrase one sentence, verify) with fake models over a real Chroma."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.errors import BadQuestionError
from core.settings import AnswerSettings, RetrievalSettings, Settings
from core.text import language_of
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from oncoqa.wiring import make_answerer, open_index
from qa import prompts
from qa.bm25 import tokenize
from qa.chain import Answerer
from qa.phrase import Phraser, clauses
from qa.retriever import HybridRetriever
from qa.select import Candidate, Selection, Weights
from qa.types import Answer, Turn
from tests.fakes import ScriptedChat
from tests.test_triage import FEVER_EN

NEOADJUVANT = "000_61149c4b2133eace.txt"
NPC = "002_d0e0c941352d6edd.txt"
SURGERY_Q = "How many weeks after the end of neoadjuvant chemotherapy is surgery usually done?"
SURGERY_ZH = "新辅助化疗结束后多久可以做手术？"
BILINGUAL = "001_a72f36e8a6caebd0.txt"  # an English review with its Chinese abstract
SURGERY_SOURCE = ("If the surgeon thinks there is a possibility of surgery, he needs to wait for "
                  "the patient's blood to return to normal after surgery, usually 3 to 4 weeks "
                  "after the end of neoadjuvant chemotherapy.")


@pytest.fixture
def hash_settings(settings: Settings) -> Settings:
    # Hash-embedding cosines live on another scale than e5's: gates to match.
    return settings.model_copy(update={
        "retrieval": RetrievalSettings(min_score=0.2, min_score_zh=0.2, k=6),
        "answer": AnswerSettings(min_sentence_score=0.0),
    })


@pytest.fixture
def rewriting(hash_settings: Settings) -> Settings:
    """Same-language rewrites turned on (off by default: source sentences are shown verbatim)."""
    return hash_settings.model_copy(update={
        "answer": hash_settings.answer.model_copy(update={"simplify": True})})


@pytest.fixture
def retriever(hash_settings: Settings) -> HybridRetriever:
    embeddings = HashEmbeddings()
    ingest(hash_settings, embeddings)
    store, registry = open_index(hash_settings, embeddings)
    return HybridRetriever(store=store, registry=registry, config=hash_settings.retrieval,
                           k=hash_settings.retrieval.k)


def chain(retriever: HybridRetriever, settings: Settings, *replies: str, fail: bool = False,
          sentences: int = 1) -> tuple[Answerer, ScriptedChat | None]:
    llm = ScriptedChat(replies=list(replies), calls=[], fail=fail) if replies or fail else None
    answerer = make_answerer(retriever, llm, settings)
    answerer.selector.weights = Weights(max_sentences=sentences)
    return answerer, llm


def first_sentence(answerer: Answerer, question: str) -> str:
    """The source sentence the selector puts first (what a faithful rewrite stands for)."""
    lang = language_of(question)
    passages = answerer.retriever.search(question)
    variants = answerer.retriever.query_variants(question)
    terms = [t for v in variants for t in tokenize(v)]
    return answerer.selector.select(variants, terms, passages, lang).chosen[0].text


def test_a_sentence_at_the_trusted_score_passes_a_gate_its_passage_fails(
        retriever, hash_settings) -> None:
    # No passage reaches the floor; the chosen sentence's own score decides.
    strict = hash_settings.model_copy(update={"retrieval": hash_settings.retrieval.model_copy(
        update={"min_score": 0.999})})
    top = first_sentence_score(retriever, strict, SURGERY_Q)
    trusting = strict.model_copy(update={"answer": strict.answer.model_copy(
        update={"judge_trust": top})})
    answer = chain(retriever, trusting)[0].answer(SURGERY_Q)
    assert not answer.refused and "3 to 4 weeks" in answer.text
    wary = strict.model_copy(update={"answer": strict.answer.model_copy(
        update={"judge_trust": top + 0.001})})
    answer = chain(retriever, wary)[0].answer(SURGERY_Q)
    assert answer.refused and answer.backend == "gate"


DEFINITION_Q = "What does 'neoadjuvant chemotherapy' mean?"


def below_floor_chain(retriever: HybridRetriever, settings: Settings, verdict: str,
                      **answer: object) -> tuple[Answerer, ScriptedChat]:
    """A chain where no passage reaches the floor and no sentence the trusted score, with a
    model whose every yes/no is `verdict`."""
    strict = settings.model_copy(update={
        "retrieval": settings.retrieval.model_copy(update={"min_score": 0.999,
                                                           "min_score_zh": 0.999}),
        "answer": settings.answer.model_copy(update={"judge_trust": 2.0, **answer})})
    answerer, llm = chain(retriever, strict, "unused")
    assert llm is not None
    llm.verdicts = [verdict]
    return answerer, llm


@pytest.mark.parametrize("verdict", ["yes", "no"])
def test_a_definition_of_the_asked_term_passes_a_gate_its_passage_fails(
        retriever, hash_settings, verdict) -> None:
    # No passage reaches the floor and no sentence the trusted score: a short definition
    # question scores low against every passage. The sentence that defines its term is
    # evidence enough, and the model's "no" does not refuse it.
    answerer, llm = below_floor_chain(retriever, hash_settings, verdict)
    # hash vectors carry no meaning: the answer type alone orders the sentences
    answerer.selector.weights = Weights(dense=0.0, keyword=0.0, rank=0.0, max_sentences=1)
    answer = answerer.answer(DEFINITION_Q)
    assert not answer.refused, answer.refusal_reason
    assert "Neoadjuvant chemotherapy refers to" in answer.text
    assert llm.judged  # the model still rated the candidates (re-ranking)
    # the same words in a question that asks something else get no such trust
    other = answerer.answer("Does neoadjuvant chemotherapy mean the same for every patient?")
    assert other.refused and other.backend in ("gate", "judge")


@pytest.fixture
def english_retriever(hash_settings: Settings) -> HybridRetriever:
    """The seed corpus without its bilingual review: every passage is in English."""
    (hash_settings.corpus_dir / BILINGUAL).unlink()
    embeddings = HashEmbeddings()
    ingest(hash_settings, embeddings)
    store, registry = open_index(hash_settings, embeddings)
    return HybridRetriever(store=store, registry=registry, config=hash_settings.retrieval,
                           k=hash_settings.retrieval.k)


@pytest.mark.parametrize("verdict", ["yes", "no"])
def test_below_the_floor_the_models_reading_decides(english_retriever, hash_settings,
                                                    verdict) -> None:
    # No passage reaches the floor and no sentence the trusted score: for a question in one of
    # judge_below_floor's languages whose passages are in another language (across languages
    # e5 scores run low), the model reads the best sentences, and only its "yes" answers.
    assert hash_settings.answer.judge_below_floor == ("zh",)
    answerer, llm = below_floor_chain(english_retriever, hash_settings, verdict)
    answer = answerer.answer(SURGERY_Q)  # English: refused outright
    assert answer.refused and answer.backend == "gate" and not llm.judged
    answer = answerer.answer(SURGERY_ZH)
    assert llm.judged
    if verdict == "yes":
        assert not answer.refused and answer.citations
    else:
        assert answer.refused and answer.backend == "judge"
        looked = hash_settings.answer.judge_look
        assert (answer.refusal_reason or "").startswith(
            prompts.JUDGED_NO_REASON("zh", asked=looked, score=0).split("（")[0])
        assert len(llm.judged) == looked  # the rest could not change the refusal: not asked


def test_below_the_floor_passages_in_the_questions_language_are_final(
        retriever, hash_settings) -> None:
    # With the bilingual review in the corpus its Chinese half is among the passages a Chinese
    # question reads: below the floor there, no cross-language excuse; refused unread.
    answerer, llm = below_floor_chain(retriever, hash_settings, "yes")
    assert any(p.language == "zh" for p in retriever.search(SURGERY_ZH)[:3])
    answer = answerer.answer(SURGERY_ZH)
    assert answer.refused and answer.backend == "gate" and not llm.judged


def first_sentence_score(retriever: HybridRetriever, settings: Settings, question: str) -> float:
    answerer, _ = chain(retriever, settings)
    passages = retriever.search(question)
    terms = [t for v in retriever.query_variants(question) for t in tokenize(v)]
    return answerer.selector.select([question], terms, passages, "en").top


def test_without_a_model_the_chosen_source_sentence_is_shown(retriever, hash_settings) -> None:
    answerer, _ = chain(retriever, hash_settings)
    answer = answerer.answer(SURGERY_Q)
    assert not answer.refused and answer.backend == "extractive"
    assert "3 to 4 weeks" in answer.text
    citation = answer.citations[0]
    assert citation.source == NEOADJUVANT
    support = citation.support[0]
    assert support.mode == "verbatim" and support.sentence == support.source_sentence
    original = (hash_settings.corpus_dir / NEOADJUVANT).read_text(encoding="utf-8")
    assert original[support.start : support.end] == support.source_sentence
    shown = answer.to_json()["citations"][0]["support"][0]
    assert shown["source_sentence"] == support.source_sentence


def test_by_default_an_english_reader_gets_the_source_sentence_verbatim(
        retriever, hash_settings) -> None:
    answerer, llm = chain(retriever, hash_settings, "A rewrite that is never asked for.")
    answer = answerer.answer(SURGERY_Q)
    source = first_sentence(answerer, SURGERY_Q)
    assert answer.citations[0].support[0].mode == "verbatim"
    assert source.rstrip(".") in answer.text and answer.backend == "extractive"
    assert llm is not None and llm.calls == []  # no phrasing call (the yes/no check aside)


def test_a_faithful_rewrite_is_shown_with_its_source(retriever, rewriting) -> None:
    answerer, _ = chain(retriever, rewriting)
    source = first_sentence(answerer, SURGERY_Q)
    assert "3 to 4 weeks" in source
    rewrite = ("If surgery is possible, the surgeon waits for the patient's blood to return to "
               "normal, usually 3 to 4 weeks after the end of neoadjuvant chemotherapy.")
    answerer, llm = chain(retriever, rewriting, rewrite)
    answer = answerer.answer(SURGERY_Q)
    assert answer.backend == "llm" and rewrite.rstrip(".") in answer.text
    assert answer.citations[0].support[0].mode == "rewrite"
    assert answer.citations[0].support[0].source_sentence == source
    system, user = llm.calls[0]
    assert system.content == prompts.PHRASE_SYSTEM and source in str(user.content)


@pytest.mark.parametrize("bad", [
    "Surgery is usually done 6 weeks after neoadjuvant chemotherapy ends.",  # wrong number
    "Surgery is never done after neoadjuvant chemotherapy, not even after 3 to 4 weeks.",
    "My documents do not cover this.",  # the model declining is not a refusal
    "[2] [2] [2] [2] [2] [2] [2] [2] [2] [2]",  # a loop
    "This is stated in passage [2].",  # filler
])
def test_an_unfaithful_rewrite_is_never_shown(retriever, rewriting, bad) -> None:
    answerer, _ = chain(retriever, rewriting)
    source = first_sentence(answerer, SURGERY_Q)
    answerer, _ = chain(retriever, rewriting, bad)
    answer = answerer.answer(SURGERY_Q)
    assert not answer.refused
    assert source.rstrip(".") in answer.text  # the source sentence instead
    assert bad.rstrip(".") not in answer.text and "[2] [2]" not in answer.text
    assert answer.citations[0].support[0].mode == "verbatim"
    assert "could not be checked" not in answer.text  # no machinery shown


def candidate(text: str, language: str = "en") -> Candidate:
    return Candidate(text=text, n=1, start=0, end=len(text), language=language,  # type: ignore[arg-type]
                     dense=0.9, keyword=0.5, fits=False, flags=(), score=0.9)


def test_chinese_reader_gets_a_verified_translation() -> None:
    translation = "医生认为可以手术时，需要等病人的血象恢复正常，通常是在新辅助化疗结束后3到4周。"
    llm = ScriptedChat(replies=[translation], calls=[])
    phrased = Phraser(llm).phrase(candidate(SURGERY_SOURCE), "zh")
    assert phrased.mode == "translation" and phrased.text == translation
    assert len(llm.calls) == 1 and SURGERY_SOURCE in str(llm.calls[0][-1].content)


def test_failed_translations_fall_back_to_the_quoted_source() -> None:
    wrong = "医生认为可以手术时，通常在新辅助化疗结束后6周进行手术。"
    llm = ScriptedChat(replies=[wrong], calls=[])
    phrased = Phraser(llm).phrase(candidate(SURGERY_SOURCE), "zh")
    # a free and a literal attempt, then one per clause: all rejected (6 is not 3 to 4)
    assert len(llm.calls) == 2 + len(clauses(SURGERY_SOURCE)) > 3
    assert phrased.mode == "quoted" and phrased.verdict is not None
    assert phrased.verdict.reason == "numbers"
    assert phrased.text == prompts.QUOTED_SOURCE("zh") + SURGERY_SOURCE


def test_a_long_sentence_is_translated_clause_by_clause_when_whole_attempts_fail() -> None:
    source = ("It is recommended to perform comprehensive imaging examinations, such as PET-CT, "
              "before treatment to assess the spread of the tumor.")
    dropped = "在治疗前，建议进行全面的影像检查，以评估肿瘤的扩散情况。"  # PET-CT left out
    llm = ScriptedChat(replies=[dropped, dropped, "建议进行全面的影像检查，", "例如PET-CT",
                                "以便在治疗前评估肿瘤的扩散情况。"], calls=[])
    phrased = Phraser(llm).phrase(candidate(source), "zh")
    assert phrased.mode == "translation", phrased.verdict
    assert phrased.text == "建议进行全面的影像检查，例如PET-CT，以便在治疗前评估肿瘤的扩散情况。"
    assert [str(c[-1].content).count("such as PET-CT") for c in llm.calls] == [1, 1, 0, 1, 0]
    # only the direct answer (retry) is worth the extra calls
    llm = ScriptedChat(replies=[dropped], calls=[])
    assert Phraser(llm).phrase(candidate(source), "zh", retry=False).mode == "quoted"
    assert len(llm.calls) == 1


def test_clauses_keep_numbers_whole_and_short_parts_joined() -> None:
    assert clauses("About 1,000 patients were treated, and most had surgery.") == [
        "About 1,000 patients were treated,", "and most had surgery."]
    assert clauses("Surgery follows 3 to 4 weeks after chemotherapy.") == [
        "Surgery follows 3 to 4 weeks after chemotherapy."]
    assert len(clauses("one two three, " * 9 + "end of it.")) == 4


def test_a_chinese_source_sentence_is_shown_as_is_to_a_chinese_reader() -> None:
    llm = ScriptedChat(replies=["不会被调用"], calls=[])
    source = "术前新辅助化疗能够缩小肿瘤。"
    phrased = Phraser(llm, simplify=False).phrase(candidate(source, "zh"), "zh")
    assert phrased.mode == "verbatim" and phrased.text == source and llm.calls == []


OUT_OF_SCOPE = [("How do I remove stains from shoes?", "en"), ("驴胶和鹿胶有什么区别？", "zh")]


def _refused_out_of_scope(answerer: Answerer) -> None:
    for question, lang in OUT_OF_SCOPE:
        answer = answerer.answer(question)
        assert answer.refused and answer.kind == "refusal", question
        assert answer.text.startswith(prompts.NOT_COVERED(lang))
        assert answer.refusal_reason and not answer.citations


def test_out_of_scope_question_is_refused_on_the_models_no(english_retriever,
                                                            hash_settings) -> None:
    # Below the passage floor the model reads the best few sentences of the Chinese question's
    # English passages, one call each; its "no" refuses and nothing is written.
    answerer, llm = chain(english_retriever, hash_settings, "should not be used")
    assert llm is not None
    llm.verdicts = ["no"]
    _refused_out_of_scope(answerer)
    # no answer written: the only other call renders the Chinese question in English, so the
    # model reads English sentences against it
    rendering = prompts.TRANSLATE.split("{")[0][:40]
    assert [str(c[-1].content)[:40] for c in llm.calls] == [rendering]
    assert 0 < len(llm.judged) <= len(OUT_OF_SCOPE) * hash_settings.answer.judge_look


def test_out_of_scope_question_is_refused_when_the_model_cannot_read_it(
        english_retriever, hash_settings) -> None:
    # The model down: below the floor nothing else can let a question through.
    answerer, _ = chain(english_retriever, hash_settings, fail=True)
    _refused_out_of_scope(answerer)


def test_out_of_scope_question_is_refused_without_a_call_when_the_floor_is_final(
        english_retriever, hash_settings) -> None:
    final = hash_settings.model_copy(update={"answer": hash_settings.answer.model_copy(
        update={"judge_below_floor": ()})})
    answerer, llm = chain(english_retriever, final, "should not be used")
    _refused_out_of_scope(answerer)
    assert llm is not None and llm.calls == [] and llm.judged == []


def test_a_drug_or_concern_the_passages_never_mention_is_named_in_a_refusal(
        retriever, hash_settings) -> None:
    answerer, llm = chain(retriever, hash_settings, "should not be used")
    for question, lang, name in [
        ("How long after chemotherapy can I have surgery if I take ibuprofen?", "en", "ibuprofen"),
        ("吃布洛芬的话，化疗结束后多久可以手术？", "zh", "布洛芬"),
        ("How long after chemotherapy can I have surgery, and what should I eat meanwhile?",
         "en", "diet"),
    ]:
        answer = answerer.answer(question)
        assert answer.refused and answer.kind == "refusal", question
        assert answer.text.startswith(prompts.NOT_MENTIONED(lang, names=name))
        assert answer.refusal_reason and name in answer.refusal_reason
    assert llm is not None and llm.calls == []
    # the same question without the unknown drug is answered
    assert not answerer.answer("How long after chemotherapy can I have surgery?").refused


def test_a_rewrite_in_two_sentences_cites_both(retriever, rewriting) -> None:
    rewrite = ("If the surgeon thinks there is a possibility of surgery, he needs to wait for the "
               "patient's blood to return to normal after surgery. That is usually 3 to 4 weeks "
               "after the end of neoadjuvant chemotherapy.")
    answerer, _ = chain(retriever, rewriting, rewrite)
    answer = answerer.answer(SURGERY_Q)
    assert answer.citations[0].support[0].mode == "rewrite"
    n = answer.citations[0].n
    assert answer.text.count(f"[{n}]") == 2 and answer.text.endswith(f"chemotherapy [{n}].")


def test_no_sentence_is_shown_twice(retriever, hash_settings) -> None:
    answerer, _ = chain(retriever, hash_settings, sentences=3)
    answer = answerer.answer(SURGERY_Q)
    shown = [s.sentence for c in answer.citations for s in c.support]
    assert len(shown) == len(set(shown)) >= 1


def test_urgent_advice_streams_before_retrieval(retriever, hash_settings) -> None:
    answerer, _ = chain(retriever, hash_settings)
    calls = []
    original = answerer.retriever.search

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    object.__setattr__(answerer.retriever, "search", spy)
    events = answerer.stream("I have a fever of 39 degrees after my chemo yesterday, what now?")
    first = next(events)
    assert first == FEVER_EN + "\n\n" and calls == []
    final = list(events)[-1]
    assert isinstance(final, Answer) and final.kind == "safety"
    assert final.text.startswith(FEVER_EN) and final.preface == FEVER_EN


def test_stream_yields_each_sentence_then_the_final_answer(retriever, hash_settings) -> None:
    answerer, _ = chain(retriever, hash_settings, sentences=2)
    events = list(answerer.stream(SURGERY_Q))
    deltas = [e for e in events if isinstance(e, str)]
    final = events[-1]
    assert isinstance(final, Answer) and len(deltas) == len(
        [s for c in final.citations for s in c.support])
    assert "".join(deltas).strip() == final.text
    assert 0 < final.timings.first_token <= final.timings.total


def test_unreachable_llm_shows_source_sentences(retriever, hash_settings) -> None:
    answerer, _ = chain(retriever, hash_settings, fail=True)
    answer = answerer.answer(SURGERY_Q)
    assert not answer.refused and answer.backend == "extractive"
    assert "3 to 4 weeks" in answer.text


def test_follow_up_keeps_the_topic(retriever, hash_settings) -> None:
    answerer, _ = chain(retriever, hash_settings)
    history = [Turn("鼻咽癌为什么会在治疗期间转移？", "...")]
    answer = answerer.answer("那靶向药呢？", history)
    assert answer.standalone_question.startswith("鼻咽癌为什么会在治疗期间转移？")
    assert answer.retrieved[0].source == NPC


@pytest.mark.parametrize("bad", ["", "   ", "x" * 100_000, "😀😀😀", "\x00\x01\x02"])
def test_bad_questions_get_a_clear_message(retriever, hash_settings, bad) -> None:
    answerer, _ = chain(retriever, hash_settings)
    with pytest.raises(BadQuestionError) as info:
        answerer.answer(bad)
    assert info.value.message and "Traceback" not in info.value.message


@pytest.mark.parametrize("on", [True, False])
def test_a_chinese_question_is_put_into_english_for_selection(retriever, hash_settings,
                                                              on: bool) -> None:
    answer_settings = hash_settings.answer.model_copy(update={"translate_question": on})
    settings = hash_settings.model_copy(update={"answer": answer_settings})
    english = "How many weeks after neoadjuvant chemotherapy is surgery done?"
    answerer, llm = chain(retriever, settings, english)
    answerer.answer("新辅助化疗结束后多久可以做手术？")
    assert llm is not None
    asked = [str(call[-1].content) for call in llm.calls]
    translated = [a for a in asked if a == prompts.TRANSLATE.format(
        question="新辅助化疗结束后多久可以做手术？")]
    assert len(translated) == (1 if on else 0)
    answerer.answer("新辅助化疗结束后多久可以做手术？")  # asked again: remembered, not re-asked
    assert len([str(c[-1].content) for c in llm.calls if str(c[-1].content) in translated]) == (
        1 if on else 0)



def test_the_retriever_and_the_answer_step_share_one_rendering_of_a_chinese_question(
        retriever, hash_settings) -> None:
    from qa.translate import QuestionTranslator

    question = "新辅助化疗结束后多久可以做手术？"
    english = "How many weeks after neoadjuvant chemotherapy is surgery done?"
    llm = ScriptedChat(replies=[english], calls=[])
    searching = retriever.model_copy(update={"translator": QuestionTranslator(llm)})
    assert searching.query_variants(question)[-1] == english  # searched with the rendering
    answerer = make_answerer(searching, llm, hash_settings)
    answerer.answer(question)
    asked = [c for c in llm.calls if str(c[-1].content) == prompts.TRANSLATE.format(
        question=question)]
    assert len(asked) == 1  # once for retrieval and selection, not once each


def test_a_rendering_that_is_not_english_is_not_used() -> None:
    from qa.translate import QuestionTranslator

    assert QuestionTranslator(ScriptedChat(replies=["新辅助化疗"], calls=[]))("多久？") is None
    assert QuestionTranslator(ScriptedChat(replies=[], calls=[], fail=True))("多久？") is None
    assert QuestionTranslator(ScriptedChat(replies=["'How long?'\nextra"], calls=[]))(
        "多久？") == "How long?"

@pytest.mark.parametrize(("question", "previous", "focus"), [
    # a full follow-up that leans on the previous turn's disease: its own ask, plus the disease
    ("What tests are done before treatment?",
     "What are the main ways nasopharyngeal cancer is treated?",
     "What tests are done before treatment? (nasopharyngeal cancer)"),
    # elliptical follow-ups borrow the previous question's ask: the whole fallback stays
    ("And after bevacizumab?", "How long after chemo is surgery done?",
     "How long after chemo is surgery done? And after bevacizumab?"),
    ("那鼻咽癌呢？", "转移性肿瘤一般有哪些治疗方法？",
     "转移性肿瘤一般有哪些治疗方法？ 那鼻咽癌呢？"),
])
def test_sentences_are_ranked_against_the_follow_up_itself(question: str, previous: str,
                                                            focus: str) -> None:
    from qa.question import focus_question, standalone_question

    history = [Turn(previous, "")]
    standalone = standalone_question(question, history, None, language_of(question))
    assert standalone == f"{previous} {question}"
    assert focus_question(question, standalone, history) == focus
    # a rewrite by the model is a question of its own: used as it is
    assert focus_question(question, "Which tests come first?", history) == "Which tests come first?"


def test_drug_names_are_found_by_glossary_or_by_their_stem() -> None:
    from qa.gate import absent_names
    from qa.types import Passage

    passage = Passage(id="1", source="a.txt", title="t", language="en", score=1.0, start=0,
                      end=60, text="Oxaliplatin and 5-FU are given before surgery (FOLFOX).")
    assert absent_names("Is oxaliplatin given before surgery?", [passage]) == ()
    assert absent_names("奥沙利铂在手术前使用吗？", [passage]) == ()
    assert absent_names("Can I take amoxicillin or omeprazole too?", [passage]) == (
        "amoxicillin", "omeprazole")
    assert absent_names("Is the operation given before chemotherapy?", [passage]) == ()


@pytest.mark.parametrize(("rated", "answered"), [(8, True), (3, False)])
def test_a_definition_among_the_rated_candidates_comes_first(
        retriever, hash_settings, rated, answered) -> None:
    # By hash similarity a sentence that only mentions the term ranks above the one that
    # defines it (seventh); within the candidates the model rates, the definition is moved
    # first and trusted; beyond them, nothing is.
    strict = hash_settings.model_copy(update={
        "retrieval": hash_settings.retrieval.model_copy(update={"min_score": 0.999}),
        "answer": hash_settings.answer.model_copy(update={"judge_trust": 2.0,
                                                          "judge_rerank": rated})})
    answerer, llm = chain(retriever, strict, "unused")
    assert llm is not None
    llm.verdicts = ["no"]
    answer = answerer.answer(DEFINITION_Q)
    assert answer.refused is not answered
    if answered:
        assert answer.text.startswith("Neoadjuvant chemotherapy refers to")


def test_a_definition_question_needs_a_passage_that_names_its_term() -> None:
    from qa.gate import unnamed_term
    from qa.types import Passage

    passage = Passage(id="1", source="a.txt", title="t", language="en", score=1.0, start=0,
                      end=90, text="Neoadjuvant chemotherapy refers to chemotherapy given "
                      "before surgery, for example with cetuximab.")
    # a sibling the passage does not name: it cannot say what that is
    assert unnamed_term("What does 'adjuvant chemotherapy' mean?", [passage]) == (
        "adjuvant chemotherapy")
    assert unnamed_term("What is CAR-T?", [passage]) == "CAR-T"
    # named verbatim, through the glossary in another language, or by an English stem
    assert unnamed_term("What is neoadjuvant chemotherapy?", [passage]) is None
    assert unnamed_term("西妥昔单抗是什么药？", [passage]) is None
    assert unnamed_term("The doctor said 'neoadjuvanted'. What does that mean?", [passage]) is None
    # a Chinese term the glossary lacks cannot be checked against an English passage
    assert unnamed_term("医生说肿瘤出现了“拖尾”，这是什么意思？", [passage]) is None
    # nor is a question that asks something else a definition question
    assert unnamed_term("Is adjuvant chemotherapy given after surgery?", [passage]) is None


def test_a_definition_question_about_a_term_no_passage_names_is_refused_naming_it(
        retriever, hash_settings) -> None:
    answerer, _ = chain(retriever, hash_settings)
    answer = answerer.answer("What does 'adjuvant chemotherapy' mean?")
    assert answer.refused and "adjuvant chemotherapy" in answer.text
    assert "adjuvant chemotherapy" in (answer.refusal_reason or "")
    assert not answerer.answer(DEFINITION_Q).refused
    # a drug no passage mentions is named once, though both checks find it
    drug = answerer.answer("奥沙利铂是什么药？")
    assert drug.refused and drug.text.count("奥沙利铂") == 1


def test_a_chinese_drug_name_the_glossary_lacks_is_checked_through_the_english_rendering() -> None:
    from qa.gate import absent_names
    from qa.types import Passage

    passage = Passage(id="1", source="a.txt", title="t", language="en", score=1.0, start=0,
                      end=60, text="Regorafenib is stopped two weeks before liver surgery.")
    question = "我爸现在在吃瑞戈非尼，手术前要停药多久？"
    asked: list[str] = []

    def rendering(english: str):
        def render() -> str:
            asked.append(english)
            return english
        return render

    # Without a rendering it cannot be matched: absent, named without the words before it.
    assert absent_names(question, [passage]) == ("瑞戈非尼",)
    assert absent_names(question, [passage], english=rendering(
        "My father takes regorafenib; how long before surgery should he stop?")) == ()
    assert absent_names(question, [passage], english=rendering(
        "My father takes sorafenib; how long before surgery should he stop?")) == ("瑞戈非尼",)
    assert absent_names(question, [passage], english=rendering(
        "How long before surgery should my father stop his medicine?")) == ("瑞戈非尼",)
    # A question without such a name costs no rendering.
    asked.clear()
    assert absent_names("手术前要停药多久？", [passage], english=rendering("unused")) == ()
    assert asked == []


@pytest.mark.parametrize(("message", "asked"), [
    ("What is the best diet during radiotherapy?", "What is the best diet during radiotherapy?"),
    ("化疗期间能喝酒吗", "化疗期间能喝酒吗"),  # no mark: a cue is enough
    ("Tell me about diet during radiotherapy.", "Tell me about diet during radiotherapy."),
    ("I drink a beer every evening. Why did it spread?", "Why did it spread?"),
    ("We drive four hours to the clinic, so which scan comes first?", "so which scan comes first?"),
    ("Is it ok to keep jogging while on chemo, or should I rest?",
     "Is it ok to keep jogging while on chemo or should I rest?"),
    ("got my dentist booked... are side effects still bad", "are side effects still bad"),
    ("我在外地上班，请假不容易，停药多久可以手术？", "停药多久可以手术？"),
])
def test_the_asked_part_leaves_out_background(message: str, asked: str) -> None:
    from qa.gate import asked_part

    assert asked_part(message) == asked


def test_a_concern_no_passage_mentions_is_named_in_the_question_language() -> None:
    from qa.gate import absent_names
    from qa.types import Passage

    def passage(text: str) -> Passage:
        return Passage(id="1", source="a.txt", title="t", language="en", score=1.0, start=0,
                       end=len(text), text=text)

    radiotherapy = passage("Radiotherapy uses high-energy rays to kill tumour cells.")
    assert absent_names("What is the best diet during radiotherapy?", [radiotherapy]) == ("diet",)
    assert absent_names("What should I eat during radiotherapy?", [radiotherapy]) == ("diet",)
    assert absent_names("放疗期间吃什么好？", [radiotherapy]) == ("饮食",)
    assert absent_names("放療期間可以喝酒嗎？", [radiotherapy]) == ("饮酒",)
    assert absent_names("放疗期间可以去游泳吗？我每天都游。", [radiotherapy]) == ("运动",)
    assert absent_names("Can I keep jogging and drinking beer during radiotherapy?",
                        [radiotherapy]) == ("exercise", "alcohol")
    # everyday life around treatment: pets, hair dye, saunas, coffee, a jab, scars
    assert absent_names("Can I still clean the cat's litter tray during radiotherapy?",
                        [radiotherapy]) == ("pets",)
    assert absent_names("放疗期间可以染发吗？", [radiotherapy]) == ("染发",)
    assert absent_names("Is a sauna after the gym OK during radiotherapy?",
                        [radiotherapy]) == ("sauna", "exercise")
    assert absent_names("放療期間還能喝咖啡嗎？", [radiotherapy]) == ("咖啡",)
    assert absent_names("Should I get the shingles jab before radiotherapy?",
                        [radiotherapy]) == ("shingles", "vaccination")
    assert absent_names("How long will the scar take to fade?", [radiotherapy]) == ("scar",)
    # ... but not a PET-CT scan
    assert absent_names("Is a PET-CT scan done before radiotherapy?", [radiotherapy]) == ()
    # ... nor "what medicine to take" (吃什么药), which is not a question about diet: what
    # is missing is the symptom it is asked for, in the same sentence
    assert absent_names("我爸放疗后一直便秘，吃什么药好？", [radiotherapy]) == ("便秘",)
    # a passage that mentions the concern in other words answers to it
    eating = passage("Good nutrition helps patients recover between radiotherapy sessions.")
    assert absent_names("What should I eat during radiotherapy?", [eating]) == ()
    assert absent_names("放疗期间吃什么好？", [eating]) == ()
    # told as background, a concern is no reason to refuse; asked about, it is
    assert absent_names("I drink a beer every evening. Does radiotherapy kill tumour cells?",
                        [radiotherapy]) == ()
    assert absent_names("我每天都喝点白酒。放疗能杀死肿瘤细胞吗？", [radiotherapy]) == ()
    assert absent_names("I'm on radiotherapy. Can I still have a beer?", [radiotherapy]) == (
        "alcohol",)
    # a drug is checked anywhere: one the patient takes can change the answer
    assert absent_names("I take ibuprofen daily. Does radiotherapy kill tumour cells?",
                        [radiotherapy]) == ("ibuprofen",)
    # ... also inside one sentence, in a clause that does not ask
    assert absent_names("I drive her to radiotherapy daily, and she asks me: does it kill "
                        "tumour cells?", [radiotherapy]) == ()
    assert absent_names("我每天开车送她去放疗，她问我：放疗是怎么杀死肿瘤细胞的？",
                        [radiotherapy]) == ()
    # a symptom is checked like a concern: asked about, it must be in a passage ...
    assert absent_names("Does radiotherapy cause nausea?", [radiotherapy]) == ("nausea",)
    assert absent_names("鼻咽癌放疗后口干多久能缓解？", [radiotherapy]) == ("口干",)
    assert absent_names("鼻咽癌放疗结束后嘴巴一直很干，多久能好？", [radiotherapy]) == ("口干",)
    assert absent_names("Is it normal to keep feeling sick after radiotherapy?",
                        [radiotherapy]) == ("nausea",)
    # ... told in a sentence of its own, or before a clause that asks about something else,
    # it is background; a passage naming it in other words answers to it
    assert absent_names("I have had a dry mouth since May, so how long does radiotherapy take?",
                        [radiotherapy]) == ()
    assert absent_names("化疗后我的指甲变黑了，这正常吗？", [radiotherapy]) == ("指甲变黑",)
    assert absent_names("My mouth is dry all day. Does radiotherapy kill tumour cells?",
                        [radiotherapy]) == ()
    assert absent_names("I have had a dry mouth since May. Does radiotherapy kill tumour "
                        "cells?", [radiotherapy]) == ()
    dry = passage("Xerostomia after radiotherapy often eases over months.")
    assert absent_names("How long does dry mouth last after radiotherapy?", [dry]) == ()
    assert absent_names("放疗后口干要多久才能好？", [dry]) == ()
    # treatments are the topic the passages are found by, not checked
    assert absent_names("Is chemoradiotherapy used after radiotherapy?", [radiotherapy]) == ()


def test_a_missing_concern_is_named_in_the_readers_language_in_a_follow_up(
        retriever, hash_settings) -> None:
    """An English follow-up in a Chinese conversation is searched with the Chinese question in
    front: the refusal still names the concern in English ("diet", not 饮食)."""
    answerer, _ = chain(retriever, hash_settings)
    history = [Turn("鼻咽癌化疗常用哪些药？", "顺铂、紫杉醇和氟尿嘧啶 [1]。")]
    answer = answerer.answer("Can I eat grapefruit during chemotherapy?", history)
    assert answer.refused and "diet" in answer.text
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in answer.text), answer.text


BACKGROUND_Q = ("My neighbour keeps chickens and grows cabbages in her garden, and on the way to "
                "the market she asks me: how many weeks after the end of neoadjuvant "
                "chemotherapy is surgery usually done?")


def test_the_part_that_asks_lends_passages_its_score_not_its_ranking(retriever, monkeypatch):
    assert retriever.asked_variants(BACKGROUND_Q) == [
        "how many weeks after the end of neoadjuvant chemotherapy is surgery usually done?"]
    assert retriever.asked_variants(SURGERY_Q) == []
    assert retriever.asked_variants("我舅舅每天喝酒。这是为什么？") == []  # nothing to search alone
    zh = retriever.asked_variants(
        "我每天开车送老婆去做放疗，路上她总问我：放疗是用什么把癌细胞杀死的？")
    assert zh[0] == "放疗是用什么把癌细胞杀死的？" and "radiotherapy" in zh[1]
    with_ask = retriever.search(BACKGROUND_Q)
    monkeypatch.setattr(HybridRetriever, "asked_variants", lambda self, question: [])
    without = retriever.search(BACKGROUND_Q)
    assert [p.id for p in with_ask] == [p.id for p in without]  # the same ranking
    assert max(p.dense for p in with_ask) > max(p.dense for p in without)  # closer, for the gate


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_general_information_line_comes_only_before_sentences(retriever, hash_settings,
                                                                  lang) -> None:
    answerer, _ = chain(retriever, hash_settings)
    answered = answerer.answer({
        "en": "How many mg should I take? How many weeks after neoadjuvant chemotherapy is "
              "surgery usually done?",
        "zh": "我该吃多少毫克？新辅助化疗结束后一般几周做手术？"}[lang])
    header = prompts.GENERAL_INFO_HEADER(lang)
    assert not answered.refused and answered.preface.endswith(header)
    assert answered.text.index(header) < answered.text.index("[")
    refused = answerer.answer({"en": "How many mg of regorafenib should I take?",
                               "zh": "瑞戈非尼我该吃多少毫克？"}[lang])
    assert refused.refused and refused.text.startswith(prompts.PERSONAL_MEDICATION(lang))
    assert header not in refused.text


def test_a_sentence_whose_lead_in_was_not_shown_is_not_shown_either(retriever,
                                                                   hash_settings) -> None:
    """A Chinese reader without a model: the first English sentence is quoted, a supporting
    English one is not worth a quote, and the Chinese sentence that points back to it must not
    be shown on its own."""
    answerer, _ = chain(retriever, hash_settings, sentences=3)
    first = Candidate("Surgery is usually done 3 to 4 weeks after chemotherapy.", 1, 0, 56, "en",
                      0.9, 0.0, False, (), 0.9)
    lead = Candidate("Bevacizumab is stopped six weeks before surgery.", 2, 0, 48, "en", 0.8,
                     0.0, False, (), 0.8)
    points_back = Candidate("这样做的目的是减少手术出血。", 2, 49, 63, "zh", 0.85, 0.0, False, (),
                            0.85, lead.text, (2, 0))
    standalone = replace(points_back, lead="", lead_at=None)
    question = "新辅助化疗结束后一般几周做手术？"
    for third, shown in ((points_back, False), (standalone, True)):
        selection = Selection((first, lead, third), (first, third, lead))
        answerer.selector.select = lambda *args, s=selection, **kwargs: s  # type: ignore[method-assign]
        answer = answerer.answer(question)
        assert not answer.refused and first.text.rstrip(".") in answer.text
        assert lead.text.rstrip(".") not in answer.text
        assert (third.text.rstrip("。") in answer.text) is shown
