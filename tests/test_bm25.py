"""The bilingual tokenizer and the BM25 index: segmentation, scoring, ranking, both paths."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from core.stopwords import EN_STOP_WORDS
from qa.bm25 import BM25Index, tokenize
from qa.glossary import translate_terms

ROOT = Path(__file__).resolve().parents[1]


# --- tokenizer ---------------------------------------------------------------------------


def test_english_is_lowercased_stemmed_and_stop_words_dropped() -> None:
    assert tokenize("The tumors were shrinking after the Surgeries") == [
        "tumor",
        "shrink",
        "after",
        "surgeri",
    ]


def test_english_keeps_numbers_and_gene_names_in_pieces() -> None:
    assert tokenize("5-fluorouracil") == ["5", "fluorouracil"]
    assert tokenize("PIK3CA, RAS and BRAF") == ["pik3ca", "ras", "braf"]


def test_full_width_latin_is_normalised() -> None:
    assert tokenize("ＣＴ") == tokenize("CT") == ["ct"]


def test_chinese_question_is_segmented_without_function_words() -> None:
    tokens = tokenize("新辅助化疗结束后多久可以做手术？")
    assert {"化疗", "手术", "新辅助化疗"} <= set(tokens)
    assert not {"的", "吗", "多久", "可以", "？", "后"} & set(tokens)
    tokens = tokenize("鼻咽癌放疗的副作用大吗？")
    assert {"鼻咽癌", "放疗", "副作用"} <= set(tokens)
    assert not {"的", "吗"} & set(tokens)


def test_glossary_terms_stay_whole_and_keep_their_sub_words() -> None:
    # Without the glossary in jieba's dictionary 贝伐珠单抗 splits into 贝伐珠 / 单抗.
    assert "贝伐珠单抗" in tokenize("患者使用贝伐珠单抗治疗")
    assert {"结直肠癌", "直肠癌", "肝转移", "转移"} <= set(tokenize("结直肠癌肝转移"))


def test_traditional_glossary_terms_stay_whole_too() -> None:
    # Traditional text is keyed in Simplified, so it meets Simplified passages and questions.
    tokens = tokenize("患者使用貝伐珠單抗後多久可以做手術")
    assert {"贝伐珠单抗", "手术"} <= set(tokens)
    assert tokens == tokenize("患者使用贝伐珠单抗后多久可以做手术")


def test_stop_words_come_from_the_shared_list() -> None:
    assert tokenize(" ".join(sorted(EN_STOP_WORDS))) == []
    assert tokenize("Please tell me about surgery") == ["surgeri"]


def test_mixed_text() -> None:
    tokens = tokenize("RAS/BRAF 基因检测")
    assert tokens[:2] == ["ras", "braf"]
    assert "基因检测" in tokens


def test_empty_and_punctuation_only_text() -> None:
    assert tokenize("") == []
    assert tokenize("？！。,.  ") == []


def test_import_is_lazy_and_jieba_stays_quiet() -> None:
    code = (
        "import sys, qa.bm25 as b\n"
        "assert 'jieba' not in sys.modules and 'snowballstemmer' not in sys.modules\n"
        "b.tokenize('化疗 surgery')\n"
        "assert 'jieba' in sys.modules\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""


# --- BM25 --------------------------------------------------------------------------------

EN_DOCS = [
    ("neo", "Neoadjuvant chemotherapy is given before surgery to shrink the tumor."),
    ("npc", "Radiotherapy uses radiation to kill cancer cells in nasopharyngeal carcinoma."),
    ("side", "Common side effects of chemotherapy include nausea and hair loss."),
    ("bev", "Bevacizumab can impair wound healing, so surgery is delayed several weeks."),
]
ZH_DOCS = [
    ("z-neo", "新辅助化疗是在手术前进行的化疗，目的是缩小肿瘤。"),
    ("z-npc", "鼻咽癌的主要治疗方法是放疗，早期患者单纯放疗即可。"),
    ("z-bev", "贝伐珠单抗会影响伤口愈合，停药后需间隔六到八周再手术。"),
    ("z-side", "化疗常见副作用包括恶心、呕吐和脱发。"),
]


@pytest.mark.parametrize(
    ("query", "best"),
    [
        ("How long after bevacizumab can I have surgery?", "bev"),
        ("radiation for nasopharyngeal cancer", "npc"),
        ("What are the side effects of chemo drugs?", "side"),
        ("Why give chemotherapy before an operation?", "neo"),
        ("贝伐珠单抗停药多久可以手术？", "z-bev"),
        ("鼻咽癌放疗", "z-npc"),
        ("化疗有什么副作用", "z-side"),
        ("术前新辅助化疗的目的", "z-neo"),
    ],
)
def test_the_right_document_wins(query: str, best: str) -> None:
    hits = BM25Index(EN_DOCS + ZH_DOCS).search(query, 3)
    assert hits[0][0] == best
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)


def test_matched_terms_are_the_query_terms_in_the_document() -> None:
    hits = BM25Index(EN_DOCS).search("bevacizumab surgery radiotherapy", 5)
    by_id = {doc_id: terms for doc_id, _, terms in hits}
    assert by_id["bev"] == ("bevacizumab", "surgeri")
    assert by_id["neo"] == ("surgeri",)
    assert by_id["npc"] == ("radiotherapi",)
    assert "side" not in by_id


def test_chinese_question_reaches_english_passage_through_glossary_expansion() -> None:
    index = BM25Index(EN_DOCS)
    question = "贝伐珠单抗停药后多久能开刀？"
    assert index.search(question, 3) == []
    hits = index.search(tokenize(question) + tokenize(translate_terms(question)), 3)
    assert hits[0][0] == "bev"


# Four docs with str.split so the arithmetic is easy: lengths 2, 3, 1, 4, avgdl = 2.5.
TOY = [("a", "x y"), ("b", "y y y"), ("c", "z"), ("d", "x x y z")]


def test_idf_matches_hand_computation() -> None:
    index = BM25Index(TOY, tokenizer=str.split)
    assert index.idf("x") == pytest.approx(math.log(1 + (4 - 2 + 0.5) / (2 + 0.5)))  # ln 2
    assert index.idf("y") == pytest.approx(math.log(1 + 1.5 / 3.5))
    assert index.idf("never") == pytest.approx(math.log(1 + 4.5 / 0.5))
    assert index.idf("y") > 0  # the non-negative variant: a common term never scores below 0


def test_scores_match_hand_computation() -> None:
    index = BM25Index(TOY, tokenizer=str.split)
    ln2 = math.log(2)
    # a: tf 1, dl 2 -> norm = 1.2 * (0.25 + 0.75 * 2 / 2.5) = 1.02
    # d: tf 2, dl 4 -> norm = 1.2 * (0.25 + 0.75 * 4 / 2.5) = 1.74
    assert index.search("x", 10) == [
        ("d", pytest.approx(ln2 * 2 * 2.2 / (2 + 1.74)), ("x",)),
        ("a", pytest.approx(ln2 * 1 * 2.2 / (1 + 1.02)), ("x",)),
    ]
    idf_z = math.log(1 + 2.5 / 2.5)
    d_score = ln2 * 4.4 / 3.74 + idf_z * 2.2 / (1 + 1.74)
    c_score = idf_z * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 1 / 2.5))
    assert index.search("x z", 10) == [
        ("d", pytest.approx(d_score), ("x", "z")),
        ("c", pytest.approx(c_score), ("z",)),
        ("a", pytest.approx(ln2 * 2.2 / 2.02), ("x",)),
    ]


def test_repeated_query_terms_count_once_and_lists_are_used_verbatim() -> None:
    index = BM25Index(TOY, tokenizer=str.split)
    assert index.search("x x x z", 10) == index.search("x z", 10)
    assert index.search(["x", "z", "x"], 10) == index.search("x z", 10)
    english = BM25Index(EN_DOCS)
    assert english.search(["surgeri"], 5) != []
    assert english.search(["surgery"], 5) == []  # list items are index terms, not raw words


def test_ties_break_by_document_order() -> None:
    index = BM25Index([("b", "x"), ("a", "x"), ("c", "x"), ("e", "y")], tokenizer=str.split)
    assert [h[0] for h in index.search("x", 10)] == ["b", "a", "c"]
    assert [h[0] for h in index.search("x", 2)] == ["b", "a"]


def test_empty_stop_word_and_unknown_queries_return_nothing() -> None:
    index = BM25Index(EN_DOCS + ZH_DOCS)
    assert index.search("", 5) == []
    assert index.search([], 5) == []
    assert index.search("the of and 的 吗", 5) == []
    assert index.search("xylophone", 5) == []
    assert index.search("surgery", 0) == []


def test_empty_index_and_duplicate_ids() -> None:
    empty = BM25Index([])
    assert len(empty) == 0
    assert empty.search("surgery", 5) == []
    assert len(BM25Index(EN_DOCS)) == 4
    with pytest.raises(ValueError, match="duplicate"):
        BM25Index([("a", "x"), ("a", "y")])


def _brute_force(docs: list[tuple[str, str]], query: list[str], k: int) -> list[tuple]:
    toks = [d.split() for _, d in docs]
    n, avgdl = len(docs), sum(map(len, toks)) / len(docs)
    df = Counter(t for ts in toks for t in set(ts))
    hits = []
    for i, ts in enumerate(toks):
        tf, score, matched = Counter(ts), 0.0, []
        for term in dict.fromkeys(query):
            if tf[term]:
                idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                norm = 1.2 * (1 - 0.75 + 0.75 * len(ts) / avgdl)
                score += idf * tf[term] * 2.2 / (tf[term] + norm)
                matched.append(term)
        if score > 0:
            hits.append((i, docs[i][0], score, tuple(matched)))
    hits.sort(key=lambda h: (-h[2], h[0]))
    return [(doc_id, pytest.approx(s), m) for _, doc_id, s, m in hits[:k]]


def test_agrees_with_brute_force_on_frequent_and_rare_terms() -> None:
    # Zipf-like vocabulary: w0 is in nearly every doc (dense path), w300 in few (sparse path).
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(400)]
    zipf = [1 / (i + 1) for i in range(400)]
    docs = [(f"d{i}", " ".join(rng.choices(vocab, zipf, k=rng.randint(3, 40)))) for i in range(600)]
    index = BM25Index(docs, tokenizer=str.split)
    for query in (["w0"], ["w0", "w1", "w2"], ["w300"], ["w5", "w250", "w399"], ["w7", "w7"]):
        assert index.search(query, 15) == _brute_force(docs, query, 15), query


def test_a_saved_index_loads_memory_mapped_and_ranks_the_same(tmp_path: Path) -> None:
    rng = random.Random(11)
    vocab = [f"w{i}" for i in range(300)] + ["化疗", "手术", "贝伐珠单抗"]
    zipf = [1 / (i + 1) for i in range(len(vocab))]
    docs = [(f"d{i}", " ".join(rng.choices(vocab, zipf, k=rng.randint(3, 40)))) for i in range(500)]
    built = BM25Index(docs, tokenizer=str.split)
    built.save(tmp_path)
    loaded = BM25Index.load(tmp_path, tokenizer=str.split)
    assert isinstance(loaded._docs, np.memmap) and len(loaded) == len(built) == 500
    for query in (["w0"], ["w0", "w1", "w2"], ["w290"], ["手术", "w3"], ["贝伐珠单抗"], ["nope"]):
        assert loaded.search(query, 15) == built.search(query, 15), query
        assert [loaded.idf(t) for t in query] == [built.idf(t) for t in query]
    assert loaded.search("w0 手术", 5) == built.search("w0 手术", 5)  # its tokenizer too


def test_twenty_thousand_documents() -> None:
    rng = random.Random(3)
    words = ["chemotherapy", "surgery", "radiotherapy", "tumor", "dose", "weeks", "cancer"]
    docs = [(f"d{i}", " ".join(rng.choices(words, k=12)) + f" patient{i}") for i in range(20_000)]
    docs.append(("needle", "bevacizumab delays wound healing before surgery"))
    index = BM25Index(docs)
    assert len(index) == 20_001
    assert index.search("bevacizumab and wound healing", 5)[0][0] == "needle"
    hits = index.search("chemotherapy surgery", 10)
    assert len(hits) == 10
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
