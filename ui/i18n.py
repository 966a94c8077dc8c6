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


# The maintainer console's Evaluation and Feedback tabs (ui/insight.py).
STRINGS.update({
    "ins_eval_tab": ("Evaluation", "评估"),
    "ins_eval_intro": (
        "Run the gold questions through the retriever (fast) or the whole answer chain, then "
        "look at the results. `oncoqa eval` on the command line measures the same thing.",
        "用金标准问题测试检索（较快）或完整的回答流程，然后查看结果。命令行的 `oncoqa eval` "
        "测的是同样的内容。",
    ),
    "ins_mode": ("What to evaluate", "评估内容"),
    "ins_mode_retrieval": ("Retrieval only (about a minute)", "仅检索（约一分钟）"),
    "ins_mode_answer": ("Answers with the configured generator: {backend} (slow)",
                        "用当前配置的生成方式回答：{backend}（较慢）"),
    "ins_mode_extractive": ("Answers without a model (source sentences)",
                            "不用模型回答（资料原句）"),
    "ins_split": ("Gold items", "金标准题目"),
    "ins_run": ("Run evaluation", "运行评估"),
    "ins_save_baseline": ("Save this run as the baseline", "将本次结果保存为基线"),
    "ins_download": ("Download results.json", "下载 results.json"),
    "ins_busy": ("An evaluation is already running.", "已有评估正在运行。"),
    "ins_started": ("Evaluation started.", "评估已开始。"),
    "ins_idle": ("No evaluation has run yet.", "还没有运行过评估。"),
    "ins_running": ("Running: {done} of {total} items · {step} · {seconds:.0f} s",
                    "运行中：{done}/{total} 题 · {step} · {seconds:.0f} 秒"),
    "ins_done": ("Finished: {items} items in {seconds:.0f} s, {errors} errors. {thresholds}",
                 "完成：{items} 题，用时 {seconds:.0f} 秒，出错 {errors} 题。{thresholds}"),
    "ins_thresholds_ok": ("All thresholds passed.", "所有阈值均通过。"),
    "ins_thresholds_failed": ("Thresholds failed: {n} (listed below).",
                              "未通过的阈值：{n} 项（见下）。"),
    "ins_failures": ("Threshold failures", "未通过的阈值"),
    "ins_failed": ("The evaluation could not run: {error}", "评估无法运行：{error}"),
    "ins_shown": ("Results shown: `{path}` ({described})",
                  "当前显示的结果：`{path}`（{described}）"),
    "ins_no_baseline": (
        "No baseline yet: press “Save this run as the baseline” to compare later runs with "
        "this one.",
        "还没有基线：点击“将本次结果保存为基线”，以后的评估将与它对比。",
    ),
    "ins_baseline_saved": ("Saved as the baseline: {path}", "已保存为基线：{path}"),
    "ins_fb_tab": ("Feedback to gold", "反馈转金标准"),
    "ins_fb_intro": (
        "Answers rated thumbs-down or commented on, newest first. Pick one, choose the passage "
        "that answers it and cut the quote down to the words that do (it must stay word for "
        "word), add key facts, or mark the question unanswerable. Candidates go to {path}, "
        "never straight into the gold sets: move them into eval/gold/ after review.",
        "被点“踩”或写了意见的回答，最新的在前。选择一条，挑出能回答它的段落，把引文删减到真正回答"
        "问题的部分（必须与原文逐字一致），填写关键事实，或标记为资料无法回答。候选题写入 {path}，"
        "不会直接进入金标准集：审核后再移到 eval/gold/。",
    ),
    "ins_fb_refresh": ("Reload feedback", "重新读取反馈"),
    "ins_fb_table": ("Rated answers", "被评价的回答"),
    "ins_fb_pick": ("Feedback item", "反馈条目"),
    "ins_fb_none": ("No thumbs-down or commented answers yet.", "还没有被点“踩”或写了意见的回答。"),
    "ins_question": ("Question", "问题"),
    "ins_answer": ("Answer given", "当时的回答"),
    "ins_comment": ("Comment", "意见"),
    "ins_passage": ("Cited passage", "引用的段落"),
    "ins_passage_text": ("Passage text", "段落原文"),
    "ins_quote": ("Supporting quote (40-300 characters, word for word from the passage)",
                  "支持性引文（40-300 个字符，须与段落原文逐字一致）"),
    "ins_facts": ("Key facts: one per line, English and Chinese forms separated by |",
                  "关键事实：每行一条，英文和中文写法用 | 分隔"),
    "ins_note": ("Note for reviewers (optional)", "给审核者的备注（可选）"),
    "ins_unanswerable": ("The documents do not answer this question (unanswerable)",
                         "资料中没有这个问题的答案（无法回答）"),
    "ins_add": ("Add as gold candidate", "添加为金标准候选"),
    "ins_check": ("Check the candidates file", "检查候选文件"),
    "ins_download_candidates": ("Download candidates", "下载候选文件"),
    "ins_accepted": ("Accepted as {id} and appended to {path}:", "已作为 {id} 写入 {path}："),
    "ins_rejected": ("Rejected, nothing was written:", "未通过，没有写入："),
    "ins_file_ok": ("{path}: {count} candidates, all pass check_gold.",
                    "{path}：{count} 条候选，全部通过 check_gold。"),
    "ins_file_bad": ("{path}: {count} candidates, problems found:",
                     "{path}：{count} 条候选，发现问题："),
    "ins_no_item": ("Pick a feedback item first.", "请先选择一条反馈。"),
})
