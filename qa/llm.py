"""Chat models behind BaseChatModel: the bundled GGUF via llama.cpp, or an OpenAI-compatible API."""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from core.errors import LLMUnavailableError, ModelMissingError
from core.settings import LLMSettings, Settings

log = logging.getLogger(__name__)
_ROLES = {"human": "user", "ai": "assistant", "system": "system"}
_REBUILD = "rebuild it with `oncoqa prepare --force` (or `make models`)"


def check_gguf(path: Path) -> None:
    """ModelMissingError unless path is a GGUF file (the check llama.cpp's loader lacks)."""
    if not path.exists():
        raise ModelMissingError(
            f"the local LLM is not prepared ({path})",
            hint="run `make models` or `oncoqa prepare`, or set ONCOQA_LLM__BACKEND",
        )
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelMissingError(f"the local LLM file {path} is damaged "
                                    "(it does not start like a GGUF file)", hint=_REBUILD)


class LlamaCppChat(BaseChatModel):
    """The local GGUF model, loaded lazily once and shared; calls are serialised because one
    llama.cpp context cannot run two generations at a time."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: Path
    n_ctx: int = 4096
    threads: int = 2
    temperature: float = 0.1
    max_tokens: int = 320
    seed: int = 7
    repeat_penalty: float = 1.1  # with the token caps, keeps generation from looping
    # invoke(..., logprobs=True, top_logprobs=k) gives the first reply token's distribution in
    # response_metadata (qa.judge reads P("yes") from it) without generating
    first_token_logprobs: bool = True

    _llama: Any = PrivateAttr(default=None)
    _formatter: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    # The evaluated prompt of the latest first rating of each fixed prefix (the messages before
    # the last: the judge's system prompt), kept out of the prompt cache: rewrites and
    # translations between two questions fill that cache and pushed the judge's prompt out.
    _rated: dict[tuple[tuple[str, str], ...], Any] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-local"

    def warm_up(self) -> None:
        self._load()

    def _load(self) -> Any:
        if self._llama is None:
            check_gguf(self.model_path)
            from llama_cpp import Llama

            try:
                self._llama = Llama(
                    model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.threads,
                    n_batch=256, seed=self.seed, verbose=False,
                )
            except ValueError as exc:  # llama.cpp's "Failed to load model from file"
                raise ModelMissingError(f"the local LLM file {self.model_path} cannot be "
                                        "loaded (damaged or cut short)", hint=_REBUILD) from exc
            # Keeps the evaluated state of recent prompts, so the fixed system prompt is not
            # recomputed after a rewrite or translation call used the context in between.
            self._llama.set_cache(ram_cache(CACHE_BYTES))
        return self._llama

    def _timed(self, started: float, result: dict[str, Any] | None = None) -> None:
        """One log line per model call: the time it held the model (what a benchmark adds up
        as the model's busy time) and its token counts when known."""
        usage = (result or {}).get("usage") or {}
        log.info("local model call: %.3f s busy, %s prompt + %s generated tokens",
                 time.perf_counter() - started, usage.get("prompt_tokens", "?"),
                 usage.get("completion_tokens", "?"))

    def _payload(self, messages: list[BaseMessage], stop: list[str] | None,
                 kwargs: dict[str, Any]) -> dict[str, Any]:
        return {
            "messages": [
                {"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages
            ],
            "temperature": kwargs.get("temperature", self.temperature),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "stop": stop or [],
            "seed": self.seed,
            "repeat_penalty": kwargs.get("repeat_penalty", self.repeat_penalty),
            **({"grammar": _grammar(kwargs["grammar"])} if kwargs.get("grammar") else {}),
        }

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        if kwargs.get("logprobs"):
            return self._first_token(messages, int(kwargs.get("top_logprobs") or 10))
        llama = self._load()
        with self._lock:
            started = time.perf_counter()
            result = llama.create_chat_completion(**self._payload(messages, stop, kwargs))
            self._timed(started, result)
        text = result["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _first_token(self, messages: list[BaseMessage], top: int) -> ChatResult:
        """The model's distribution over its first reply token (the `top` likeliest, OpenAI's
        logprobs shape). llama-cpp-python gives logprobs only to a model loaded with
        logits_all, which computes the vocabulary's logits for every prompt token (seconds per
        call on 2 cores): this evaluates the prompt itself and reads the last token's logits.
        The evaluated prefix is reused, as generation does: the system prompt and the question
        are evaluated once for the candidates of one answer."""
        import llama_cpp
        import numpy as np

        llama = self._load()
        prompt = self._chat_prompt(llama, messages)
        tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        with self._lock:
            started = time.perf_counter()
            done = llama_cpp.Llama.longest_token_prefix(
                llama.input_ids[: llama.n_tokens].tolist(), tokens)
            fixed = tuple((m.type, str(m.content)) for m in messages[:-1])
            done = _from_state(llama, self._rated.get(fixed), tokens, done)
            llama.n_tokens = min(done, len(tokens) - 1)  # at least one token to evaluate
            llama.eval(tokens[llama.n_tokens:])
            if done < len(tokens) // 2:
                # The first candidate of a question: keep the judge's fixed prefix evaluated
                # for the next question, after rewrites and translations used the context.
                self._rated.pop(fixed, None)
                self._rated[fixed] = llama.save_state()
                if len(self._rated) > _RATED_PREFIXES:
                    self._rated.pop(next(iter(self._rated)))  # the least recently saved
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llama.ctx, -1),
                                           shape=(llama.n_vocab(),)).astype(np.float64)
            self._timed(started, {"usage": {"prompt_tokens": len(tokens),
                                            "completion_tokens": 0}})
        peak = float(logits.max())
        logsumexp = peak + math.log(float(np.exp(logits - peak).sum()))
        best = np.argsort(-logits)[:top]
        alternatives: list[dict[str, Any]] = [{"token": _token_text(llama, int(i)),
                         "logprob": float(logits[i]) - logsumexp} for i in best]
        metadata = {"logprobs": {"content": [{**alternatives[0],
                                              "top_logprobs": alternatives}]}}
        message = AIMessage(content=str(alternatives[0]["token"]), response_metadata=metadata)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _chat_prompt(self, llama: Any, messages: list[BaseMessage]) -> str:
        """The prompt text the GGUF's own chat template makes of the messages (what
        create_chat_completion sends), ending where the reply starts."""
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise ModelMissingError(f"the local LLM file {self.model_path} has no chat "
                                        "template", hint=_REBUILD)
            bos = llama.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=template, eos_token=_token_text(llama, llama.token_eos()),
                bos_token=_token_text(llama, bos) if bos != -1 else "")
        return str(self._formatter(messages=[
            {"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages
        ]).prompt)

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        llama = self._load()
        with self._lock:
            started = time.perf_counter()
            try:
                for part in llama.create_chat_completion(
                    **self._payload(messages, stop, kwargs), stream=True
                ):
                    delta = part["choices"][0]["delta"].get("content") or ""
                    if delta:
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                        if run_manager:
                            run_manager.on_llm_new_token(delta, chunk=chunk)
                        yield chunk
            finally:
                self._timed(started)


def _from_state(llama: Any, item: Any, tokens: list[int], done: int) -> int:
    """Loads a saved state (or none) when it shares more of tokens' prefix than the context
    holds (`done` tokens); returns the prefix length now evaluated."""
    if item is None:
        return done
    shared = llama.longest_token_prefix(item.input_ids[: item.n_tokens].tolist(), tokens)
    if shared <= done:
        return done
    llama.load_state(item)
    return shared


def _token_text(llama: Any, token: int) -> str:
    return str(llama.detokenize([token], special=True).decode("utf-8", "ignore"))


@functools.lru_cache(maxsize=8)
def _grammar(text: str) -> Any:
    """A llama.cpp grammar (GBNF text) compiled once."""
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)


# Fixed rating prefixes kept evaluated (the judge uses one; a second caller with its own system
# prompt would not evict it); each state holds ~165 MB, as in the prompt cache.
_RATED_PREFIXES = 2

# 512 MB holds three evaluated prompts of the bundled model (about 165 MB each, see ram_cache).
CACHE_BYTES = 512 << 20


def ram_cache(capacity_bytes: int) -> Any:
    """llama-cpp-python's RAM prompt cache, with a size limit that counts what each entry
    really holds. Its own count is the llama.cpp state alone (tens of MB for a few hundred
    tokens), but every entry also keeps a copy of the logits buffer (n_batch x vocabulary
    float32: 256 x 151,936 x 4 = 148 MB for Qwen2.5): a "512 MB" cache held ~30 entries, several
    GB, which is the app's memory growth under concurrent conversations."""
    from llama_cpp import LlamaRAMCache

    class CountedRAMCache(LlamaRAMCache):
        @property
        def cache_size(self) -> int:
            return sum(state.llama_state_size + state.scores.nbytes + state.input_ids.nbytes
                       for state in self.cache_state.values())

    return CountedRAMCache(capacity_bytes=capacity_bytes)


def make_llm(settings: Settings) -> BaseChatModel | None:
    """The configured generator; None for the extractive backend (no generative model)."""
    llm = settings.llm
    match llm.backend:
        case "local":
            return LlamaCppChat(
                model_path=settings.gguf_path, n_ctx=llm.n_ctx, threads=llm.threads,
                temperature=llm.temperature, max_tokens=llm.max_tokens,
            )
        case "openai":
            return _openai_chat(llm)
        case "extractive":
            return None
    raise ValueError(f"unknown LLM backend {llm.backend!r}; choose local, openai or extractive")


# After a failed call, the server is not asked again for this long: an answer asks the model
# once per sentence, and each call would otherwise wait for the full timeout.
PAUSE_AFTER_FAILURE = 30.0
# What the openai client raises on a reply that is not a chat completion (a 200 with HTML, bytes,
# JSON of another shape, a broken event stream); caught only around the library's own call.
_GARBAGE = (ValueError, TypeError, KeyError)


class _Breaker:
    """Remembers a failed server for PAUSE_AFTER_FAILURE seconds, then lets it be tried again."""

    def __init__(self) -> None:
        self.until = 0.0
        self.reason = ""

    @contextmanager
    def call(self, base_url: str) -> Iterator[None]:
        if time.monotonic() < self.until:
            raise LLMUnavailableError(self.reason, hint=_OPENAI_HINT)
        try:
            yield
        except _GARBAGE as exc:
            self._trip(f"the server at {base_url} sent a reply that is not a chat completion")
            raise LLMUnavailableError(self.reason, hint=_OPENAI_HINT) from exc
        except backend_errors() as exc:
            self._trip(failure_detail(exc))
            raise

    def _trip(self, reason: str) -> None:
        self.until, self.reason = time.monotonic() + PAUSE_AFTER_FAILURE, reason


_OPENAI_HINT = "check ONCOQA_LLM__BASE_URL / the server, or use ONCOQA_LLM__BACKEND=extractive"


def _openai_chat(llm: LLMSettings) -> BaseChatModel:
    """ChatOpenAI whose garbage replies fail like a server error, and which is not asked again
    for a while after a failure (callers then fall back to extractive answers at once)."""
    from langchain_openai import ChatOpenAI

    class GuardedChatOpenAI(ChatOpenAI):
        _breaker: _Breaker = PrivateAttr(default_factory=_Breaker)

        def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
            with self._breaker.call(llm.base_url):
                return super()._generate(*args, **kwargs)

        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
            with self._breaker.call(llm.base_url):
                yield from super()._stream(*args, **kwargs)

        def _get_request_payload(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            # langchain-openai renames the token cap to `max_completion_tokens`, which
            # llama-cpp-python's server ignores: it then generates until a stop word or the
            # context is full. `max_tokens` is the name OpenAI-compatible servers all read.
            payload = dict(super()._get_request_payload(*args, **kwargs))
            if "max_completion_tokens" in payload:
                payload["max_tokens"] = payload.pop("max_completion_tokens")
            # A llama.cpp grammar is not an OpenAI parameter: the client sends it in the body
            # (llama.cpp's server reads `grammar`), and only when the settings say the server
            # takes one.
            grammar = payload.pop("grammar", None)
            if grammar and llm.grammar:
                payload["extra_body"] = {**(payload.get("extra_body") or {}), "grammar": grammar}
            return payload

    return GuardedChatOpenAI(
        base_url=llm.base_url, api_key=llm.api_key,
        model=llm.model, temperature=llm.temperature, max_tokens=llm.max_tokens,
        timeout=llm.timeout, max_retries=1,
    )


def failure_detail(exc: BaseException) -> str:
    """A backend failure in a few words, for the note under an extractive answer."""
    import openai

    if isinstance(exc, ModelMissingError):
        return exc.friendly()  # with the command that fixes it
    if isinstance(exc, LLMUnavailableError):
        return exc.message
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "the server did not reply in time"
    if isinstance(exc, openai.APIStatusError):
        return f"the server answered with HTTP error {exc.status_code}"
    return "the server cannot be reached"


def backend_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a generation backend raises when it cannot answer (server down, timeout,
    model failed to load): callers catch exactly these and fall back to extractive answers."""
    # Narrow on purpose: a bug of ours (TypeError, KeyError, a RuntimeError in our code) must
    # surface as a bug, not as "generator unavailable" and a quieter answer.
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError, LLMUnavailableError,
                                         ModelMissingError]
    try:
        import httpx
        import openai

        errors += [openai.APIError, httpx.HTTPError]
    except ImportError:  # the openai extra is optional for the local backend
        pass
    return tuple(errors)


def describe_failure(exc: BaseException) -> LLMUnavailableError:
    """One message for every way a backend can fail to answer (server down, timeout...)."""
    return LLMUnavailableError(
        f"the LLM backend failed: {type(exc).__name__}: {str(exc)[:200]}",
        hint="check ONCOQA_LLM__BASE_URL / the server, or use ONCOQA_LLM__BACKEND=extractive",
    )
