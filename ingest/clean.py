"""Mark web-page boilerplate as removed spans of a document, leaving text and offsets intact."""

from __future__ import annotations

import re
from dataclasses import dataclass

Segment = tuple[int, int, str | None]  # absolute start, end, removal kind (None: content)


@dataclass(frozen=True)
class Removal:
    """A stretch of the original text judged to be boilerplate, and why."""

    kind: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Cleaned:
    """The original text with the [start, end) spans of it that are content."""

    text: str
    kept: tuple[tuple[int, int], ...]
    removed: tuple[Removal, ...]

    def kept_text(self) -> str:
        """The kept spans joined with newlines, for inspection and tests."""
        return "\n".join(self.text[start:end] for start, end in self.kept)


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


# Menu vocabulary; a phrase comes before any shorter phrase it extends ("返回顶部" vs "返回").
_NAV = _rx(
    r"(?<![a-z0-9])(?:home(?:page)?|about(?: us)?|contact(?: us)?|careers|jobs|privacy(?: policy)?"
    r"|cookies?(?: policy)?|terms(?: of use| of service| and conditions)?|disclaimer|site ?map"
    r"|log ?(?:in|out)|sign (?:in|up|out)|register|my account|search|(?:main )?menu|share"
    r"|skip to (?:main )?content|back to top|faqs?|newsletter|subscribe|press|blog|news|events"
    r"|donate|print|email|facebook|twitter|linkedin|instagram|youtube|wechat|weibo|english version"
    r"|(?:网站|返回)?首页|主页|联系我们|关于我们|加入我们|(?:人才)?招聘|网站地图|隐私政策|免责声明"
    r"|版权声明|登录|注册|退出|搜索|设为首页|加入收藏|收藏本站|新闻(?:中心|动态)|返回顶部|返回|更多"
    r"|菜单|导航|帮助中心|意见反馈|在线留言|简体中文|繁體中文|中文版)(?![a-z0-9])")
_BREADCRUMB = _rx(r"^(?:you are here|当前位置|您的位置)\s*[:：]", r"^(?:home|首页)\s*[>›»]")
_PREV_NEXT = _rx(
    r"^(?:<<|>>|«|»|‹|›)\s*[:：]", r"^(?:上一|下一)(?:篇|页|条|章)|^(?:前一篇|后一篇)",
    r"^(?:previous|prev|next|older|newer)(?:\s+(?:article|post|story|page|entry|posts|entries))?"
    r"\s*[:：»›>|]", r"^(?:previous|next|older|newer)\s+(?:article|post|story|entry|posts)\b",
    r"^[«‹<]+\s*(?:previous|prev|older)\b", r"\b(?:next|newer)\s*[»›>]+$")
_COUNTER = _rx(
    r"(?:人气|浏览(?:次数|量|数)?|阅读(?:量|数|次数)|点击(?:量|数|次数|率)|访问量|热度)\s*(?:[:：]|\d)",
    r"^(?:时间|日期|发布(?:时间|日期|于)?|发表(?:时间|日期|于)|更新(?:时间|日期|于)|published"
    r"(?: on)?|posted(?: on)?|updated(?: on)?|last updated|date)\s*[:：]?\s*\d{4}\s*[-/.年]\s*\d",
    r"\b(?:views?|hits|reads|page ?views|visits)\s*[:：]\s*\d",
    r"\b\d[\d,.]*\s*[kw万]?\s*(?:views|reads|hits)\b")
_CREDITS = _rx(
    r"^(?:(?:medically|clinically|peer)[- ])?(?:written|reviewed|edited|typeset|compiled"
    r"|translated|proofread|illustrated|produced|photographed|fact[- ]checked)(?: and \w+)? by\b",
    r"^(?:authors?|editors?|editor[- ]in[- ]chief|reviewers?|proofreader|translator|typesetting"
    r"|layout|photographer|photo credits?|image credits?|illustrations?)\s*[:：]",
    r"^[（(【\[]?\s*(?:责任编辑|(?:撰文|撰稿|作者|文字|文|审核|审校|审稿|排版|编辑|责编|校对|监制|主编"
    r"|策划|(?:图片|本文|文章)?来源|出处|图源|供稿|通讯员|记者|美编|出品|转载自|翻译|编译|原标题|文/图"
    r"|图/文)\s*[:：丨|｜/])")
_FOLLOW = _rx(
    r"\b(?:click|tap)\b.{0,40}\bfollow(?![- ]up)\b", r"\bfollow us\b", r"\bscan\b.{0,30}\bqr\b",
    r"\bfollow (?:our|the) (?:official )?(?:account|page|channel|wechat|public account)\b",
    r"\b(?:read|view) (?:the )?(?:original|full) (?:text|article|post)\b",
    r"\b(?:click|tap) (?:here )?to (?:view|read|see|watch|subscribe|share)\b",
    r"\b(?:subscribe|sign up) (?:to|for) (?:our|the) (?:newsletter|channel)",
    r"(?:欢迎|请)关注|关注(?:我们|公众号|本号)|扫一扫|点击(?:上方)?(?:蓝字|蓝色字)|扫码(?:关注|添加|加入)|扫描.{0,6}二维码",
    r"长按.{0,6}(?:识别|二维码)|阅读原文|点击查看|往期(?:回顾|精彩|推荐|精选)|点个?在看|分享到"
    r"|转发.{0,6}朋友圈")
_CTA = _rx(
    r"\bcontact us\b.{0,40}\b(?:quote|consultation|estimate|appointment|today|now|details)\b",
    r"\b(?:book|schedule|request|make)\b.{0,25}\b(?:appointment|consultation|call ?back)\b"
    r".{0,20}\b(?:now|today|online|with us)\b",
    r"\bfree (?:quote|consultation|estimate|second opinion|evaluation)\b",
    r"\b(?:call|whatsapp|email|message) us\b", r"\bget in touch\b", r"\bget (?:a|your) quote\b",
    r"(?:立即|马上)(?:咨询|预约|报名|购买|下载|领取|申请)|免费(?:咨询|预约|领取|问诊|评估|试用)",
    r"(?:咨询|服务|客服)(?:热线|电话)|(?:添加|加)(?:客服|助理|小助手)?微信")
# Button labels: a pitch only when they are most of the sentence; "患者可在线预约挂号" is advice.
_BUTTON = _rx(r"在线(?:咨询|问诊|预约)|点击(?:咨询|预约)|\b(?:book|order|apply|enquire) now\b")
# Marketing = the publisher talking about itself (first-person plural opening the sentence)
# together with commercial vocabulary; research prose ("we found...") lacks the latter.
_WE = _rx(r"^\W*(?:we|we're|we've|our)\b", r"^.{0,6}(?:我们|我院|我司|本(?:公司|平台|机构|院))")
_PROMO = _rx(
    r"\b(?:services?|quotes?|certified|accredited|packages?|affordable|discounts?|world[- ]class"
    r"|state[- ]of[- ]the[- ]art|latest (?:medical )?technolog(?:y|ies)|cost[- ]effective|24/7"
    r"|best (?:prices?|doctors|hospitals))\b",
    r"\b(?:experienced|skilled|qualified|dedicated)\b(?:\W+\w+){0,3}?\W+"
    r"(?:professionals|doctors|surgeons|specialists|experts|team)\b",
    r"服务|合作医院|专家团队|报价|优惠|一站式|(?:免费|在线)咨询|预约|国际认证|JCI")
# English placeholder words need a wide gap after them so "Image guided therapy..." survives.
_IMAGE_PREFIX = _rx(
    r"(?:图片|圖片|图像)(?=\s|$)\s*", r"!\[[^\]]*\]\([^)]*\)\s*",
    r"\[(?:image|img|pic|photo|picture|图片|圖片)[^\]]{0,40}\]\s*",
    r"(?:image|img|pic|picture|photo)(?=\s{2,}|$)\s*")
_RELATED_HEAD = _rx(
    r"^(?:recommend(?:ed)?(?:\s+(?:reading|articles?|posts?|for you|stories|content))?"
    r"|related(?:\s+(?:articles?|posts?|reading|content|stories|links|news|topics|questions))?"
    r"|you (?:may|might) also (?:like|enjoy|be interested in)|more (?:articles|stories|posts)"
    r"|(?:popular|trending|latest|hot|top) (?:articles|posts|stories|news|topics)|read next"
    r"|相关(?:推荐|阅读|文章|内容|链接|资讯|新闻|问答)|推荐(?:阅读|文章|内容|资讯)?|猜你喜欢"
    r"|热门(?:文章|推荐|资讯|阅读)|延伸阅读|精彩推荐|最新文章|往期(?:回顾|推荐|精选|文章)"
    r"|更多(?:文章|推荐|阅读|精彩))\s*[:：>»]*$")
_REFERENCE_HEAD = _rx(r"^(?:references?|reference sources?|bibliography|sources|works cited"
                      r"|literature cited|参考文献|参考资料|引用文献)\s*[:：]?$")
_LIST_ITEM = re.compile(r"(?:[-•*·]|\d{1,2}[.)、])\s")
_TRUNCATED = re.compile(r"(?:\.{3,}|…+|⋯+|。{3,})[\"'”’)）]*$")
_SENTENCE = re.compile(r"\S.*?(?:[.!?]+(?=\s|$)|[。！？]+|$)[\"'”’)）\]]*", re.DOTALL)
_FOOTER = _rx(r"copyright|©|\(c\)\s*\d{4}|all rights reserved|版权所有|icp\s*备")
_AD_LABEL = _rx(r"^(?:advertisement|sponsored(?: content)?|广告|推广)$")
_LINE_RULES = (("prev-next", _PREV_NEXT, 200), ("view-counter", _COUNTER, 120),  # longer: prose
               ("credits", _CREDITS, 100), ("navigation", _BREADCRUMB, 120),
               ("advertisement", _AD_LABEL, 30), ("other", _FOOTER, 150))


def clean(text: str) -> Cleaned:
    """Split text into content spans and classified boilerplate removals (text is unchanged).

    Kept spans are sorted, whitespace-trimmed and disjoint from the removals; every visible
    character of text lies in exactly one kept span or removal.
    """
    breaks = [m.start() for m in re.finditer("\n", text)]
    lines = list(zip([0, *(b + 1 for b in breaks)], [*breaks, len(text)], strict=True))
    segs = [_classify(text[s:e], s) for s, e in lines]
    _mark_teaser_blocks(text, lines, segs)
    _mark_trailing_ads(text, segs)
    return _assemble(text, segs)


def _classify(line: str, base: int) -> list[Segment]:
    body = line.strip()
    if not body:
        return [(base, base + len(line), "other")] if line else []
    lead = len(line) - len(line.lstrip())
    image = _IMAGE_PREFIX.match(line, lead)
    if image and image.end() > lead:
        cut = image.end()
        return [(base, base + cut, "image-placeholder"), *_classify(line[cut:], base + cut)]
    kind = _line_kind(body)
    if kind is None:
        # A paragraph made mostly of prompts or self-promotion goes whole; otherwise only its
        # trailing prompts do, and self-promotion inside prose is left to _mark_trailing_ads.
        kinds = [_sentence_kind(m.group(), promo=True) for m in _SENTENCE.finditer(body)]
        found = [k for k in kinds if k]
        if len(found) >= 0.6 * len(kinds):
            kind = max(found, key=found.count)
    if kind:
        return [(base, base + len(line), kind)]
    return _strip_suffix(line, base, promo=False)


def _line_kind(body: str) -> str | None:
    for kind, pattern, limit in _LINE_RULES:
        if len(body) <= limit and pattern.search(body):
            return kind
    total = sum(c.isalnum() for c in body)
    hits = _NAV.findall(body) if len(body) <= 80 and body[-1] not in ".。!！?？" else []
    if hits:
        # A menu is (nearly) all menu words; a heading merely containing "Home" is not.
        rest = sum(c.isalnum() for c in _NAV.sub(" ", body))
        if rest <= 0.25 * total or (len(hits) >= 3 and rest <= 0.5 * total):
            return "navigation"
    return None if total else "other"


def _sentence_kind(sentence: str, promo: bool) -> str | None:
    if len(sentence) > 200:  # prompts and pitches are short; long sentences are prose
        return None
    if _FOLLOW.search(sentence):
        return "follow-prompt"
    button = _BUTTON.search(sentence)
    if _CTA.search(sentence) or (button and 2 * len(button.group()) >= len(sentence)) or (
            promo and _WE.search(sentence) and _PROMO.search(sentence)):
        return "advertisement"
    return None


def _strip_suffix(line: str, base: int, promo: bool) -> list[Segment]:
    """The line as content followed by its trailing boilerplate sentences, if any."""
    tail: list[Segment] = []
    cut = len(line)
    for match in reversed(list(_SENTENCE.finditer(line))):
        kind = _sentence_kind(match.group(), promo)
        if kind is None:
            break
        tail.insert(0, (base + match.start(), base + cut, kind))
        cut = match.start()
    if tail and not line[:cut].strip():
        return [(base, tail[0][1], tail[0][2]), *tail[1:]]
    return [(base, base + cut, None), *tail]


def _mark_trailing_ads(text: str, segs: list[list[Segment]]) -> None:
    # Self-promotion inside prose is only trusted as such at the very end of a document, where
    # publishers append their pitch to the last paragraph.
    for line in reversed(segs):
        content = [j for j, seg in enumerate(line) if seg[2] is None]
        if content:
            start, end, _ = line[content[-1]]
            judged = _strip_suffix(text[start:end], start, promo=True)
            line[content[-1]:content[-1] + 1] = judged
            if judged[0][2] is None:  # content survives, so the pitch started in this line
                return


def _truncated(body: str, limit: int = 300) -> bool:
    return len(body) <= limit and _TRUNCATED.search(body) is not None


def _title_like(body: str) -> bool:
    # Teaser titles are short and unpunctuated at the end, unlike short prose sentences; list
    # items ("- Quit smoking") after a "Recommended" heading are content.
    return len(body) <= 120 and body[-1] not in ".。;；:：,，" and not _LIST_ITEM.match(body)


def _mark_teaser_blocks(text: str, lines: list[tuple[int, int]],
                        segs: list[list[Segment]]) -> None:
    """Related/recommended lists: a heading plus teasers, or >= 3 teasers without a heading."""
    nonblank = [i for i, (s, e) in enumerate(lines) if text[s:e].strip()]
    bodies = [text[slice(*lines[i])].strip() for i in nonblank]
    i = 0
    while i < len(nonblank):
        last = (_headed_run if _RELATED_HEAD.search(bodies[i]) else _headless_run)(bodies, i)
        if last is None:
            i += 1
            continue
        first_line, last_line = nonblank[i], nonblank[last]
        segs[first_line] = [(lines[first_line][0], lines[last_line][1], "related-articles")]
        for j in range(first_line + 1, last_line + 1):
            segs[j] = []
        i = last + 1


def _headed_run(bodies: list[str], i: int) -> int | None:
    k, last_snippet = i + 1, None
    while k < len(bodies) and not _REFERENCE_HEAD.search(bodies[k]) and (
            _title_like(bodies[k]) or _truncated(bodies[k])):
        last_snippet = k if _truncated(bodies[k]) else last_snippet
        k += 1
    if k == i + 1:
        return None  # a lone "Recommended" before prose is a content heading
    # Up to the document's end the whole run is teasers; otherwise stop at the last snippet so a
    # following content heading survives, and a snippet-less title list is left alone.
    return k - 1 if k == len(bodies) else last_snippet


def _headless_run(bodies: list[str], i: int) -> int | None:
    k, snippets = i, 0
    while k < len(bodies):
        if _truncated(bodies[k], 200):
            k, snippets = k + 1, snippets + 1
        elif _title_like(bodies[k]) and k + 1 < len(bodies) and _truncated(bodies[k + 1], 200):
            k, snippets = k + 2, snippets + 1
        else:
            break
    return k - 1 if snippets >= 3 else None


def _assemble(text: str, segs: list[list[Segment]]) -> Cleaned:
    kept: list[tuple[int, int]] = []
    removed: list[Removal] = []
    after_content = False
    for start, end, kind in (seg for line in segs for seg in line):
        if kind is None:
            chunk = text[start:end]
            lo, hi = start + len(chunk) - len(chunk.lstrip()), start + len(chunk.rstrip())
            if lo >= hi:
                continue
            if kept and after_content:
                # Content separated only by blank lines stays one span: paragraphs keep together.
                kept[-1] = (kept[-1][0], hi)
            else:
                kept.append((lo, hi))
            after_content = True
        else:
            if removed and not after_content and removed[-1].kind == kind:
                start = removed.pop().start  # one removal per run of same-kind boilerplate
            removed.append(Removal(kind, start, end, text[start:end]))
            after_content = False
    return Cleaned(text, tuple(kept), tuple(removed))
