"""Tests for ingest.clean: boilerplate kinds on the seed pages, generalisation, span invariants."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from ingest.clean import Cleaned, clean

CORPUS = Path(__file__).parents[1] / "corpus"


def _seed(prefix: str) -> Cleaned:
    (path,) = CORPUS.glob(f"{prefix}_*.txt")
    return clean(path.read_text(encoding="utf-8"))


def _kind_of(cleaned: Cleaned, snippet: str) -> str | None:
    """The kind of the removal containing snippet, None if it is not removed."""
    start = cleaned.text.index(snippet)
    end = start + len(snippet.rstrip("\n"))  # a trailing "\n" only pins the snippet to a line end
    for removal in cleaned.removed:
        if removal.start <= start and end <= removal.end:
            return removal.kind
    return None


def _assert_gone(cleaned: Cleaned, kind: str, *snippets: str) -> None:
    kept = cleaned.kept_text()
    for snippet in snippets:
        assert snippet in cleaned.text, snippet  # guards against a typo making the test vacuous
        assert snippet not in kept, snippet
        assert _kind_of(cleaned, snippet) == kind, snippet


def _assert_kept(cleaned: Cleaned, *snippets: str) -> None:
    kept = cleaned.kept_text()
    for snippet in snippets:
        assert snippet in kept, snippet


def test_003_header_boilerplate() -> None:
    doc = _seed("003")
    _assert_gone(doc, "navigation", "Contact Us Careers")
    _assert_gone(doc, "view-counter", "时间:2026-05-09 人气:")
    _assert_gone(doc, "image-placeholder", "图片")
    _assert_gone(doc, "follow-prompt", "Click on the blue text to follow us")
    _assert_kept(doc, "When should chemotherapy be stopped? It's too late to see drug resistance",
                 "When it comes to chemotherapy, side effects and cumulative toxicity are always "
                 "mentioned.",
                 "Where is the golden turning point for the benefits of chemotherapy?",
                 "Popularization of science")


def test_003_footer_boilerplate_and_references() -> None:
    doc = _seed("003")
    _assert_gone(doc, "credits", "Written by: Lai Lisi", "Reviewed by: Lehe New Medical Department",
                 "Typeset by: JOJO")
    _assert_gone(doc, "follow-prompt", "Click to view past science popularization")
    _assert_gone(doc, "prev-next", "下一篇:没有了")
    _assert_kept(doc, "Actively participating in the formulation of treatment plans can often "
                      "achieve unexpected therapeutic effects.",
                 "Reference source:",
                 "[1]\xa0New response evaluation criteria in solid tumors: Revised RECIST",
                 "[2]Re-optimization and implementation of response evaluation criteria in solid "
                 "tumorsJournal of Traditional Chinese Oncology, 2023, 5(0):1-5.")
    assert doc.kept_text().rstrip().endswith("2023, 5(0):1-5.")


def test_003_kind_counts() -> None:
    counts = Counter(r.kind for r in _seed("003").removed)
    assert counts["navigation"] == 1 and counts["view-counter"] == 1
    assert counts["image-placeholder"] == 1 and counts["follow-prompt"] == 2
    assert counts["credits"] == 1 and counts["prev-next"] == 1
    assert set(counts) == {"navigation", "view-counter", "image-placeholder", "follow-prompt",
                           "credits", "prev-next", "other"}


def test_002_prev_next_and_recommend_block() -> None:
    doc = _seed("002")
    _assert_gone(doc, "prev-next", "<<:\xa0 The difference between secondary liver cancer",
                 ">>:\xa0 What tests can confirm nasopharyngeal carcinoma in the early stage?")
    _assert_gone(doc, "related-articles", "Recommend\n", "Prevention of nasopharyngeal cancer",
                 "The cause of nasopharyngeal carcinoma is unknown....",
                 "What to do if your whole body itches?", "How to eat it right",
                 "The rapid development of modern society has led t...")
    block = [r for r in doc.removed if r.kind == "related-articles"]
    assert len(block) == 1 and block[0].end == len(doc.text.rstrip())
    last = ("Patients should actively cooperate with treatment, undergo regular follow-up "
            "examinations, and promptly detect and treat metastatic lesions.")
    assert doc.kept_text().endswith(last)
    # "recommend" inside prose and the numbered section headings are content
    _assert_kept(doc, "It is recommended to perform comprehensive imaging examinations",
                 "doctors may recommend genetic testing", "1. Tumor Aggression", "Treatment\n",
                 "4. Targeted therapy")


def test_004_trailing_advertisement() -> None:
    doc = _seed("004")
    _assert_gone(doc, "advertisement", "We are associated with experienced and highly skilled",
                 "JCI & NABH Certified hospitals only", "Our services include various types")
    assert doc.kept_text().endswith("in the challenging landscape of metastatic tumors.")
    _assert_kept(doc, "In conclusion, the treatment of metastatic tumors requires",
                 "By combining these treatment options, healthcare professionals strive")


def test_000_and_001_are_all_content() -> None:
    doc = _seed("000")
    assert doc.removed == () and doc.kept_text() == doc.text.strip()
    _assert_kept(doc, "- Preoperative chemotherapy\n", "- Oncology\n", "Basic Information")
    doc = _seed("001")
    assert doc.removed == ()  # affiliations, journal line, "our center"/"我们中心" are content
    _assert_kept(doc, "Department of Radiation Oncology, The First Affiliated Hospital",
                 "World J Gastroenterol. 2024 Feb 21;30(7):663-672. doi: 10.3748/wjg.v30.i7.663.",
                 "本文探讨了最新的研究进展,并结合我们中心的实践经验")


EN_PAGE = """Home | About Us | Contact Us | Privacy Policy
Home > Cancer > Lung cancer
Lung cancer screening saves lives
Published: 2024-03-05  Views: 1,234
[image]
Low-dose CT screening is recommended for adults aged 50 to 80 who smoked heavily.
We found that annual screening reduced lung cancer deaths by 20% in the trial.
Follow us on Facebook for more health tips
Screening should be repeated every year. Contact us for a free quote.
Previous article: Understanding biopsy results
Next article: Life after chemotherapy
References
[1] National Lung Screening Trial Research Team. N Engl J Med. 2011;365:395-409.
Medically reviewed by Dr. Jane Smith
Author: Health Desk
Advertisement
Copyright © 2024 HealthSite Ltd. All rights reserved.

You may also like

Five foods to eat during chemotherapy

Eating well during treatment helps patients keep their strength and...

What is immunotherapy?

Immunotherapy uses the body's own immune system to...
"""


def test_synthetic_english_page() -> None:
    doc = clean(EN_PAGE)
    _assert_gone(doc, "navigation", "Home | About Us | Contact Us | Privacy Policy",
                 "Home > Cancer > Lung cancer")
    _assert_gone(doc, "view-counter", "Published: 2024-03-05  Views: 1,234")
    _assert_gone(doc, "image-placeholder", "[image]")
    _assert_gone(doc, "follow-prompt", "Follow us on Facebook for more health tips")
    _assert_gone(doc, "advertisement", "Contact us for a free quote.")
    _assert_gone(doc, "prev-next", "Previous article: Understanding biopsy results",
                 "Next article: Life after chemotherapy")
    _assert_gone(doc, "credits", "Medically reviewed by Dr. Jane Smith", "Author: Health Desk")
    _assert_gone(doc, "advertisement", "Advertisement\n")
    _assert_gone(doc, "other", "Copyright © 2024 HealthSite Ltd. All rights reserved.")
    _assert_gone(doc, "related-articles", "You may also like", "Five foods to eat",
                 "Immunotherapy uses the body's own immune system to...")
    _assert_kept(doc, "Lung cancer screening saves lives",
                 "Low-dose CT screening is recommended for adults aged 50 to 80",
                 "We found that annual screening reduced lung cancer deaths by 20% in the trial.",
                 "Screening should be repeated every year.", "References\n",
                 "[1] National Lung Screening Trial Research Team. N Engl J Med. 2011;365:395-409.")


ZH_PAGE = """首页 | 新闻中心 | 联系我们 | 关于我们
当前位置：首页 > 健康科普 > 正文
肺癌化疗期间如何饮食？
发布时间：2024-05-01 浏览次数：1024
图片
化疗期间患者应保证充足的蛋白质摄入，多吃鸡蛋、鱼肉和豆制品。
我们提供一站式肿瘤治疗服务，与多家国际认证医院合作。免费咨询，立即预约！
如果出现恶心呕吐，可以少量多餐，并及时告知医生。点击阅读原文
扫码关注公众号，获取更多抗癌知识
上一篇：肺癌的早期症状
下一篇：没有了
参考文献
[1] 中国临床肿瘤学会. 原发性肺癌诊疗指南（2023版）. 北京: 人民卫生出版社, 2023.
撰文：李医生
（责任编辑 王编辑）
来源：某某健康网
版权所有 © 2024 某某医院
相关推荐
化疗后白细胞低怎么办
化疗后白细胞降低是常见的不良反应，患者可以通过……
肺癌靶向药有哪些
目前常用的肺癌靶向药物包括吉非替尼、厄洛替尼等…
"""


def test_synthetic_chinese_page() -> None:
    doc = clean(ZH_PAGE)
    _assert_gone(doc, "navigation", "首页 | 新闻中心 | 联系我们 | 关于我们",
                 "当前位置：首页 > 健康科普")
    _assert_gone(doc, "view-counter", "发布时间：2024-05-01 浏览次数：1024")
    _assert_gone(doc, "image-placeholder", "图片")
    _assert_gone(doc, "advertisement", "我们提供一站式肿瘤治疗服务", "免费咨询，立即预约！")
    _assert_gone(doc, "follow-prompt", "点击阅读原文", "扫码关注公众号，获取更多抗癌知识")
    _assert_gone(doc, "prev-next", "上一篇：肺癌的早期症状", "下一篇：没有了")
    _assert_gone(doc, "credits", "撰文：李医生", "（责任编辑 王编辑）", "来源：某某健康网")
    _assert_gone(doc, "other", "版权所有 © 2024 某某医院")
    _assert_gone(doc, "related-articles", "相关推荐", "化疗后白细胞低怎么办",
                 "吉非替尼、厄洛替尼等…")
    _assert_kept(doc, "肺癌化疗期间如何饮食？",
                 "化疗期间患者应保证充足的蛋白质摄入，多吃鸡蛋、鱼肉和豆制品。",
                 "如果出现恶心呕吐，可以少量多餐，并及时告知医生。", "参考文献",
                 "[1] 中国临床肿瘤学会. 原发性肺癌诊疗指南（2023版）. 北京: 人民卫生出版社, 2023.")


def test_partial_line_removals_keep_exact_spans() -> None:
    text = "图片   Surgery remains the main treatment.\nRest well after chemo. Book an " \
           "appointment now!\n"
    doc = clean(text)
    assert doc.kept_text() == "Surgery remains the main treatment.\nRest well after chemo."
    assert [(r.kind, r.text) for r in doc.removed] == [
        ("image-placeholder", "图片   "), ("advertisement", "Book an appointment now!")]


def test_headless_teaser_run_and_lookalikes() -> None:
    teasers = "".join(f"Title number {i}\nA truncated teaser snippet about topic {i}...\n"
                      for i in range(3))
    text = f"Chemotherapy works best early.\n{teasers}Radiotherapy follows surgery.\n"
    doc = clean(text)
    _assert_gone(doc, "related-articles", "Title number 0", "about topic 2...")
    assert doc.kept_text() == "Chemotherapy works best early.\nRadiotherapy follows surgery."
    # two truncated lines are not a run; a "Recommended" heading before prose is a heading;
    # a short menu-word line inside a sentence context is content
    prose = ("Some patients wait...\nOthers act at once...\nRecommended\n" + "Patients with "
             "stage III disease should receive concurrent chemoradiotherapy as standard care.\n"
             "Home care after surgery\nRecommended\n- Annual low-dose CT\n- Quit smoking\n")
    assert clean(prose).removed == ()


def test_related_block_stops_at_references() -> None:
    text = ("Main text.\nYou may also like\nA teaser title\nA teaser snippet that stops...\n"
            "References\n[1] Smith J. Chemotherapy outcomes. Lancet 2020;395(1)\n"
            "[2] Wang L. Oncology 2021\n")
    doc = clean(text)
    _assert_gone(doc, "related-articles", "You may also like", "stops...")
    _assert_kept(doc, "References\n[1] Smith J. Chemotherapy outcomes. Lancet 2020;395(1)",
                 "[2] Wang L. Oncology 2021")


def test_self_promotion_only_trusted_at_the_end_or_alone() -> None:
    pitch = "We offer affordable treatment packages at certified hospitals."
    middle = f"Chemotherapy helps many patients. Surgery follows. {pitch}\nMore content here.\n"
    assert clean(middle).removed == ()
    doc = clean(f"Chemotherapy helps many patients. Surgery follows. {pitch}\n")
    assert doc.kept_text() == "Chemotherapy helps many patients. Surgery follows."
    _assert_gone(doc, "advertisement", pitch)
    _assert_gone(clean(f"Intro.\n{pitch}\nMore content here.\n"), "advertisement", pitch)
    # a click-and-follow pattern must not catch ordinary advice
    advice = ("Press firmly on the wound, then click the link and follow up with your doctor.\n"
              "患者可以在医院官网在线预约挂号。\n我院2018年至2020年共收治120例患者。\n")
    assert clean(advice).removed == ()
    _assert_gone(clean("化疗期间注意营养。\n在线咨询\n"), "advertisement", "在线咨询")


def test_lone_punctuation_and_whitespace_lines() -> None:
    doc = clean("Content line.\n \xa0 \n——\n。\nMore content.\n")
    assert doc.kept_text() == "Content line.\nMore content."
    assert {r.kind for r in doc.removed} == {"other"}


def _check_invariants(doc: Cleaned) -> None:
    text, covered = doc.text, [False] * len(doc.text)
    previous_end = 0
    for start, end in doc.kept:
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()  # spans are trimmed
        previous_end = end
        covered[start:end] = [True] * (end - start)
    previous_end = 0
    for removal in doc.removed:
        assert previous_end <= removal.start < removal.end <= len(text)
        assert removal.text == text[removal.start:removal.end]
        assert not any(covered[removal.start:removal.end])  # never overlaps a kept span
        previous_end = removal.end
        covered[removal.start:removal.end] = [True] * (removal.end - removal.start)
    # every visible character is accounted for, as content or as a removal
    assert all(flag or char.isspace() for flag, char in zip(covered, text, strict=True))


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_span_invariants_on_seeds(prefix: str) -> None:
    _check_invariants(_seed(prefix))


def test_span_invariants_on_random_mixtures() -> None:
    pool = [*EN_PAGE.split("\n"), *ZH_PAGE.split("\n"), "", " ", "\xa0\xa0", "...", "图片 text",
            "Recommend", "Teaser text that stops here...", "A sentence. Click to follow us."]
    rng = random.Random(11)
    for _ in range(300):
        text = "\n".join(rng.choice(pool) for _ in range(rng.randint(0, 25)))
        _check_invariants(clean(text))
    assert clean("").kept == () and clean("").removed == ()
