#!/usr/bin/env python3
"""gen_chat_fixtures.py - expected chat-template renderings from the real jinja2.

The reference for runtime/chat.c's Jinja subset: every template in
tests/fixtures/chat/templates.json is rendered with the jinja2 package, in
the environment HuggingFace transformers uses for apply_chat_template
(ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and the
loopcontrols extension; `tojson` as json.dumps(ensure_ascii=False, ...);
globals raise_exception and strftime_now; variables messages, tools=None,
documents=None, add_generation_prompt and the config's bos_token and
eos_token).  One deliberate difference: strftime_now formats a fixed date,
26 Jul 2024 (the date the Llama 3.1 template itself defaults to), so that
the expected outputs do not change from day to day; runtime/chat.c uses the
same fixed date.

Each template is rendered for every conversation below, with
add_generation_prompt true and false; a template that raises (e.g. LLaMA 2
on roles that do not alternate) records the error instead of an output.
The templates that come from ../shared/fixtures/tokenizers/*/
tokenizer_config.json are checked to be verbatim copies of those files.

Usage (needs `pip install jinja2`; only this script does):
    python3 tests/gen_chat_fixtures.py          # rewrites tests/fixtures/chat/expected.json
    python3 tests/gen_chat_fixtures.py --check  # compares instead, exit 1 on a difference
"""
import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures", "chat")
SHARED = os.path.join(ROOT, "..", "shared", "fixtures", "tokenizers")
FIXED_DATE = datetime.date(2024, 7, 26)

CONVERSATIONS = {
    "user": [
        {"role": "user", "content": "Hello, who are you?"},
    ],
    "system_user": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is 2+2?"},
    ],
    "multi_turn": [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."},
    ],
    "multi_turn_no_system": [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another one?"},
    ],
    "whitespace_unicode": [
        {"role": "system", "content": "  Be kind.\n"},
        {"role": "user", "content": "\n  Grüße, 世界! 😀 «quotes» \"dq\" 'sq' \\ back\tslash {{ not a tag }} {% if %}  \n"},
        {"role": "assistant", "content": " Ответ: 42 <|im_end|>\u00a0\n\n"},
    ],
    "roles_not_alternating": [
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
    ],
    "empty_contents": [
        {"role": "system", "content": ""},
        {"role": "user", "content": ""},
    ],
    "no_messages": [],
}

# Synthetic templates exercise the interpreter, not a model: two
# conversations are enough for them.
SYNTHETIC_CONVERSATIONS = ["multi_turn", "user"]


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_DATE.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def check_shared_copies(templates):
    for name, t in templates.items():
        cfg = t.get("shared_config")
        if not cfg:
            continue
        path = os.path.join(SHARED, cfg, "tokenizer_config.json")
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if d.get("chat_template") != t["template"]:
            sys.exit(f"{name}: not a verbatim copy of {path}'s chat_template")
        if d.get("bos_token") != t["bos_token"] or d.get("eos_token") != t["eos_token"]:
            sys.exit(f"{name}: bos/eos differ from {path}")


def render_all(templates):
    env = make_env()
    cases = []
    for name, t in templates.items():
        tmpl = env.from_string(t["template"])
        synthetic = t["origin"].startswith("synthetic")
        convs = SYNTHETIC_CONVERSATIONS if synthetic else list(CONVERSATIONS)
        for cname in convs:
            for agp in (True, False):
                kw = {"messages": CONVERSATIONS[cname], "tools": None, "documents": None,
                      "add_generation_prompt": agp}
                if t["bos_token"] is not None:
                    kw["bos_token"] = t["bos_token"]
                if t["eos_token"] is not None:
                    kw["eos_token"] = t["eos_token"]
                case = {"template": name, "conversation": cname, "add_generation_prompt": agp}
                try:
                    case["output"] = tmpl.render(**kw)
                except jinja2.exceptions.TemplateError as e:
                    case["error"] = f"{type(e).__name__}: {e}"
                cases.append(case)
    return cases


def main():
    with open(os.path.join(FIX, "templates.json"), encoding="utf-8") as f:
        templates = json.load(f)["templates"]
    check_shared_copies(templates)
    with open(os.path.join(SHARED, "llama2", "tokenizer_config.json"), encoding="utf-8") as f:
        llama2_has_template = "chat_template" in json.load(f)
    doc = {
        "_about": "Generated by tests/gen_chat_fixtures.py with jinja2 " + jinja2.__version__
                  + " in transformers' chat-template environment; do not edit.",
        "fixed_date": FIXED_DATE.isoformat(),
        "shared_llama2_has_chat_template": llama2_has_template,
        "conversations": CONVERSATIONS,
        "cases": render_all(templates),
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    out = os.path.join(FIX, "expected.json")
    if "--check" in sys.argv[1:]:
        with open(out, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit(f"{out} is out of date: rerun tests/gen_chat_fixtures.py")
        print(f"{out}: up to date")
        return
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    n_err = sum("error" in c for c in doc["cases"])
    print(f"wrote {out}: {len(doc['cases'])} cases ({n_err} raise)")


if __name__ == "__main__":
    main()
