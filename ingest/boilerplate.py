"""Boilerplate vocabulary of web pages, and the judges that name a line's or a sentence's kind."""

from __future__ import annotations

import re


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
IMAGE_PREFIX = _rx(
    r"(?:图片|圖片|图像)(?=\s|$)\s*", r"!\[[^\]]*\]\([^)]*\)\s*",
    r"\[(?:image|img|pic|photo|picture|图片|圖片)[^\]]{0,40}\]\s*",
    r"(?:image|img|pic|picture|photo)(?=\s{2,}|$)\s*")
RELATED_HEAD = _rx(
    r"^(?:recommend(?:ed)?(?:\s+(?:reading|articles?|posts?|for you|stories|content))?"
    r"|related(?:\s+(?:articles?|posts?|reading|content|stories|links|news|topics|questions))?"
    r"|you (?:may|might) also (?:like|enjoy|be interested in)|more (?:articles|stories|posts)"
    r"|(?:popular|trending|latest|hot|top) (?:articles|posts|stories|news|topics)|read next"
    r"|相关(?:推荐|阅读|文章|内容|链接|资讯|新闻|问答)|推荐(?:阅读|文章|内容|资讯)?|猜你喜欢"
    r"|热门(?:文章|推荐|资讯|阅读)|延伸阅读|精彩推荐|最新文章|往期(?:回顾|推荐|精选|文章)"
    r"|更多(?:文章|推荐|阅读|精彩))\s*[:：>»]*$")
REFERENCE_HEAD = _rx(r"^(?:references?|reference sources?|bibliography|sources|works cited"
                      r"|literature cited|参考文献|参考资料|引用文献)\s*[:：]?$")
_LIST_ITEM = re.compile(r"(?:[-•*·]|\d{1,2}[.)、])\s")
_TRUNCATED = re.compile(r"(?:\.{3,}|…+|⋯+|。{3,})[\"'”’)）]*$")
SENTENCE = re.compile(r"\S.*?(?:[.!?]+(?=\s|$)|[。！？]+|$)[\"'”’)）\]]*", re.DOTALL)
_FOOTER = _rx(r"copyright|©|\(c\)\s*\d{4}|all rights reserved|版权所有|icp\s*备")
_AD_LABEL = _rx(r"^(?:advertisement|sponsored(?: content)?|广告|推广)$")
_LINE_RULES = (("prev-next", _PREV_NEXT, 200), ("view-counter", _COUNTER, 120),  # longer: prose
               ("credits", _CREDITS, 100), ("navigation", _BREADCRUMB, 120),
               ("advertisement", _AD_LABEL, 30), ("other", _FOOTER, 150))


def line_kind(body: str) -> str | None:
    """The boilerplate kind of a whole stripped line (navigation, credits...), None if content."""
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


def sentence_kind(sentence: str, promo: bool) -> str | None:
    """The kind of a short prompt ("follow-prompt") or pitch ("advertisement"), else None; with
    promo, the publisher praising itself counts as an advertisement too."""
    if len(sentence) > 200:  # prompts and pitches are short; long sentences are prose
        return None
    if _FOLLOW.search(sentence):
        return "follow-prompt"
    button = _BUTTON.search(sentence)
    if _CTA.search(sentence) or (button and 2 * len(button.group()) >= len(sentence)) or (
            promo and _WE.search(sentence) and _PROMO.search(sentence)):
        return "advertisement"
    return None


def truncated(body: str, limit: int = 300) -> bool:
    """A teaser snippet: short and cut off with an ellipsis."""
    return len(body) <= limit and _TRUNCATED.search(body) is not None


def title_like(body: str) -> bool:
    # Teaser titles are short and unpunctuated at the end, unlike short prose sentences; list
    # items ("- Quit smoking") after a "Recommended" heading are content.
    return len(body) <= 120 and body[-1] not in ".。;；:：,，" and not _LIST_ITEM.match(body)
