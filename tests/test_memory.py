"""The on-disk memory of verified phrasings (qa.memory) as the phraser uses it: a real SQLite
file in a temp dir, a scripted model."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.settings import Settings
from eval.components import configure, describe
from oncoqa.wiring import phrase_memory
from qa import prompts
from qa.memory import PhraseMemory
from qa.phrase import Phraser
from tests.fakes import ScriptedChat
from tests.test_answer import SURGERY_SOURCE, candidate

TRANSLATION = "医生认为可以手术时，需要等病人的血象恢复正常，通常是在新辅助化疗结束后3到4周。"
WRONG = "医生认为可以手术时，通常在新辅助化疗结束后6周进行手术。"  # 6 is not 3 to 4


def phraser(memory: PhraseMemory, *replies: str, fail: bool = False) -> tuple[Phraser,
                                                                              ScriptedChat]:
    llm = ScriptedChat(replies=list(replies) or ["unused"], calls=[], fail=fail)
    return Phraser(llm, memory=memory), llm


def test_a_verified_translation_is_not_asked_for_again(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    first, llm = phraser(PhraseMemory(path, "model-a"), TRANSLATION)
    assert first.phrase(candidate(SURGERY_SOURCE), "zh").text == TRANSLATION
    assert len(llm.calls) == 1
    # another process on the same data dir: the model would say something else, but is not asked
    again, llm = phraser(PhraseMemory(path, "model-a"), WRONG)
    phrased = again.phrase(candidate(SURGERY_SOURCE), "zh")
    assert (phrased.mode, phrased.text, llm.calls) == ("translation", TRANSLATION, [])
    assert phrased.verdict is not None and phrased.verdict.ok


def test_another_model_or_target_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    phraser(PhraseMemory(path, "model-a"), TRANSLATION)[0].phrase(candidate(SURGERY_SOURCE), "zh")
    other, llm = phraser(PhraseMemory(path, "model-b"), TRANSLATION)
    assert other.phrase(candidate(SURGERY_SOURCE), "zh").mode == "translation"
    assert len(llm.calls) == 1
    memory = PhraseMemory(path, "model-a")
    assert memory.key("zh", "x") != memory.key("en", "x") != PhraseMemory(path, "b").key("en", "x")


def test_a_sentence_every_attempt_failed_on_is_quoted_at_once(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    first, llm = phraser(PhraseMemory(path, "model-a"), WRONG)
    assert first.phrase(candidate(SURGERY_SOURCE), "zh").mode == "quoted"
    assert len(llm.calls) > 2  # free, literal, then clause by clause
    again, llm = phraser(PhraseMemory(path, "model-a"), TRANSLATION)
    phrased = again.phrase(candidate(SURGERY_SOURCE), "zh")
    assert phrased.mode == "quoted" and llm.calls == []
    assert phrased.text == prompts.QUOTED_SOURCE("zh") + SURGERY_SOURCE
    # a supporting sentence gets one attempt only, the same first attempt (at temperature 0):
    # the direct answer's failure holds for it too
    single, llm = phraser(PhraseMemory(path, "model-a"), TRANSLATION)
    assert single.phrase(candidate(SURGERY_SOURCE), "zh", retry=False).mode == "quoted"
    assert llm.calls == []


def test_a_remembered_text_the_verifier_rejects_is_never_shown(tmp_path: Path) -> None:
    memory = PhraseMemory(tmp_path / "memory.sqlite3", "model-a")
    probe, _ = phraser(memory, TRANSLATION)
    probe.phrase(candidate(SURGERY_SOURCE), "zh")
    with sqlite3.connect(memory.path) as db:  # an entry from a laxer verifier, say
        db.execute("UPDATE phrasings SET text = ?", (WRONG,))
    again, llm = phraser(memory, TRANSLATION)
    phrased = again.phrase(candidate(SURGERY_SOURCE), "zh")
    assert phrased.text == TRANSLATION and len(llm.calls) == 1


def test_a_backend_failure_is_not_remembered(tmp_path: Path) -> None:
    memory = PhraseMemory(tmp_path / "memory.sqlite3", "model-a")
    down, _ = phraser(memory, fail=True)
    assert down.phrase(candidate(SURGERY_SOURCE), "zh").failure
    back, llm = phraser(memory, TRANSLATION)
    assert back.phrase(candidate(SURGERY_SOURCE), "zh").mode == "translation"
    assert len(llm.calls) == 1


def test_a_memory_that_cannot_be_opened_only_costs_time(tmp_path: Path) -> None:
    blocked = tmp_path / "memory.sqlite3"
    blocked.mkdir()  # a folder where the file should be
    memory = PhraseMemory(blocked, "model-a")
    for _ in range(2):
        answer, llm = phraser(memory, TRANSLATION)
        assert answer.phrase(candidate(SURGERY_SOURCE), "zh").text == TRANSLATION
        assert len(llm.calls) == 1


def test_the_app_remembers_and_evaluations_do_not(settings: Settings) -> None:
    memory = phrase_memory(settings)
    assert isinstance(memory, PhraseMemory)
    assert memory.path == settings.data_dir / "phrase-memory.sqlite3"
    assert phrase_memory(configure(settings)) is None
    # asked for (`oncoqa eval --phrase-memory`, to measure a memory filled ahead), and recorded
    with_memory = configure(settings, phrase_memory=True)
    assert isinstance(phrase_memory(with_memory), PhraseMemory)
    assert describe(with_memory, "answer")["phrase_memory"] is True
    assert describe(configure(settings), "answer")["phrase_memory"] is False


def test_a_rejection_by_an_older_verifier_is_asked_again(tmp_path: Path,
                                                         monkeypatch) -> None:
    memory = PhraseMemory(tmp_path / "memory.sqlite3", "model-a")
    first, _ = phraser(memory, WRONG)
    assert first.phrase(candidate(SURGERY_SOURCE), "zh").mode == "quoted"
    # the verifier's revision is raised (it accepts more now): the sentence is asked for again
    monkeypatch.setattr("qa.phrase.REVISION", 10_000)
    again, llm = phraser(memory, TRANSLATION)
    phrased = again.phrase(candidate(SURGERY_SOURCE), "zh")
    assert (phrased.mode, phrased.text, len(llm.calls)) == ("translation", TRANSLATION, 1)
