"""Drug names a glossary does not list, found by their stems in English and Chinese."""

from __future__ import annotations

import re

# Drug names by their international nonproprietary-name stems (ibuprofen, amoxicillin,
# omeprazole, trastuzumab, ...), for drugs the glossary does not list.
DRUG_STEM = re.compile(
    r"\b[a-z]{3,}(?:profen|fenac|xifen|cillin|mycin|micin|cycline|floxacin|statin|pril|sartan|olol|"
    r"dipine|prazole|conazole|azepam|oxetine|triptan|parin|xaban|gatran|dronate|vir|mab|nib|"
    r"platin|taxel|rubicin|citabine|tinib|zomib|mustine|relin|lutamide|trozole|sone|olone)\b",
    re.IGNORECASE)
# Their Chinese renderings (伊马替尼 imatinib, 贝伐珠单抗 bevacizumab, 顺铂 cisplatin, 吉西他滨
# gemcitabine, 地塞米松 dexamethasone, ...). Chinese has no spaces: a name starts after the last
# character before its stem that no drug name uses (吃, 在, 的: "我爸在吃瑞戈非尼").
_STEM_ZH = re.compile(
    r"([\u4e00-\u9fff]{0,6}?)(替尼|非尼|单抗|他赛|紫杉醇|柔比星|他滨|莫司汀|瑞林|鲁胺|曲唑|佐米|"
    r"他汀|拉唑|西林|霉素|沙星|沙坦|洛尔|地平|沙班|米松|尼松|帕利|西利|铂)")
_NOT_IN_DRUG_NAMES = re.compile(
    r".*[吃用服打在了的是和与跟或及说做上过正还要能该这那个种些我你他她它们爸妈有加含换停把被对给让从就都也又"
    r"再先后前时]")


def chinese_names(text: str) -> list[str]:
    """Chinese drug names by their stems, without the words before them."""
    names = []
    for match in _STEM_ZH.finditer(text):
        before = match.group(1)
        cut = _NOT_IN_DRUG_NAMES.match(before)
        stem = before[cut.end():] if cut else before
        if stem:  # a bare stem (用铂类) is a drug class, not a name
            names.append(stem + match.group(2))
    return names


def names(text: str) -> set[str]:
    """The drug names a text has by stem, either language (case-folded)."""
    return {m.group().casefold() for m in DRUG_STEM.finditer(text)} | set(chinese_names(text))
