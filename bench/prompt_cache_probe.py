"""Probe of llama-cpp-python's RAM prompt cache on its own (not the answer chain): the process's
RSS after each new prompt, with the library's cache or `qa.llm.ram_cache`, both 512 MB.

    python -m bench.prompt_cache_probe library 7
    python -m bench.prompt_cache_probe counted 7

Each run is one fresh process; run both one after the other to compare (docs/serving.md)."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main(mode: str, prompts: int, model_path: Path) -> None:
    import psutil
    from llama_cpp import Llama, LlamaRAMCache

    from qa.llm import CACHE_BYTES, ram_cache

    process = psutil.Process()
    # The settings LlamaCppChat uses (qa/llm.py).
    llm = Llama(model_path=str(model_path), n_ctx=4096, n_threads=2, n_batch=256, seed=7,
                verbose=False)
    cache = LlamaRAMCache(capacity_bytes=CACHE_BYTES) if mode == "library" else ram_cache(
        CACHE_BYTES)
    llm.set_cache(cache)
    sys.stdout.write(f"{mode}: loaded, RSS {process.memory_info().rss >> 20} MB\n")
    for i in range(prompts):
        started = time.perf_counter()
        # About 300 prompt tokens: more than n_batch (256), like the answer chain's prompts.
        words = " ".join(f"item{i}x{j}" for j in range(90))
        llm.create_chat_completion(
            messages=[{"role": "user", "content": f"Passage {i}: {words} Say ok."}],
            max_tokens=2, temperature=0)
        states = list(cache.cache_state.values())
        held = sum(s.llama_state_size + s.scores.nbytes + s.input_ids.nbytes for s in states)
        counted = sum(s.llama_state_size for s in states)
        sys.stdout.write(
            f"{mode} call {i + 1}: {time.perf_counter() - started:.1f} s, RSS "
            f"{process.memory_info().rss >> 20} MB, entries {len(cache.cache_state)}, "
            f"held {held >> 20} MB (library's count {counted >> 20} MB)\n")
        sys.stdout.flush()


if __name__ == "__main__":
    from core.settings import Settings

    main(sys.argv[1], int(sys.argv[2]), Settings().gguf_path)
