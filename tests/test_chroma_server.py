"""Server mode: ingest into and query a real `chroma run` on a loopback port."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings, StoreSettings
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from ingest.store import ChunkStore, open_client
from tests.conftest import ROOT, free_port, wait_for_port

pytestmark = [pytest.mark.server, pytest.mark.slow]



@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    chroma = ROOT / ".venv" / "bin" / "chroma"
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc, 60)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_ingest_and_query_through_a_chroma_server(settings: Settings, chroma_server: int) -> None:
    server_settings = settings.model_copy(
        update={"store": StoreSettings(host="127.0.0.1", port=chroma_server)}
    )
    report = ingest(server_settings, HashEmbeddings())
    assert report.chunks_added > 10
    again = ingest(server_settings, HashEmbeddings())
    assert again.embedded == 0
    store = ChunkStore(open_client(server_settings), settings.store.collection, HashEmbeddings())
    hits = store.similarity_search("nasopharyngeal carcinoma cisplatin paclitaxel", k=3)
    assert hits and hits[0].metadata["source"] == "002_d0e0c941352d6edd.txt"
    # nothing was written to the local data dir: the server holds the index
    assert not (settings.data_dir / "chroma").exists()
