"""Triage of a question before generation: urgent symptoms, personal dosing, stopping treatment."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum, auto
from functools import lru_cache


class Risk(StrEnum):
    NONE = auto()
    RED_FLAG = auto()
    PERSONAL_DOSING = auto()
    STOP_DRUG = auto()


# Symptom families that need urgent care during cancer treatment. They only count together with a
# personal cue (below): "Does radiotherapy reduce bleeding?" asks for knowledge, not help.
RED_FLAGS: tuple[str, ...] = (
    r"\bfever(?:s|ish)?\b|\bhigh temperature\b|\btemperature (?:of|is|was|at|over|above) \d"
    r"|\bchills\b|\brigors\b|\bshivering\b",
    r"\b(?:trouble|difficulty|problems?|struggling) breathing\b|\bhard to breathe\b"
    r"|\bshort(?:ness)? of breath\b|\bbreathless|\bgasping\b|\bcan'?t catch (?:my|his|her) breath",
    r"\bchest pains?\b|\bpain in (?:my |his |her |the )?chest\b"
    r"|\bchest (?:hurts|is hurting|feels tight)|\btight(?:ness in the)? chest\b",
    r"\b(?:heavy|severe|a lot of|lots of|uncontrolled|massive|profuse) bleeding\b"
    r"|\bbleeding (?:heavily|a lot|won'?t stop|that won'?t stop|does(?:n'?t| not) stop|non-?stop)"
    r"|\b(?:vomiting|throwing up|coughing(?: up)?|spitting(?: up)?) blood\b"
    r"|\bblood in (?:my |his |her |the )?(?:stool|poo|vomit|urine)|\b(?:black|tarry) (?:stool|poo)"
    r"|\bstools? (?:is|are|look|looks) black\b|\bbloody (?:stool|vomit|diarrh)",
    r"\b(?:is|seems|became|becoming|got|getting|suddenly|very|really) (?:very |so )?confused\b"
    r"(?! about| by| with| as to| on)|\b(?:sudden|new|acute|severe) confusion\b|\bdisoriented\b"
    r"|\bdelirious\b|\bfaint(?:ed|ing)?\b|\bpass(?:ed|ing)? out\b|\bcollaps(?:ed|ing)\b"
    r"|\bseizures?\b|\bconvuls\w*|\bhad a fit\b|\bunconscious\b|\bunresponsive\b|\bwon'?t wake up",
    r"\b(?:severe|constant|non-?stop|persistent|violent|uncontrollable|keeps?|kept) (?:vomiting"
    r"|throwing up)\b|\b(?:vomiting|throwing up) (?:all day|all night|non-?stop|everything)"
    r"|\bcan'?t keep (?:anything|fluids|water|liquids|food|drinks?) down\b"
    r"|\b(?:severe|constant|non-?stop|persistent|watery|uncontrollable) diarrh(?:o)?ea\b",
    r"\b(?:sudden|severe|excruciating|unbearable|agoni[sz]ing|intense|worst) (?:\w+ )?pain\b",
    r"\b(?:one|left|right) (?:leg|calf) (?:is |has )?(?:swollen|swelling|puffy)"
    r"|\bswollen (?:left |right )?(?:leg|calf)\b|\bswelling (?:in|of) (?:my |his |her |one |the )?"
    r"(?:left |right )?(?:leg|calf)\b",
    r"\bsuicid\w*|\bdon'?t want to (?:live|be alive)\b|\bno reason to live\b|\bend it all\b",
    r"发烧|发热|高烧|高热|烧到|体温.{0,4}3[89]|寒战|寒颤|打冷颤|打寒战",
    r"呼吸困难|喘不上气|喘不过气|上不来气|透不过气|气短|气促|憋气",
    r"胸痛|胸口(?:疼|痛)|胸闷",
    r"大出血|出血不止|血止不住|流血不止|吐血|呕血|咳血|咯血|便血|黑便|大便(?:发黑|是黑|带血|有血)|尿血",
    r"意识(?:模糊|不清)|神志不清|昏迷|晕倒|晕厥|昏倒|昏过去|叫不醒|抽搐|癫痫发作",
    r"剧烈呕吐|呕吐不止|吐得(?:很|非常)?厉害|一直(?:在)?吐|严重腹泻|腹泻不止|喝不下水|喝水都吐",
    r"剧痛|剧烈(?:疼痛|的疼|的痛)|突然.{0,4}(?:剧烈)?(?:疼|痛)|(?:疼|痛)得(?:很|非常)?厉害|(?:疼|痛)得受不了",
    r"腿肿|一条腿.{0,2}肿|单侧.{0,3}肿",
    r"想自杀|自杀|轻生|不想活|活不下去|想死",
)
# First-person by their wording: urgent without any further cue.
SELF_EVIDENT: tuple[str, ...] = (
    r"\bkill(?:ing)? myself\b|\bend(?:ing)? my (?:own )?life\b|\bi want to die\b",
    r"\bcan'?t breathe\b|\bcannot breathe\b",
    r"想自杀|不想活|活不下去|喘不上气|喘不过气",
)

# Personal cues: the question is about someone's situation now, not general knowledge. A person
# (I, my, he/she, my dad, 我, 我妈, 家人, 他), a time (right now, today, 现在, 刚才), a thermometer
# reading (39度) or a plea for what to do (what should I do, 怎么办). Before searching for them the
# phrases in NOT_PERSONAL are removed: "tell me", "my doctor", "我想知道", "我国" mention a person
# without describing them.
PERSONAL_CUES: tuple[str, ...] = (
    r"(?<!stage )(?<!grade )(?<!phase )(?<!type )\bi\b(?!\.e\.)",
    r"\b(?:i'm|i've|i'd|me|my|myself|we're|we've|our|he|she|him|her|his)\b",
    r"\bright now\b|\bcurrently\b|\bat the moment\b|\btoday\b|\btonight\b"
    r"|\bthis (?:morning|evening)\b|\bsince (?:yesterday|last night|this morning)\b"
    r"|\bfor (?:the (?:last|past) )?\d+ (?:hours|days)\b",
    r"\b(?:3[89]|4[0-2])(?:\.\d)?\s*(?:°|degrees)|\b10[0-5](?:\.\d)?\s*(?:°|degrees)\s*f",
    r"我(?!国|院|科|们医院)|咱|俺|家人|家里人|家属|妈妈|我妈|母亲|爸爸|父亲|老公|丈夫|老婆|妻子|爱人"
    r"|孩子|儿子|女儿|奶奶|爷爷|外婆|外公|姥姥|姥爷|(?<!其)他(?!们)|她(?!们)",
    r"现在|目前|刚才|刚刚|今天|昨天|昨晚|今晚|今早|这几天|一直|怎么办|要不要去(?:医院|急诊)",
    r"(?:3[89]|4[0-2])(?:\.\d)?\s*(?:度|°)",
)
NOT_PERSONAL: tuple[str, ...] = (
    r"\b(?:tell|show|give|explain to|help) me (?:about|what|why|how|if|whether|more)\b",
    r"\bi (?:want|would like|'d like) to (?:know|understand|learn)\b|\bi (?:was )?wonder(?:ing)?\b",
    r"\bi (?:read|heard|saw)\b|\bmy (?:doctor|oncologist|nurse|surgeon|care team|team|gp)\b",
    r"我想(?:知道|了解|问问?|请教)|请问|请告诉我|告诉我|给我(?:解释|讲讲|介绍)|我国|我院|我科"
    r"|(?:我的)?(?:医生|大夫)(?:说|告诉)",
)

# Dosing: asking for a prescription is personal by wording; "how much / what dose" needs a
# personal cue and a medication word ("What is the usual dose of cisplatin?" is general).
DOSING_DIRECT: tuple[str, ...] = (
    r"\b(?:can|could|would|will) you (?:please )?prescribe\b|\bprescribe (?:me|him|her|us|my)\b"
    r"|\bwrite (?:me )?a prescription\b",
    r"\b(?:what|which) (?:drugs?|medicines?|medications?|meds|pills?|tablets?) should"
    r" (?:i|we|he|she|my \w+) (?:take|use|get|be (?:on|given))\b",
    r"\bshould (?:i|we|he|she) (?:increase|double|reduce|lower|cut|halve)"
    r" (?:my |his |her |the )?dos",
    r"(?:给|帮|替)(?:我|他|她|我妈|我爸|家人)?开(?:点|些|个|一些)?.{0,6}药|开(?:点|些|个)药",
    r"(?:我|他|她|我妈|我爸|家人|老公|老婆|孩子)(?:现在)?(?:应该|该|要|得|需要)(?:吃|用|服|打)"
    r"(?:什么|哪种|哪个|啥|哪些)药",
    r"吃几(?:片|粒|颗|支|次)|(?:该|要|应该)吃多少|吃多少(?:片|粒|颗|毫克|mg)",
)
DOSING_ASK = (
    r"\bhow (?:much|many)\b|\bwhat (?:dose|dosage|amount)\b|\bwhich dose\b|\bhow often\b"
    r"|剂量|用量|多少毫克|多少mg|多大量|用多少"
)
MEDICATION = (
    r"\btak(?:e|ing)\b|\bmg\b|\bmilligrams?\b|\bdos(?:e|es|age|ing)\b|\bdrugs?\b|\bmedic\w*|\bmeds\b"
    r"|\bpills?\b|\btablets?\b|\bcapsules?\b|\binjections?\b"
    r"|\w+(?:platin|mab|nib|taxel|rubicin|fen|zole|mide|tabine|tron)\b|药|片|粒|针|剂量|用量"
)

# Stopping: a stop verb near a treatment word, with a personal cue or a "may I" modal.
_STOP_VERB = (
    r"\b(?:stop(?:ping)?|quit(?:ting)?|skip(?:ping)?|discontinu\w*|come off|coming off|go off"
    r"|pause|give up|giving up|refuse|refusing|cancel|postpone|miss|not (?:take|have|do|continue"
    r"|finish)|don'?t (?:want to )?(?:take|have|do|continue|finish)|no longer (?:take|have))"
)
_TREATMENT = (
    r"(?:chemo\w*|treatments?|therap(?:y|ies)|radiotherapy|radiation|immunotherapy|medications?"
    r"|medicines?|meds|drugs?|pills|tablets|cycles?|course|sessions?|doses?|infusions?|injections?"
    r"|\w+(?:platin|mab|nib|taxel|rubicin|fen|zole|mide|tabine))\b"
)
STOP: tuple[str, ...] = (
    rf"{_STOP_VERB}(?:\s+(?:taking|having|doing|using|the|my|his|her|their|our|next|this"
    rf"|remaining|rest of|of|with|a|an)){{0,3}}\s+{_TREATMENT}",
    r"停药|停掉|停用|停止(?:化疗|放疗|治疗|用药|服药|吃药)|断药|减停"
    r"|不(?:想|要|打算)?再?(?:吃药|化疗|放疗|治疗|打针|做化疗|做放疗)|放弃(?:治疗|化疗|放疗)"
    r"|跳过(?:这|下|一)?(?:次|个|期|周期|疗程)|推迟(?:化疗|放疗|治疗)|停一(?:次|期|个疗程|周期)",
)
STOP_DIRECT = (
    r"\bis it (?:ok|okay|safe|fine|alright|all right|bad|dangerous|risky) (?:to|if (?:i|we|he|she"
    r"|my \w+)) (?:stop|skip|quit|miss|come off)"
)
STOP_MODAL = r"能不能|可不可以|可以不|能否|行不行|行吗|可以吗|自己|自行|擅自"


@dataclass(frozen=True)
class Assessment:
    risks: frozenset[Risk] = frozenset()  # empty when the question raises no concern
    matched: tuple[str, ...] = ()  # the phrases that raised them

    @property
    def is_urgent(self) -> bool:
        return Risk.RED_FLAG in self.risks

    @property
    def primary(self) -> Risk:
        """The risk to act on first, Risk.NONE if there is none."""
        order = (Risk.RED_FLAG, Risk.STOP_DRUG, Risk.PERSONAL_DOSING)
        return next((r for r in order if r in self.risks), Risk.NONE)


def assess(question: str) -> Assessment:
    """Which risks the question raises, in English or Chinese."""
    p = _patterns()
    text = unicodedata.normalize("NFKC", question).replace("’", "'").replace("‘", "'")
    personal = bool(p.personal.search(p.not_personal.sub(" ", text)))
    risks: set[Risk] = set()
    matched: list[str] = []

    def hits(pattern: re.Pattern[str]) -> list[str]:
        return [m.group() for m in pattern.finditer(text)]

    if (urgent := hits(p.self_evident) + (hits(p.red_flag) if personal else [])):
        risks.add(Risk.RED_FLAG)
        matched += urgent
    dosing = hits(p.dosing_direct)
    if personal and p.medication.search(text):
        dosing += hits(p.dosing_ask)
    if dosing:
        risks.add(Risk.PERSONAL_DOSING)
        matched += dosing
    stop = hits(p.stop_direct)
    if personal or p.stop_modal.search(text):
        stop += hits(p.stop)
    if stop:
        risks.add(Risk.STOP_DRUG)
        matched += stop
    return Assessment(frozenset(risks), tuple(dict.fromkeys(matched)))


@dataclass(frozen=True)
class _Patterns:
    red_flag: re.Pattern[str]
    self_evident: re.Pattern[str]
    personal: re.Pattern[str]
    not_personal: re.Pattern[str]
    dosing_direct: re.Pattern[str]
    dosing_ask: re.Pattern[str]
    medication: re.Pattern[str]
    stop: re.Pattern[str]
    stop_direct: re.Pattern[str]
    stop_modal: re.Pattern[str]


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    def union(*alternatives: str) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)

    return _Patterns(
        red_flag=union(*RED_FLAGS),
        self_evident=union(*SELF_EVIDENT),
        personal=union(*PERSONAL_CUES),
        not_personal=union(*NOT_PERSONAL),
        dosing_direct=union(*DOSING_DIRECT),
        dosing_ask=union(DOSING_ASK),
        medication=union(MEDICATION),
        stop=union(*STOP),
        stop_direct=union(STOP_DIRECT),
        stop_modal=union(STOP_MODAL),
    )
