"""Deterministic chat-model fakes for fast tests (real models run behind markers)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


class ScriptedChat(BaseChatModel):
    """Replies with the scripted texts in order and records every prompt it was sent."""

    replies: list[str]
    calls: list[list[BaseMessage]] = []
    fail: bool = False
    # Replies to grammar-constrained calls (qa.judge's yes/no), in order, the last repeated; they
    # do not use up the scripted replies. Recorded in `judged`.
    verdicts: list[str] = ["yes"]
    judged: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self, messages: list[BaseMessage]) -> str:
        self.calls.append(messages)
        if self.fail:
            raise httpx.ConnectError("connection refused")
        return self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]

    def _verdict(self, messages: list[BaseMessage]) -> str:
        self.judged.append(messages)
        if self.fail:
            raise httpx.ConnectError("connection refused")
        return self.verdicts[min(len(self.judged) - 1, len(self.verdicts) - 1)]

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        reply = self._verdict(messages) if kwargs.get("grammar") else self._next(messages)
        message = AIMessage(content=reply)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        text = self._next(messages)
        for i in range(0, len(text), 7):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[i : i + 7]))


class RatingChat(ScriptedChat):
    """A ScriptedChat that gives first-token probabilities, as the bundled model does: a
    logprobs call is answered with P("Yes") = the next of `ratings` (the last repeated) and
    recorded in `judged`."""

    first_token_logprobs: bool = True
    ratings: list[float] = [1.0]

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        if not kwargs.get("logprobs"):
            return super()._generate(messages, stop, run_manager, **kwargs)
        self.judged.append(messages)
        if self.fail:
            raise httpx.ConnectError("connection refused")
        p = self.ratings[min(len(self.judged) - 1, len(self.ratings) - 1)]
        top = [{"token": "Yes", "logprob": math.log(max(p, 1e-9))},
               {"token": "No", "logprob": math.log(max(1 - p, 1e-9))}]
        message = AIMessage(content="Yes" if p >= 0.5 else "No", response_metadata={
            "logprobs": {"content": [{**top[0], "top_logprobs": top}]}})
        return ChatResult(generations=[ChatGeneration(message=message)])
