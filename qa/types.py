"""The values qa hands to the UI, the CLI and the evaluation: passages, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Lang = Literal["en", "zh"]
AnswerKind = Literal["answer", "refusal", "safety", "error"]


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with where it comes from and why it ranked."""

    id: str
    source: str  # file name relative to the corpus
    title: str
    text: str
    start: int  # character offsets into the original document
    end: int
    language: str
    score: float  # fused score used for ranking
    dense: float = 0.0  # cosine similarity to the question (0 when dense search missed it)
    keyword: float = 0.0  # BM25 score (0 when keyword search missed it)
    matched_terms: tuple[str, ...] = ()  # query terms found in the passage


@dataclass(frozen=True)
class Support:
    """One shown sentence and the single source sentence it stands for."""

    sentence: str  # as shown (rewritten, translated, or the source itself)
    source_sentence: str  # verbatim from the document
    mode: str  # "rewrite" | "translation" | "verbatim" | "quoted"
    start: int = 0  # the source sentence's character offsets in the document
    end: int = 0


@dataclass(frozen=True)
class Citation:
    """A passage the answer cites as [n]."""

    n: int
    source: str
    title: str
    text: str
    start: int
    end: int
    sentences: tuple[str, ...] = ()  # answer sentences that cite it (for highlighting)
    quote: str = ""  # the passage sentence that best supports those sentences
    support: tuple[Support, ...] = ()  # each shown sentence with its source sentence


@dataclass(frozen=True)
class Timings:
    retrieval: float = 0.0  # ms
    first_token: float = 0.0
    total: float = 0.0


@dataclass(frozen=True)
class Answer:
    text: str
    language: Lang
    kind: AnswerKind = "answer"
    refused: bool = False
    refusal_reason: str | None = None
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Passage, ...] = ()
    timings: Timings = field(default_factory=Timings)
    notice: str = ""  # the "information, not medical advice" reminder
    standalone_question: str = ""  # the question after follow-up rewriting
    backend: str = ""  # which generator produced the text
    preface: str = ""  # urgent or medication advice that opens the text, if any
    language_tag: str = ""  # BCP 47: "en", "zh-Hans", "zh-Hant" (the script), or the other
    # language a refused question was written in ("ja", "ko", "es", ...); "" means `language`

    def to_json(self) -> dict[str, Any]:
        """The stable `oncoqa ask --json` shape (documented in the README)."""
        return {
            "answer": self.text,
            "language": self.language,
            "language_tag": self.language_tag or self.language,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "kind": self.kind,
            "notice": self.notice,
            "standalone_question": self.standalone_question,
            "backend": self.backend,
            "citations": [
                {k: v for k, v in asdict(c).items() if k in _CITATION_KEYS} for c in self.citations
            ],
            "retrieved": [
                {k: v for k, v in asdict(p).items() if k in _PASSAGE_KEYS} for p in self.retrieved
            ],
            "timings": {k: round(v, 1) for k, v in asdict(self.timings).items()},
        }


_CITATION_KEYS = ("n", "source", "title", "text", "start", "end", "quote", "support")
_PASSAGE_KEYS = ("source", "title", "text", "start", "end", "score", "language", "dense", "keyword")


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, as the chain needs it for follow-ups."""

    question: str
    answer: str = ""
