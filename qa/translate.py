"""The model's English rendering of a Chinese question, made once per question: the retriever
searches with it (RetrievalSettings.translate) and sentence selection ranks English sentences
against it (AnswerSettings.translate_question)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from core.text import script_of
from qa import prompts
from qa.llm import backend_errors


class QuestionTranslator:
    """Callable: question -> its English rendering, or None when the model fails or does not
    answer in English. Remembers the latest renderings (follow-ups and retries ask the same
    again, and the retriever and the answer step ask for the same question)."""

    def __init__(self, llm: BaseChatModel, *, size: int = 256) -> None:
        self.llm = llm
        self._size = size
        self._seen: OrderedDict[str, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, question: str) -> str | None:
        with self._lock:
            if question in self._seen:
                self._seen.move_to_end(question)
                return self._seen[question]
        english = self._ask(question)
        with self._lock:
            self._seen[question] = english
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
        return english

    def _ask(self, question: str) -> str | None:
        try:
            reply = self.llm.invoke([HumanMessage(content=prompts.TRANSLATE.format(
                question=question))], max_tokens=60, temperature=0.0)
        except backend_errors():
            return None
        lines = str(reply.content).strip().splitlines()
        english = lines[0].strip(" \"'") if lines else ""
        return english if english and script_of(english) == "en" else None
