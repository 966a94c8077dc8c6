"""Answer latency with the configured generator: time to first token, total, prompt size."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from bench.measure import GoldQuestion, Summary
from core.text import count_tokens
from qa import prompts
from qa.types import Answer

Log = Callable[[str], None]
# Builds the answerer to measure, passing its generator through the given wrapper.
BuildAnswerer = Callable[[Callable[[BaseChatModel], BaseChatModel]], Any]

_SMOKE = """
from llama_cpp import Llama
llm = Llama(model_path={path!r}, n_ctx=1024, n_threads=2, verbose=False)
llm.create_chat_completion(messages=[{{"role": "user", "content": "Say hi in five words"}}],
                           max_tokens=8)
"""


def llm_smoke_check(model_path: Path, timeout: float = 300.0) -> tuple[bool, str]:
    """Loads the GGUF and generates a few tokens in a child process (a broken llama.cpp build
    segfaults, which must not take the benchmark down)."""
    if not model_path.exists():
        return False, f"model file missing: {model_path}"
    try:
        done = subprocess.run([sys.executable, "-c", _SMOKE.format(path=str(model_path))],
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return False, f"smoke test timed out after {timeout:.0f} s"
    if done.returncode != 0:
        return False, f"smoke test exited with {done.returncode}: {done.stderr.strip()[-300:]}"
    return True, "ok"


class RecordingChat(BaseChatModel):
    """Wraps a chat model and keeps the messages of every call, so prompt sizes are exact;
    streamed calls (the answer itself) are also kept apart from helper calls."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    streamed: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return f"recording-{self.inner._llm_type}"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        self.calls.append(list(messages))
        reply = self.inner.invoke(messages, stop=stop, **kwargs)
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self.calls.append(list(messages))
        self.streamed.append(list(messages))
        for chunk in self.inner.stream(messages, stop=stop, **kwargs):
            yield ChatGenerationChunk(message=chunk)

    def model_tokens(self, text: str) -> int | None:
        """Tokens in the model's own vocabulary, when the model exposes its tokenizer."""
        llama = getattr(self.inner, "_llama", None)
        if llama is None:
            return None
        return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))


@dataclass(frozen=True)
class AnswerRecord:
    id: str
    language: str
    kind: str
    backend: str
    generated: bool  # an answer was given (the gate let it through), by the model or not
    llm_calls: int  # every generator call for this question (rewrites, translations too)
    retrieval_ms: float
    first_token_ms: float
    total_ms: float
    prompt_tokens: int  # cl100k tokens of system + user message (0 when not generated)
    model_prompt_tokens: int | None  # the same in the LLM's own tokenizer, when available
    output_tokens: int  # streamed text, in the LLM's tokenizer when available, else cl100k


@dataclass(frozen=True)
class AnswerResult:
    backend: str
    questions: int
    generated: int
    refused: int  # refusals: by the evidence gate, or the model found no answer
    gated: int  # refused by the evidence gate, without calling the model
    warm_up_seconds: float
    first_token: Summary  # over generated answers
    total: Summary
    total_all: Summary  # every question, refusals included
    retrieval: Summary
    prompt_tokens: Summary
    model_prompt_tokens: Summary
    system_prompt_tokens: dict[str, int]  # the fixed, cacheable prefix, per language
    system_prompt_model_tokens: dict[str, int | None]
    records: tuple[AnswerRecord, ...]


def _ask(answerer: Any, chat: RecordingChat | None, question: GoldQuestion) -> AnswerRecord:
    calls_before = len(chat.calls) if chat else 0
    streamed_before = len(chat.streamed) if chat else 0
    final: Answer | None = None
    pieces: list[str] = []
    for event in answerer.stream(question.question):
        if isinstance(event, Answer):
            final = event
        else:
            pieces.append(event)
    assert final is not None
    # The compose design streams its answer; the select design makes one call per sentence
    # (invoke): the first such call is the prompt that stands before the first sentence.
    streamed = chat is not None and len(chat.streamed) > streamed_before
    called = chat is not None and len(chat.calls) > calls_before
    prompt: list[BaseMessage] = []
    if chat and streamed:
        prompt = chat.streamed[streamed_before]
    elif chat and called and not final.refused:
        prompt = chat.calls[calls_before]
    text = "\n".join(str(m.content) for m in prompt)
    model_tokens = chat.model_tokens(text) if chat and prompt else None
    output = "".join(pieces)
    output_tokens = (chat.model_tokens(output) if chat else None) or count_tokens(output)
    return AnswerRecord(
        id=question.id, language=question.language, kind=final.kind, backend=final.backend,
        generated=not final.refused, llm_calls=len(chat.calls) - calls_before if chat else 0,
        retrieval_ms=round(final.timings.retrieval, 1),
        first_token_ms=round(final.timings.first_token, 1), total_ms=round(final.timings.total, 1),
        prompt_tokens=count_tokens(text) if prompt else 0, model_prompt_tokens=model_tokens,
        output_tokens=output_tokens if output else 0,
    )


def run_answers(build: BuildAnswerer, questions: Sequence[GoldQuestion], warm_up: GoldQuestion,
                *, log: Log | None = None) -> AnswerResult:
    """Answer the questions in order (grouped by language, so consecutive prompts share the
    cached system-prompt prefix) after one untimed warm-up question, which must not be one of
    them (its whole prompt would then come from llama.cpp's cache).

    `build(wrap)` builds the answerer with its generator passed through `wrap`, so every call the
    chain makes (answer, rewrites, translations) goes through one RecordingChat."""
    say = log or (lambda message: None)
    recorders: list[RecordingChat] = []

    def record(llm: BaseChatModel) -> BaseChatModel:
        recorders.append(RecordingChat(inner=llm))
        return recorders[-1]

    answerer = build(record)
    chat = recorders[0] if recorders else None
    started = time.perf_counter()
    answerer.retriever.store.embeddings.warm_up()
    if chat is not None and hasattr(chat.inner, "warm_up"):
        chat.inner.warm_up()
    _ask(answerer, chat, warm_up)
    warm = time.perf_counter() - started
    say(f"answers: warm-up {warm:.1f} s; {len(questions)} questions next")
    records = []
    for number, question in enumerate(questions, 1):
        records.append(_ask(answerer, chat, question))
        say(f"answers: {number}/{len(questions)} {question.id} {records[-1].kind} "
            f"first token {records[-1].first_token_ms / 1000:.1f} s, "
            f"total {records[-1].total_ms / 1000:.1f} s")
    generated = [r for r in records if r.generated]
    # One system prompt serves both languages (its cached prefix is shared).
    system = {lang: count_tokens(prompts.SYSTEM) for lang in ("en", "zh")}
    return AnswerResult(
        backend=chat.inner._llm_type if chat is not None else "extractive",
        questions=len(records), generated=len(generated),
        refused=sum(r.kind == "refusal" for r in records),
        gated=sum(r.kind == "refusal" and not r.generated for r in records),
        warm_up_seconds=round(warm, 2),
        first_token=Summary.of([r.first_token_ms for r in generated]),
        total=Summary.of([r.total_ms for r in generated]),
        total_all=Summary.of([r.total_ms for r in records]),
        retrieval=Summary.of([r.retrieval_ms for r in records]),
        prompt_tokens=Summary.of([r.prompt_tokens for r in generated]),
        model_prompt_tokens=Summary.of([r.model_prompt_tokens for r in generated
                                        if r.model_prompt_tokens is not None]),
        system_prompt_tokens=system,
        system_prompt_model_tokens={lang: chat.model_tokens(prompts.SYSTEM) if chat else None
                                    for lang in ("en", "zh")},
        records=tuple(records),
    )
