"""Deterministic synthetic corpus: seed sentences recombined into many one-language documents."""

from __future__ import annotations

import json
import math
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

from core.settings import ChunkSettings
from core.text import Lang, count_tokens, script_of, split_sentences
from ingest.chunk import chunk_text
from ingest.clean import clean
from ingest.load import SourceText, discover, load_file

SEED_CORPUS = Path(__file__).resolve().parents[1] / "corpus"
# The seed corpus has only a handful of Chinese sentences, so Chinese sentences are rebuilt
# from their clauses (2-4 per sentence); English sentences are reused whole.
_CLAUSE = re.compile(r"[^，,；;。！？!?]+")
_MIN_EN_TOKENS = 5  # drops list fragments and headings such as "- nickname"
_MIN_ZH_CHARS = 4


@dataclass(frozen=True)
class Seeds:
    en: tuple[str, ...]  # whole English sentences
    zh: tuple[str, ...]  # Chinese clauses


@dataclass(frozen=True)
class GeneratedCorpus:
    directory: Path
    requested_chunks: int
    chunks: int  # what the ingest pipeline makes of it with the same chunk settings
    documents: int
    en_documents: int
    zh_documents: int
    seconds: float


def seed_sentences(corpus_dir: Path = SEED_CORPUS) -> Seeds:
    """Unique content sentences (English) and clauses (Chinese) of the cleaned seed corpus."""
    en: dict[str, None] = {}
    zh: dict[str, None] = {}
    for path in discover(corpus_dir):
        loaded = load_file(path, corpus_dir)
        if not isinstance(loaded, SourceText):
            continue
        for start, end in clean(loaded.text).kept:
            for sentence in split_sentences(loaded.text, start, end):
                if sentence.lang == "en" and count_tokens(sentence.text) >= _MIN_EN_TOKENS:
                    en[sentence.text] = None
                elif sentence.lang == "zh":
                    for clause in _CLAUSE.findall(sentence.text):
                        clause = clause.strip()
                        if len(clause) >= _MIN_ZH_CHARS and script_of(clause) == "zh":
                            zh[clause] = None
    if not en or not zh:
        raise ValueError(f"{corpus_dir} needs both English and Chinese content to recombine")
    return Seeds(tuple(en), tuple(zh))


def count_chunks(text: str, chunk: ChunkSettings) -> int:
    """Chunks the ingest pipeline makes of this document text (same clean + chunk steps)."""
    kept = clean(text).kept
    return len(chunk_text(text, kept, max_tokens=chunk.max_tokens,
                          overlap_tokens=chunk.overlap_tokens))


def generate(target: Path, chunks: int, *, chunk: ChunkSettings | None = None,
             chunks_per_doc: int = 12, zh_share: float = 0.5, seed: int = 0,
             seeds: Seeds | None = None) -> GeneratedCorpus:
    """Write ceil(chunks / chunks_per_doc) documents (plus a manifest) into an empty target dir,
    each sized to about its share of the requested chunks; the same arguments give the same
    files byte for byte."""
    if chunks < 1 or chunks_per_doc < 1 or not 0.0 <= zh_share <= 1.0:
        raise ValueError("need chunks >= 1, chunks_per_doc >= 1 and 0 <= zh_share <= 1")
    started = time.perf_counter()
    chunk = chunk or ChunkSettings()
    seeds = seeds or seed_sentences()
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise ValueError(f"{target} is not empty")
    rng = random.Random(seed)
    docs = math.ceil(chunks / chunks_per_doc)
    manifest: dict[str, dict[str, object]] = {}
    total = zh_docs = 0
    for i in range(docs):
        lang: Lang = "zh" if math.floor((i + 1) * zh_share) > math.floor(i * zh_share) else "en"
        want = chunks // docs + (1 if i < chunks % docs else 0)
        text, made = _document(rng, seeds, lang, want, chunk)
        name = f"gen_{i:06d}_{lang}.txt"
        (target / name).write_text(text, encoding="utf-8")
        manifest[name] = {"title": f"Generated {'Chinese' if lang == 'zh' else 'English'} "
                                   f"document {i}", "languages": [lang]}
        total += made
        zh_docs += lang == "zh"
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                          encoding="utf-8")
    return GeneratedCorpus(target, chunks, total, docs, docs - zh_docs, zh_docs,
                           time.perf_counter() - started)


def _sentence(rng: random.Random, seeds: Seeds, lang: Lang) -> str:
    if lang == "en":
        return rng.choice(seeds.en)
    return "，".join(rng.choice(seeds.zh) for _ in range(rng.randint(2, 4))) + "。"


def _layout(sentences: list[str], lang: Lang) -> str:
    """Paragraphs of three to five sentences, one per line."""
    joiner = "" if lang == "zh" else " "
    lines = [joiner.join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return "\n".join(lines) + "\n"


def _document(rng: random.Random, seeds: Seeds, lang: Lang, want: int,
              chunk: ChunkSettings) -> tuple[str, int]:
    """A document of about `want` chunks: estimate by tokens, then correct with the chunker."""
    pool = [_sentence(rng, seeds, lang) for _ in range(8)]
    stride = max(1, chunk.max_tokens - chunk.overlap_tokens)
    sentences: list[str] = []
    tokens = 0
    while tokens < chunk.overlap_tokens + want * stride:
        sentences.append(pool.pop() if pool else _sentence(rng, seeds, lang))
        tokens += count_tokens(sentences[-1]) + 1
    made = count_chunks(_layout(sentences, lang), chunk)
    for _ in range(12):
        if made == want:
            break
        per_chunk = len(sentences) / max(1, made)
        step = round((want - made) * per_chunk) or (1 if want > made else -1)
        if step > 0:
            sentences.extend(_sentence(rng, seeds, lang) for _ in range(step))
        else:
            del sentences[max(1, len(sentences) + step):]
        made = count_chunks(_layout(sentences, lang), chunk)
    return _layout(sentences, lang), made
