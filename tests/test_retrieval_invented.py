"""One invented fact per language: no model can know it, so finding it first proves retrieval."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from core.text import language_of
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from oncoqa.wiring import build_retriever

# A made-up drug and a made-up schedule, written among the seed corpus's real documents.
INVENTED = {
    "zh": (
        "950_zuobulating.txt",
        "佐布拉汀治疗须知\n"
        "佐布拉汀是一种只在本测试中存在的药物。接受佐布拉汀治疗的患者，每天早上需要喝三杯温热的"
        "蓝莓茶，并且在每个疗程的第五天到医院复查一次指甲颜色。\n",
        "用佐布拉汀治疗时，每天早上要喝几杯蓝莓茶？",
        "三杯温热的蓝莓茶",
    ),
    "en": (
        "951_quorvexin.txt",
        "Quorvexin treatment notes\n"
        "Quorvexin is a drug that exists only in this test. Patients on quorvexin drink two cups "
        "of warm cranberry tea every morning and have their fingernail colour checked on the "
        "fifth day of each cycle.\n",
        "How many cups of cranberry tea do quorvexin patients drink every morning?",
        "two cups of warm cranberry tea",
    ),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_invented_fact_is_retrieved_first(settings: Settings, corpus: Path,
                                              lang: str) -> None:
    source, document, question, fact = INVENTED[lang]
    (corpus / source).write_text(document, encoding="utf-8")
    embeddings = HashEmbeddings()
    report = ingest(settings, embeddings)
    assert source in {doc.source for doc in report.documents}
    assert language_of(question) == lang
    passages = build_retriever(settings, embeddings).search(question)
    assert passages, "nothing retrieved"
    assert passages[0].source == source, [p.source for p in passages]
    assert fact in passages[0].text
