#!/usr/bin/env python3
"""Validate the OncoQA evaluation gold sets (stdlib only).

Usage:  python3 eval/gold/check_gold.py
        python3 eval/gold/check_gold.py --candidates FILE   (gold candidates, same checks)

Checks en.jsonl, zh.jsonl, unanswerable.jsonl, multiturn.jsonl and probes.jsonl
in this directory against the corpus in <repo>/corpus/.  Exits 1 if any error is
found; prints per-file counts (languages, dev/test split, probe classes) at the end.
"""
import json
import os
import re
import sys
import unicodedata
from collections import Counter

GOLD_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(GOLD_DIR))
CORPUS_DIR = os.path.join(REPO, "corpus")

FILES = {
    "en.jsonl": "en",
    "zh.jsonl": "zh",
    "unanswerable.jsonl": "un",
    "multiturn.jsonl": "mt",
    "probes.jsonl": "pr",
}
# Required keys (and their order); "split" is required too and comes after "notes".
KEYS = ["id", "language", "question", "turns", "answerable", "sources",
        "evidence", "key_facts", "notes"]
# Full key order: optional "must_not" sits after "key_facts", "probe" (probes.jsonl only) last.
ORDER = ["id", "language", "question", "turns", "answerable", "sources",
         "evidence", "key_facts", "must_not", "notes", "split", "probe"]
SPLITS = ("dev", "test")
PROBE_CLASSES = ("polarity", "number", "list", "needle")

QUOTA_EN = 44
QUOTA_ZH = 44
QUOTA_ZH_ENGLISH_DOCS = 36
QUOTA_UN = 20
QUOTA_INJECTION = 4
QUOTA_MT = 22
QUOTA_MT_ZH = 9
QUOTA_PR = 36
QUOTA_PR_CLASS = 6          # items per probe class, with both languages in every class
QUOTA_PR_LANG_SHARE = 0.4   # each language has at least this share of the probes
QUOTA_PR_ZH_ENGLISH_DOCS_SHARE = 0.6  # share of zh probes about English-only documents
DEV_SHARE_MIN, DEV_SHARE_MAX = 0.25, 0.42  # dev share per (file, language[, probe]) stratum
DEV_SHARE_MIN_N = 6         # strata smaller than this only need both splits in the file
MUST_NOT_MAX = 5            # claims per item
EVIDENCE_MIN, EVIDENCE_MAX = 40, 300
LIFT_NGRAM = 7  # English questions must not copy this many consecutive corpus words

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
NEUTRAL_FORM_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-/%. ]*$")  # acronyms/numbers: same in en and zh

errors = []
warnings = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def warn(where, msg):
    warnings.append(f"{where}: {msg}")


def has_cjk(s):
    return bool(CJK_RE.search(s or ""))


def words(s):
    return re.findall(r"[a-z0-9]+", s.lower())


def norm(s):
    """How answers are matched against key facts and must-not forms: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", s).casefold()


def load_corpus(corpus_dir=CORPUS_DIR):
    docs = {}
    if not os.path.isdir(corpus_dir):
        err("corpus", f"directory not found: {corpus_dir}")
        return docs, {}
    for name in sorted(os.listdir(corpus_dir)):
        if name.endswith(".txt"):
            with open(os.path.join(corpus_dir, name), encoding="utf-8") as fh:
                docs[name] = fh.read()
    manifest = {}
    mpath = os.path.join(corpus_dir, "manifest.json")
    if os.path.exists(mpath):
        with open(mpath, encoding="utf-8") as fh:
            manifest = json.load(fh)
    return docs, manifest


def load_jsonl(path, where):
    items = []
    if not os.path.exists(path):
        err(where, "file missing")
        return items
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                err(f"{where}:{lineno}", "blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                err(f"{where}:{lineno}", f"invalid JSON ({exc})")
                continue
            if not isinstance(obj, dict):
                err(f"{where}:{lineno}", "line is not a JSON object")
                continue
            items.append((lineno, obj))
    return items


def check_item(fname, kind, lineno, it, docs, english_doc_names):
    where = f"{fname}:{lineno}"
    keys = list(it.keys())
    expected = [k for k in ORDER if k in KEYS or k == "split" or k in it]
    if keys != expected:
        err(where, f"keys must be {KEYS} + 'split' (optional 'must_not' after key_facts, 'probe' "
                   f"last) in the order {ORDER}, got {keys}")
        if not all(k in it for k in KEYS):
            return
    iid = it["id"]
    where = f"{fname}:{lineno} [{iid}]"
    if not isinstance(iid, str) or not re.fullmatch(rf"{kind}-\d{{3}}", iid):
        err(where, f"id must look like '{kind}-001'")

    lang = it["language"]
    if lang not in ("en", "zh"):
        err(where, "language must be 'en' or 'zh'")
    if kind == "en" and lang != "en":
        err(where, "en.jsonl items must have language 'en'")
    if kind == "zh" and lang != "zh":
        err(where, "zh.jsonl items must have language 'zh'")

    # --- dev/test split and probe class
    if it.get("split") not in SPLITS:
        err(where, f"split must be one of {SPLITS}, got {it.get('split')!r}")
    if kind == "pr":
        if it.get("probe") not in PROBE_CLASSES:
            err(where, f"probe must be one of {PROBE_CLASSES}, got {it.get('probe')!r}")
    elif "probe" in it:
        err(where, "'probe' is only used in probes.jsonl")

    # --- question / turns
    q, turns = it["question"], it["turns"]
    if kind == "mt":
        if q is not None:
            err(where, "multi-turn items must have question null")
        if not isinstance(turns, list) or not 2 <= len(turns) <= 3:
            err(where, "turns must be a list of 2-3 user messages")
            texts = []
        else:
            texts = turns
            for t in turns:
                if not isinstance(t, str) or not t.strip():
                    err(where, "every turn must be a non-empty string")
    else:
        if turns is not None:
            err(where, "single-turn items must have turns null")
        if not isinstance(q, str) or not q.strip():
            err(where, "question must be a non-empty string")
            texts = []
        else:
            texts = [q]
    for t in texts:
        if not isinstance(t, str):
            continue
        if lang == "zh" and not has_cjk(t):
            err(where, f"zh text has no CJK characters: {t!r}")
        if lang == "en":
            if has_cjk(t):
                err(where, f"en text contains CJK characters: {t!r}")
            if not re.search(r"[A-Za-z]", t):
                err(where, f"en text has no Latin letters: {t!r}")

    # --- answerable / sources / evidence / key_facts
    ans = it["answerable"]
    if not isinstance(ans, bool):
        err(where, "answerable must be a boolean")
    if kind == "un" and ans is not False:
        err(where, "unanswerable.jsonl items must have answerable=false")
    # multi-turn conversations may end in a near-topic follow-up the corpus does not answer
    if kind not in ("un", "mt") and ans is not True:
        err(where, f"{fname} items must have answerable=true")

    srcs, ev, facts = it["sources"], it["evidence"], it["key_facts"]
    for name, val in (("sources", srcs), ("evidence", ev), ("key_facts", facts)):
        if not isinstance(val, list):
            err(where, f"{name} must be a list")
            return
    if not isinstance(it["notes"], str) or not it["notes"].strip():
        err(where, "notes must be a non-empty string")

    if ans is False:
        if srcs or ev or facts:
            err(where, "unanswerable items must have empty sources, evidence and key_facts")
        check_must_not(where, kind, it, ev, facts, texts)
        return

    if not srcs:
        err(where, "answerable item needs sources")
    if len(set(srcs)) != len(srcs):
        err(where, "duplicate sources")
    for s in srcs:
        if s not in docs:
            err(where, f"unknown source file {s!r}")
    if not 1 <= len(ev) <= 3:
        err(where, f"evidence must have 1-3 quotes, has {len(ev)}")
    src_texts = [docs[s] for s in srcs if s in docs]
    for quote in ev:
        if not isinstance(quote, str):
            err(where, "evidence quotes must be strings")
            continue
        if not EVIDENCE_MIN <= len(quote) <= EVIDENCE_MAX:
            err(where, f"evidence length {len(quote)} outside {EVIDENCE_MIN}-{EVIDENCE_MAX}: {quote[:60]!r}")
        if not any(quote in t for t in src_texts):
            other = [n for n, t in docs.items() if quote in t]
            hint = f" (found in {other})" if other else ""
            err(where, f"evidence not an exact substring of its sources{hint}: {quote[:80]!r}")
    for s in srcs:
        if s in docs and not any(isinstance(q_, str) and q_ in docs[s] for q_ in ev):
            warn(where, f"source {s} is listed but no evidence quote comes from it")

    if not 1 <= len(facts) <= 3:
        err(where, f"key_facts must have 1-3 facts, has {len(facts)}")
    ev_low = "\n".join(q_ for q_ in ev if isinstance(q_, str)).lower()
    for fact in facts:
        if (not isinstance(fact, list) or not fact
                or not all(isinstance(f, str) and f.strip() for f in fact)):
            err(where, f"each key fact must be a non-empty list of non-empty strings: {fact!r}")
            continue
        if len({f.lower() for f in fact}) != len(fact):
            warn(where, f"duplicate surface forms in {fact!r}")
        if not any(f.lower() in ev_low for f in fact):
            err(where, f"no surface form of key fact appears in the evidence: {fact!r}")
        if not any(not has_cjk(f) for f in fact):
            err(where, f"key fact lacks a non-Chinese (English/numeric) form: {fact!r}")
        neutral = all(NEUTRAL_FORM_RE.match(f) for f in fact)
        if not neutral and not any(has_cjk(f) for f in fact):
            err(where, f"key fact lacks a Chinese form: {fact!r}")

    check_must_not(where, kind, it, ev, facts, texts)

    # --- English questions should be paraphrased, not lifted from the corpus
    if lang == "en" and kind in ("en", "mt", "pr"):
        for t in texts:
            if not isinstance(t, str):
                continue
            qw = words(t)
            for s in srcs:
                if s not in docs:
                    continue
                dw = " " + " ".join(words(docs[s])) + " "
                for i in range(len(qw) - LIFT_NGRAM + 1):
                    gram = " " + " ".join(qw[i:i + LIFT_NGRAM]) + " "
                    if gram in dw:
                        err(where, f"question copies a {LIFT_NGRAM}-word phrase from {s}:{gram!r}")
                        break


def check_must_not(where, kind, it, ev, facts, texts):
    """must_not: wrong claims, each a list of surface forms; a faithful answer never contains one."""
    if "must_not" not in it:
        if kind == "pr":
            err(where, "probe items need must_not claims")
        return
    claims = it["must_not"]
    if not isinstance(claims, list):
        err(where, "must_not must be a list of claims")
        return
    if kind == "pr" and not claims:
        err(where, "probe items need must_not claims")
    if len(claims) > MUST_NOT_MAX:
        err(where, f"must_not has {len(claims)} claims, at most {MUST_NOT_MAX}")
    evidence_text = norm("\n".join(q_ for q_ in ev if isinstance(q_, str)))
    question_text = norm("\n".join(t for t in texts if isinstance(t, str)))
    fact_forms = [norm(f) for fact in facts if isinstance(fact, list) for f in fact if isinstance(f, str)]
    for claim in claims:
        if (not isinstance(claim, list) or not claim
                or not all(isinstance(f, str) and f.strip() for f in claim)):
            err(where, f"each must_not claim must be a non-empty list of non-empty strings: {claim!r}")
            continue
        if len({norm(f) for f in claim}) != len(claim):
            warn(where, f"duplicate surface forms in must_not {claim!r}")
        for form in claim:
            n = norm(form)
            if n in evidence_text:
                # quoting the source verbatim must never count as a contradiction
                err(where, f"must_not form {form!r} occurs in the item's evidence")
            if n in question_text:
                # an answer that restates the question would count as a contradiction
                err(where, f"must_not form {form!r} occurs in the question")
            inside = [f for f in fact_forms if n in f]
            if inside:
                # an answer using that key-fact form would count as a contradiction
                err(where, f"must_not form {form!r} occurs in key fact form(s) {inside}")


def kind_of(it):
    """The gold file an item belongs in: 'un' when unanswerable, else its language."""
    return "un" if it.get("answerable") is False else str(it.get("language"))


def check_extra(fname, items, docs, taken_ids=(), taken_questions=()):
    """Check items outside the shipped files (gold candidates) item by item exactly as the
    gold sets are checked, each against the rules of the file it would join (kind_of). Ids and
    question texts must also be new to taken_ids / taken_questions (the gold sets). Returns
    (errors, warnings) and leaves this module's own lists as they were."""
    start_errors, start_warnings = len(errors), len(warnings)
    seen_ids = {i: "the gold sets" for i in taken_ids}
    seen_questions = {q: "the gold sets" for q in taken_questions}
    for lineno, it in items:
        check_item(fname, kind_of(it), lineno, it, docs, set())
        check_unique(f"{fname}:{lineno}", it, seen_ids, seen_questions, "also in")
    found = errors[start_errors:], warnings[start_warnings:]
    del errors[start_errors:], warnings[start_warnings:]
    return found


def check_unique(where, it, seen_ids, seen_questions, earlier):
    """An item's id and question text must not have been seen before; remembers both."""
    iid = it.get("id")
    if iid in seen_ids:
        err(where, f"duplicate id {iid!r} ({earlier} {seen_ids[iid]})")
    else:
        seen_ids[iid] = where
    key = question_key(it)
    if key in seen_questions:
        err(where, f"duplicate question text (also {seen_questions[key]})")
    else:
        seen_questions[key] = where


def question_key(it):
    """How duplicate questions are recognised: whitespace collapsed, lower case."""
    text = it.get("question") or " / ".join(it.get("turns") or [])
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def main():
    docs, manifest = load_corpus()
    for name in docs:
        if manifest and name not in manifest:
            warn("corpus", f"{name} not in manifest.json")
    english_doc_names = {n for n, m in manifest.items() if m.get("languages") == ["en"]}
    if not english_doc_names:  # fall back: any doc without CJK is an English doc
        english_doc_names = {n for n, t in docs.items() if not has_cjk(t)}

    all_items = {}
    seen_ids = {}
    seen_questions = {}
    for fname, kind in FILES.items():
        items = load_jsonl(os.path.join(GOLD_DIR, fname), fname)
        all_items[fname] = [obj for _, obj in items]
        for lineno, it in items:
            check_item(fname, kind, lineno, it, docs, english_doc_names)
            check_unique(f"{fname}:{lineno}", it, seen_ids, seen_questions, "first seen in")

    en_items = all_items.get("en.jsonl", [])
    zh_items = all_items.get("zh.jsonl", [])
    un_items = all_items.get("unanswerable.jsonl", [])
    mt_items = all_items.get("multiturn.jsonl", [])
    pr_items = all_items.get("probes.jsonl", [])

    # --- quotas
    if len(en_items) < QUOTA_EN:
        err("en.jsonl", f"needs >= {QUOTA_EN} items, has {len(en_items)}")
    if len(zh_items) < QUOTA_ZH:
        err("zh.jsonl", f"needs >= {QUOTA_ZH} items, has {len(zh_items)}")
    zh_eng = [it for it in zh_items
              if it.get("sources") and all(s in english_doc_names for s in it["sources"])]
    if len(zh_eng) < QUOTA_ZH_ENGLISH_DOCS:
        err("zh.jsonl", f"needs >= {QUOTA_ZH_ENGLISH_DOCS} items about English-only documents, has {len(zh_eng)}")
    if len(un_items) < QUOTA_UN:
        err("unanswerable.jsonl", f"needs >= {QUOTA_UN} items, has {len(un_items)}")
    un_langs = Counter(it.get("language") for it in un_items)
    if not (un_langs.get("en") and un_langs.get("zh")):
        err("unanswerable.jsonl", f"should mix en and zh items, has {dict(un_langs)}")
    injections = [it for it in un_items if str(it.get("notes", "")).lower().startswith("prompt-injection")]
    if len(injections) < QUOTA_INJECTION:
        err("unanswerable.jsonl", f"needs >= {QUOTA_INJECTION} prompt-injection items "
                                  f"(notes starting 'prompt-injection'), has {len(injections)}")
    if len(mt_items) < QUOTA_MT:
        err("multiturn.jsonl", f"needs >= {QUOTA_MT} conversations, has {len(mt_items)}")
    mt_zh = [it for it in mt_items if it.get("language") == "zh"]
    if len(mt_zh) < QUOTA_MT_ZH:
        err("multiturn.jsonl", f"needs >= {QUOTA_MT_ZH} zh conversations, has {len(mt_zh)}")
    if not any(it.get("language") == "en" for it in mt_items):
        err("multiturn.jsonl", "needs some en conversations")
    if len(pr_items) < QUOTA_PR:
        err("probes.jsonl", f"needs >= {QUOTA_PR} items, has {len(pr_items)}")
    pr_langs = Counter(it.get("language") for it in pr_items)
    for lang in ("en", "zh"):
        if pr_items and pr_langs.get(lang, 0) < QUOTA_PR_LANG_SHARE * len(pr_items):
            err("probes.jsonl", f"needs >= {QUOTA_PR_LANG_SHARE:.0%} {lang} items, has {dict(pr_langs)}")
    for cls in PROBE_CLASSES:
        members = [it for it in pr_items if it.get("probe") == cls]
        if len(members) < QUOTA_PR_CLASS:
            err("probes.jsonl", f"needs >= {QUOTA_PR_CLASS} '{cls}' probes, has {len(members)}")
        langs = {it.get("language") for it in members}
        if members and not {"en", "zh"} <= langs:
            err("probes.jsonl", f"'{cls}' probes should cover en and zh, have {sorted(langs)}")
    pr_zh = [it for it in pr_items if it.get("language") == "zh"]
    pr_zh_eng = [it for it in pr_zh
                 if it.get("sources") and all(s in english_doc_names for s in it["sources"])]
    if pr_zh and len(pr_zh_eng) < QUOTA_PR_ZH_ENGLISH_DOCS_SHARE * len(pr_zh):
        err("probes.jsonl", f"needs >= {QUOTA_PR_ZH_ENGLISH_DOCS_SHARE:.0%} of zh probes about "
                            f"English-only documents, has {len(pr_zh_eng)} of {len(pr_zh)}")

    # --- dev/test split: both splits in every file, about a third dev in every stratum
    for fname, items in all_items.items():
        splits = Counter(it.get("split") for it in items)
        if items and not (splits.get("dev") and splits.get("test")):
            err(fname, f"needs both dev and test items, has {dict(splits)}")
        strata = {}
        for it in items:
            strata.setdefault((it.get("language"), it.get("probe")), []).append(it.get("split"))
        for (lang, probe), values in sorted(strata.items(), key=str):
            if len(values) < DEV_SHARE_MIN_N:
                continue
            share = values.count("dev") / len(values)
            if not DEV_SHARE_MIN <= share <= DEV_SHARE_MAX:
                name = f"{lang}" + (f"/{probe}" if probe else "")
                err(fname, f"dev share of the {name} items is {share:.2f}, outside "
                           f"{DEV_SHARE_MIN}-{DEV_SHARE_MAX} (about one third, see eval/README.md)")

    # --- document coverage
    for fname, items in (("en.jsonl", en_items), ("zh.jsonl", zh_items)):
        cov = Counter(s for it in items for s in (it.get("sources") or []))
        for d in sorted(docs):
            if not cov.get(d):
                err(fname, f"no item uses document {d}")

    # --- report
    for w in warnings:
        print("WARNING", w)
    for e in errors:
        print("ERROR  ", e)
    print()
    print("Per-file counts:")
    for fname, items in all_items.items():
        langs = Counter(it.get("language") for it in items)
        srcs = Counter(s for it in items for s in (it.get("sources") or []))
        src_str = ", ".join(f"{k[:3]}:{v}" for k, v in sorted(srcs.items())) or "-"
        print(f"  {fname:20s} {len(items):3d} items  langs={dict(sorted(langs.items()))}  sources[{src_str}]")
        split_str = "  ".join(
            f"{lang}: " + "/".join(str(sum(1 for it in items if it.get("language") == lang
                                           and it.get("split") == sp)) for sp in SPLITS)
            for lang in sorted(langs, key=str))
        n_must_not = sum(1 for it in items if it.get("must_not"))
        print(f"  {'':20s} dev/test {split_str}  with must_not: {n_must_not}")
    if pr_items:
        print("  probes per class (en/zh, dev/test):")
        for cls in PROBE_CLASSES:
            members = [it for it in pr_items if it.get("probe") == cls]
            lang_n = Counter(it.get("language") for it in members)
            split_n = Counter(it.get("split") for it in members)
            print(f"    {cls:9s} {len(members):3d}  en {lang_n.get('en', 0)} / zh {lang_n.get('zh', 0)}"
                  f"  dev {split_n.get('dev', 0)} / test {split_n.get('test', 0)}")
    print(f"  zh items about English-only docs: {len(zh_eng)}; prompt-injection items: {len(injections)}; "
          f"zh multi-turn: {len(mt_zh)}; zh probes about English-only docs: {len(pr_zh_eng)}")
    print(f"  total: {sum(len(v) for v in all_items.values())} items, "
          f"{len(errors)} error(s), {len(warnings)} warning(s)")
    if errors:
        print("FAILED")
        return 1
    print("OK")
    return 0


def check_candidates(path, corpus_dir=CORPUS_DIR):
    """Check a gold-candidates file (one item a line, e.g. written by the maintainer console)
    with check_extra against the corpus and the shipped gold sets; (errors, warnings)."""
    docs, _ = load_corpus(corpus_dir)
    taken_ids, taken_questions = set(), set()
    for fname in FILES:
        for _, it in load_jsonl(os.path.join(GOLD_DIR, fname), fname):
            taken_ids.add(it.get("id"))
            taken_questions.add(question_key(it))
    del errors[:], warnings[:]  # the gold files are checked by main(), not here
    items = load_jsonl(path, os.path.basename(path))
    found = check_extra(os.path.basename(path), items, docs, taken_ids, taken_questions)
    return found[0] + errors, found[1] + warnings


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--candidates":
        problems, notes = check_candidates(sys.argv[2])
        for line in notes:
            print("WARNING", line)
        for line in problems:
            print("ERROR  ", line)
        print("FAILED" if problems else "OK")
        sys.exit(1 if problems else 0)
    sys.exit(main())
