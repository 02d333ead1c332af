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

A second set, "random_cases", is a differential test: small templates
(the first RANDOM_OK that render and RANDOM_ERR that raise) drawn from a grammar of the supported subset (expressions with
every operator but % and **, filters, tests, str methods, slices, if/else,
for loops over several kinds of sequence, set, namespaces, comments and all
kinds of whitespace control), with a fixed seed, rendered for the
"multi_turn" conversation.  Left out on purpose: % (string formatting is
not supported), ** (Jinja's output depends on its code generator: -x ** y
is (-x) ** y with constants and -(x ** y) without) and non-ASCII text
(upper/lower/title change ASCII letters only).

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

RANDOM_SEED = 20240726
RANDOM_OK = 400           # templates that render
RANDOM_ERR = 100          # and templates that raise
ATOMS = ["1", "0", "-3", "2.5", "0.1", "1e3", "7", "3", "'ab'", "'a b '", "\"Q\"", "''", "'  pad\\t'",
         "none", "true", "false", "[]", "[1, 2]", "['x', 'y']", "(1, 'a')", "{'k': 1}", "{}",
         "messages", "messages[0]", "messages[-1].role", "messages[1]['content']", "bos_token", "eos_token",
         "add_generation_prompt", "undefined_x", "range(3)|list", "ns.v"]
BINOPS = ["+", "-", "*", "/", "//", "~", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
FILTERS = ["trim", "length", "upper", "lower", "title", "capitalize", "first", "last", "list", "string", "int",
           "float", "abs", "tojson", "default('D')", "default('D', true)", "join(',')", "join", "reverse|list",
           "items|list", "map(attribute='role')|list", "selectattr('role', 'equalto', 'user')|list",
           "reject('equalto', 1)|list", "select|list", "replace('a', 'Z')", "count", "tojson(indent=2)", "trim('a')"]
TESTS = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence",
         "boolean", "even", "odd", "divisibleby 3", "equalto 1", "true", "false", "in [1, 'ab']", "lower", "upper",
         "sameas none"]
METHODS = [".strip()", ".upper()", ".lower()", ".split()", ".split('a')", ".startswith('a')", ".endswith(('s', 'b'))",
           ".replace('a', 'b')", ".title()", ".capitalize()", ".lstrip()", ".rstrip('b ')", ".find('b')", ".count('a')"]
SEQS = ["messages", "[1, 2, 3]", "'abc'", "{'a': 1, 'b': 2}", "range(4)", "[]", "messages if false else []"]


def random_expr(R, d=0):
    r = R.random()
    if d > 3 or r < 0.3:
        return R.choice(ATOMS)
    if r < 0.5:
        return "(%s %s %s)" % (random_expr(R, d + 1), R.choice(BINOPS), random_expr(R, d + 1))
    if r < 0.62:
        return "%s|%s" % (random_expr(R, d + 1), R.choice(FILTERS))
    if r < 0.72:
        return "(%s is %s%s)" % (random_expr(R, d + 1), R.choice(["", "not "]), R.choice(TESTS))
    if r < 0.78:
        return R.choice(["'ab c'", "' Xy '", "'a,b'", "messages[0].content", "bos_token"]) + R.choice(METHODS)
    if r < 0.84:
        return "(%s if %s else %s)" % (random_expr(R, d + 1), random_expr(R, d + 1), random_expr(R, d + 1))
    if r < 0.88:
        return "(not %s)" % random_expr(R, d + 1)
    if r < 0.92:
        return "%s[%s]" % (R.choice(["'hello'", "[1, 2, 3]", "messages", "(1, 2)"]),
                           R.choice(["0", "-1", "1:", ":2", "::-1", "5", "1:-1"]))
    if r < 0.96:
        return "[%s, %s]" % (random_expr(R, d + 1), random_expr(R, d + 1))
    return "-%s" % random_expr(R, d + 1)


def random_stmt(R, d=0):
    r = R.random()
    nl = lambda: R.choice(["", "\n", "  \n", "\n  ", " "])
    ws = lambda: R.choice(["", "-", "+", ""])
    if d > 2 or r < 0.35:
        return "{{%s %s %s}}%s" % (R.choice(["", "-"]), random_expr(R), R.choice(["", "-"]), nl())
    if r < 0.5:
        return "%s{%%%s if %s %s%%}%s%s{%%%s else %%}%s{%%%s endif %%}%s" % (
            nl(), ws(), random_expr(R), ws().replace("+", ""), nl(), random_body(R, d + 1), ws(),
            random_body(R, d + 1), ws(), nl())
    if r < 0.65:
        return "{%% for %s in %s %%}%s{{ loop.index }}{%% if loop.last %%}!{%% endif %%}{%% else %%}E{%% endfor %%}%s" % (
            R.choice(["x", "m"]), R.choice(SEQS), random_body(R, d + 1), nl())
    if r < 0.75:
        return "{%% set v = %s %%}{{ v }}%s" % (random_expr(R), nl())
    if r < 0.82:
        return "{%% set ns.v = %s %%}{{ ns.v }}" % random_expr(R)
    if r < 0.88:
        return "{#%s c %s#}%s" % (ws(), ws(), nl())
    return "text %s" % nl()


def random_body(R, d):
    return "".join(random_stmt(R, d) for _ in range(R.randint(1, 3)))


def random_cases():
    env = make_env()
    R = __import__("random").Random(RANDOM_SEED)
    cases = []
    n_ok = n_err = 0
    while n_ok < RANDOM_OK or n_err < RANDOM_ERR:
        t = "{% set ns = namespace(v=0) %}" + random_body(R, 0)
        case = {"template": t}
        try:
            case["output"] = env.from_string(t).render(
                messages=CONVERSATIONS["multi_turn"], tools=None, documents=None,
                add_generation_prompt=True, bos_token="<s>", eos_token="</s>")
        except jinja2.exceptions.TemplateError as e:
            case["error"] = f"{type(e).__name__}: {e}"
        except (TypeError, ValueError, ArithmeticError) as e:
            case["error"] = f"{type(e).__name__}: {e}"
        if "error" in case:
            n_err += 1
            if n_err > RANDOM_ERR:
                continue
        else:
            n_ok += 1
            if n_ok > RANDOM_OK:
                continue
        cases.append(case)
    return cases


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
        "random_cases": random_cases(),
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
    r_err = sum("error" in c for c in doc["random_cases"])
    print(f"wrote {out}: {len(doc['cases'])} cases ({n_err} raise), "
          f"{len(doc['random_cases'])} random templates ({r_err} raise)")


if __name__ == "__main__":
    main()
