/* test_chat.c - chat templates (runtime/chat.c) against the real jinja2.
 *
 * tests/fixtures/chat/templates.json holds real chat templates copied
 * verbatim from tokenizer_config.json files (LLaMA 2 chat, LLaMA 3 in two
 * revisions, Llama 3.1, Llama 3.2, SmolLM2, Qwen 2.5, plain ChatML) and four
 * synthetic ones that exercise the rest of the supported Jinja subset;
 * expected.json holds what jinja2, in transformers' chat-template
 * environment, renders for each template, conversation and
 * add_generation_prompt (tests/gen_chat_fixtures.py).  Every case must match
 * byte for byte; a case where jinja2 raised must fail with
 * CHAT_ERR_TEMPLATE.  The shared LLaMA 3 tokenizer_config.json is also read
 * through chat_config_load() and rendered from there.  expected.json also
 * holds 500 random templates of the subset with jinja2's output (or its
 * error): a differential test of the operators, filters, tests, methods,
 * scoping and whitespace control in combinations nobody wrote by hand.
 *
 * Also: the built-in formats equal their model's template on every
 * conversation that template accepts; format detection; the fallback of
 * chat_apply(); errors name the construct and its line:column; every
 * prefix and many random corruptions of every template give a result or an
 * error, never a crash; the limits (nesting, output size, range, loop
 * iterations) stop hostile templates.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    size_t got = fread(p, 1, (size_t)n, f);
    p[got] = 0;
    fclose(f);
    return p;
}

static cJSON *load_fixture(const char *name)
{
    const char *root = getenv("UEAJ_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/chat/%s", root ? root : ".", name);
    char *text = slurp(path);
    ck_assert_msg(text != NULL, "cannot open %s (set UEAJ_ROOT to the project root)", path);
    cJSON *j = cJSON_Parse(text);
    free(text);
    ck_assert_msg(j != NULL, "%s: bad JSON", path);
    return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* the conversation `name` of expected.json as ChatMessages (static storage) */
static int conversation(const cJSON *exp, const char *name, ChatMessage *msgs, int cap)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(exp, "conversations"), name);
    ck_assert_msg(cJSON_IsArray(c), "no conversation %s", name);
    int n = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, c) {
        ck_assert_int_lt(n, cap);
        msgs[n].role = jstr(m, "role");
        msgs[n].content = jstr(m, "content");
        n++;
    }
    return n;
}

static void report_mismatch(const char *what, const char *want, const char *got)
{
    size_t i = 0;
    while (want[i] && want[i] == got[i]) i++;
    size_t from = i > 40 ? i - 40 : 0;
    fprintf(stderr, "%s: differs at byte %zu\n  want: ...%.80s\n  got:  ...%.80s\n", what, i, want + from, got + from);
}

/* Renders every case of expected.json whose template is `only` (NULL: all)
 * with chat_render, or with the built-in format `fmt` when not NONE.
 * Returns the number of cases compared. */
static int run_cases(const cJSON *tpls, const cJSON *exp, const char *only, ChatFormat fmt, int *failures)
{
    const cJSON *c;
    int compared = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(exp, "cases")) {
        const char *tn = jstr(c, "template");
        if (only && strcmp(tn, only) != 0) continue;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(tpls, tn);
        ck_assert_ptr_nonnull(t);
        ChatMessage msgs[16];
        int n = conversation(exp, jstr(c, "conversation"), msgs, 16);
        int agp = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "add_generation_prompt"));
        const char *want = jstr(c, "output");
        char *out = NULL, err[512];
        int rc = fmt == CHAT_FMT_NONE
                     ? chat_render(jstr(t, "template"), msgs, n, jstr(t, "bos_token"), jstr(t, "eos_token"), agp, &out, err, sizeof err)
                     : chat_render_builtin(fmt, msgs, n, jstr(t, "bos_token"), jstr(t, "eos_token"), agp, &out, err, sizeof err);
        char what[256];
        snprintf(what, sizeof what, "%s%s%s / %s / agp=%d", tn, fmt ? " built-in " : "", fmt ? chat_format_name(fmt) : "",
                 jstr(c, "conversation"), agp);
        if (want) {
            if (rc != CHAT_OK) { fprintf(stderr, "%s: failed: %s\n", what, err); (*failures)++; }
            else if (strcmp(want, out) != 0) { report_mismatch(what, want, out); (*failures)++; }
        } else if (rc != CHAT_ERR_TEMPLATE) {
            fprintf(stderr, "%s: jinja2 raised (%s) but got rc %d\n", what, jstr(c, "error"), rc);
            (*failures)++;
        } else if (!out && strncmp(err, fmt ? "chat:" : "chat_template:", fmt ? 5 : 14) != 0) {
            fprintf(stderr, "%s: bad error message '%s'\n", what, err);
            (*failures)++;
        }
        free(out);
        compared++;
    }
    return compared;
}

START_TEST(t_fixtures_byte_for_byte)
{
    cJSON *tj = load_fixture("templates.json"), *exp = load_fixture("expected.json");
    const cJSON *tpls = cJSON_GetObjectItemCaseSensitive(tj, "templates"), *t;
    int total = 0, failures = 0;
    cJSON_ArrayForEach(t, tpls) {
        int f = 0;
        int n = run_cases(tpls, exp, t->string, CHAT_FMT_NONE, &f);
        fprintf(stderr, "chat fixtures: %-26s %2d/%2d cases match jinja2\n", t->string, n - f, n);
        ck_assert_int_gt(n, 0);
        total += n;
        failures += f;
    }
    ck_assert_msg(failures == 0, "%d of %d template renderings differ from jinja2", failures, total);
    cJSON_Delete(tj);
    cJSON_Delete(exp);
}
END_TEST

/* 500 random templates of the subset (gen_chat_fixtures.py's grammar) */
START_TEST(t_random_templates_match_jinja2)
{
    cJSON *exp = load_fixture("expected.json");
    ChatMessage msgs[16];
    int n = conversation(exp, "multi_turn", msgs, 16), total = 0, failures = 0, raised = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(exp, "random_cases")) {
        const char *tpl = jstr(c, "template"), *want = jstr(c, "output");
        char *out = NULL, err[512];
        int rc = chat_render(tpl, msgs, n, "<s>", "</s>", 1, &out, err, sizeof err);
        total++;
        if (want && rc != CHAT_OK) {
            fprintf(stderr, "random template %d: failed (%s)\n  %s\n", total, err, tpl);
            failures++;
        } else if (want && strcmp(out, want) != 0) {
            char what[64];
            snprintf(what, sizeof what, "random template %d", total);
            report_mismatch(what, want, out);
            fprintf(stderr, "  %s\n", tpl);
            failures++;
        } else if (!want && rc == CHAT_OK) {
            fprintf(stderr, "random template %d: jinja2 raised (%s), rendered '%s'\n  %s\n", total, jstr(c, "error"), out, tpl);
            failures++;
        }
        raised += !want;
        free(out);
    }
    fprintf(stderr, "chat fixtures: %d random templates, %d of them raising in jinja2: %d differ\n", total, raised, failures);
    ck_assert_int_ge(total, 500);
    ck_assert_int_eq(failures, 0);
    cJSON_Delete(exp);
}
END_TEST

START_TEST(t_shared_tokenizer_configs)
{
    const char *root = getenv("UEAJ_ROOT");
    char path[4096], err[512];
    ChatConfig cfg;
    snprintf(path, sizeof path, "%s/../shared/fixtures/tokenizers/llama3/tokenizer_config.json", root ? root : ".");
    ck_assert_msg(chat_config_load(path, &cfg, err, sizeof err) == 0, "%s", err);
    cJSON *tj = load_fixture("templates.json"), *exp = load_fixture("expected.json");
    const cJSON *copy = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tj, "templates"), "llama3-shared");
    ck_assert_str_eq(cfg.chat_template, jstr(copy, "template"));
    ck_assert_str_eq(cfg.bos_token, "<|begin_of_text|>");
    ck_assert_str_eq(cfg.eos_token, "<|end_of_text|>");
    ChatMessage msgs[16];
    int n = conversation(exp, "multi_turn", msgs, 16);
    char *out = NULL;
    ck_assert_int_eq(chat_render(cfg.chat_template, msgs, n, cfg.bos_token, cfg.eos_token, 1, &out, err, sizeof err), CHAT_OK);
    const cJSON *c;
    int found = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(exp, "cases"))
        if (!strcmp(jstr(c, "template"), "llama3-shared") && !strcmp(jstr(c, "conversation"), "multi_turn")) {
            ck_assert_str_eq(out, jstr(c, "output"));
            found = 1;
        }
    ck_assert(found);
    free(out);
    chat_config_free(&cfg);

    /* the LLaMA 2 tokenizer has no template; its tokens are AddedToken-free strings */
    snprintf(path, sizeof path, "%s/../shared/fixtures/tokenizers/llama2/tokenizer_config.json", root ? root : ".");
    ck_assert_msg(chat_config_load(path, &cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_null(cfg.chat_template);
    ck_assert_str_eq(cfg.bos_token, "<s>");
    ck_assert_str_eq(cfg.eos_token, "</s>");
    ck_assert(!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(exp, "shared_llama2_has_chat_template")));
    chat_config_free(&cfg);
    ck_assert_int_eq(chat_config_load("/nonexistent/tokenizer_config.json", &cfg, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    cJSON_Delete(tj);
    cJSON_Delete(exp);
}
END_TEST

START_TEST(t_config_variants)
{
    char path[] = "/tmp/ueaj_chat_cfg_XXXXXX", err[256];
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}, {\"name\": \"default\", \"template\": \"D\"}],"
                       " \"bos_token\": {\"content\": \"<b>\", \"lstrip\": false}, \"eos_token\": null}";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    ChatConfig cfg;
    ck_assert_int_eq(chat_config_load(path, &cfg, err, sizeof err), 0);
    ck_assert_str_eq(cfg.chat_template, "D");
    ck_assert_str_eq(cfg.bos_token, "<b>");
    ck_assert_ptr_null(cfg.eos_token);
    chat_config_free(&cfg);
    FILE *f = fopen(path, "w");
    fputs("[1, 2", f);
    fclose(f);
    ck_assert_int_eq(chat_config_load(path, &cfg, err, sizeof err), -1);
    unlink(path);
}
END_TEST

/* ---- built-in formats and the fallback ---------------------------------------- */

START_TEST(t_builtin_formats_match_templates)
{
    static const struct { const char *tpl; ChatFormat f; } pairs[] = {
        { "chatml", CHAT_FMT_CHATML }, { "llama2-chat", CHAT_FMT_LLAMA2 }, { "llama3-instruct", CHAT_FMT_LLAMA3 },
        { "llama3.1-instruct", CHAT_FMT_LLAMA31 }, { "llama3.2-instruct", CHAT_FMT_LLAMA31 },
    };
    cJSON *tj = load_fixture("templates.json"), *exp = load_fixture("expected.json");
    const cJSON *tpls = cJSON_GetObjectItemCaseSensitive(tj, "templates");
    int failures = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        int n = run_cases(tpls, exp, pairs[i].tpl, pairs[i].f, &failures);
        ck_assert_int_gt(n, 0);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(tpls, pairs[i].tpl);
        ck_assert_int_eq(chat_detect_format(jstr(t, "template")), pairs[i].f);
    }
    ck_assert_int_eq(failures, 0);
    ck_assert_int_eq(chat_detect_format(jstr(cJSON_GetObjectItemCaseSensitive(tpls, "smollm2-instruct"), "template")), CHAT_FMT_CHATML);
    ck_assert_int_eq(chat_detect_format(jstr(cJSON_GetObjectItemCaseSensitive(tpls, "qwen2.5-instruct"), "template")), CHAT_FMT_CHATML);
    ck_assert_int_eq(chat_detect_format(jstr(cJSON_GetObjectItemCaseSensitive(tpls, "llama3-shared"), "template")), CHAT_FMT_LLAMA3);
    ck_assert_int_eq(chat_detect_format("{{ messages }}"), CHAT_FMT_NONE);
    ck_assert_int_eq(chat_detect_format(NULL), CHAT_FMT_NONE);
    ck_assert_int_eq(chat_format_from_name("llama3.1"), CHAT_FMT_LLAMA31);
    ck_assert_int_eq(chat_format_from_name("chatml"), CHAT_FMT_CHATML);
    ck_assert_int_eq(chat_format_from_name("nope"), CHAT_FMT_NONE);
    cJSON_Delete(tj);
    cJSON_Delete(exp);
}
END_TEST

START_TEST(t_fallback)
{
    const ChatMessage msgs[] = { { "user", "Hi" } };
    /* a LLaMA 3 template with a macro (outside the subset) */
    const char *tpl = "{% macro hdr(r) %}<|start_header_id|>{{ r }}<|end_header_id|>{% endmacro %}"
                      "{% for m in messages %}{{ hdr(m.role) }}\n\n{{ m.content }}<|eot_id|>{% endfor %}";
    char *out = NULL, err[512];
    ck_assert_int_eq(chat_render(tpl, msgs, 1, "<B>", "<E>", 1, &out, err, sizeof err), CHAT_ERR_UNSUPPORTED);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err, "chat_template:1:4: error: unsupported tag 'macro'");
    ChatFormat used;
    ck_assert_int_eq(chat_apply(tpl, msgs, 1, "<B>", "<E>", 1, &out, &used, err, sizeof err), CHAT_OK);
    ck_assert_int_eq(used, CHAT_FMT_LLAMA3);
    ck_assert_str_eq(out, "<B><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    ck_assert_ptr_nonnull(strstr(err, "unsupported tag 'macro'; using the built-in LLaMA 3 format instead"));
    free(out);
    /* a template error (raise_exception) is not a reason to fall back */
    const char *rej = "{{ raise_exception('no [INST] here') }}";
    ck_assert_int_eq(chat_apply(rej, msgs, 1, NULL, NULL, 0, &out, &used, err, sizeof err), CHAT_ERR_TEMPLATE);
    ck_assert_int_eq(used, CHAT_FMT_NONE);
    ck_assert_str_eq(err, "chat_template:1:4: error: template raised an exception: no [INST] here");
    /* no marker: no fallback */
    ck_assert_int_eq(chat_apply("{% include 'x' %}", msgs, 1, NULL, NULL, 0, &out, &used, err, sizeof err), CHAT_ERR_UNSUPPORTED);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(chat_apply(NULL, msgs, 1, NULL, NULL, 0, &out, &used, err, sizeof err), CHAT_ERR_UNSUPPORTED);
    /* a working template renders as itself */
    ck_assert_int_eq(chat_apply("<|im_start|>{{ messages[0].content }}", msgs, 1, NULL, NULL, 0, &out, &used, err, sizeof err), CHAT_OK);
    ck_assert_int_eq(used, CHAT_FMT_NONE);
    ck_assert_str_eq(out, "<|im_start|>Hi");
    free(out);
    /* LLaMA 2 built-in: alternation enforced */
    const ChatMessage bad[] = { { "user", "a" }, { "user", "b" } };
    ck_assert_int_eq(chat_render_builtin(CHAT_FMT_LLAMA2, bad, 2, "<s>", "</s>", 1, &out, err, sizeof err), CHAT_ERR_TEMPLATE);
    ck_assert_ptr_nonnull(strstr(err, "alternate"));
    ck_assert_int_eq(chat_render_builtin(CHAT_FMT_NONE, bad, 2, "<s>", "</s>", 1, &out, err, sizeof err), CHAT_ERR_UNSUPPORTED);
}
END_TEST

/* ---- the interpreter on small templates ------------------------------------------ */

static char *render1(const char *tpl, int *rc, char *err, size_t errlen)
{
    const ChatMessage msgs[] = { { "system", "S" }, { "user", "U" }, { "assistant", NULL } };
    char *out = NULL;
    *rc = chat_render(tpl, msgs, 3, "<s>", NULL, 1, &out, err, errlen);
    return out;
}

START_TEST(t_small_templates)
{
    static const struct { const char *tpl, *want; } cases[] = {
        { "{{ messages[2].content is none }}{{ bos_token }}{{ eos_token is defined }}", "True<s>False" },
        { "{% for m in messages %}{% generation %}{{ m.role[0] }}{% endgeneration %}{% endfor %}", "sua" },
        { "{% set x %}a{{ 1 + 1 }}{% endset %}{{ x }}|{{ x|length }}", "a2|2" },
        { "{{ '}}' ~ \"%}\" }}{# {{ not a tag }} #}", "}}%}" },
        { "{{ {'a': {'b': [1, {'c': 2}]}}['a'].b[1].c }}", "2" },
        { "{{ tools is none }}{{ documents is none }}{{ add_generation_prompt }}", "TrueTrueTrue" },
        { "{{ 'a' if messages|length > 2 }}{{ 'b' if false else 'c' }}", "ac" },
        { "{{ 9223372036854775807 }} {{ -9223372036854775807 - 1 }}", "9223372036854775807 -9223372036854775808" },
        { "{% for a, b in [[1, 2], (3, 4)] %}{{ a * b }},{% endfor %}", "2,12," },
        { "{{ 'x' in messages|map(attribute='role')|list }}{{ 'user' in messages|map(attribute='role') }}", "FalseTrue" },
        { "{{ strftime_now('%B %d, %Y') }}", "July 26, 2024" },
        { "{%- set ns = namespace(a=[]) -%}{%- set ns.a = ns.a + [1] -%}{{ ns.a }}", "[1]" },
        { "\r\nline\r\n{% if true %}\r\nx\r\n{% endif %}\r\n", "\nline\nx\n" },
        { "{{ 2 ** 62 }} {{ 2 ** -1 }} {{ 10 // -3 }} {{ 1.5 // 1 }} {{ -1.5 % 1 }}", "4611686018427387904 0.5 -4 1.0 0.5" },
        { "{{ 'é'|upper }}{{ 'AbC'.lower() }}{{ '1st word'|title }}{{ '1st word'.title() }}", "éabc1st Word1St Word" },
        { "{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ (1, 2) == [1, 2] }}", "TrueTrueFalse" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        char err[512];
        char *out = render1(cases[i].tpl, &rc, err, sizeof err);
        ck_assert_msg(rc == CHAT_OK, "%s: %s", cases[i].tpl, err);
        ck_assert_msg(strcmp(out, cases[i].want) == 0, "%s: got '%s', want '%s'", cases[i].tpl, out, cases[i].want);
        free(out);
    }
}
END_TEST

START_TEST(t_errors_name_position)
{
    static const struct { const char *tpl; int rc; const char *msg; } cases[] = {
        { "ab\n  {% macro m() %}{% endmacro %}", CHAT_ERR_UNSUPPORTED, "chat_template:2:6: error: unsupported tag 'macro'" },
        { "{% include 'x.j2' %}", CHAT_ERR_UNSUPPORTED, "chat_template:1:4: error: unsupported tag 'include'" },
        { "{{ x|wordwrap(3) }}", CHAT_ERR_UNSUPPORTED, "chat_template:1:5: error: unsupported filter 'wordwrap'" },
        { "{{ x is prime }}", CHAT_ERR_UNSUPPORTED, "chat_template:1:6: error: unsupported test 'prime'" },
        { "{% if true %}x", CHAT_ERR_UNSUPPORTED, "chat_template:1:15: error: unexpected end of template: missing '{% elif %}'" },
        { "{% for x in y %}", CHAT_ERR_UNSUPPORTED, "missing '{% endfor %}'" },
        { "{{ 'abc }}", CHAT_ERR_UNSUPPORTED, "chat_template:1:4: error: unterminated string literal" },
        { "{{ }}", CHAT_ERR_UNSUPPORTED, "chat_template:1:4: error: expected an expression, found end of expression '}}'" },
        { "{{ 1 +", CHAT_ERR_UNSUPPORTED, "chat_template:1:1: error: unclosed tag: missing '}}'" },
        { "{# never closed", CHAT_ERR_UNSUPPORTED, "missing end of comment tag" },
        { "{% frobnicate %}", CHAT_ERR_UNSUPPORTED, "chat_template:1:4: error: unknown tag 'frobnicate'" },
        { "{% endif %}", CHAT_ERR_UNSUPPORTED, "unexpected 'endif'" },
        { "{% break %}", CHAT_ERR_UNSUPPORTED, "'break' outside of a loop" },
        { "{{ a ]] }}", CHAT_ERR_UNSUPPORTED, "unexpected ']'" },
        { "{{ 'x' % 3 }}", CHAT_ERR_UNSUPPORTED, "'%' string formatting" },
        { "{{ messages.x.y }}", CHAT_ERR_TEMPLATE, "chat_template:1:14: error: 'list' has no attribute 'x'" },
        { "{{ messages[0].tool_calls[0] }}", CHAT_ERR_TEMPLATE, "'dict object' has no attribute 'tool_calls'" },
        { "{{ 'a' + 1 }}", CHAT_ERR_TEMPLATE, "unsupported operand type(s) for +: 'str' and 'int'" },
        { "{{ 1 < 'a' }}", CHAT_ERR_TEMPLATE, "'<' not supported between instances of 'int' and 'str'" },
        { "{{ 1 // 0 }}", CHAT_ERR_TEMPLATE, "integer division or modulo by zero" },
        { "{{ nope + 1 }}", CHAT_ERR_TEMPLATE, "'nope' is undefined" },
        { "{{ nope() }}", CHAT_ERR_TEMPLATE, "'nope' is undefined" },
        { "{% for x in 3 %}{% endfor %}", CHAT_ERR_TEMPLATE, "'int' object is not iterable" },
        { "{% set a, b = [1] %}", CHAT_ERR_TEMPLATE, "cannot unpack 1 values into 2 names" },
        { "{% set n.x = 1 %}", CHAT_ERR_TEMPLATE, "non-namespace object 'n'" },
        { "{{ 2 ** 64 }}", CHAT_ERR_TEMPLATE, "integer overflow" },
        { "{{ x|tojson(sort_keys=true) }}", CHAT_ERR_UNSUPPORTED, "unsupported argument 'sort_keys' to filter 'tojson'" },
        { "{{ strftime_now('%Z') }}", CHAT_ERR_UNSUPPORTED, "unsupported directive '%Z'" },
        { "{{ raise_exception('bad ' ~ messages|length) }}", CHAT_ERR_TEMPLATE, "template raised an exception: bad 3" },
        { "{{ '\\N{DASH}' }}", CHAT_ERR_UNSUPPORTED, "\\N{...}" },
        { "{{ 99999999999999999999 }}", CHAT_ERR_UNSUPPORTED, "integer literal out of range" },
        { "{{ a @ b }}", CHAT_ERR_UNSUPPORTED, "unexpected character '@'" },
        { "{% for x in y recursive %}{% endfor %}", CHAT_ERR_UNSUPPORTED, "recursive loops" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        char err[512];
        char *out = render1(cases[i].tpl, &rc, err, sizeof err);
        ck_assert_msg(rc == cases[i].rc, "%s: rc %d, want %d (%s)", cases[i].tpl, rc, cases[i].rc, err);
        ck_assert_ptr_null(out);
        ck_assert_msg(strstr(err, cases[i].msg) != NULL, "%s: error '%s' lacks '%s'", cases[i].tpl, err, cases[i].msg);
        ck_assert_msg(strncmp(err, "chat_template:", 14) == 0, "%s: '%s'", cases[i].tpl, err);
    }
    /* a short error buffer truncates, never overflows */
    int rc;
    char small[16];
    memset(small, 'x', sizeof small);
    ck_assert_ptr_null(render1("{% macro %}", &rc, small, 12));
    ck_assert_int_eq((int)strlen(small), 11);
    ck_assert_int_eq(small[12], 'x');
}
END_TEST

START_TEST(t_limits)
{
    static const char *const hostile[] = {
        "{{ 'x' * 100000000 }}",
        "{{ range(100000000)|list }}",
        "{% for a in range(1000000) %}{% for b in range(1000000) %}{% endfor %}{% endfor %}",
        "{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "{{ [1] * 100000000 }}",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        int rc;
        char err[256];
        char *out = render1(hostile[i], &rc, err, sizeof err);
        ck_assert_msg(rc == CHAT_ERR_TEMPLATE, "%s: rc %d (%s)", hostile[i], rc, err);
        ck_assert_ptr_null(out);
    }
    /* Work the limits above let through (found while writing fuzz_chat:
     * each took minutes): a 60 MB string scanned in a million-iteration
     * loop or thousands of times in one expression, a quadratic find,
     * a million-element list of one character per byte. */
    static const struct { const char *t, *want; } slow[] = {
        { "{% set s = 'a' * 60000000 %}{% for i in range(1000000) %}{% if s|length %}{% endif %}{% endfor %}",
          "error: the template needs too much work (more than 1073741824 units" },
        { "{% set s = 'a' * 60000000 %}{% for i in range(1000000) %}{{ 'b' in s }}{% endfor %}",
          "error: the template needs too much work" },
        { "{% set s = 'a' * 60000000 %}{% set t = s %}{% for i in range(1000000) %}{{ s == t }}{% endfor %}",
          "error: the template needs too much work" },
        { "{% for i in range(1000000) %}{{ 1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1 }}{% endfor %}",
          "error: the template needs too much work" },
        { "{{ ('a' * 60000000)[0] }}", "error: the template used more than 536870912 bytes of memory" },
    };
    for (size_t i = 0; i < sizeof slow / sizeof slow[0]; i++) {
        int rc;
        char err[256];
        char *out = render1(slow[i].t, &rc, err, sizeof err);
        ck_assert_msg(rc == CHAT_ERR_TEMPLATE && strstr(err, slow[i].want), "%s: rc %d (%s)", slow[i].t, rc, err);
        ck_assert_ptr_null(out);
    }
    /* str.find/count as Python computes them (now with memmem); a
     * 40 MB find that used to compare at every offset is quick */
    static const struct { const char *t, *want; } ok[] = {
        { "{{ 'ababab'.find('ba') }} {{ 'ababab'.count('ab') }} {{ 'aaaa'.count('aa') }} {{ 'xyz'.find('q') }}",
          "1 3 2 -1" },
        { "{{ 'xyz'.find('') }} {{ 'xyz'.count('') }} {{ '\u00e9t\u00e9'.find('t') }} {{ ''.count('') }}", "0 4 1 1" },
        { "{% set s = 'a' * 40000000 %}{{ s.find('a' * 20000000 ~ 'b') }}", "-1" },
        { "{% set s = 'a' * 1000000 %}{% for i in range(100) %}{{ s|length if loop.last }}{% endfor %}", "1000000" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc;
        char err[256];
        char *out = render1(ok[i].t, &rc, err, sizeof err);
        ck_assert_msg(rc == CHAT_OK, "%s: rc %d (%s)", ok[i].t, rc, err);
        ck_assert_str_eq(out, ok[i].want);
        free(out);
    }
    /* deep nesting of every kind is an error, not a stack overflow */
    size_t depth = 100000;
    char *deep = malloc(depth * 12 + 64);
    const char *const open[] = { "(", "[", "not ", "-", "{% if 1 %}", "{'a': " };
    for (int kind = 0; kind < 6; kind++) {
        char *p = deep;
        p += sprintf(p, kind == 4 ? "" : "{{ ");
        for (size_t k = 0; k < depth; k++) p += sprintf(p, "%s", open[kind]);
        p += sprintf(p, kind == 4 ? "x" : "1 }}");
        int rc;
        char err[256];
        char *out = render1(deep, &rc, err, sizeof err);
        ck_assert_msg(rc == CHAT_ERR_UNSUPPORTED, "nesting kind %d: rc %d (%s)", kind, rc, err);
        ck_assert_ptr_null(out);
    }
    free(deep);
}
END_TEST

static uint64_t lcg(uint64_t *x) { *x = *x * 6364136223846793005ull + 1442695040888963407ull; return *x >> 33; }

START_TEST(t_prefixes_and_corruptions_never_crash)
{
    cJSON *tj = load_fixture("templates.json"), *exp = load_fixture("expected.json");
    const cJSON *t;
    ChatMessage msgs[16];
    int n = conversation(exp, "multi_turn", msgs, 16);
    uint64_t rs = 7;
    long runs = 0, ok = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(tj, "templates")) {
        const char *src = jstr(t, "template");
        size_t len = strlen(src);
        char *buf = malloc(len + 1);
        for (size_t cut = 0; cut <= len; cut++) {          /* every prefix */
            memcpy(buf, src, cut);
            buf[cut] = 0;
            char *out = NULL, err[256];
            int rc = chat_render(buf, msgs, n, "<s>", "</s>", 1, &out, err, sizeof err);
            ck_assert(rc == CHAT_OK || rc == CHAT_ERR_TEMPLATE || rc == CHAT_ERR_UNSUPPORTED);
            ck_assert((rc == CHAT_OK) == (out != NULL));
            if (rc != CHAT_OK) ck_assert(strncmp(err, "chat_template:", 14) == 0);
            ok += rc == CHAT_OK;
            free(out);
            runs++;
        }
        static const char noise[] = "{}%#-+()[]'\"|.,:~*/ \n\\ax0";
        for (int m = 0; m < 300; m++) {                    /* random corruptions */
            memcpy(buf, src, len + 1);
            int edits = 1 + (int)(lcg(&rs) % 4);
            for (int e = 0; e < edits && len; e++) buf[lcg(&rs) % len] = noise[lcg(&rs) % (sizeof noise - 1)];
            char *out = NULL, err[256];
            int rc = chat_render(buf, msgs, n, "<s>", "</s>", 1, &out, err, sizeof err);
            ck_assert(rc == CHAT_OK || rc == CHAT_ERR_TEMPLATE || rc == CHAT_ERR_UNSUPPORTED);
            ck_assert((rc == CHAT_OK) == (out != NULL));
            free(out);
            runs++;
        }
        free(buf);
    }
    ck_assert_int_gt(ok, 0);
    fprintf(stderr, "chat robustness: %ld mangled templates rendered or rejected cleanly (%ld rendered)\n", runs, ok);
    cJSON_Delete(tj);
    cJSON_Delete(exp);
}
END_TEST

extern Suite *suite_chat(void);
Suite *suite_chat(void)
{
    Suite *s = suite_create("chat");
    TCase *tc = tcase_create("jinja2");
    tcase_add_test(tc, t_fixtures_byte_for_byte);
    tcase_add_test(tc, t_random_templates_match_jinja2);
    tcase_add_test(tc, t_shared_tokenizer_configs);
    tcase_add_test(tc, t_config_variants);
    tcase_add_test(tc, t_small_templates);
    tcase_add_test(tc, t_errors_name_position);
    suite_add_tcase(s, tc);
    tc = tcase_create("fallback");
    tcase_add_test(tc, t_builtin_formats_match_templates);
    tcase_add_test(tc, t_fallback);
    suite_add_tcase(s, tc);
    tc = tcase_create("robustness");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t_limits);
    tcase_add_test(tc, t_prefixes_and_corruptions_never_crash);
    suite_add_tcase(s, tc);
    return s;
}
