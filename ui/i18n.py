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
    # The maintainer console (ui/console.py)
    "console_title": ("OncoQA maintainer console", "OncoQA 维护控制台"),
    "console_intro": (
        "Only for maintainers: patients never see this page. Changes to the documents reach "
        "the chat as soon as their ingest finishes.",
        "仅供维护人员使用，患者看不到此页面。资料的改动在索引完成后立即对问答生效。",
    ),
    "console_login": ("OncoQA maintainer console: sign in", "OncoQA 维护控制台：请登录"),
    "tab_documents": ("Documents", "资料"),
    "documents_label": ("Indexed documents", "已索引的资料"),
    "col_title": ("Title", "标题"),
    "col_source": ("Source file", "文件"),
    "col_languages": ("Languages", "语言"),
    "col_chunks": ("Passages", "段落数"),
    "col_ingested": ("Ingested", "索引时间"),
    "col_notes": ("Cleaning notes", "清理记录"),
    "col_status": ("Status", "状态"),
    "refresh": ("Refresh", "刷新"),
    "upload_label": ("Upload a document (.txt, .md, .html, .pdf; up to {limit} MB)",
                     "上传资料（.txt、.md、.html、.pdf；最大 {limit} MB）"),
    "upload_replace": ("Replace a file with the same name", "替换同名文件"),
    "upload_saved": ("Saved {name}; indexing it now.", "已保存 {name}，正在建立索引。"),
    "upload_renamed": (
        "A different file named {asked} exists, so this one was saved as {name}; indexing it now.",
        "已有另一个名为 {asked} 的文件，因此新文件保存为 {name}，正在建立索引。",
    ),
    "upload_same": ("{name} is already in the library, unchanged.",
                    "{name} 已在资料库中，内容相同。"),
    "upload_too_big": ("The file is {size} MB; the limit is {limit} MB.",
                       "文件大小为 {size} MB，上限为 {limit} MB。"),
    "upload_empty": ("The file is empty.", "文件是空的。"),
    "upload_binary": ("Not a text, HTML or PDF document: {what}.",
                      "不是文本、HTML 或 PDF 资料：{what}。"),
    "upload_extension": ("Files ending in {extension} are not accepted (allowed: {allowed}).",
                         "不接受扩展名为 {extension} 的文件（允许：{allowed}）。"),
    "upload_bad_name": ("No usable file name in \"{name}\".", "“{name}”中没有可用的文件名。"),
    "upload_mismatch": (
        "{name}: its content is {kind}, which does not match its extension. Rename it and "
        "upload again.",
        "{name}：文件内容是 {kind}，与扩展名不符。请改名后重新上传。",
    ),
    "delete_label": ("Document to delete", "要删除的资料"),
    "delete": ("Delete…", "删除…"),
    "delete_confirm": ("Really delete {name}", "确认删除 {name}"),
    "delete_cancel": ("Cancel", "取消"),
    "delete_done": ("Deleted {name}; removing its passages from the index.",
                    "已删除 {name}，正在从索引中移除其段落。"),
    "delete_unknown": ("{name} is not an indexed file in the corpus folder.",
                       "{name} 不是资料目录中已索引的文件。"),
    "ingest_now": ("Ingest the corpus folder now", "立即重新索引资料目录"),
    "console_ingest_started": ("Ingest started.", "已开始建立索引。"),
    "console_ingest_queued": (
        "An ingest is running; another one follows it.", "正在建立索引；完成后会再运行一次。"),
    "console_error": ("Could not do that: {problem}", "操作失败：{problem}"),
    "job_idle": ("No ingest has run since the app started.", "应用启动后尚未运行索引。"),
    "job_running": ("Ingest running: {stage} {done}/{total}",
                    "正在建立索引：{stage} {done}/{total}"),
    "job_stage_read": ("reading documents", "读取资料"),
    "job_stage_embed": ("embedding passages", "向量化段落"),
    "job_stage_": ("starting", "启动中"),
    "job_done": (
        "Ingest finished at {time}: {documents} documents read, {skipped} skipped, {removed} "
        "removed; passages added {chunks_added}, unchanged {chunks_unchanged}, removed "
        "{chunks_removed}; {seconds} s.",
        "索引完成（{time}）：读取 {documents} 篇，跳过 {skipped} 篇，移除 {removed} 篇；"
        "段落新增 {chunks_added}，未变 {chunks_unchanged}，移除 {chunks_removed}；"
        "用时 {seconds} 秒。",
    ),
    "job_failed": ("Ingest failed: {problem}", "索引失败：{problem}"),
    "job_locked": (
        "The index is being written by another process (an `oncoqa ingest` in a terminal?). "
        "Try again when it has finished.",
        "索引正被另一个进程写入（终端里的 `oncoqa ingest`？）。请在它完成后重试。",
    ),
    "report_label": ("Last ingest report", "最近一次索引报告"),
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
