"""Bilingual keyword retrieval: one English/Chinese tokenizer and an Okapi BM25 inverted index."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.stopwords import EN_STOP_WORDS, english_stemmer
from core.text import CJK_RANGES, CJK_RUN, to_simplified
from qa.glossary import GLOSSARY

# The arrays an index is saved as (one .npy each, memory-mapped when loaded), and its
# vocabulary and ids (JSON).
_ARRAYS = ("docs", "weights", "df")

# A "piece" is a CJK run or a Latin/digit word;
# anything else (spaces, punctuation of both scripts, hyphens, slashes) separates pieces, so
# "5-fluorouracil" gives "5" and "fluorouracil" and "RAS/BRAF" gives "ras" and "braf".
_PIECE = re.compile(rf"([{CJK_RANGES}]+)|([^\W_{CJK_RANGES}]+)")

# Function words and question words; content words like 手术 or 化疗 never appear here.
_ZH_STOP_WORDS = """的 地 得 了 着 过 是 在 和 与 及 或 而 且 吗 呢 吧 啊 呀 么 嘛 哦
什么 怎么 怎么办 怎样 怎么样 为什么 为何 如何 多久 可以 能 能否 能不能 会 会不会
要 需要 应该 我 你 您 他 她 它 我们 你们 他们 这 那 这个 那个 这些 那些 这种 有 没有
就 也 都 还 又 再 被 把 对 从 到 为 以 之 其 等 个 一 一个 哪 哪些 哪个 多少 请问 请 问
些 不 很 更 最 后 前 时 时候 做 做手 之后 之前 以后 以前 已经 还是 或者 因为 所以 如果 但是
然后 一下 一些"""
_ZH_STOP = frozenset(_ZH_STOP_WORDS.split())

K1 = 1.2
B = 0.75


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    if not word.isalpha():
        return word  # numbers and gene names like "pik3ca" are already canonical
    return str(english_stemmer().stemWord(word))


_segmenter_lock = threading.Lock()


@lru_cache(maxsize=1)
def _build_segmenter() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading to stderr
    # A private Tokenizer, so the glossary words below never leak into other jieba users.
    seg = jieba.Tokenizer()
    seg.initialize()
    # Glossary terms as dictionary words keep terms like 贝伐珠单抗 or 结直肠癌 in one piece
    # whatever surrounds them; search mode still emits their dictionary sub-words (单抗, 直肠癌).
    for zh_terms, _ in GLOSSARY:
        for term in zh_terms:
            if len(term) >= 2 and CJK_RUN.fullmatch(term):
                seg.add_word(term)
    return seg


def _segmenter() -> Any:
    with _segmenter_lock:
        return _build_segmenter()


def tokenize(text: str) -> list[str]:
    """Index terms of English, Chinese or mixed text: stemmed words, numbers, Chinese words.

    Chinese runs go through jieba's search mode, which emits a long word and its dictionary
    sub-words (新辅助化疗 -> 辅助, 化疗, 新辅助化疗), so a question saying 化疗 still meets a
    passage saying 新辅助化疗. We do not add character bigrams: with the glossary terms in the
    dictionary the segmentation of medical terms is stable, and bigrams would double the index
    and add many meaningless pairs. HMM is off because it guesses unknown words differently
    depending on context; without it an unknown drug name falls back to single characters,
    which at least match between question and passage. Traditional Chinese is indexed and
    searched in Simplified, so 化療 and 化疗 are one term (the text shown is never changed).
    """
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for cjk, word in _PIECE.findall(text):
        if word:
            if word not in EN_STOP_WORDS:
                tokens.append(_stem(word))
            continue
        for token in _segmenter().cut_for_search(to_simplified(cjk), HMM=False):
            if token not in _ZH_STOP:
                tokens.append(token)
    return tokens


Hit = tuple[str, float, tuple[str, ...]]


class BM25Index:
    """Okapi BM25 over a fixed collection, with per-posting weights precomputed at build time.

    Postings are stored CSR-style: for term id t, `_docs[_offsets[t]:_offsets[t + 1]]` are the
    (ascending) indexes of the documents containing it and `_weights` the matching BM25 terms,
    so a query only reads the postings of its own terms.
    """

    def __init__(
        self,
        docs: Iterable[tuple[str, str]],
        *,
        k1: float = K1,
        b: float = B,
        tokenizer: Callable[[str], list[str]] = tokenize,
    ) -> None:
        self._tokenizer = tokenizer
        self._ids: list[str] = []
        self._vocab: dict[str, int] = {}
        seen: set[str] = set()
        # Flat typed arrays rather than per-term lists of tuples: ~12 bytes per posting.
        term_col, doc_col, tf_col, lengths = array("i"), array("i"), array("i"), array("i")
        for doc_id, text in docs:
            if doc_id in seen:
                raise ValueError(f"duplicate doc id {doc_id!r}")
            seen.add(doc_id)
            tokens = tokenizer(text)
            doc = len(self._ids)
            self._ids.append(doc_id)
            lengths.append(len(tokens))
            for term, tf in Counter(tokens).items():
                term_col.append(self._vocab.setdefault(term, len(self._vocab)))
                doc_col.append(doc)
                tf_col.append(tf)

        n = len(self._ids)
        terms = np.array(term_col, dtype=np.int64)
        order = np.argsort(terms, kind="stable")  # stable keeps each posting list in doc order
        self._docs = np.array(doc_col, dtype=np.int64)[order]
        tfs = np.array(tf_col, dtype=np.float64)[order]
        self._df = np.bincount(terms, minlength=len(self._vocab))
        self._offsets = np.concatenate(([0], np.cumsum(self._df))).astype(np.int64)
        idf = np.log1p((n - self._df + 0.5) / (self._df + 0.5))
        dl = np.array(lengths, dtype=np.float64)
        avgdl = float(dl.mean()) if n else 0.0
        norm = k1 * (1.0 - b + b * (dl / avgdl if avgdl > 0 else dl))
        self._weights = idf[terms[order]] * tfs * (k1 + 1.0) / (tfs + norm[self._docs])

    def __len__(self) -> int:
        return len(self._ids)

    def save(self, folder: Path) -> None:
        """Writes the index into folder: its postings as .npy arrays, terms and ids as JSON."""
        for name in _ARRAYS:
            values = getattr(self, f"_{name}")
            if name == "docs" and len(self._ids) < 2**31:
                values = values.astype(np.int32)  # document numbers: half the bytes, same values
            np.save(folder / f"{name}.npy", values, allow_pickle=False)
        terms = sorted(self._vocab, key=self._vocab.__getitem__)  # term ids are positions
        (folder / "terms.json").write_text(json.dumps(terms, ensure_ascii=False),
                                           encoding="utf-8")
        (folder / "ids.json").write_text(json.dumps(self._ids), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, *, tokenizer: Callable[[str], list[str]] = tokenize
             ) -> BM25Index:
        """An index saved by save(); the postings stay on disk, memory-mapped, so loading is
        reading two JSON lists, and processes on one machine share the page cache."""
        index = cls.__new__(cls)
        index._tokenizer = tokenizer
        for name in _ARRAYS:
            setattr(index, f"_{name}", np.load(folder / f"{name}.npy", mmap_mode="r",
                                               allow_pickle=False))
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        index._vocab = {term: i for i, term in enumerate(terms)}
        index._ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        index._offsets = np.concatenate(([0], np.cumsum(index._df))).astype(np.int64)
        _segmenter()  # jieba's dictionary loads now, not during the first Chinese question
        return index

    def idf(self, term: str) -> float:
        """ln(1 + (N - df + 0.5) / (df + 0.5)) of an index term (df = 0 if unseen)."""
        tid = self._vocab.get(term)
        df = 0 if tid is None else int(self._df[tid])
        return float(np.log1p((len(self._ids) - df + 0.5) / (df + 0.5)))

    def search(self, query: str | Sequence[str], k: int) -> list[Hit]:
        """Top-k (doc_id, score, matched query terms), best first, ties in document order.

        A string is tokenized; a sequence is taken as index terms as they are (build them with
        `tokenize`, e.g. `tokenize(q) + tokenize(expansion)`). Repeated terms count once.
        """
        terms = self._tokenizer(query) if isinstance(query, str) else list(query)
        found = [(t, self._vocab[t]) for t in dict.fromkeys(terms) if t in self._vocab]
        if k <= 0 or not found:
            return []
        spans = [(int(self._offsets[tid]), int(self._offsets[tid + 1])) for _, tid in found]
        # Both paths add each document's terms in query-term order, so scores are identical.
        if sum(e - s for s, e in spans) * 4 > len(self._ids):
            # Many postings (frequent terms): a dense accumulator beats sorting them.
            acc = np.zeros(len(self._ids))
            for s, e in spans:
                acc[self._docs[s:e]] += self._weights[s:e]  # doc indexes unique per term
            candidates = np.flatnonzero(acc)
            scores = acc[candidates]
        else:
            docs = np.concatenate([self._docs[s:e] for s, e in spans])
            weights = np.concatenate([self._weights[s:e] for s, e in spans])
            candidates, inverse = np.unique(docs, return_inverse=True)
            sums = np.bincount(inverse, weights=weights, minlength=len(candidates))
            scores = np.asarray(sums, dtype=np.float64)  # already float64; this informs mypy

        pos = np.flatnonzero(scores > 0)
        if len(pos) > k:
            # Keep everything tied with the k-th score, so the tie-break below sees all of them.
            kth = np.partition(scores[pos], len(pos) - k)[len(pos) - k]
            pos = pos[scores[pos] >= kth]
        pos = pos[np.lexsort((candidates[pos], -scores[pos]))][:k]
        top_docs = candidates[pos]

        matched: list[list[str]] = [[] for _ in range(len(pos))]
        for (term, _), (s, e) in zip(found, spans, strict=True):
            postings = self._docs[s:e]
            at = np.minimum(np.searchsorted(postings, top_docs), len(postings) - 1)
            for j in np.flatnonzero(postings[at] == top_docs):
                matched[j].append(term)
        return [
            (self._ids[d], float(scores[p]), tuple(m))
            for d, p, m in zip(top_docs.tolist(), pos.tolist(), matched, strict=True)
        ]


class BM25Builder:
    """Builds and saves the keyword index at ingest (`ingest.keywords.KeywordBuilder`)."""

    def __init__(self) -> None:
        # Everything that decides the terms or their weights: a change makes saved indexes stale.
        parts = [json.dumps(sorted(EN_STOP_WORDS)), _ZH_STOP_WORDS, f"{K1} {B}",
                 json.dumps(list(GLOSSARY), ensure_ascii=False), _PIECE.pattern,
                 _tokenizer_versions()]
        self.fingerprint = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]

    def write(self, docs: Iterable[tuple[str, str]], folder: Path) -> None:
        BM25Index(docs).save(folder)


def _tokenizer_versions() -> str:
    from importlib.metadata import version

    return " ".join(f"{name} {version(name)}" for name in ("jieba", "snowballstemmer",
                                                           "opencc-python-reimplemented"))
