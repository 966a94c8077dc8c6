"""Translations made ahead (qa.pretranslate): which sentences, what is remembered, how the
answer step then uses it, and how the app runs it only while nobody waits. A real SQLite
memory and a real Chroma index in a temp dir; scripted models."""

from __future__ import annotations

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
    assert all(text in "".join(retriever.live_texts()) for text in sources)
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
