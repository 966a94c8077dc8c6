"""Languages: Traditional Chinese answered through Simplified, other languages told plainly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.settings import AnswerSettings, EmbeddingSettings, RetrievalSettings, Settings
from core.text import (
    is_traditional,
    language_of,
    language_tag,
    to_simplified,
    to_traditional,
)
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from ingest.schema import SOURCE, ChunkMeta
from oncoqa.wiring import make_answerer, open_index
from qa import glossary, prompts
from qa.bm25 import tokenize
from qa.languages import LanguageFront
from qa.retriever import HybridRetriever, StoredChunk, pick
from tests.conftest import CORPUS
from tests.test_triage import FEVER_ZH

TRADITIONAL_Q = "化療結束後多久可以做手術?"
SIMPLIFIED_Q = "化疗结束后多久可以做手术?"
NEOADJUVANT = "000_61149c4b2133eace.txt"
BILINGUAL = "001_a72f36e8a6caebd0.txt"  # an English review with its Chinese abstract
OTHER_LANGUAGE = (
    "I can only answer questions in English or Chinese. Please ask again in English or "
    "Chinese.\n我只能回答英文或中文的问题，请用英文或中文重新提问。\n"
    "If you feel very unwell, call your oncology team or your local emergency number now. "
    "如果您感觉很不舒服，请立即联系您的肿瘤治疗团队或拨打当地急救电话。"
)


@pytest.mark.parametrize(("text", "tag"), [
    ("化療結束後多久可以做手術?", "zh-Hant"),
    ("化疗结束后多久可以做手术?", "zh-Hans"),
    ("放療會掉頭髮嗎", "zh-Hant"),
    ("PD-1抑制剂有什么副作用", "zh-Hans"),
    ("化学療法の副作用は何ですか", "ja"),  # kanji, but kana make it Japanese
    ("抗がん剤の副作用", "ja"),
    ("항암치료 부작용은 무엇인가요?", "ko"),
    ("¿Cuáles son los efectos secundarios de la quimioterapia?", "es"),
    ("Quels sont les effets secondaires de la chimiothérapie ?", "fr"),
    ("Was sind die Nebenwirkungen der Chemotherapie?", "de"),
    ("Какие побочные эффекты у химиотерапии?", "und"),
    ("Does chemo cause hair loss?", "en"),
    ("What is 新辅助化疗 and when is it given?", "en"),
    ("What is de-escalation of therapy in HER2 breast cancer?", "en"),
])
def test_language_tag(text: str, tag: str) -> None:
    assert language_tag(text) == tag


def test_language_of_stays_en_or_zh() -> None:
    assert language_of(TRADITIONAL_Q) == "zh"
    assert language_of("化学療法の副作用は何ですか") == "en"  # not Chinese
    assert is_traditional(TRADITIONAL_Q) and not is_traditional(SIMPLIFIED_Q)
    assert to_simplified(TRADITIONAL_Q) == SIMPLIFIED_Q
    # Taiwan and Hong Kong character forms
    assert to_traditional("不要等待这里的回答，为什么") == "不要等待這裡的回答，為什麼"


def test_traditional_and_simplified_are_one_keyword() -> None:
    assert tokenize(TRADITIONAL_Q) == tokenize(SIMPLIFIED_Q)


def test_glossary_knows_both_scripts() -> None:
    assert glossary.entries("化療") == glossary.entries("化疗") == glossary.entries("chemo")
    # Regional wording listed once in the Traditional column, found in either script.
    targeted = glossary.entries("targeted therapy")
    assert glossary.entries("標靶治療") == glossary.entries("标靶治疗") == targeted


@pytest.fixture
def hash_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "retrieval": RetrievalSettings(min_score=0.2, min_score_zh=0.2, k=6),
        "answer": AnswerSettings(min_sentence_score=0.0),
    })


def _retriever(settings: Settings, embeddings) -> HybridRetriever:
    ingest(settings, embeddings)
    store, registry = open_index(settings, embeddings)
    return HybridRetriever(store=store, registry=registry, config=settings.retrieval,
                           k=settings.retrieval.k)


def test_traditional_question_finds_what_simplified_finds(hash_settings: Settings) -> None:
    answerer = make_answerer(_retriever(hash_settings, HashEmbeddings()), None, hash_settings)
    traditional = answerer.answer(TRADITIONAL_Q)
    simplified = answerer.answer(SIMPLIFIED_Q)
    assert [p.id for p in traditional.retrieved] == [p.id for p in simplified.retrieved]
    assert traditional.refused == simplified.refused and traditional.kind == simplified.kind
    assert traditional.language == "zh" and traditional.language_tag == "zh-Hant"
    assert simplified.language_tag == "zh-Hans"
    assert traditional.to_json()["language"] == "zh"
    assert traditional.to_json()["language_tag"] == "zh-Hant"
    # Shown in the reader's script; the cited document text stays as written.
    assert to_simplified(traditional.text) == to_simplified(simplified.text)
    assert traditional.notice == to_traditional(simplified.notice) != simplified.notice
    assert "資料" in traditional.text and "资料" not in traditional.text
    assert traditional.retrieved[0].text == simplified.retrieved[0].text


def test_traditional_stream_is_converted_as_it_goes(hash_settings: Settings) -> None:
    answerer = make_answerer(_retriever(hash_settings, HashEmbeddings()), None, hash_settings)
    events = list(answerer.stream("我發燒到39度，化療結束後多久可以做手術?"))
    first = events[0]
    assert first == to_traditional(FEVER_ZH) + "\n\n"  # the urgent message, in Traditional
    assert first.startswith("⚠️ 抗癌治療期間體溫達到 37.5 °C 或以上、寒戰")


def test_traditional_document_is_found_and_shown_as_written(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    text = ("口腔黏膜炎的護理\n"
            "化療期間如果口腔潰瘍，應使用軟毛牙刷，並以生理鹽水漱口，每日四到六次。\n")
    (corpus / "mucositis_tw.txt").write_text(text, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus,
                        embedding=EmbeddingSettings(backend="hash"),
                        retrieval=RetrievalSettings(min_score=0.2, min_score_zh=0.2, k=6))
    retriever = _retriever(settings, HashEmbeddings())
    hits = retriever.view().bm25.search(tokenize("化疗期间口腔溃疡用什么漱口"), 3)
    top_chunk = retriever.store.collection.get(ids=[hits[0][0]], include=["metadatas"])
    assert hits and top_chunk["metadatas"][0][SOURCE] == "mucositis_tw.txt"
    top = retriever.search("化疗期间口腔溃疡用什么漱口")[0]
    assert top.source == "mucositis_tw.txt" and "生理鹽水漱口" in top.text


@pytest.mark.parametrize(("question", "tag"), [
    ("化学療法の副作用は何ですか", "ja"),
    ("항암치료 부작용은 무엇인가요?", "ko"),
    ("¿Cuáles son los efectos secundarios de la quimioterapia?", "es"),
    ("Quels sont les effets secondaires de la chimiothérapie ?", "fr"),
])
def test_other_languages_are_told_which_languages_to_use(hash_settings: Settings, question: str,
                                                         tag: str) -> None:
    answerer = make_answerer(_retriever(hash_settings, HashEmbeddings()), None, hash_settings)
    events = list(answerer.stream(question))
    assert len(events) == 1
    answer = events[0]
    assert answer.text == OTHER_LANGUAGE == prompts.OTHER_LANGUAGE
    assert answer.refused and answer.kind == "refusal" and answer.language_tag == tag
    assert answer.refusal_reason == (
        f"the question is not in English or Chinese (detected: {tag}); OncoQA answers in "
        "English and Chinese only")
    assert answer.to_json()["language"] == "en" and not answer.retrieved


def test_the_front_is_transparent(hash_settings: Settings) -> None:
    answerer = make_answerer(_retriever(hash_settings, HashEmbeddings()), None, hash_settings)
    assert isinstance(answerer, LanguageFront)
    assert answerer.retriever is answerer.inner.retriever


@pytest.fixture
def e5_retriever(tmp_path: Path, corpus: Path, e5_embeddings) -> HybridRetriever:
    """The seed corpus indexed with the real e5 model (no LLM: no English rendering)."""
    return _retriever(Settings(data_dir=tmp_path / "data", corpus_dir=corpus), e5_embeddings)


@pytest.mark.real_embedding
@pytest.mark.slow
def test_real_traditional_question_retrieves_the_simplified_top_document(
        e5_retriever: HybridRetriever) -> None:
    retriever = e5_retriever
    traditional = retriever.search(TRADITIONAL_Q)
    simplified = retriever.search(SIMPLIFIED_Q)
    assert [p.id for p in traditional] == [p.id for p in simplified]
    assert traditional[0].dense == simplified[0].dense > 0
    assert NEOADJUVANT in {p.source for p in traditional}


def _half(cid: str, language: str, section: int, partner: int, span: tuple[float, float],
          source: str = "review.txt") -> StoredChunk:
    meta = ChunkMeta(source=source, title="Review", language=language, chunk_index=0, start=0,
                     end=0, doc_sha="x", section=section, translation_section=partner,
                     rel_start=span[0], rel_end=span[1])
    return StoredChunk(cid, f"text of {cid}", meta)


def test_a_bilingual_document_is_shown_in_the_readers_half_wherever_it_ranks() -> None:
    # The English half ranks first (the glossary's English terms vote for it); its Chinese
    # translation ranks last, beyond k: a Chinese reader gets the Chinese half at the English
    # half's rank, an English reader the English half, and never both.
    en1 = _half("en1", "en", 0, 1, (0.0, 0.5))
    en2 = _half("en2", "en", 0, 1, (0.5, 1.0))
    zh1 = _half("zh1", "zh", 1, 0, (0.0, 0.45))
    zh2 = _half("zh2", "zh", 1, 0, (0.45, 1.0))
    other = [_half(f"o{i}", "en", 0, -1, (0.0, 1.0), source=f"o{i}.txt") for i in range(3)]
    ranked = [(en1, 0.9), *zip(other, (0.8, 0.7, 0.6), strict=True), (en2, 0.2),
              (zh2, 0.1), (zh1, 0.05)]
    zh = pick(ranked, 4, "zh")
    assert [c.id for c, _ in zh] == ["zh1", "o0", "o1", "o2"]
    assert [s for _, s in zh] == [0.9, 0.8, 0.7, 0.6]  # the rank the document earned
    assert [c.id for c, _ in pick(ranked, 5, "zh")][-1] == "zh2"  # en2's turn, its partner
    assert [c.id for c, _ in pick(ranked, 6, "en")] == ["en1", "o0", "o1", "o2", "en2"]
    # An English reader whose question ranked the Chinese half first gets the English one.
    flipped = [(zh1, 0.9), (en2, 0.5), (en1, 0.1), (zh2, 0.05)]
    assert [c.id for c, _ in pick(flipped, 3, "en")] == ["en1", "en2"]
    assert [c.id for c, _ in pick(flipped, 3, "zh")] == ["zh1", "zh2"]


@pytest.mark.real_embedding
@pytest.mark.slow
def test_real_chinese_question_on_the_bilingual_review_reads_its_chinese_half(
        e5_retriever: HybridRetriever) -> None:
    retriever = e5_retriever
    zh = retriever.search("肠癌转移到肝，定新辅助化疗方案前，文章说要看哪些基因的检测结果？")
    review = [p for p in zh if p.source == BILINGUAL]
    assert review and all(p.language == "zh" for p in review)
    assert any("RAS/BRAF" in p.text for p in review)
    en = retriever.search("Which gene tests guide neoadjuvant chemotherapy for colorectal "
                          "liver metastases?")
    assert [p.language for p in en if p.source == BILINGUAL][:1] == ["en"]
    assert all(p.language == "en" for p in en if p.source == BILINGUAL)


SKIN_ZH = (
    "放疗期间的皮肤护理\n\n"
    "大多数患者在放疗开始后两到三周出现皮肤发红、干燥和瘙痒。皮肤反应通常在放疗结束后一到两周最重。\n\n"
    "照射区域的皮肤应使用温水轻轻清洗。可以使用医生推荐的无香料保湿霜，但在每次放疗前四小时内不要涂抹。"
    "不要在照射区域使用热水袋或冰袋。\n"
)


@pytest.fixture(scope="module")
def chinese_only_retriever(tmp_path_factory: pytest.TempPathFactory,
                           e5_embeddings) -> HybridRetriever:
    """The seed corpus and one document written only in Chinese, with the real e5 model
    (indexed once for the questions that read it)."""
    root = tmp_path_factory.mktemp("chinese_only")
    with_zh = root / "corpus"
    shutil.copytree(CORPUS, with_zh)
    (with_zh / "skin_zh.txt").write_text(SKIN_ZH, encoding="utf-8")
    return _retriever(Settings(data_dir=root / "data", corpus_dir=with_zh), e5_embeddings)


@pytest.mark.real_embedding
@pytest.mark.slow
@pytest.mark.parametrize("question", [
    "放疗期间皮肤可以用热水袋吗？",  # the English renderings ranked it below every English chunk
    "Can I put moisturiser on my skin before radiotherapy?",  # no English term can match it
    "When does skin get red during radiotherapy?",
])
def test_real_a_document_only_in_chinese_is_found_in_either_language(
        chinese_only_retriever: HybridRetriever, question: str) -> None:
    found = chinese_only_retriever.search(question)
    assert found[0].source == "skin_zh.txt", [p.source for p in found]


def test_an_english_question_reaches_chinese_only_text_through_the_glossary(
        hash_settings: Settings, tmp_path: Path) -> None:
    # Hash vectors know no language: the keyword side alone must find it for English words.
    corpus = tmp_path / "with_zh"
    shutil.copytree(CORPUS, corpus)
    (corpus / "skin_zh.txt").write_text(SKIN_ZH, encoding="utf-8")
    settings = hash_settings.model_copy(update={"data_dir": tmp_path / "with_zh_data",
                                                "corpus_dir": corpus})
    retriever = _retriever(settings, HashEmbeddings())
    question = "Can I use a moisturiser on my skin during radiotherapy?"
    assert "skin_zh.txt" in {p.source for p in retriever.search(question)[:3]}
    off = retriever.model_copy(update={"config": settings.retrieval.model_copy(
        update={"glossary": False})})
    assert "skin_zh.txt" not in {p.source for p in off.search(question)}
