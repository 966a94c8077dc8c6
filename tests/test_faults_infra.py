"""Fault injection on the infrastructure: a Chroma server killed, a read-only data folder, a
full disk. Each fault must end in the exact message the user reads, and nothing lost."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.settings import Settings, StoreSettings
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from oncoqa.cli import main
from oncoqa.wiring import build_answerer, index_status
from qa import safety
from qa.chain import preface_for
from qa.types import Answer
from tests.conftest import ROOT, cli_env, free_port, wait_for_port
from ui import chat

EN = "What is neoadjuvant chemotherapy?"
ZH = "化疗结束后多久可以做手术？"
URGENT = "I have a fever of 39 after chemotherapy, what should I do?"
DOWN = ("The document library cannot be reached right now (its server is not answering). "
        "Please ask again in a minute: it reconnects by itself.")
READ_ONLY = ("Error: the index folder {folder} is read-only. Chroma writes to its folder even "
             "to answer questions: make it writable, or copy the data folder somewhere writable "
             "and set ONCOQA_DATA_DIR to it\n")


def _ask(engine: chat.Engine, question: str) -> Answer:
    return chat.final_answer(engine, question, chat.Session())


def _chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "chroma"), "run", "--path", str(path), "--host",
         "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, 60)
    return proc


@pytest.mark.server
def test_a_killed_chroma_server_gives_one_line_then_recovers(settings: Settings,
                                                             tmp_path: Path) -> None:
    port = free_port()
    server = _chroma(tmp_path / "server", port)
    try:
        remote = settings.model_copy(update={"store": StoreSettings(host="127.0.0.1", port=port)})
        ingest(remote, HashEmbeddings())
        engine = chat.Engine(remote, build=functools.partial(build_answerer, remote))
        first = _ask(engine, EN)
        assert first.kind != "error" and first.retrieved
        # killed mid-question: the urgent advice is out before retrieval, and stays
        events = engine.stream(URGENT, [])
        advice = next(events)
        expected = preface_for(safety.assess(URGENT), "en")
        assert isinstance(advice, str) and expected and advice.strip() == expected
        server.kill()
        server.wait(timeout=20)
        final = list(events)[-1]
        assert isinstance(final, Answer)
        assert (final.kind, final.text) == ("error", f"{advice.strip()}\n\n{DOWN}")
        # the built answerer is mid-conversation when its store disappears
        down = _ask(engine, EN)
        assert (down.kind, down.text) == ("error", DOWN)
        assert _ask(engine, ZH).text == ("暂时无法连接资料库（资料库服务器没有响应）。"
                                         "请过一分钟再问一次，连接恢复后会自动继续。")
        result = CliRunner().invoke(main, ["ask", EN], env=cli_env(remote))
        assert (result.exit_code, result.output) == (2, (
            f"Error: the Chroma server at 127.0.0.1:{port} is not answering. "
            "start it again (`chroma run`): OncoQA reconnects by itself; or unset "
            "ONCOQA_STORE__HOST to use the local index\n"))
        server = _chroma(tmp_path / "server", port)
        back = _ask(engine, EN)
        assert (back.kind, back.text) == (first.kind, first.text)
    finally:
        server.kill()
        server.wait(timeout=20)


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount here (needs root and mount rights): {done.stderr.strip()}")


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "mnt"
    point.mkdir()
    yield point
    # lazy: Chroma in this process may still hold files open on it
    subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_a_read_only_data_folder_is_named_by_status_ask_and_ingest(
        settings: Settings, mounted: Path) -> None:
    ingest(settings, HashEmbeddings())
    _mount("--bind", str(settings.data_dir), str(mounted))
    _mount("-o", "remount,bind,ro", str(mounted))
    read_only = settings.model_copy(update={"data_dir": mounted})
    expected = READ_ONLY.format(folder=mounted / "chroma")
    for command in (["status"], ["ask", EN], ["ingest"]):
        result = CliRunner().invoke(main, command, env=cli_env(read_only))
        assert (result.exit_code, result.output) == (2, expected), command
    # the app's feedback cannot be saved there either, and says so
    exchange = chat.Exchange(EN, Answer(text="An answer.", language="en"))
    assert chat.rate(read_only, exchange, "up", "", "en") == (
        f"Sorry, your feedback could not be saved (Read-only file system: "
        f"{mounted / 'feedback.jsonl'}).")


def _oncoqa(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`oncoqa ...` in its own process, as a user runs it (a failed write leaves this process's
    Chroma state unusable, as it would the user's)."""
    return subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "oncoqa.cli", *args],
                          env=os.environ | cli_env(settings), cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_a_full_disk_is_named_and_the_next_ingest_repairs(settings: Settings,
                                                          mounted: Path) -> None:
    _mount("-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mounted))
    full = settings.model_copy(update={"data_dir": mounted / "data"})
    disk_full = (
        re.escape(f"Error: disk full: cannot write the index at {mounted / 'data' / 'chroma'} (")
        + r"\d+" + re.escape(" KB free). free some space, then run `oncoqa ingest` again: it "
                             "repairs the index"))
    # Chroma writes even to answer (it applies its log on read), so asking says the same
    for command in (["ingest"], ["ask", EN]):
        failed = _oncoqa(full, *command)
        assert failed.returncode == 2, failed.stderr
        assert re.fullmatch(disk_full, failed.stderr.strip().splitlines()[-1]), failed.stderr
    _mount("-o", "remount,size=64m", str(mounted))
    repaired = _oncoqa(full, "ingest")
    assert repaired.returncode == 0, repaired.stderr
    assert index_status(full)["documents"] == 5
    answer = build_answerer(full).answer(EN)
    assert answer.kind != "error" and answer.retrieved
