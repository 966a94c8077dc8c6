"""LangChain's standard suites on the project's vector store and embeddings."""

from __future__ import annotations

import uuid
from collections.abc import Generator

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
    VectorStoreIntegrationTests,
)

from core.settings import Settings
from ingest.embeddings import HashEmbeddings, SentenceTransformerEmbeddings
from ingest.store import ChunkStore, open_client
from qa.retriever import HybridRetriever
from tests.conftest import models_dir


class TestChunkStore(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self, tmp_path) -> Generator[VectorStore, None, None]:  # type: ignore[override]
        settings = Settings(data_dir=tmp_path / "data")
        client = open_client(settings)
        # the suite's own deterministic embeddings, as the standard tests expect
        store = ChunkStore(client, f"t{uuid.uuid4().hex[:8]}", self.get_embeddings())
        yield store

    @property
    def has_async(self) -> bool:
        return False


class TestHashEmbeddings(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return HashEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {}


@pytest.mark.real_embedding
class TestE5Embeddings(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return SentenceTransformerEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"model": str(models_dir() / "multilingual-e5-small")}


class TestHybridRetriever(RetrieversIntegrationTests):
    """The retriever over a real index of the seed corpus (hash embeddings)."""

    _index: tuple | None = None

    @classmethod
    def _open(cls) -> tuple:
        if cls._index is None:
            import tempfile
            from pathlib import Path

            from core.settings import EmbeddingSettings
            from ingest.pipeline import ingest
            from oncoqa.wiring import open_index
            from tests.conftest import CORPUS

            settings = Settings(data_dir=Path(tempfile.mkdtemp()) / "data", corpus_dir=CORPUS,
                                embedding=EmbeddingSettings(backend="hash"))
            embeddings = HashEmbeddings()
            ingest(settings, embeddings)
            cls._index = open_index(settings, embeddings)
        return cls._index

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        store, registry = self._open()
        return {"store": store, "registry": registry}

    @property
    def retriever_query_example(self) -> str:
        return "What drugs are used to treat nasopharyngeal carcinoma?"
