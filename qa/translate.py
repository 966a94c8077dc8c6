"""LLM query translation for cross-lingual retrieval (optional, see RetrievalSettings.translate)."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from qa import prompts
from qa.llm import backend_errors


def llm_translator(llm: BaseChatModel) -> Callable[[str], str | None]:
    def translate(question: str) -> str | None:
        try:
            reply = llm.invoke([HumanMessage(content=prompts.TRANSLATE.format(question=question))],
                               max_tokens=60, temperature=0.0)
        except backend_errors():
            return None
        lines = str(reply.content).strip().splitlines()
        return lines[0].strip(" \"'") if lines else None

    return translate
