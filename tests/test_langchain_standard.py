"""LangChain's standard suites on the project's vector store and embeddings."""

from __future__ import annotations

import uuid
from collections.abc import Generator

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    VectorStoreIntegrationTests,
)

from ingest.embeddings import HashEmbeddings, SentenceTransformerEmbeddings
from ingest.store import ChunkStore, open_client
from oncoqa.settings import Settings
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
