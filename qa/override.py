"""Messages that try to change how the assistant works instead of asking about treatment: set
aside its documents or rules, take on another role (a doctor who prescribes, an assistant "with no
restrictions"), reveal its set-up, or accept a claim that the sources now say something.

Such a message is refused as a whole, even when a real question is inside it: answering the
question while the instruction sits next to it would invite the next attempt. The rules read the
normalised text of qa.safety (lower case, Simplified Chinese, no apostrophes); each names the
part of the message that is addressed to the assistant, so innocent uses of the same words
("can I ignore mild nausea?", 系统治疗, 家属扮演什么角色) are left alone.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# Things the assistant is told to drop: its rules and set-up, or its sources.
_RULES_EN = (r"instructions?|rules|guidelines|prompts?|directives?|restrictions|safeguards|"
             r"guardrails|programming|policies|polic(?:y)|constraints|limitations|settings")
_SOURCES_EN = r"documents?|sources?|library|corpus|references|materials|knowledge base|context"
_DROP_EN = r"ignore|disregard|forget(?: about)?|override|bypass|set aside|throw out|drop"
_WHOSE_EN = (r"(?:all |any )?(?:of )?(?:your|the|these|those)?\s*(?:previous|prior|above|earlier|"
             r"preceding|original|initial|system|safety|built-in|current|old)?\s*")

ENGLISH = (
    # "ignore all previous instructions", "disregard your rules", "forget the documents"
    rf"\b(?:{_DROP_EN})\s+(?:all |any )?(?:of )?your\s+(?:\w+\s+)?(?:{_RULES_EN}|{_SOURCES_EN})\b",
    rf"\b(?:{_DROP_EN})\s+{_WHOSE_EN}(?:previous|prior|above|earlier|preceding|original|initial|"
    rf"system|safety)\s+(?:{_RULES_EN})\b",
    rf"\b(?:{_DROP_EN}|never mind|dont (?:use|look at|bother with|stick to|rely on)|without "
    rf"(?:using|looking at|checking))\s+(?:the |your |any |those |these )(?:{_SOURCES_EN})\b",
    # asking for the set-up
    r"\b(?:system|hidden|initial|original|developer|secret)\s+(?:prompt|message|instructions)\b",
    r"\b(?:print|reveal|show|repeat|output|display|dump|leak|share|tell me|recite|give me)\s+"
    r"(?:me\s+)?(?:all\s+|exactly\s+)?(?:of\s+)?your\s+(?:\w+\s+)?(?:prompt|instructions|rules|"
    r"configuration|guidelines|set-?up)\b",
    # another role for the assistant
    r"\b(?:you are now|you will now (?:be|act)|from now on,? you|pretend (?:to be|you are|youre|"
    r"that you are)|imagine (?:you are|youre) (?:a|an|my)|play the role|take on the role|assume "
    r"the role|role-?play as|you (?:will |must |should )?role-?play|your new role|act as if you "
    r"(?:are|were))\b",
    r"\b(?:act|serve|behave) as (?:a|an|my) (?:\w+ )?(?:doctor|oncologist|physician|pharmacist|"
    r"nurse|specialist|expert|prescriber|ai|assistant|bot|chatbot|model)\b",
    # no limits
    r"\b(?:developer|god|admin|debug|jailbreak|dan|unrestricted|unfiltered|uncensored)\s+mode\b",
    r"\bjailbr(?:eak|oken)\b|\bdo anything now\b",
    r"\b(?:answer|respond|reply|speak|talk|tell me|act|behave|operate|work)\b[^.?!]{0,25}"
    r"\b(?:without (?:any )?|with no |free of )(?:restrictions|limits|limitations|filters|rules|"
    r"censorship|safeguards|guardrails)\b",
    r"\b(?:a|an)\s+(?:\w+\s+)?\w+\s+with (?:no|zero) (?:restrictions|limits|rules|filters)\b",
    r"\b(?:unrestricted|unfiltered|uncensored)\s+(?:ai|assistant|chatbot|bot|version|model)\b",
    # what the assistant was told or given before the conversation
    r"\b(?:what(?:ever)?|everything|anything|all|instructions|rules|guidelines|lines|words|text)"
    r"\s+(?:that\s+)?you (?:were|have been|ve been|got|had been) (?:told|given|instructed|"
    r"programmed|set up|configured|trained)\b",
    r"\b(?:instructions|guidelines|rules|prompts?)\s+(?:that\s+)?(?:your|the) (?:developers?|"
    r"creators?|makers?|designers?|programmers?|company|owners?)\b|\b(?:your )?(?:developers?|"
    r"creators?|makers?|programmers?) (?:gave|told|give|wrote for) you\b",
    r"\b(?:hidden|secret|internal|confidential)\s+(?:guidelines|rules|instructions|prompts?|"
    r"policies)\b",
    r"\b(?:from|with|using|use|rely on) your own (?:\w+ )?(?:knowledge|experience|opinion|"
    r"judgement|judgment|training|memory)\b",
    # a persona that never refuses, and permissions the assistant does not have
    r"\byou(?:re| are)\s+\W?\w+\W?,\s+(?:a|an)\s+(?:\w+\s+){0,3}(?:chatbot|bot|ai|assistant|"
    r"model)\b",
    r"\b(?:never|doesnt|does not|wont|will not)\s+(?:refuses?|says? no|mentions? (?:the |any )?"
    r"(?:documents|sources)|cites? (?:the |any )?sources)\b",
    r"\b(?:you|the assistant|assistant)\s+(?:may now|can now|are now allowed to|is now allowed to|"
    r"now ha(?:ve|s) permission to|have permission to|are authori[sz]ed to)\b",
    r"\b(?:stop|quit|no longer|dont|do not|never)\s+(?:citing|cite|mentioning|mention|quoting)\s+"
    r"(?:the |your |any )?(?:sources|documents|references|citations)\b",
    r"\b(?:citations?|sources?|restrictions?|rules|filters?|safety|guardrails?)\s+(?:requirements?"
    r"\s+)?(?:(?:are|is|have been|has been)\s+)?(?:now\s+)?(?:disabled|turned off|switched off|"
    r"lifted|removed|suspended)\b",
    # markers that pretend to come from the system, and claims about the sources to be confirmed
    r"(?:^|\n)\s*[\[(<{]?\s*(?:system|admin|administrator|developer|root|operator)(?:\s+(?:note|"
    r"message|update|notice|override|prompt|command))?\s*[\])>}]?\s*:",
    r"[\[<{]\s*/?\s*(?:system|admin|administrator|developer|root|operator|sys|instructions?)\s*"
    r"[\]>}]",
    r"(?:^|\s)(?:#{2,}|-{3,}|={3,})\s*(?:new |updated |additional )?(?:instructions?|system|rules|"
    r"prompt)\b|\bnew (?:instructions?|rules|orders)\s*:",
    rf"\b(?:{_SOURCES_EN}|database)\s+(?:have been|has been|were|was|got|are now|is now)\s+"
    r"(?:updated|changed|modified|revised|corrected)\b[^.?!]{0,30}\b(?:to (?:say|state|claim|"
    r"read|show|include|confirm)|saying|and now (?:say|state)|now (?:say|state|read))",
    r"\bconfirm (?:this|that|it) (?:to|for|with) (?:the )?users?\b",
)

_RULES_ZH = r"指令|指示|规则|提示词|设定|限制|约束|规定|要求|程序"
_SOURCES_ZH = r"资料|文档|文献|材料|来源|知识库|数据库"
_DROP_ZH = (r"忽略|无视|忘掉|忘记|不要理|不用理|别理|不要管|不用管|别管|跳过|绕过|抛开|撇开|丢掉|"
            r"不必管")
_WHOSE_ZH = r"(?:之前|以前|以上|前面|上面|原来|原有|先前|你的|所有|全部|一切|系统)"

CHINESE = (
    # 忽略之前的所有指令 / 不用管什么资料 / 跳过你的规则
    rf"(?:{_DROP_ZH})[^。？！?!，,]{{0,6}}{_WHOSE_ZH}[^。？！?!，,]{{0,6}}(?:{_RULES_ZH})",
    rf"(?:{_DROP_ZH})\s*(?:什么|那些|这些|你的|所有的?|任何)?(?:{_SOURCES_ZH})",
    rf"(?:不用|不要|别|不必|无需|不需要)(?:看|查|参考|依据|根据|引用)(?:什么|那些|这些|你的|任何)?"
    rf"(?:{_SOURCES_ZH})",
    # the set-up
    r"系统提示|系统指令|系统设定|系统消息|提示词|初始指令|隐藏指令",
    # another role
    r"从现在(?:起|开始)[，,\s]*你|你现在(?:是|就是|扮演|的身份|开始扮演|的角色)|你的(?:新)?(?:身份|角色)是",
    r"扮演(?:一[个名位])?(?:我的)?\S{0,4}(?:医生|医师|药剂师|药师|专家|主治|护士|顾问|ai|助手)",
    r"(?:假装|假设|想象)(?:你是|你为|自己是)|你来当|充当(?:我的)?\S{0,4}(?:医生|医师|药师|药剂师)|角色扮演",
    # no limits
    r"开发者模式|管理员模式|上帝模式|调试模式|无限制模式|越狱|dan模式",
    r"(?:不受|没有|无视|摆脱|解除|不带)(?:任何|所有)?(?:限制|约束|审查|过滤)地?(?:回答|回复|说|告诉|讲|作答)",
    r"(?:回答|回复|说话|作答)[^。？！?!]{0,8}(?:不受|没有|无|不带)(?:任何|所有)?(?:限制|约束|审查|过滤)",
    # fake authority, claims about the sources
    r"(?:^|\n)\s*[\[【(（]?\s*(?:系统|管理员|开发者|后台|官方)(?:通知|消息|提示|更新|公告|指令|说明)"
    r"?\s*[\]】)）]?\s*[:：]",
    rf"(?:{_SOURCES_ZH}|资料库)[^。？！?!]{{0,8}}(?:更新|修改|更改|改)(?:为|成|了)[^。？！?!]{{0,10}}"
    r"(?:说|写|表明|显示|认为|证实)",
    rf"(?:{_SOURCES_ZH}|资料库)(?:已经|已)?(?:被)?(?:更新|修改|更改)(?:为|成)",
    r"(?:向|跟|对)用户(?:确认|证实|保证)",
    # what the assistant was told or given, and by whom
    r"你(?:收到|得到|被给予|被告知)的(?:第一段|最初的?|初始的?|原始的?|隐藏的?|内部的?)?\S{0,4}"
    r"(?:提示|说明|指令|规则|设定|要求)",
    r"(?:开发者|开发人员|程序员|工程师|设计者|公司)(?:给你|对你|为你)|你(?:一开始|最初|起初)?被(?:设定|"
    r"设置|规定|编程|训练)",
    r"(?:凭|用|按|根据)你(?:自己)?的(?:经验|知识|判断|理解|想法)",
    r"(?:不要|别|不必|无需|不用)(?:再)?(?:受|被)(?:那些|这些|任何|你的)?\S{0,4}(?:资料|文档|文献|"
    r"规则|限制)\S{0,3}(?:约束|限制|束缚)",
    r"别(?:再)?当\S{0,8}(?:助手|机器人|ai)|你(?:就|来|要|去)?(?:当|做|作为|成为)我的\S{0,3}(?:医生|"
    r"医师|药师|药剂师)",
    r"我说什么你(?:都|就)|你(?:只|就)(?:要|需要)?回答[“\"「『]",
)


def found(text: str) -> list[str]:
    """The parts of a normalised message that address the assistant's rules, role or sources."""
    return [m.group().strip() for m in _pattern().finditer(text)]


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in (*ENGLISH, *CHINESE)), re.IGNORECASE)


@dataclass(frozen=True)
class Example:
    text: str
    attempt: bool  # True: an attempt to change how the assistant works; False: an innocent question


EXAMPLES = Path(__file__).with_name("override_examples.jsonl")


def load_examples(path: Path = EXAMPLES) -> tuple[Example, ...]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return tuple(Example(row["text"], bool(row["injection"])) for row in rows)


class Neighbours:
    """The second layer, for wording the rules have not seen: a message whose nearest known
    attempts (e5, cross-lingual) are closer than its nearest innocent look-alikes, by more than
    a margin. The examples are embedded once, on first use."""

    def __init__(self, embed: Callable[[list[str]], list[list[float]]], *,
                 examples: Sequence[Example] | None = None, k: int = 3,
                 margin: float = 0.02) -> None:
        self.embed = embed
        self.examples = tuple(examples if examples is not None else load_examples())
        self.k = k
        self.margin = margin
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def nearest_attempt(self, text: str) -> str | None:
        """The closest known attempt when the message reads like one, else None."""
        vectors = self._example_vectors()
        vector = _unit(np.asarray(self.embed([text]), dtype=np.float32))[0]
        sims = vectors @ vector
        attempt = np.array([e.attempt for e in self.examples])
        near_attempts = np.sort(sims[attempt])[-self.k:].mean()
        near_innocent = np.sort(sims[~attempt])[-self.k:].mean()
        if near_attempts - near_innocent <= self.margin:
            return None
        best = int(np.argmax(np.where(attempt, sims, -np.inf)))
        return self.examples[best].text

    def _example_vectors(self) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                raw = self.embed([e.text for e in self.examples])
                self._vectors = _unit(np.asarray(raw, dtype=np.float32))
            return self._vectors


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)
