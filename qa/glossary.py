"""Bilingual oncology glossary that bridges Chinese questions and English passages (and back)."""

from __future__ import annotations

import re
from functools import lru_cache

Entry = tuple[tuple[str, ...], tuple[str, ...]]

# (Chinese forms, English forms). The first form on each side is the canonical one; the rest
# are synonyms, abbreviations and the words patients actually type. An English form's plural
# ("-s"/"-es") is matched automatically; irregular plurals (metastases) are listed.
GLOSSARY: tuple[Entry, ...] = (
    # Treatments
    (("化疗", "化学治疗", "化学疗法", "打化疗", "做化疗"), ("chemotherapy", "chemo")),
    (("新辅助化疗", "术前化疗"), ("neoadjuvant chemotherapy", "preoperative chemotherapy")),
    (("新辅助治疗", "术前治疗"), ("neoadjuvant therapy", "neoadjuvant treatment", "neoadjuvant")),
    (("辅助化疗", "术后化疗"), ("adjuvant chemotherapy", "postoperative chemotherapy")),
    (("辅助治疗", "术后治疗"), ("adjuvant therapy", "adjuvant treatment", "adjuvant")),
    (("诱导化疗",), ("induction chemotherapy",)),
    (("姑息化疗",), ("palliative chemotherapy",)),
    (("同步放化疗", "同期放化疗", "放化疗"), ("chemoradiotherapy", "chemoradiation")),
    (
        ("放疗", "放射治疗", "放射疗法", "做放疗", "电疗"),
        ("radiotherapy", "radiation therapy", "radiation"),
    ),
    (("调强放疗", "调强放射治疗"), ("intensity-modulated radiotherapy", "IMRT")),
    (("质子治疗", "质子放疗", "质子重离子"), ("proton therapy", "proton beam therapy")),
    (("立体定向放疗", "立体定向放射治疗"), ("stereotactic body radiotherapy", "SBRT", "SABR")),
    (("伽玛刀", "射波刀", "放射外科"), ("radiosurgery", "gamma knife", "cyberknife")),
    (("近距离放疗", "后装治疗", "内照射"), ("brachytherapy",)),
    (
        ("手术", "外科手术", "开刀", "动手术", "做手术", "手术治疗"),
        ("surgery", "operation", "surgical"),
    ),
    (("切除", "切除术", "切掉", "割掉"), ("resection", "resect", "excision", "removal")),
    (
        ("根治术", "根治性手术", "根治性切除"),
        ("radical surgery", "radical resection", "curative resection"),
    ),
    (("可切除",), ("resectable",)),
    (("不可切除", "无法切除", "不能切除"), ("unresectable",)),
    (
        ("微创手术", "腹腔镜", "腔镜手术"),
        ("minimally invasive surgery", "laparoscopic", "laparoscopy"),
    ),
    (("淋巴结清扫", "淋巴结清除"), ("lymph node dissection", "lymphadenectomy")),
    (("淋巴结",), ("lymph node",)),
    (("射频消融", "消融"), ("radiofrequency ablation", "ablation")),
    (("介入治疗", "肝动脉化疗栓塞"), ("interventional therapy", "TACE", "chemoembolization")),
    (("靶向治疗", "靶向药", "靶向药物"), ("targeted therapy", "targeted drug", "targeted agent")),
    (("免疫治疗", "免疫疗法"), ("immunotherapy",)),
    (
        ("免疫检查点抑制剂", "检查点抑制剂"),
        ("immune checkpoint inhibitor", "checkpoint inhibitor", "PD-1", "PD-L1"),
    ),
    (("内分泌治疗", "激素治疗"), ("endocrine therapy", "hormone therapy", "hormonal therapy")),
    (("抗血管生成",), ("anti-angiogenic", "angiogenesis inhibitor", "antiangiogenic")),
    (("酪氨酸激酶抑制剂",), ("tyrosine kinase inhibitor", "TKI")),
    (
        ("姑息治疗", "缓和医疗", "安宁疗护"),
        ("palliative care", "palliative treatment", "palliative"),
    ),
    (
        ("综合治疗", "联合治疗"),
        ("combination therapy", "multimodal treatment", "comprehensive treatment"),
    ),
    (("一线治疗", "一线"), ("first-line",)),
    (("二线治疗", "二线"), ("second-line",)),
    (("维持治疗",), ("maintenance therapy",)),
    (("局部治疗",), ("local treatment", "local therapy")),
    (("全身治疗", "系统治疗"), ("systemic therapy", "systemic treatment")),
    (
        ("多学科", "多学科会诊", "多学科团队"),
        ("multidisciplinary", "multidisciplinary team", "MDT"),
    ),
    (("精准医学", "精准医疗", "精准治疗"), ("precision medicine", "precision oncology")),
    (("临床试验",), ("clinical trial",)),
    (("指南", "诊疗指南"), ("guideline",)),
    (("术前",), ("preoperative", "before surgery")),
    (("术后",), ("postoperative", "after surgery")),
    # Disease course and evaluation
    (
        ("转移", "扩散", "癌细胞扩散", "癌症扩散", "转移癌"),
        ("metastasis", "metastases", "metastatic", "spread"),
    ),
    (("肝转移",), ("liver metastasis", "liver metastases", "hepatic metastases")),
    (("肺转移",), ("lung metastasis", "lung metastases", "pulmonary metastases")),
    (("骨转移",), ("bone metastasis", "bone metastases")),
    (("脑转移",), ("brain metastasis", "brain metastases")),
    (("复发", "再发"), ("recurrence", "relapse", "recurrent")),
    (("耐药", "抗药", "耐药性"), ("drug resistance", "resistance", "resistant")),
    (("进展", "疾病进展", "病情恶化"), ("progression", "progressive disease")),
    (("病情稳定", "疾病稳定"), ("stable disease",)),
    (("完全缓解",), ("complete response", "complete remission")),
    (("部分缓解",), ("partial response",)),
    (
        ("疗效评价", "疗效评估", "评估疗效"),
        ("response evaluation", "response assessment", "RECIST"),
    ),
    (("疗效", "治疗效果"), ("efficacy", "treatment response", "effective")),
    (("平台期",), ("plateau phase", "plateau")),
    (
        ("肿瘤缩小", "缩小肿瘤", "瘤子变小", "肿瘤变小"),
        ("shrink the tumor", "tumor shrinkage", "shrink"),
    ),
    (("降期",), ("downstaging",)),
    (("分期",), ("staging", "stage")),
    (("晚期", "终末期", "中晚期"), ("advanced", "late stage")),
    (("局部晚期",), ("locally advanced",)),
    (("早期",), ("early stage", "early")),
    (("生存率", "存活率", "生存期", "活多久"), ("survival", "survival rate", "overall survival")),
    (("无进展生存",), ("progression-free survival", "PFS")),
    (("预后",), ("prognosis",)),
    (("治愈", "根治"), ("cure", "curative")),
    (("随访", "复查"), ("follow-up", "surveillance")),
    # Tests
    (("肿瘤标志物", "肿瘤标记物", "肿标"), ("tumor marker", "tumour marker")),
    (("癌胚抗原",), ("CEA", "carcinoembryonic antigen")),
    (("甲胎蛋白",), ("AFP", "alpha-fetoprotein")),
    (("EB病毒",), ("Epstein-Barr virus", "EBV")),
    (("影像", "影像学", "影像检查", "拍片"), ("imaging", "scan", "radiological")),
    (("CT检查", "增强CT"), ("CT", "computed tomography")),
    (("正电子发射断层",), ("PET-CT", "PET scan", "positron emission tomography")),
    (("核磁共振", "磁共振", "核磁"), ("MRI", "magnetic resonance imaging")),
    (("超声", "B超", "彩超"), ("ultrasound", "ultrasonography")),
    (("活检", "穿刺活检"), ("biopsy",)),
    (("病理", "病理报告"), ("pathology", "pathological")),
    (
        ("基因检测", "基因测序", "分子检测"),
        ("genetic testing", "gene testing", "genomic testing", "molecular testing"),
    ),
    (("基因突变", "突变"), ("mutation", "mutant")),
    (("野生型",), ("wild-type",)),
    (("血象", "血常规", "验血"), ("blood count", "complete blood count", "blood test")),
    # Side effects
    (("副作用", "不良反应", "副反应"), ("side effect", "adverse effect", "adverse event")),
    (("毒性", "毒副作用"), ("toxicity", "toxic")),
    (
        ("骨髓抑制", "白细胞减少", "白细胞低", "粒细胞减少"),
        ("myelosuppression", "neutropenia", "low white blood cell"),
    ),
    (("贫血",), ("anemia", "anaemia")),
    (("出血", "流血"), ("bleeding", "hemorrhage", "haemorrhage")),
    (("伤口愈合", "切口愈合", "伤口不愈合"), ("wound healing", "wound complication")),
    (("血栓",), ("thrombosis", "blood clot")),
    (("高血压",), ("hypertension", "high blood pressure")),
    (("恶心", "呕吐"), ("nausea", "vomiting")),
    (("脱发", "掉头发", "掉发"), ("hair loss", "alopecia")),
    (("乏力", "疲劳"), ("fatigue",)),
    (("口腔黏膜炎", "口腔溃疡"), ("mucositis", "mouth sore")),
    (("腹泻",), ("diarrhea", "diarrhoea")),
    (
        ("手脚麻木", "周围神经病变", "神经毒性"),
        ("peripheral neuropathy", "neuropathy", "neurotoxicity"),
    ),
    (("感染",), ("infection",)),
    (("发热", "发烧"), ("fever",)),
    # Cancers
    (("癌症", "恶性肿瘤", "癌"), ("cancer", "malignancy", "carcinoma")),
    (("肿瘤", "瘤子"), ("tumor", "tumour", "neoplasm")),
    (("癌细胞", "肿瘤细胞"), ("cancer cell", "tumor cell")),
    (("鼻咽癌",), ("nasopharyngeal carcinoma", "nasopharyngeal cancer", "NPC")),
    (("结直肠癌", "大肠癌", "肠癌"), ("colorectal cancer", "CRC")),
    (("结肠癌",), ("colon cancer",)),
    (("直肠癌",), ("rectal cancer",)),
    (("乳腺癌", "乳癌"), ("breast cancer",)),
    (("肺癌",), ("lung cancer",)),
    (("非小细胞肺癌",), ("non-small cell lung cancer", "NSCLC")),
    (("小细胞肺癌",), ("small cell lung cancer", "SCLC")),
    (("卵巢癌",), ("ovarian cancer",)),
    (("膀胱癌",), ("bladder cancer", "urothelial carcinoma")),
    (("肉瘤", "软组织肉瘤"), ("sarcoma", "soft tissue sarcoma")),
    (("骨肉瘤",), ("osteosarcoma",)),
    (("胃癌",), ("gastric cancer", "stomach cancer")),
    (("肝癌", "肝细胞癌"), ("liver cancer", "hepatocellular carcinoma", "HCC")),
    (("前列腺癌",), ("prostate cancer",)),
    (("食管癌", "食道癌"), ("esophageal cancer", "oesophageal cancer")),
    (("胰腺癌",), ("pancreatic cancer",)),
    (("宫颈癌",), ("cervical cancer",)),
    (("头颈癌", "头颈部肿瘤"), ("head and neck cancer",)),
    (("淋巴瘤",), ("lymphoma",)),
    # Drugs and targets
    (("贝伐珠单抗", "贝伐单抗", "安维汀"), ("bevacizumab", "Avastin")),
    (("索拉非尼", "多吉美"), ("sorafenib",)),
    (("舒尼替尼", "索坦"), ("sunitinib",)),
    (("顺铂",), ("cisplatin",)),
    (("卡铂",), ("carboplatin",)),
    (("奥沙利铂",), ("oxaliplatin",)),
    (("铂类",), ("platinum",)),
    (("紫杉醇",), ("paclitaxel",)),
    (("多西他赛",), ("docetaxel",)),
    (("氟尿嘧啶", "5-氟尿嘧啶"), ("5-fluorouracil", "fluorouracil", "5-FU")),
    (("卡培他滨",), ("capecitabine",)),
    (("伊立替康",), ("irinotecan",)),
    (("吉西他滨",), ("gemcitabine",)),
    (("西妥昔单抗",), ("cetuximab",)),
    (("尼妥珠单抗",), ("nimotuzumab",)),
    (("曲妥珠单抗", "赫赛汀"), ("trastuzumab",)),
    (("帕博利珠单抗",), ("pembrolizumab",)),
    (("纳武利尤单抗",), ("nivolumab",)),
    (("表皮生长因子受体",), ("EGFR", "epidermal growth factor receptor")),
    (("血管内皮生长因子",), ("VEGF", "vascular endothelial growth factor")),
    # Time and quantity words patients ask with
    (("剂量", "用量", "减量"), ("dose", "dosage")),
    (("疗程", "周期"), ("cycle", "course of treatment")),
    (("多久", "多长时间", "多少天"), ("how long", "duration")),
    (("什么时候", "何时", "时机"), ("when", "timing")),
    (("停药", "停止", "停用"), ("stop", "discontinue", "discontinuation")),
    (("间隔",), ("interval",)),
    (("周", "星期", "礼拜"), ("week",)),
    (("个月",), ("month",)),
)

# Chinese words that contain a glossary form but mean something else; matching them first
# consumes the span so e.g. 周围 ("surrounding") does not expand to "week".
_BLOCKERS = ("周围", "周边", "四周", "周末")

_LATIN_EDGE = "A-Za-z0-9"


def _english_pattern(term: str) -> str:
    # Pieces may be joined by space, hyphen or slash ("PET-CT", "PET/CT", "pet ct").
    pieces = [re.escape(p) for p in re.split(r"[\s\-/]+", term) if p]
    body = r"[\s\-/]*".join(pieces)
    if term[-1].isalpha():
        body += "(?:e?s)?"
    return body


@lru_cache(maxsize=1)
def _compiled() -> tuple[re.Pattern[str], dict[str, int], re.Pattern[str], dict[str, int]]:
    zh_index: dict[str, int] = dict.fromkeys(_BLOCKERS, -1)
    en_index: dict[str, int] = {}
    for i, (zh_terms, en_terms) in enumerate(GLOSSARY):
        for term in zh_terms:
            zh_index.setdefault(term, i)
        for term in en_terms:
            en_index.setdefault(term.lower(), i)
    # Alternatives longest first: re takes the first alternative that matches at a position,
    # so this gives leftmost-longest matching.
    zh_terms_sorted = sorted(zh_index, key=len, reverse=True)
    zh_re = re.compile("|".join(re.escape(t) for t in zh_terms_sorted))
    en_sorted = sorted(en_index, key=len, reverse=True)
    groups = "|".join(f"(?P<e{n}>{_english_pattern(t)})" for n, t in enumerate(en_sorted))
    en_re = re.compile(f"(?<![{_LATIN_EDGE}])(?:{groups})(?![{_LATIN_EDGE}])", re.IGNORECASE)
    en_group_entry = {f"e{n}": en_index[t] for n, t in enumerate(en_sorted)}
    return zh_re, zh_index, en_re, en_group_entry


def _matches(question: str) -> list[tuple[int, int, str]]:
    """(position, entry index, side matched) for every glossary hit, in question order."""
    zh_re, zh_index, en_re, en_group_entry = _compiled()
    hits: list[tuple[int, int, str]] = []
    # A longer form consumes its span: 新辅助化疗 yields only its own entry, whose English
    # forms already carry "chemotherapy"; a 化疗 elsewhere in the question still counts.
    for m in zh_re.finditer(question):
        entry = zh_index[m.group()]
        if entry >= 0:
            hits.append((m.start(), entry, "zh"))
    for m in en_re.finditer(question):
        assert m.lastgroup is not None
        hits.append((m.start(), en_group_entry[m.lastgroup], "en"))
    hits.sort(key=lambda h: h[0])
    return hits


def entries(text: str) -> set[int]:
    """Indexes of the glossary entries text names, in either language: one id per concept, so
    "chemotherapy" and 化疗 give the same one."""
    return {entry for _, entry, _ in _matches(text)}


# Entries that name no treatment, drug, test or disease: question and time words. A rewrite may
# use them freely; any other entry it adds must be in its source sentence.
_GENERIC = frozenset({"dose", "cycle", "how long", "when", "stop", "interval", "week", "month"})


def is_generic(entry: int) -> bool:
    return GLOSSARY[entry][1][0] in _GENERIC


def english_form(entry: int) -> str:
    """The canonical English form of an entry, for messages."""
    return GLOSSARY[entry][1][0]


def expand(question: str) -> list[str]:
    """English forms of entries named in Chinese, Chinese forms of entries named in English.

    Deduplicated, in order of appearance in the question. Mixed text is handled per span, so
    "RAS 基因检测" expands 基因检测 to English and "PET-CT检查" expands PET-CT to Chinese.
    """
    out: dict[str, None] = {}
    for _, entry, side in _matches(question):
        zh_terms, en_terms = GLOSSARY[entry]
        out.update(dict.fromkeys(en_terms if side == "zh" else zh_terms))
    return list(out)


def translate_terms(question: str) -> str:
    """The English forms of the entries named in Chinese, space-joined ("" if none)."""
    out: dict[str, None] = {}
    for _, entry, side in _matches(question):
        if side == "zh":
            out.update(dict.fromkeys(GLOSSARY[entry][1]))
    return " ".join(out)


def concepts(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """(matched span, the entry's English forms) for every glossary entry the question names,
    in either language, in question order. The gate treats each as one concept that any of its
    English forms satisfies ("chemo" is satisfied by "chemotherapy")."""
    zh_re, zh_index, en_re, en_group_entry = _compiled()
    found: list[tuple[int, str, tuple[str, ...]]] = []
    for m in zh_re.finditer(question):
        entry = zh_index[m.group()]
        if entry >= 0:
            found.append((m.start(), m.group(), tuple(GLOSSARY[entry][1])))
    for m in en_re.finditer(question):
        assert m.lastgroup is not None
        found.append((m.start(), m.group(), tuple(GLOSSARY[en_group_entry[m.lastgroup]][1])))
    return [(span, forms) for _, span, forms in sorted(found, key=lambda f: f[0])]
