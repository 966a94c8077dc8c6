"""Pure rendering of answers, questions and sources as escaped HTML (chat) or plain text (API).

Every piece of text that comes from a user, a document or a model goes through html.escape.
Each message is one line of HTML starting with <div>: Markdown treats such a line as a raw
HTML block, so the escaped text reaches the browser unchanged (no Markdown re-escaping) and
Gradio's sanitizer only sees the few tags built here.
"""

from __future__ import annotations

import html
import re

from qa.citations import MARKER
from qa.types import Answer, Citation
from ui.i18n import t

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Plain symbols (no emoji presentation), so they render without a colour-emoji font.
_CALLOUT_ICONS = {"refusal": "\u2139", "safety": "\u26a0", "error": "\u2716"}
_CALLOUT_LABELS = {"refusal": "refusal_label", "safety": "safety_label", "error": "error_label"}


def esc(text: str) -> str:
    """Text made inert for HTML: <, >, &, and both quotes become entities."""
    return html.escape(text, quote=True)


def _lines(text: str) -> str:
    """Escaped text with its newlines as <br>, so the result stays on one line."""
    return "<br>".join(esc(line) for line in text.splitlines())


def paragraphs(text: str, *, markers: bool = True) -> str:
    """Escaped text as <p> blocks; citation markers (qa.citations.MARKER: [n], ［n］, [1-3]...)
    styled when markers is True. Escaping never touches a marker's characters, so matching the
    escaped text finds the same markers as the raw text."""
    blocks = [b for b in (part.strip() for part in _PARAGRAPH_BREAK.split(text.strip())) if b]
    out = []
    for block in blocks:
        body = _lines(block)
        if markers:
            body = MARKER.sub(lambda m: f'<sup class="oncoqa-cite">{m.group()}</sup>', body)
        out.append(f"<p>{body}</p>")
    return "".join(out)


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where quote occurs in text (exactly, or with different whitespace); None if absent."""
    quote = quote.strip()
    if not quote:
        return None
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    pattern = r"\s+".join(re.escape(word) for word in quote.split())
    match = re.search(pattern, text)
    return match.span() if match else None


def highlight(text: str, quote: str) -> str:
    """The passage escaped, with the cited sentence wrapped in <mark>."""
    span = find_quote(text, quote)
    if span is None:
        marked = esc(text)
    else:
        start, end = span
        marked = f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"
    return marked.replace("\r", "").replace("\n", "<br>")


def source_html(citation: Citation, lang: str) -> str:
    """One numbered source: title and file name, the passage folded in a <details> block."""
    title = esc(citation.title or citation.source)
    return (
        '<details class="oncoqa-source">'
        f'<summary><span class="oncoqa-n">[{citation.n}]</span> '
        f'<span class="oncoqa-title">{title}</span> '
        f'<span class="oncoqa-file">{esc(citation.source)}</span> '
        f'<span class="oncoqa-more">{esc(t(lang, "show_passage"))}</span></summary>'
        f'<div class="oncoqa-passage">{highlight(citation.text, citation.quote)}</div>'
        "</details>"
    )


def sources_html(citations: tuple[Citation, ...], lang: str) -> str:
    if not citations:
        return ""
    items = "".join(source_html(c, lang) for c in sorted(citations, key=lambda c: c.n))
    heading = f'<div class="oncoqa-sources-title">{esc(t(lang, "sources"))}</div>'
    return f'<div class="oncoqa-sources">{heading}{items}</div>'


def answer_html(answer: Answer) -> str:
    """A final answer: body (a coloured callout for refusals, safety and errors), its numbered
    sources and the notice, as one line of HTML."""
    kind = answer.kind
    body = paragraphs(answer.text)
    if kind in _CALLOUT_ICONS:
        label = esc(t(answer.language, _CALLOUT_LABELS[kind]))
        body = (
            f'<div class="oncoqa-callout oncoqa-{kind}" role="note">'
            f'<span class="oncoqa-icon" aria-hidden="true">{_CALLOUT_ICONS[kind]}</span>'
            f'<div class="oncoqa-callout-body"><div class="oncoqa-callout-label">{label}</div>'
            f"{body}</div></div>"
        )
    else:
        body = f'<div class="oncoqa-answer">{body}</div>'
    notice = f'<div class="oncoqa-notice">{esc(answer.notice)}</div>' if answer.notice else ""
    sources = sources_html(answer.citations, answer.language)
    return f'<div class="oncoqa-msg oncoqa-kind-{kind}">{body}{sources}{notice}</div>'


def streaming_html(text: str, lang: str) -> str:
    """The answer while it is being generated (before the checked final replaces it)."""
    body = paragraphs(text) if text.strip() else f"<p>{esc(t(lang, 'searching'))}</p>"
    return f'<div class="oncoqa-msg oncoqa-streaming">{body}</div>'


def question_html(question: str) -> str:
    """The user's message, escaped (no citation styling)."""
    return f'<div class="oncoqa-question">{paragraphs(question, markers=False) or "&nbsp;"}</div>'


def answer_text(answer: Answer) -> str:
    """Plain text for API clients: the answer, its numbered sources with quotes, the notice."""
    parts = [answer.text.strip()]
    if answer.citations:
        lines = [t(answer.language, "sources") + ":"]
        for c in sorted(answer.citations, key=lambda c: c.n):
            lines.append(f"[{c.n}] {c.title or c.source} ({c.source})")
            if c.quote:
                lines.append(f"    “{c.quote.strip()}”")
        parts.append("\n".join(lines))
    if answer.notice:
        parts.append(answer.notice)
    return "\n\n".join(parts)
