"""Every string the web UI shows, English and Chinese side by side."""

from __future__ import annotations

from typing import Literal

UILang = Literal["en", "zh"]

# key: (English, 中文)
STRINGS: dict[str, tuple[str, str]] = {
    "page_title": ("OncoQA", "OncoQA 癌症治疗问答"),
    "title": ("OncoQA · Questions about cancer treatment", "OncoQA · 癌症治疗问答"),
    "subtitle": (
        "Answers come only from a small library of documents, and every answer shows its sources.",
        "回答只来自一个小型资料库，每个回答都会列出资料来源。",
    ),
    "disclaimer": (
        "Information, not medical advice. Always discuss your own situation with your care team.",
        "仅供参考，不构成医疗建议。您的具体情况请与医疗团队沟通。",
    ),
    "language": ("Language", "语言"),
    "chat_label": ("Conversation", "对话"),
    "chat_placeholder": (
        "Ask a question in English or Chinese. Answers are drawn from the listed documents only.",
        "请用中文或英文提问。回答只来自所列资料。",
    ),
    "input_label": ("Your question", "您的问题"),
    "input_placeholder": (
        "Ask about cancer treatment, then press Enter…",
        "请输入关于癌症治疗的问题，按回车发送…",
    ),
    "send": ("Send", "发送"),
    "stop": ("Stop", "停止"),
    "new_chat": ("New conversation", "新对话"),
    "examples": ("Example questions (click to ask)", "示例问题（点击即可提问）"),
    "comment_label": ("Comment (optional)", "意见（可选）"),
    "comment_placeholder": (
        "Write a comment, then click thumbs up or down under an answer",
        "写下意见后，点击回答下方的“赞”或“踩”",
    ),
    "feedback_thanks": ("Thank you for your feedback.", "感谢您的反馈。"),
    "feedback_missing": (
        "There is no answer to rate yet.",
        "目前还没有可以评价的回答。",
    ),
    "feedback_bad_rating": (
        "Unknown rating \"{value}\": rate with \"up\" or \"down\".",
        "无法识别的评价“{value}”：请用 \"up\"（有用）或 \"down\"（没用）。",
    ),
    "feedback_not_saved": (
        "Sorry, your feedback could not be saved ({reason}: {path}).",
        "抱歉，您的反馈没能保存（{reason}：{path}）。",
    ),
    "store_down": (
        "The document library cannot be reached right now (its server is not answering). "
        "Please ask again in a minute: it reconnects by itself.",
        "暂时无法连接资料库（资料库服务器没有响应）。请过一分钟再问一次，连接恢复后会自动继续。",
    ),
    "status": (
        "Answer generator: {backend} · {documents} documents, {chunks} passages indexed",
        "回答生成方式：{backend} · 已索引 {documents} 篇资料，{chunks} 个段落",
    ),
    "backend_local": ("local language model", "本地语言模型"),
    "backend_openai": ("OpenAI-compatible server", "OpenAI 兼容服务"),
    "backend_extractive": ("source sentences only (no model)", "仅展示资料原句（无模型）"),
    "no_index": (
        "No documents are indexed yet. Build the index with `oncoqa ingest` (or `make index`), "
        "then reload this page.",
        "还没有建立资料索引。请先运行 `oncoqa ingest`（或 `make index`），然后刷新本页。",
    ),
    "index_problem": (
        "The document index cannot be read: {problem}",
        "无法读取资料索引：{problem}",
    ),
    "searching": ("Searching the documents…", "正在检索资料…"),
    "sources": ("Sources", "资料来源"),
    "show_passage": ("show passage", "查看原文"),
    "refusal_label": ("Not covered by the documents", "资料中没有相关内容"),
    "safety_label": ("Important", "重要提示"),
    "error_label": ("Cannot answer this", "无法处理该问题"),
}

# Example questions are shown in both languages at once, whatever the interface language.
EXAMPLES: tuple[str, ...] = (
    "Why would I get chemotherapy before surgery?",
    "How long after chemotherapy can I have surgery?",
    "化疗结束后多久可以做手术？",
    "鼻咽癌为什么会在治疗期间转移？",
)

LANGUAGE_CHOICES: list[tuple[str, str]] = [("EN", "en"), ("中文", "zh")]

# Runs in the browser on page load: the interface language follows navigator.language.
BROWSER_LANGUAGE_JS = (
    "() => ((navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en')"
)


def normalize(lang: str | None) -> UILang:
    return "zh" if (lang or "").lower().startswith("zh") else "en"


def t(lang: str | None, key: str, **values: object) -> str:
    """The string for key in lang (English for anything that is not Chinese)."""
    en, zh = STRINGS[key]
    text = zh if normalize(lang) == "zh" else en
    return text.format(**values) if values else text
