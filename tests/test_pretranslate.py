"""Translations made ahead (qa.pretranslate): which sentences, what is remembered, how the
answer step then uses it, and how the app runs it only while nobody waits. A real SQLite
memory and a real Chroma index in a temp dir; scripted models."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner

from core.settings import Settings
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from oncoqa.cli import main
from oncoqa.serve import pretranslate_when_idle
from oncoqa.wiring import make_answerer, open_index, pretranslation
from qa import pretranslate
from qa.memory import PhraseMemory
from qa.phrase import Phraser
from qa.retriever import HybridRetriever
from qa.types import Answer, Turn
from tests.conftest import cli_env
from tests.fakes import ScriptedChat
from tests.test_answer import SURGERY_SOURCE
from tests.test_memory import TRANSLATION, WRONG
from ui import chat

ZH_SOURCE = "新辅助化疗可以使肿瘤缩小，让原本无法切除的肿瘤变得可以手术切除。"
TITLE = "What Is Neoadjuvant Chemotherapy?"  # the title of the seed document 000
TITLE_TRANSLATION = "什么是新辅助化疗？"
ZH_TITLE = "鼻咽癌为什么会在治疗期间转移"


def phraser(path: Path, *replies: str, fail: bool = False) -> tuple[Phraser, ScriptedChat]:
    llm = ScriptedChat(replies=list(replies) or ["unused"], calls=[], fail=fail)
    return Phraser(llm, memory=PhraseMemory(path, "model-a")), llm


def test_the_plan_takes_each_prose_sentence_once_for_the_other_language() -> None:
    texts = [f"Treatment before surgery\n{SURGERY_SOURCE} {ZH_SOURCE}",
             f"{SURGERY_SOURCE} See Table 2. Why wait?"]  # an overlapping chunk repeats it
    work = pretranslate.plan(texts)
    assert [(c.text, target) for c, target in work] == [(SURGERY_SOURCE, "zh"),
                                                         (ZH_SOURCE, "en")]
    assert [t for _, t in pretranslate.plan(texts, ("en",))] == ["en"]


def test_the_documents_titles_come_first_whatever_their_form() -> None:
    # TITLE is a heading, never a sentence of the plan
    work = pretranslate.plan([f"{TITLE}\n{SURGERY_SOURCE}"], titles=[TITLE, TITLE, ZH_TITLE, " "])
    assert [(c.text, t) for c, t in work] == [(TITLE, "zh"), (ZH_TITLE, "en"),
                                               (SURGERY_SOURCE, "zh")]


def test_a_title_translated_ahead_is_recalled_without_a_model_call(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    ahead, _ = phraser(path, TITLE_TRANSLATION)
    assert pretranslate.run(ahead, pretranslate.plan([], titles=[TITLE])).translated == 1
    reader, llm = phraser(path, WRONG)
    assert reader.recalled(TITLE, "zh") == TITLE_TRANSLATION
    assert reader.recalled(TITLE, "en") == TITLE  # already in the reader's language
    assert reader.recalled("Why does nasopharyngeal carcinoma spread?", "zh") is None
    assert llm.calls == []  # never asked: a refusal does not wait for the model
    rejected, _ = phraser(tmp_path / "other.sqlite3", "什么是放射治疗？")  # not the same title
    assert pretranslate.run(rejected, pretranslate.plan([], titles=[TITLE])).quoted == 1
    assert rejected.recalled(TITLE, "zh") is None


def test_an_untranslated_title_carries_the_glossary_words_for_what_it_names() -> None:
    bare = Phraser(None)  # nothing remembered, no model
    assert bare.title(TITLE, "zh") == (TITLE, ("新辅助化疗",))
    assert bare.title(ZH_TITLE, "en") == (ZH_TITLE, ("nasopharyngeal carcinoma", "metastasis"))
    assert bare.title(TITLE, "en") == (TITLE, ())  # already in the reader's language


# The seed documents' titles, as a model could translate them.
SEED_TITLES = {
    TITLE: TITLE_TRANSLATION,
    "Metastatic Tumors Treatment: Exploring Options for Effective Management":
        "转移性肿瘤的治疗：探索有效管理的选择",
    "Neoadjuvant chemotherapy for initially resectable colorectal cancer liver metastases "
    "(review abstract, English with Chinese translation)":
        "初始可切除结直肠癌肝转移的新辅助化疗（综述摘要，英文附中文翻译）",
    "Why does nasopharyngeal carcinoma metastasize during treatment": ZH_TITLE,
    "When should chemotherapy be stopped? It's too late to see drug resistance in imaging!":
        "化疗应该什么时候停止？等到影像学上看到耐药就太晚了！",
}


def test_a_chinese_refusal_names_the_closest_documents_by_their_translated_titles(
        settings: Settings) -> None:
    embeddings = HashEmbeddings()
    ingest(settings, embeddings)
    gate = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={
        "min_score": 0.2, "min_score_zh": 0.2})})  # hash-embedding cosines: gates to match
    store, registry = open_index(gate, embeddings)
    retriever = HybridRetriever(store=store, registry=registry, config=gate.retrieval)
    assert set(retriever.live_titles()) == set(SEED_TITLES)
    question = "吃布洛芬的话，化疗结束后多久可以手术？"  # no passage mentions the drug
    before = make_answerer(retriever, None, gate).answer(question)
    shown = [t for t in SEED_TITLES if f"《{t}》" in before.text]
    assert before.refused and len(shown) == 2  # nothing translated ahead yet
    # ... each followed by the glossary's words for what it names, checked translations
    assert all(re.search(rf"《{re.escape(t)}》（[^）]+）", before.text) for t in shown)
    llm = ScriptedChat(replies=[SEED_TITLES[t] for t in shown], calls=[])
    after = make_answerer(retriever, llm, gate)
    after.phraser.similarity = None  # hash vectors carry no meaning across languages
    assert pretranslate.run(after.phraser, pretranslate.plan([], titles=shown)).translated == 2
    answer = after.answer(question)
    assert answer.refused and all(f"《{SEED_TITLES[t]}》" in answer.text for t in shown)
    assert not any(t in answer.text for t in shown)
    assert "》（" not in answer.text  # a translated title needs no gloss
    assert len(llm.calls) == 2  # the two translations made ahead: the refusal made no call


def test_a_sentence_translated_ahead_is_shown_without_a_model_call(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    ahead, llm = phraser(path, TRANSLATION)
    work = pretranslate.plan([SURGERY_SOURCE])
    seen: list[int] = []
    done = pretranslate.run(ahead, work, report=lambda p: seen.append(p.done))
    assert (done.done, done.translated, done.quoted, done.known, seen) == (1, 1, 0, 0, [1])
    assert len(llm.calls) == 1
    # a reader later: the model would now say something wrong, and is not asked
    for retry in (True, False):
        reader, llm = phraser(path, WRONG)
        shown = reader.phrase(work[0][0], "zh", retry=retry)
        assert (shown.mode, shown.text, llm.calls) == ("translation", TRANSLATION, [])
    again = pretranslate.run(phraser(path, WRONG)[0], work)
    assert (again.known, again.translated) == (1, 0)


def test_the_background_single_attempt_leaves_the_retries_to_a_reader(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    work = pretranslate.plan([SURGERY_SOURCE])
    done = pretranslate.run(phraser(path, WRONG)[0], work, retry=False)
    assert (done.quoted, done.translated) == (1, 0)
    # a supporting sentence (one attempt) is quoted at once ...
    support, llm = phraser(path, TRANSLATION)
    assert support.phrase(work[0][0], "zh", retry=False).mode == "quoted" and llm.calls == []
    # ... the direct answer still gets its literal second attempt
    direct, llm = phraser(path, WRONG, TRANSLATION)
    assert direct.phrase(work[0][0], "zh", retry=True).text == TRANSLATION
    assert len(llm.calls) == 2


def test_a_backend_failure_stops_the_run_and_nothing_is_remembered(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    work = pretranslate.plan([SURGERY_SOURCE, ZH_SOURCE])
    done = pretranslate.run(phraser(path, fail=True)[0], work)
    assert done.failure and done.done == 0
    stopped = pretranslate.run(phraser(path, TRANSLATION)[0], work, proceed=lambda: False)
    assert stopped.done == 0
    assert pretranslate.run(phraser(path, TRANSLATION)[0], work[:1]).translated == 1


def test_the_work_covers_the_live_index(settings: Settings, tmp_path: Path) -> None:
    embeddings = HashEmbeddings()
    ingest(settings, embeddings)
    store, registry = open_index(settings, embeddings)
    retriever = HybridRetriever(store=store, registry=registry, config=settings.retrieval)
    llm = ScriptedChat(replies=["unused"], calls=[])
    prepared = pretranslation(make_answerer(retriever, llm, settings))
    assert prepared is not None
    phraser_, work = prepared
    assert phraser_.memory is not None and phraser_.memory.path == settings.phrase_memory_path
    sources = {c.text.strip() for c, _ in work}
    assert len(sources) > 50 and {t for _, t in work} == {"zh", "en"}
    titles = set(retriever.live_titles())
    assert titles <= sources and len(titles) == 5  # the seed documents' titles are work too
    assert all(text in "".join(retriever.live_texts()) for text in sources - titles)
    assert pretranslation(make_answerer(retriever, None, settings)) is None  # no model


class _Slow:
    """An answerer whose stream waits until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def stream(self, question: str, history: list[Turn]) -> Iterator[str | Answer]:
        yield "partial"
        self.release.wait(5)
        yield Answer(text="done", language="en")


def test_background_work_waits_while_a_conversation_is_answered(settings: Settings) -> None:
    slow = _Slow()
    calls: list[object] = []
    engine = chat.Engine(settings, slow, idle_work=lambda a, wait: calls.append((a, wait())))
    engine.warm_up()
    assert calls == [(slow, True)]
    stream = engine.stream("q", [])
    assert next(stream) == "partial"  # a conversation is being answered
    idle = threading.Event()
    waiter = threading.Thread(target=lambda: engine.wait_idle() and idle.set(), daemon=True)
    waiter.start()
    assert not idle.wait(0.3)
    slow.release.set()
    assert [e.text for e in stream if isinstance(e, Answer)] == ["done"]
    assert idle.wait(5)


def test_the_command_says_what_it_needs(settings: Settings) -> None:
    ingest(settings, HashEmbeddings())
    no_model = CliRunner().invoke(main, ["pretranslate"], env=cli_env(settings))
    assert no_model.exit_code == 2 and "needs the model" in no_model.output
    off = CliRunner().invoke(main, ["pretranslate"], env=cli_env(
        settings, ONCOQA_ANSWER__PHRASE_MEMORY="false"))
    assert off.exit_code == 2 and "phrase memory, which is off" in off.output


def test_the_app_translates_again_after_an_ingest(settings: Settings) -> None:
    embeddings = HashEmbeddings()
    ingest(settings, embeddings)
    store, registry = open_index(settings, embeddings)
    retriever = HybridRetriever(store=store, registry=registry, config=settings.retrieval)
    llm = ScriptedChat(replies=["unused"], calls=[])
    answerer = make_answerer(retriever, llm, settings)
    rounds: list[int] = []

    def keep_going(limit: int) -> bool:
        rounds.append(len(llm.calls))
        return len(rounds) <= limit

    pretranslate_when_idle(answerer, lambda: True, poll=0.0, keep_going=lambda: keep_going(3))
    first = len(llm.calls)
    assert first == len(pretranslation(answerer)[1]) and rounds[-1] == first  # once, not again
    (settings.corpus_dir / "new.txt").write_text(
        "Radiotherapy is usually given on weekdays for several weeks.\n", encoding="utf-8")
    ingest(settings, embeddings)  # a new index version: its new sentence is translated too
    rounds.clear()
    pretranslate_when_idle(answerer, lambda: True, poll=0.0, keep_going=lambda: keep_going(2))
    assert len(llm.calls) == first + 1
