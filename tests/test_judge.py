"""The model's yes/no on candidate sentences (qa.judge): reading replies, promoting the sentence
that answers, and refusing only below the trusted score."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest

from core.settings import AnswerSettings, Settings
from qa import prompts
from qa.judge import Judge, Rating, rating_of, read_verdict, review, reviews
from qa.select import Candidate, Selection
from qa.types import Turn
from tests.fakes import RatingChat, ScriptedChat
from tests.test_answer import SURGERY_Q, chain, hash_settings, retriever  # noqa: F401
from tests.test_triage import FEVER_EN


def candidate(text: str, score: float, *, flags: tuple[str, ...] = ()) -> Candidate:
    return Candidate(text, 1, 0, len(text), "en", score, 0.0, False, flags, score)


A = candidate("Surgery is usually done 3 to 4 weeks after chemotherapy ends.", 0.90)
B = candidate("Chemotherapy reaches its peak effect after several cycles.", 0.89)
C = candidate("The waiting time lets the blood counts recover.", 0.88)
HEADING = candidate("When is surgery done", 0.95, flags=("heading",))


def asker(replies: dict[str, float | None]):
    """Rates each sentence as scripted: p (True 1.0, False 0.0), a "yes" from 0.5; None: no
    reply."""
    asked: list[str] = []

    def ask(question: str, sentence: str) -> Rating | None:
        asked.append(sentence)
        p = replies[sentence]
        return None if p is None else Rating(float(p), p >= 0.5)
    return ask, asked


@pytest.mark.parametrize(("reply", "verdict"), [
    ("yes", True), ("No.", False), (" Yes, it does", True), ("是", True), ("否", False),
    ("不能回答", False), ("", None), ("maybe", None), ("The sentence answers it", None),
])
def test_a_reply_is_read_from_its_first_word(reply: str, verdict: bool | None) -> None:
    assert read_verdict(reply) is verdict


def first_two(ranked):
    return tuple(ranked[:2])


def test_check_only_the_first_sentence_judged_to_answer_comes_first() -> None:
    selection = Selection(chosen=(B, A, C), ranked=(HEADING, B, A, C))
    ask, asked = asker({B.text: False, A.text: True, C.text: True})
    result = review(selection, "q", ask, look=3, rerank=0, trust=0.95, weight=0.0, choose=first_two)
    assert not result.refuse
    assert result.selection.chosen == (A, B, C)
    assert asked == [B.text, A.text]  # headings are not asked about; it stops at the first yes
    assert result.asked == 2


def test_ratings_re_rank_the_best_candidates() -> None:
    selection = Selection(chosen=(B, A), ranked=(HEADING, B, A, C))
    ask, asked = asker({B.text: 0.1, A.text: 0.9, C.text: 0.5})
    result = review(selection, "q", ask, look=3, rerank=3, trust=0.5, weight=0.3, choose=first_two)
    assert asked == [B.text, A.text, C.text]  # every candidate within `look` is rated
    ranked = result.selection.ranked
    assert [c.text for c in ranked] == [A.text, C.text, B.text, HEADING.text]
    assert ranked[0].score == pytest.approx(0.90 + 0.3 * 0.9)
    assert ranked[1].score == pytest.approx(0.88 + 0.3 * 0.5)
    assert result.selection.chosen == ranked[:2]  # the selector's choice over the new order
    assert not result.refuse


def test_a_sentence_that_points_back_is_rated_with_its_lead_in() -> None:
    lead = "Bevacizumab is stopped six weeks before surgery."
    purpose = replace(candidate("The purpose is to reduce bleeding.", 0.89), lead=lead,
                      lead_at=(1, 0), start=50)
    selection = Selection(chosen=(A,), ranked=(A, purpose))
    ask, asked = asker({A.text: 0.9, f"{lead} {purpose.text}": 0.1})
    review(selection, "q", ask, look=3, rerank=3, trust=0.5, weight=0.3, choose=first_two)
    assert asked == [A.text, f"{lead} {purpose.text}"]


def test_a_confident_selection_is_re_ranked_but_never_refused() -> None:
    selection = Selection(chosen=(B, C), ranked=(B, C))
    ask, _ = asker({B.text: 0.2, C.text: 0.3})
    result = review(selection, "q", ask, look=3, rerank=3, trust=0.89, weight=0.3, choose=first_two)
    assert not result.refuse and result.selection.chosen[0].text == C.text
    # just below the trusted score, all "no": refused, having read the best `look` ratings and
    # no more (the rest could not change it)
    refused = review(selection, "q", ask, look=1, rerank=2, trust=0.8901, weight=0.3,
                     choose=first_two)
    assert refused.refuse and (refused.asked, refused.looked) == (1, 1)


def test_a_confident_candidate_behind_the_first_one_still_forbids_a_refusal() -> None:
    """The first chosen sentence may rank ahead of a higher-scoring one because it supplies what
    the question asks for; the confident one behind it still means the documents answer."""
    fitting = candidate("A PET-CT scan is advised before treatment.", 0.85)
    confident = candidate("Chemotherapy first shrinks the tumour before the liver surgery.", 0.90)
    selection = Selection(chosen=(fitting,), ranked=(fitting, confident))
    assert selection.best == 0.85 and selection.top == 0.90
    ask, _ = asker({fitting.text: 0.1, confident.text: 0.2})
    assert not review(selection, "q", ask, look=3, rerank=3, trust=0.88, weight=0.3,
                      choose=first_two).refuse
    assert review(selection, "q", ask, look=3, rerank=3, trust=0.91, weight=0.3,
                  choose=first_two).refuse


def test_with_the_check_only_a_confident_sentence_is_not_put_to_the_model() -> None:
    selection = Selection(chosen=(B, C), ranked=(B, C))
    ask, asked = asker({B.text: False, C.text: False})
    result = review(selection, "q", ask, look=3, rerank=3, trust=0.89, weight=0.0, choose=first_two)
    assert not result.refuse and result.selection == selection and asked == []


def test_nothing_answers_below_the_trusted_score_refuses() -> None:
    selection = Selection(chosen=(B, C), ranked=(B, C, A))
    ask, asked = asker({B.text: False, C.text: False, A.text: False})
    result = review(selection, "q", ask, look=2, rerank=2, trust=0.95, weight=0.3, choose=first_two)
    assert result.refuse and asked == [B.text, C.text]  # look bounds the calls


def test_without_a_readable_rating_the_selection_stands() -> None:
    selection = Selection(chosen=(B, C), ranked=(B, C))
    ask, _ = asker({B.text: None, C.text: None})
    result = review(selection, "q", ask, look=3, rerank=3, trust=0.99, weight=0.3, choose=first_two)
    assert not result.refuse and result.selection == selection and result.unheard


def _top(*pairs: tuple[str, float]) -> dict:
    top = [{"token": t, "logprob": math.log(p)} for t, p in pairs]
    return {"content": [{**top[0], "top_logprobs": top}]}


def _steps(replies: dict[str, float | None], **kw) -> tuple[list, list[str]]:
    ask, asked = asker(replies)
    options = {"look": 3, "rerank": 3, "trust": 2.0, "weight": 0.3, "choose": first_two} | kw
    return list(reviews(Selection((A, B), (A, B, C)), "q", ask, **options)), asked


def test_the_first_sentence_is_settled_before_every_candidate_is_rated() -> None:
    replies = {A.text: 1.0, B.text: 0.0, C.text: 0.0}
    steps, asked = _steps(replies)
    # A's rating puts it beyond what B or C could reach with P(yes) = 1: it is settled, and
    # only it (the second chosen sentence depends on the ratings to come).
    assert [(s.settled, s.asked) for s in steps] == [(1, 1), (None, 3)]
    assert steps[0].selection.chosen[0].text == A.text and len(asked) == 3
    final = review(Selection((A, B), (A, B, C)), "q", asker(replies)[0], look=3, rerank=3,
                   trust=2.0, weight=0.3, choose=first_two)
    assert [c.text for c in steps[-1].selection.chosen] == [c.text for c in
                                                          final.selection.chosen]


def test_the_first_sentence_waits_while_the_question_may_be_refused_or_overtaken() -> None:
    # Below the trusted score a "no" may still end in a refusal: settled at the first "yes".
    steps, _ = _steps({A.text: 0.0, B.text: 1.0, C.text: 0.0})
    assert [(s.settled, s.asked) for s in steps] == [(1, 2), (None, 3)]
    assert steps[0].selection.chosen[0].text == B.text
    # A "yes" that B could still beat with a full rating settles nothing before the end.
    steps, _ = _steps({A.text: 0.9, B.text: 0.0, C.text: 0.0})
    assert [(s.settled, s.asked) for s in steps] == [(None, 3)]
    # Nothing settles ahead of a refusal, or of an unreadable rating.
    steps, _ = _steps({A.text: 0.0, B.text: 0.0, C.text: 0.0})
    assert [(s.settled, s.refuse) for s in steps] == [(None, True)]
    steps, _ = _steps({A.text: None, B.text: 1.0, C.text: 0.0}, trust=0.5)
    assert [s.settled for s in steps] == [None]


def test_a_rating_is_read_from_the_first_tokens_alternatives() -> None:
    # p: any case and spacing of the two words; "Not" or "Yesterday" are other words
    logprobs = _top(("Yes", 0.5), ("No", 0.2), (" yes", 0.1), ("Not", 0.1), ("Yesterday", 0.05))
    rating = rating_of(logprobs)
    assert rating is not None and rating.p == pytest.approx(0.6 / 0.8)
    assert rating.yes  # no exact lower-case word among them: p decides
    # the exact words the check's grammar allows decide yes, whatever the capitalised ones say
    split = rating_of(_top(("Yes", 0.6), ("No", 0.2), ("no", 0.1), ("yes", 0.05)))
    assert split is not None and split.p > 0.5 and not split.yes
    assert rating_of(_top(("Maybe", 0.9))) is None
    assert rating_of(None) is None and rating_of({"content": []}) is None


def test_the_judge_rates_with_token_probabilities_where_the_model_gives_them() -> None:
    llm = RatingChat(replies=["unused"], calls=[], judged=[], ratings=[0.8])
    rating = Judge(llm).rate("Can I drink coffee?", "Coffee is fine.")
    assert rating is not None and rating.p == pytest.approx(0.8) and rating.yes
    assert "Coffee is fine." in llm.judged[0][-1].content and llm.calls == []
    # a model without them (a server): its yes/no reply counts 1 or 0
    plain = ScriptedChat(replies=["unused"], calls=[], verdicts=["no"], judged=[])
    assert Judge(plain).rate("Can I drink coffee?", "Chemotherapy drugs peak.") == Rating(0.0,
                                                                                      False)


def test_the_judge_sends_the_yes_no_grammar_and_reads_the_reply() -> None:
    llm = ScriptedChat(replies=["unused"], calls=[], verdicts=["no"], judged=[])
    assert Judge(llm).answers("Can I drink coffee?", "Chemotherapy drugs peak.") is False
    assert llm.calls == []  # a grammar call: the fake answered it as a verdict
    sent = llm.judged[0][-1].content
    assert "Can I drink coffee?" in sent and "Chemotherapy drugs peak." in sent


def test_a_backend_failure_is_no_verdict_and_is_described() -> None:
    llm = ScriptedChat(replies=["unused"], calls=[], fail=True, judged=[])
    judge = Judge(llm)
    assert judge.answers("q", "s") is None
    assert judge.last_failure == "the server cannot be reached"
    llm.fail = False  # back up: a reply clears it
    assert judge.answers("q", "s") is True and judge.last_failure == ""
    unheard = review(Selection((A,), (A, B)), "q", lambda q, s: None, look=2, rerank=2,
                     trust=0.95, weight=0.3, choose=first_two)
    assert unheard.unheard and not unheard.refuse
    assert not review(Selection((A,), (A, B)), "q", lambda q, s: Rating(0.0, False), look=2,
                      rerank=2, trust=0.95, weight=0.3, choose=first_two).unheard


def test_the_chain_refuses_when_no_close_sentence_answers(retriever, hash_settings) -> None:  # noqa: F811
    strict = hash_settings.model_copy(update={"answer": AnswerSettings(
        min_sentence_score=0.0, judge_trust=2.0, judge_rerank=3, judge_look=3)})
    answerer, llm = chain(retriever, strict, "A plain sentence.")
    llm.verdicts = ["no"]
    answer = answerer.answer(SURGERY_Q)
    assert answer.refused and answer.backend == "judge"
    assert answer.refusal_reason.startswith("none of the 3 closest sentences")
    assert answer.text.startswith(prompts.NOT_COVERED("en"))
    assert llm.calls == [] and len(llm.judged) == 3  # no phrasing call for a refusal


def test_the_chain_rates_but_never_refuses_a_trusted_sentence(retriever, hash_settings) -> None:  # noqa: F811
    trusting = hash_settings.model_copy(update={"answer": AnswerSettings(
        min_sentence_score=0.0, judge_trust=-1.0, judge_rerank=4, judge_look=4,
        simplify=False)})
    answerer, llm = chain(retriever, trusting, "A plain sentence.")
    llm.verdicts = ["no"]
    answer = answerer.answer(SURGERY_Q)
    assert not answer.refused and "3 to 4 weeks" in answer.text and len(llm.judged) == 4
    # with the check only (no re-ranking), a trusted sentence is not put to the model
    _answered_without_asking(retriever, trusting.model_copy(update={
        "answer": trusting.answer.model_copy(update={"judge_weight": 0.0})}))


def test_a_sentence_that_passed_the_gate_on_its_own_is_not_trusted(
        retriever, hash_settings) -> None:  # noqa: F811
    # No passage reaches the floor: the sentence's score carried the question past the gate,
    # and the model's "no" can refuse it (the same "no" cannot refuse above, with the floor met).
    trusting = AnswerSettings(min_sentence_score=0.0, judge_trust=-1.0, judge_rerank=3,
                              judge_look=3, simplify=False)
    strict = hash_settings.model_copy(update={"answer": trusting, "retrieval": (
        hash_settings.retrieval.model_copy(update={"min_score": 0.999}))})
    answerer, llm = chain(retriever, strict, "A plain sentence.")
    llm.verdicts = ["no"]
    answer = answerer.answer(SURGERY_Q)
    assert answer.refused and answer.backend == "judge" and len(llm.judged) == 3
    llm.verdicts = ["yes"]
    assert not answerer.answer(SURGERY_Q).refused


def _answered_without_asking(retriever, settings: Settings) -> None:  # noqa: F811
    """The model would say "no" to every sentence, but is never asked: answered."""
    answerer, llm = chain(retriever, settings, "A plain sentence.")
    llm.verdicts = ["no"]
    assert not answerer.answer(SURGERY_Q).refused and llm.judged == []


def test_the_chain_shows_first_the_sentence_the_model_rates_highest(
        retriever, hash_settings) -> None:  # noqa: F811
    settings = hash_settings.model_copy(update={"answer": AnswerSettings(
        min_sentence_score=0.0, judge_rerank=3, judge_look=3, simplify=False)})
    # two sentences: the one rated may be read with the one before it, and shown after it
    answerer, _ = chain(retriever, settings, "unused", sentences=2)
    llm = RatingChat(replies=["unused"], calls=[], judged=[], ratings=[0.0, 1.0, 0.0])
    answerer.judge.llm = llm  # rates the second candidate "yes", the others "no"
    answer = answerer.answer(SURGERY_Q)
    assert len(llm.judged) == 3
    second = llm.judged[1][-1].content.split("Sentence: ")[1].split("\n\n")[0]
    first = llm.judged[0][-1].content.split("Sentence: ")[1].split("\n\n")[0]
    shown = re.sub(r" \[\d+\]", "", answer.text)
    assert shown.startswith(second.rstrip(".")) and not shown.startswith(first)


def test_the_chain_shows_a_settled_first_sentence_before_rating_the_rest(
        retriever, hash_settings) -> None:  # noqa: F811
    settings = hash_settings.model_copy(update={"answer": AnswerSettings(
        min_sentence_score=0.0, judge_trust=-1.0, judge_rerank=4, judge_look=3,
        simplify=False)})
    answerer, _ = chain(retriever, settings, "unused", sentences=2)
    llm = RatingChat(replies=["unused"], calls=[], judged=[], ratings=[1.0, 0.0])
    answerer.judge.llm = llm
    rated_by_then = []
    for piece in answerer.stream(SURGERY_Q):
        if isinstance(piece, str) and piece.strip():
            rated_by_then.append(len(llm.judged))
    assert rated_by_then[0] == 1 and len(llm.judged) == 4


def test_the_check_can_be_turned_off(retriever, hash_settings: Settings) -> None:  # noqa: F811
    _answered_without_asking(retriever, hash_settings.model_copy(update={
        "answer": AnswerSettings(min_sentence_score=0.0, judge=False, judge_trust=2.0,
                                 simplify=False)}))


def test_after_an_urgent_message_a_rejected_sentence_leaves_the_message_alone(
        retriever, hash_settings) -> None:  # noqa: F811
    strict = hash_settings.model_copy(update={"answer": AnswerSettings(
        min_sentence_score=0.0, min_sentence_score_urgent=0.0, judge_trust=2.0)})
    answerer, llm = chain(retriever, strict, "A plain sentence.")
    llm.verdicts = ["no"]
    answer = answerer.answer("I have a fever of 39 degrees after my chemo, how long until "
                             "surgery after neoadjuvant chemotherapy?")
    assert answer.kind == "safety" and answer.refused and answer.backend == "judge"
    assert answer.text == FEVER_EN and not answer.citations and llm.judged


REWRITE = "Can I sing in a choir while I wait for surgery after neoadjuvant chemotherapy?"


def _answering(settings: Settings, **answer: object) -> Settings:
    """The test settings with these answer settings (every sentence passes the gate)."""
    return settings.model_copy(update={"answer": AnswerSettings(
        min_sentence_score=0.0, **answer)})  # type: ignore[arg-type]


def _follow_up_chain(retriever, settings: Settings, rewrite: str, verdict: str,  # noqa: F811
                     **answer: object):
    """A chain whose model rewrites the follow-up as `rewrite` and replies `verdict` to every
    yes/no check. Every score is trusted (judge_trust -1) and nothing is re-ranked
    (judge_weight 0), so only the follow-up rule can call the check."""
    answerer, llm = chain(retriever, _answering(settings, judge_trust=-1.0, judge_weight=0.0,
                                                simplify=False, **answer),
                          rewrite, "A plain sentence.")
    llm.verdicts = [verdict]
    return answerer, llm


def _follow_up(answerer):
    history = [Turn(SURGERY_Q, "Surgery is usually done 3 to 4 weeks after chemotherapy.")]
    return answerer.answer("Can I sing in a choir during it?", history)


def test_a_follow_up_that_borrowed_the_topic_is_checked_whatever_its_score(
        retriever, hash_settings) -> None:  # noqa: F811
    # The rewrite carries the conversation's topic: its words lift every sentence's score.
    answerer, llm = _follow_up_chain(retriever, hash_settings, REWRITE, "no")
    answer = _follow_up(answerer)
    assert answer.refused and answer.backend == "judge", answer.text
    asked = llm.judged[0][-1].content
    # The model is asked about the follow-up's own ask, not the previous question's.
    assert "sing in a choir" in asked and SURGERY_Q not in asked
    assert answer.standalone_question == REWRITE


def test_a_follow_up_is_answered_when_the_model_accepts_a_sentence(
        retriever, hash_settings) -> None:  # noqa: F811
    answerer, llm = _follow_up_chain(retriever, hash_settings, REWRITE, "yes")
    answer = _follow_up(answerer)
    assert not answer.refused and len(llm.judged) == 1


def test_checking_every_follow_up_can_be_turned_off(retriever, hash_settings) -> None:  # noqa: F811
    answerer, llm = _follow_up_chain(retriever, hash_settings, REWRITE, "no",
                                     judge_follow_ups=False)
    assert not _follow_up(answerer).refused and llm.judged == []


def test_a_follow_ups_borrowed_scores_do_not_carry_it_past_the_gate(
        retriever, hash_settings) -> None:  # noqa: F811
    # No passage reaches the floor; every sentence score is trusted (judge_trust -1).
    strict = hash_settings.model_copy(update={"retrieval": hash_settings.retrieval.model_copy(
        update={"min_score": 0.999})})
    answerer, _ = _follow_up_chain(retriever, strict, REWRITE, "yes")
    answer = _follow_up(answerer)
    assert answer.refused and answer.backend == "gate"
    # Asked on its own, the same question passes on its sentence's score.
    answerer, _ = _follow_up_chain(retriever, strict, REWRITE, "yes")
    assert not answerer.answer(REWRITE).refused


def test_the_check_reads_the_follow_ups_own_ask_not_the_previous_question(
        retriever, hash_settings) -> None:  # noqa: F811
    # An unusable rewrite (wrong language): the previous question goes in front of the
    # follow-up for retrieval, and the check must not judge sentences against it.
    answerer, llm = _follow_up_chain(retriever, hash_settings, "我可以去合唱团唱歌吗？", "no")
    answer = _follow_up(answerer)
    assert answer.standalone_question.startswith(SURGERY_Q) and answer.refused
    asked = llm.judged[0][-1].content
    assert "sing in a choir" in asked and SURGERY_Q not in asked


def test_a_follow_ups_refusal_names_only_what_it_asked_about_as_missing(
        retriever, hash_settings) -> None:  # noqa: F811
    answerer, _ = _follow_up_chain(retriever, hash_settings, "我可以去合唱团唱歌吗？", "no")
    previous = "How many weeks after neoadjuvant chemotherapy does my grandmother get surgery?"
    answer = answerer.answer("Can I sing in a choir during it?", [Turn(previous, "3 to 4 weeks.")])
    assert answer.refused and answer.standalone_question.startswith(previous)
    reason = answer.refusal_reason or ""
    assert "missing: " in reason and "choir" in reason.split("missing: ")[1]
    assert "grandmoth" not in reason  # a word of the previous question, in no passage


def test_a_refusal_names_what_is_missing_in_the_readers_words() -> None:
    from qa.bm25 import tokenize
    from qa.chain import _as_asked

    words = ("dye", "during", "chemotherapy")
    stems = tuple(tokenize(w)[0] for w in words)
    assert stems != words  # the index keeps stems ("dure")
    assert _as_asked(stems, "Can I dye my hair during chemotherapy?") == words
    assert _as_asked(("染发",), "我可以染发吗？") == ("染发",)
    # a word the Chinese tokenizer splits into characters is named whole, as the question wrote
    # it; a glossary term in the question's words, whatever its index form
    assert _as_asked(("驴", "胶", "鹿"), "驴胶和鹿胶有什么区别？") == ("驴胶", "鹿胶")
    assert _as_asked(("孩子", "o", "型"), "孩子有O型腿，怎么矫正？") == ("孩子", "O型")
    cancer = " ".join(tokenize("prostate cancer"))
    assert _as_asked((cancer,), "前列腺癌手术以后怎么办？") == ("前列腺癌",)
    # a word and the overlapping pairs of characters the index also keeps: the word once
    pieces = ("继发", "发性", "继发性")
    assert _as_asked(pieces, "继发性肝癌和原发性肝癌有什么区别？") == ("继发性",)
    assert _as_asked(("hair", "chair"), "Can a hair dryer go on a chair?") == ("hair", "chair")
