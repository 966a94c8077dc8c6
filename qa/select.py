"""Answer-sentence selection: rank the retrieved passages' sentences for how well each answers."""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from langchain_core.embeddings import Embeddings

from core.text import CLOSERS, REFERENCE_MARK, Lang, script_of, split_sentences
from qa import answer_type, drugs, glossary
from qa.bm25 import tokenize
from qa.types import Passage

# Lines that are not explanations: references, affiliations, captions, journal headers.
_NOT_PROSE = re.compile(
    r"\bdoi\b|https?://|www\.|@\w|\bet al\b|\b(?:fig(?:ure)?|table)\s*\d|\bdepartment of\b"
    r"|\buniversity\b|\bcopyright\b|\ball rights reserved\b|\bkeywords?:|^\s*(?:references?|"
    r"correspondence|core tip|citation)\b|\b\d{4}\s*;\s*\d+\s*\(\d+\)|参考文献|通讯作者|关键词",
    re.IGNORECASE,
)
_TERMINAL = ("。", "！", "？", ".", "!", "?", "；", ";", "…")
_BULLET = re.compile(r"^[-–—•·*▪●○]\s+")
_TRAILING_REFERENCE = re.compile(rf"(?<=[.!?。！？;；])\s*(?:{REFERENCE_MARK})+\s*$")


# How much lower e5 rates a Chinese text for an English query than the same text in English
# (median over the bilingual seed review's chunk pairs with the dev English questions).
ENGLISH_ZH_GAP = 0.060


@dataclass(frozen=True)
class Weights:
    """How the features combine; calibrated on the dev split of the gold sets (eval/select)."""

    dense: float = 1.0  # e5 question-sentence cosine (cross-lingual)
    keyword: float = 0.04  # idf-weighted share of the question's terms the sentence contains
    fits: float = 0.03  # the sentence supplies the kind of thing asked for (qa.answer_type)
    rank: float = 0.01  # prior for sentences of higher-ranked passages
    penalty: float = 0.08  # one unit per flag: heading, teaser, fragment, reference
    narrower: float = 0.05  # holds only for a drug the question does not name ("If bevacizumab
    # is used, surgery waits 6 weeks" under "how long after chemotherapy?"; dev: 10 among the
    # best six, none the evidence)
    margin: float = 0.04  # further sentences must score within this of the best
    related: float = 0.0  # ... and hold this share of the question's terms, unless they sit in
    # the first sentence's passage (on dev: off-topic padding down, 2.4 -> 2.2 sentences, key
    # facts -0.01 en / -0.03 zh, citation precision +0.03 / +0.05)
    max_sentences: int = 3  # each costs a model call: 4 gained key facts on dev, at ~5 s more
    continuation: bool = True  # the direct answer is followed by the sentence after it that
    # points back to it ("... some patients do not benefit." + "As a result, the lesions
    # increase ..."): the specifics are often there. It comes on top of max_sentences. (Also
    # for a later chosen sentence, one continuation in all: dev key facts unchanged, citation
    # precision -0.016; not kept.)
    duplicate: float = 0.7  # token Jaccard above which two sentences say the same thing
    translation: float = 0.92  # cross-language cosine above which two sentences are a pair
    # e5 rates a Chinese sentence higher for a Chinese question than its English twin by about
    # this much (the bilingual seed review's 12 sentence pairs against the dev Chinese questions
    # with their English renderings, as selection scores them: median 0.055); the thresholds were
    # calibrated on Chinese questions against English sentences, so it is taken off (and off a
    # Chinese passage's score at the evidence gate, qa.chain).
    same_language_zh: float = 0.055
    # added back to a Chinese sentence for an English reader (a document only in Chinese; the
    # gate and retrieval use the same gap)
    english_zh: float = ENGLISH_ZH_GAP


@dataclass(frozen=True)
class Candidate:
    """One source sentence, where it sits, and why it ranked."""

    text: str
    n: int  # 1-based number of its passage in the retrieved list
    start: int  # offsets into the passage text
    end: int
    language: Lang | None
    dense: float
    keyword: float
    fits: bool
    flags: tuple[str, ...]
    score: float
    # The sentence before it in its passage, when this one points back to it ("The purpose is
    # ...", "These lesions ..."): rated and shown together. Where that one is a candidate.
    lead: str = ""
    lead_at: tuple[int, int] | None = None
    # Its document's title names a cancer and the question names others, none of them: a
    # sentence about another cancer is never shown in support of the direct answer.
    other_cancer: bool = False

    @classmethod
    def of_text(cls, text: str, start: int = 0, end: int | None = None) -> Candidate:
        """A sentence outside any selection (translated ahead, or a document title): no
        passage, no scores."""
        return cls(text, 0, start, len(text) if end is None else end, script_of(text), 0.0,
                   0.0, False, (), 0.0)


@dataclass(frozen=True)
class Selection:
    chosen: tuple[Candidate, ...]  # display order: the direct answer first
    ranked: tuple[Candidate, ...]  # every candidate, best first

    @property
    def best(self) -> float:
        """The score of the first chosen sentence (the gate compares it with its floor); when
        that is the lead-in of the next one, the better of the two (the next was chosen)."""
        if not self.chosen:
            return -1.0
        return max(c.score for c in self.chosen[:2 if self.leads_in else 1])

    @property
    def top(self) -> float:
        """The highest score of any prose candidate: how confident selection is that a sentence
        answers (the first chosen may score lower when it supplies what the question asks for,
        e.g. a test for "which scan ...?")."""
        return max((c.score for c in self.ranked if not c.flags), default=self.best)

    @property
    def leads_in(self) -> bool:
        """Whether the first chosen sentence is there as the lead-in of the second."""
        return len(self.chosen) > 1 and self.chosen[1].lead_at == (self.chosen[0].n,
                                                                    self.chosen[0].start)


class SentenceSelector:
    """Ranks sentences with e5 similarity, keyword coverage and penalties for non-answers.

    Sentence vectors are cached by text: the same passages come back for related questions."""

    def __init__(self, embeddings: Embeddings, *, idf: Callable[[], Callable[[str], float]],
                 weights: Weights | None = None, cache_size: int = 4096) -> None:
        self.embeddings = embeddings
        self.idf = idf
        self.weights = weights or Weights()
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size

    def select(self, queries: Sequence[str], terms: Sequence[str], passages: Sequence[Passage],
               lang: Lang, *, topic: str = "") -> Selection:
        """queries: the question, then its English renderings (a sentence's similarity is its
        best against any); terms: the question's index terms, glossary included; topic: the
        question with what a follow-up borrowed from the conversation (default: the queries),
        for the cancers it is about."""
        pieces = _sentences(passages)
        if not pieces:
            return Selection((), ())
        question = queries[0]
        w = self.weights
        vectors_q = [self._query(q) for q in queries]
        asks = answer_type.asked(question)
        vectors = self._vectors([text for _, _, _, text in pieces])
        idf = self.idf()
        wanted = {t: idf(t) for t in dict.fromkeys(terms)}
        total = sum(wanted.values()) or 1.0
        leads = _leads(passages, pieces)
        named, names_drug, ruled_out = _drugs_named(queries)
        asked = set().union(*(cancers_named(q) for q in (topic, *queries)))
        other = {n: bool(asked) and bool(titled) and not titled & asked for n, titled in (
            (n, cancers_named(p.title)) for n, p in enumerate(passages, 1))}
        ranked = []
        for (n, start, end, text), vector in zip(pieces, vectors, strict=True):
            dense = max(_cosine(q, vector) for q in vectors_q)
            written = script_of(text)
            if lang == "zh" and written == "zh":
                dense -= w.same_language_zh
            elif lang == "en" and written == "zh":
                dense += w.english_zh
            tokens = set(tokenize(text))
            keyword = sum(v for t, v in wanted.items() if t in tokens) / total
            flags = flags_of(text)
            unnamed = _unnamed_condition(text, named)
            narrower = bool(unnamed)
            if narrower and (names_drug or unnamed & ruled_out):
                flags += ("other-drug",)  # the question asks about another drug, or none of it
            lead_in = leads.get((n, start))
            if (n, start) in leads and lead_in is None:
                flags += ("dangling",)  # what it points back to is not in the passage
            lead, lead_at = lead_in or ("", None)
            fits = answer_type.supplies(text, asks, question)
            score = (w.dense * dense + w.keyword * keyword + w.fits * fits
                     - w.rank * (n - 1) - w.penalty * len(flags)
                     - w.narrower * narrower)
            ranked.append(Candidate(text, n, start, end, written, round(dense, 4),
                                    round(keyword, 4), fits, flags, round(score, 5),
                                    lead, lead_at, other[n]))
        # Headings, teasers, fragments and references are never the answer while a prose
        # sentence is available: they rank after every unflagged sentence.
        ranked.sort(key=lambda c: (bool(c.flags), -c.score))
        if asks:
            ranked = _fitting_first(ranked, 2 * w.margin)
        return Selection(self.choose(ranked), tuple(ranked))

    def choose(self, ranked: Sequence[Candidate], *,
               margin: float | None = None) -> tuple[Candidate, ...]:
        """The sentences to show, in display order: the first, then up to max_sentences - 1 more
        scoring within `margin` (default: the weights') of the best, without repeating a claim.
        A sentence that points back comes right after its lead-in (both count), or not at all.
        Also used after the model's ratings moved the scores (qa.judge)."""
        w = self.weights
        margin = w.margin if margin is None else margin
        vectors = self._vectors([c.text for c in ranked])
        vector_of = {(c.n, c.start): v for c, v in zip(ranked, vectors, strict=True)}
        at = {(c.n, c.start): c for c in ranked}
        follower = {c.lead_at: c for c in ranked if c.lead_at is not None and not c.flags
                    and not c.other_cancer}
        chosen: list[Candidate] = []
        limit = w.max_sentences
        for c in ranked:
            was_empty = not chosen
            best = max(r.score for r in ranked[:2])
            if len(chosen) >= limit or (chosen and c.score < best - margin):
                break
            if c.flags and chosen:
                break
            if any(c is d for d in chosen):
                continue  # already in as another one's lead-in
            if chosen and (c.other_cancer or c.keyword < w.related and c.n != chosen[0].n):
                continue
            if any(_same_claim(c, d, vector_of, w) for d in chosen):
                continue
            lead = at.get(c.lead_at) if c.lead_at else None
            if lead is not None and lead.flags:
                continue  # its lead-in is no answer (about a drug ruled out): nor is it
            if lead is None:
                chosen.append(c)
            elif any(lead is d for d in chosen):
                chosen.insert(next(i for i, d in enumerate(chosen) if d is lead) + 1, c)
            elif len(chosen) + 2 <= limit and not any(
                    _same_claim(lead, d, vector_of, w) for d in chosen):
                chosen += [lead, c]
            if was_empty and chosen and w.continuation:
                after = follower.get((chosen[-1].n, chosen[-1].start))
                if after is not None and not any(after is d for d in chosen):
                    chosen.append(after)
                    limit += 1
        return tuple(chosen)

    def definition_first(self, selection: Selection, question: str, *,
                         look: int) -> tuple[Selection, bool]:
        """For a question that asks what a term means: the selection with a sentence that
        defines the term (qa.answer_type.defines) as its direct answer, and whether there is
        one. The direct answer may already be it; else the first such sentence among the best
        `look` unflagged candidates is moved first (a sentence that only mentions the term can
        outscore it: 局部治疗指的是什么？), scored as the best, so the model's ratings can still
        move another above it."""
        direct = selection.chosen[:2 if selection.leads_in else 1]
        if any(answer_type.defines(c.text, question) for c in direct):
            return selection, True
        if "definition" not in answer_type.asked(question):
            return selection, False
        found = next((c for c in selection.ranked[:look]
                      if not c.flags and answer_type.defines(c.text, question)), None)
        if found is None:
            return selection, False
        lifted = replace(found, score=max(found.score, selection.ranked[0].score))
        ranked = (lifted, *(c for c in selection.ranked if c is not found))
        return Selection(self.choose(ranked), ranked), True

    def _query(self, question: str) -> list[float]:
        key = "\0query\0" + question  # queries are embedded with their own prefix
        if key not in self._cache:
            self._cache[key] = self.embeddings.embed_query(question)
        return self._cache[key]

    def similarity(self, a: str, b: str) -> float:
        """e5 cosine of two sentences (either language), for the verifier."""
        va, vb = self._vectors([a, b])
        return _cosine(va, vb)

    def _vectors(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, vector in zip(missing, self.embeddings.embed_documents(missing),
                                    strict=True):
                self._cache[text] = vector
        out = []
        for text in texts:
            self._cache.move_to_end(text)
            out.append(self._cache[text])
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out


def _fitting_first(ranked: list[Candidate], window: float) -> list[Candidate]:
    """A question that asks for something (drugs, a time, a test) is answered first by the best
    sentence that supplies it, when that sentence is within the window of the top score."""
    top = ranked[0].score if ranked else 0.0
    fitting = next((c for c in ranked if c.fits and not c.flags and c.score >= top - window),
                   None)
    if fitting is None or fitting is ranked[0]:
        return ranked
    return [fitting] + [c for c in ranked if c is not fitting]


def _sentences(passages: Sequence[Passage]) -> list[tuple[int, int, int, str]]:
    """(passage number, start, end, text) of each distinct sentence; overlapping chunks repeat
    sentences, so the first (best-ranked) copy wins."""
    return [(i + 1, start, end, text)
            for i, start, end, text in distinct_sentences(p.text for p in passages)]


def distinct_sentences(texts: Iterable[str]) -> list[tuple[int, int, int, str]]:
    """(index of its text, start, end, sentence) of each sentence not seen in an earlier text
    (whitespace aside) and holding a word character."""
    seen: set[str] = set()
    out = []
    for i, text in enumerate(texts):
        for start, sentence in _text_sentences(text):
            key = _key(sentence)
            if key in seen:
                continue
            seen.add(key)
            out.append((i, start, start + len(sentence), sentence))
    return out


def _text_sentences(text: str) -> list[tuple[int, str]]:
    """(start, sentence) of each sentence of a text holding a word character."""
    out = []
    for s in split_sentences(text):
        # A reference marker after the full stop ("... the regimen.[1-2]") is the source's own
        # citation: not shown (it would read like ours), and the sentence is complete.
        cut = _TRAILING_REFERENCE.search(s.text)
        sentence = s.text[:cut.start()] if cut else s.text
        # A list item's bullet is layout, not part of the sentence a reader is shown.
        bullet = _BULLET.match(sentence)
        skip = bullet.end() if bullet else 0
        if re.search(r"\w", sentence[skip:]):
            out.append((s.start + skip, sentence[skip:]))
    return out


def _key(sentence: str) -> str:
    return re.sub(r"\s+", " ", sentence)


def _leads(passages: Sequence[Passage], pieces: Sequence[tuple[int, int, int, str]],
           ) -> dict[tuple[int, int], tuple[str, tuple[int, int]] | None]:
    """For each candidate that points back, the sentence before it in its own passage and where
    that one is a candidate (its first copy); None where there is none that stands alone (the
    passage starts with it, or the one before is a heading or points back itself)."""
    where = {_key(text): (n, start) for n, start, _, text in pieces}
    split: dict[int, list[tuple[int, str]]] = {}  # each passage split once
    out: dict[tuple[int, int], tuple[str, tuple[int, int]] | None] = {}
    for n, start, _, text in pieces:
        if not leans_back(text):
            continue
        if n not in split:
            split[n] = _text_sentences(passages[n - 1].text)
        before = [s for at, s in split[n] if at < start]
        lead = before[-1] if before else ""
        fit = bool(lead) and not flags_of(lead) and not leans_back(lead)
        out[(n, start)] = (lead, where[_key(lead)]) if fit else None
    return out


def flags_of(text: str) -> tuple[str, ...]:
    """Why a sentence is unlikely to be an answer: a heading, a teaser question, a fragment, or
    reference material."""
    stripped = text.strip().rstrip(CLOSERS)
    flags = []
    zh = script_of(text) == "zh"
    size = len(re.findall(r"\w", text)) if zh else len(re.findall(r"[A-Za-z0-9]+", text))
    if stripped.endswith(("?", "？", "!", "！")):
        flags.append("teaser")
    elif not stripped.endswith(_TERMINAL):
        flags.append("heading")
    # Too short, or English that starts in lower case: the rest of a sentence the source
    # broke off ("according to the rate of tumor shrinkage to determine ...")
    if size < (10 if zh else 7) or (not zh and re.match(r"[^A-Za-z0-9]*[a-z]", stripped)):
        flags.append("fragment")
    if _NOT_PROSE.search(text):
        flags.append("reference")
    return tuple(flags)


# A sentence that cannot be read alone: it points back to the one before ("The purpose is ...",
# "These lesions ...", "It can ...", "As a result, ...", "To address this issue, ..."). "It is
# important to ..." (nothing pointed to) and "The purpose of X is ..." stand alone.
_POINTS_BACK_EN = re.compile(
    r"^(?:these|this(?!\s+(?:article|review|paper|chapter|section|guide|leaflet)\b)|those|such|"
    r"they|their|them|its|it(?!\s+(?:is|was|has been|should be|must be|"
    r"may be|can be|will be|would be|might be|seems|appears)\s+(?:\w+ly\s+)?(?:recommended|"
    r"important|necessary|essential|advisable|possible|impossible|difficult|hard|easy|unclear|"
    r"clear|known|believed|thought|estimated|reported|shown|noted|worth|common|rare|likely|"
    r"unlikely|crucial|vital|critical|helpful|useful|safe|best|better|advised|suggested|"
    r"expected|normal|usual|true|found)\b))\b"
    r"|^the\s+(?:purpose|aim|goal|reason|result|benefit|advantage|disadvantage|drawback|"
    r"downside|risk|effect|idea|point)s?\s+(?:is|are|was|were)\b"
    r"|^(?:as a result|therefore|thus|hence|consequently|accordingly|for (?:this|that|these) "
    r"reasons?|because of (?:this|that))\b"
    r"|^that\s+(?:is|was|means|makes|explains)\b"
    r"|^(?:while|although|though|because|since|as|if|when|once|unless|whereas)\s+(?:it|they|"
    r"this|these|its|their)\b"
    r"|^(?:[a-z]+\s+){1,2}(?:this|these|such)\s+(?!is\b|was\b|are\b|were\b|as\b)[a-z]+",
    re.IGNORECASE,
)
_POINTS_BACK_ZH = re.compile(
    r"^(?:这|此(?!外)|该|其(?!他|它|实|次)|它|他们|她们|上述|以上|因此|所以|因而|由此|为此|对此)")


def leans_back(text: str) -> bool:
    """Whether a sentence points back to the one before it (English or Chinese)."""
    stripped = re.sub(r"^[\W_]+", "", text)
    return bool(_POINTS_BACK_ZH.match(stripped) if script_of(text) == "zh"
                else _POINTS_BACK_EN.match(stripped))


# The opening condition of a sentence: "If X is used, ...", "For patients receiving X, ...".
_CONDITION = re.compile(
    r"^\W*(?:(?:if|when|where)\b|(?:for|in) (?:patients|people|those) (?:with|who|receiving|"
    r"taking|on)\b)[^,;:]*|^\W*(?:如果|假如|若|对于|对)[^，,；;。]*", re.IGNORECASE)


# Where a question rules drugs out ("with no bevacizumab or sorafenib", 没有用贝伐珠单抗): from the
# cue to the end of its clause.
_RULED_OUT = re.compile(
    r"\b(?:no|without|instead of|rather than|not (?:on|taking|using|given|getting|receiving)|"
    r"never (?:had|took|taken|received|used|got))\b[^,.;:?!]*"
    r"|(?:没有用|没用|没有使用|没使用|未用|未使用|没有打|没打|没吃|没有吃|不用|而不是|并非)[^，,。；;：:？?！!]*",
    re.IGNORECASE)


def _drugs_named(queries: Sequence[str]) -> tuple[set[str], bool, set[str]]:
    """The names a question gives, every form (drug stems, and the glossary's names in both
    languages); whether one of them is a drug (by stem, or a glossary drug); and the names of
    what it rules out. A drug it rules out is not named: "standard chemo, with no bevacizumab"
    does not ask about bevacizumab, and a sentence that holds only under it is no answer."""
    named, drug = _names_in(_RULED_OUT.sub(" ", q) for q in queries)
    ruled_out, _ = _names_in(m.group() for q in queries for m in _RULED_OUT.finditer(q))
    return named, drug, ruled_out


def _names_in(texts: Iterable[str]) -> tuple[set[str], bool]:
    named: set[str] = set()
    drug = False
    for text in texts:
        stems = drugs.names(text)
        named |= stems
        drug = drug or bool(stems)
        for entry in glossary.mentions(text):
            concept = glossary.concept(entry)
            drug = drug or concept.kind == "drug"
            named |= {f.casefold() for f in (*concept.english, *concept.simplified,
                                              *concept.traditional)}
    return named, drug


# A glossary cancer names a site or a type when it has a word besides these.
_BROAD_CANCER = {"cancer", "carcinoma", "tumor", "tumour", "neoplasm", "cell", "metastasis",
                 "metastases", "advanced", "early", "late", "stage"}
_CANCER_WORD = re.compile(r"\b(?:cancer|carcinoma|tumou?r|metastas[ei]s|lymphoma|leuka?emia|"
                          r"sarcoma|myeloma|melanoma)\b", re.IGNORECASE)


def cancers_named(text: str) -> set[int]:
    """The glossary entries of the particular cancers a text names, in either language
    (nasopharyngeal carcinoma, liver metastases; not cancer, tumour, metastasis or advanced
    cancer, which every document may say)."""
    out = set()
    for entry in glossary.mentions(text):
        concept = glossary.concept(entry)
        name = glossary.english_form(entry)
        if concept.kind == "cancer" and _CANCER_WORD.search(name) and any(
                word not in _BROAD_CANCER for word in re.findall(r"[a-z]+", name.casefold())):
            out.add(entry)
    return out


def _unnamed_condition(text: str, named: set[str]) -> set[str]:
    """The drugs the sentence holds only under, when the question names none of them (empty:
    it holds generally, or under a drug the question names)."""
    condition = _CONDITION.match(text)
    found = drugs.names(condition.group()) if condition else set()
    return set() if found & named else found


def _same_claim(a: Candidate, b: Candidate, vector_of: dict[tuple[int, int], list[float]],
                w: Weights) -> bool:
    """Near-duplicates, and a sentence and its translation (the other half of a bilingual
    document), say one thing: show it once."""
    if a.language != b.language:
        return _cosine(vector_of[(a.n, a.start)], vector_of[(b.n, b.start)]) >= w.translation
    ta, tb = set(tokenize(a.text)), set(tokenize(b.text))
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) >= w.duplicate


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
