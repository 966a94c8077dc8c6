"""Extractive answers: the passage sentences that best match the question, each with its [n]."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.text import count_tokens, split_sentences, truncate_tokens
from qa.bm25 import tokenize
from qa.types import Passage


@dataclass(frozen=True)
class Extract:
    sentence: str
    n: int  # 1-based passage number
    score: float


def best_sentences(
    terms: Sequence[str],
    passages: Sequence[Passage],
    *,
    idf: Callable[[str], float],
    max_sentences: int = 3,
    per_passage: int = 2,
    top_passages: int = 3,
) -> list[Extract]:
    """Sentences scored by the rarity-weighted question terms they contain, in passage order."""
    wanted = set(terms)
    candidates: list[Extract] = []
    seen: set[str] = set()  # overlapping chunks repeat sentences
    for n, passage in enumerate(passages[:top_passages], 1):
        scored = []
        for sentence in split_sentences(passage.text):
            if sentence.text in seen or not _is_full_sentence(sentence.text):
                continue
            seen.add(sentence.text)
            tokens = set(tokenize(sentence.text))
            score = sum(idf(t) for t in tokens & wanted)
            # Headings and fragments carry little; full sentences explain.
            if len(tokens) >= 4 and score > 0:
                scored.append(Extract(sentence.text, n, score / (1 + 0.02 * len(tokens))))
        scored.sort(key=lambda e: -e.score)
        candidates.extend(scored[:per_passage])
    if not candidates:  # nothing matched: fall back to the opening of the best passage
        first = next(iter(split_sentences(passages[0].text)), None) if passages else None
        return [Extract(first.text, 1, 0.0)] if first else []
    chosen = sorted(candidates, key=lambda e: -e.score)[:max_sentences]
    return sorted(chosen, key=lambda e: (e.n, passages[e.n - 1].text.find(e.sentence)))


def compress(text: str, terms: Sequence[str], max_tokens: int, *,
             idf: Callable[[str], float]) -> str:
    """The passage's sentences that best match the terms, in their original order, within
    max_tokens; the whole passage when it already fits."""
    if count_tokens(text) <= max_tokens:
        return text
    wanted = set(terms)
    sentences = list(split_sentences(text))
    scores = [sum(idf(t) for t in set(tokenize(s.text)) & wanted) for s in sentences]
    ranked = sorted(range(len(sentences)), key=lambda i: -scores[i])
    chosen: list[int] = []
    used = 0
    for i in ranked:
        size = count_tokens(sentences[i].text)
        if chosen and (used + size > max_tokens or scores[i] == 0):
            continue
        chosen.append(i)
        used += size
    if len(chosen) == 1 and used > max_tokens:
        return truncate_tokens(sentences[chosen[0]].text, max_tokens)
    return " … ".join(sentences[i].text for i in sorted(chosen))


def _is_full_sentence(text: str) -> bool:
    """Headings and list labels carry no explanation: a sentence ends with punctuation."""
    return text.rstrip("\"'”’)）]").endswith((".", "!", "?", "。", "！", "？", "；", ";"))


def render(extracts: Sequence[Extract]) -> str:
    return " ".join(f"{e.sentence} [{e.n}]" for e in extracts)
