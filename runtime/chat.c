/* chat.c - chat templates: the entry points, built-in prompt formats, and
 * reading tokenizer_config.json.
 *
 * Chat templates are short programs: a loop over the messages, a few
 * conditions, string concatenation, a filter or two.  They are also
 * unforgiving: a missing newline or a space after [/INST] changes what the
 * model sees, so "almost Jinja" is not good enough.  The interpreter
 * follows Jinja 3.1 closely in the places templates exercise, and the
 * reference renderings in tests/fixtures/chat come from the real jinja2 in
 * transformers' environment (trim_blocks, lstrip_blocks).
 *
 * One call of chat_render():
 *   1. normalise newlines (\r\n and \r become \n) and drop one trailing
 *      newline, as Jinja does without keep_trailing_newline (here);
 *   2. lex: text and tags, whitespace control (chat_parse.c, jx_lex);
 *   3. parse into a tree with Jinja's grammar (chat_parse.c, jx_parse);
 *   4. evaluate against globals, the template's scope and one scope per
 *      loop, printing values as Python does (chat_eval.c, chat_value.c).
 * chat_jinja.h describes how those files share the work.
 *
 * Errors unwind with longjmp to chat_render(); every allocation lives in
 * one arena freed there, so nothing leaks on any path.  Limits keep a
 * hostile template from hanging or exhausting memory: nesting depth 200,
 * output and any one string 64 MiB, range() 1,000,000 elements,
 * 1,000,000 loop iterations in all, 512 MiB of memory, and 2^30 units of
 * work (bytes scanned or copied, elements visited, 64 per expression or
 * statement: about a second; chat_jinja.h).
 *
 * The built-in formats (chat_render_builtin) are plain C string building,
 * written to give byte for byte what their models' templates give for
 * conversations without tools; chat_apply() uses them only when a template
 * cannot be interpreted (CHAT_ERR_UNSUPPORTED), never to overrule a
 * template that rejects a conversation.
 */
#include "chat.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_jinja.h"

/* ---- the public entry points --------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) UEAJ_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int chat_render(const char *template_src, const ChatMessage *msgs, int n,
                const char *bos, const char *eos, int add_generation_prompt,
                char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = 0;
    if (!template_src) { set_err(err, errlen, "chat_template: error: no chat template"); return CHAT_ERR_UNSUPPORTED; }
    if (n < 0 || (n > 0 && !msgs)) { set_err(err, errlen, "chat_template: error: bad message list"); return CHAT_ERR_TEMPLATE; }
    J *j = calloc(1, sizeof *j);
    if (!j) { set_err(err, errlen, "chat_template: error: out of memory"); return CHAT_ERR_TEMPLATE; }
    arena_init(&j->a);
    j->err = err;
    j->errlen = errlen;
    int rc = CHAT_OK;
    if (setjmp(j->jb)) {
        rc = j->rc;
        goto done;
    }
    /* 1. newlines as Jinja normalises them, minus one trailing newline */
    size_t len = strlen(template_src);
    char *src = arena_alloc(&j->a, len + 1);
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (template_src[i] == '\r') { src[w++] = '\n'; if (i + 1 < len && template_src[i + 1] == '\n') i++; }
        else src[w++] = template_src[i];
    }
    if (w && src[w - 1] == '\n') w--;
    src[w] = 0;
    j->src = src;
    j->n = w;
    /* 2-4. */
    jx_lex(j);
    NV body = jx_parse(j);
    SB result = { 0 };
    jx_sb_put(j, &result, "", 0);
    jx_exec(j, body, msgs, n, bos, eos, add_generation_prompt, &result);
    *out = malloc(result.n + 1);
    if (!*out) { set_err(err, errlen, "chat_template: error: out of memory"); rc = CHAT_ERR_TEMPLATE; goto done; }
    memcpy(*out, result.p, result.n + 1);
done:
    arena_free(&j->a);
    free(j);
    return rc;
}

/* ---- built-in formats ------------------------------------------------------------------ */

typedef struct OB { char *p; size_t n, cap; int oom; } OB;     /* malloc'd output */
static void ob_put(OB *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        while (c < b->n + n + 1) c *= 2;
        char *p = realloc(b->p, c);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void ob_puts(OB *b, const char *s) { ob_put(b, s, strlen(s)); }
static void ob_strip(OB *b, const char *s)
{
    Str r = jx_py_strip(cstr(s ? s : ""), NULL, 3);
    ob_put(b, r.s, r.n);
}

int chat_render_builtin(ChatFormat f, const ChatMessage *msgs, int n,
                        const char *bos, const char *eos, int add_generation_prompt,
                        char **out, char *err, size_t errlen)
{
    OB b = { 0 };
    *out = NULL;
    if (err && errlen) err[0] = 0;
    bos = bos ? bos : "";
    eos = eos ? eos : "";
    if ((f == CHAT_FMT_LLAMA2 || f == CHAT_FMT_LLAMA31) && n == 0) {
        set_err(err, errlen, "chat: error: the %s format needs at least one message", chat_format_name(f));
        return CHAT_ERR_TEMPLATE;
    }
    ob_puts(&b, "");
    switch (f) {
    case CHAT_FMT_CHATML:
        for (int i = 0; i < n; i++) {
            ob_puts(&b, "<|im_start|>"); ob_puts(&b, msgs[i].role ? msgs[i].role : ""); ob_puts(&b, "\n");
            ob_puts(&b, msgs[i].content ? msgs[i].content : ""); ob_puts(&b, "<|im_end|>\n");
        }
        if (add_generation_prompt) ob_puts(&b, "<|im_start|>assistant\n");
        break;
    case CHAT_FMT_LLAMA2: {
        int first = msgs[0].role && strcmp(msgs[0].role, "system") == 0;
        const char *sys = first ? (msgs[0].content ? msgs[0].content : "") : NULL;
        for (int i = first, k = 0; i < n; i++, k++) {
            int user = msgs[i].role && strcmp(msgs[i].role, "user") == 0;
            if (user != (k % 2 == 0)) {
                free(b.p);
                set_err(err, errlen, "chat: error: Conversation roles must alternate user/assistant/user/assistant/...");
                return CHAT_ERR_TEMPLATE;
            }
            OB content = { 0 };
            ob_puts(&content, "");
            if (k == 0 && sys) { ob_puts(&content, "<<SYS>>\n"); ob_puts(&content, sys); ob_puts(&content, "\n<</SYS>>\n\n"); }
            ob_puts(&content, msgs[i].content ? msgs[i].content : "");
            if (content.oom) b.oom = 1;
            else if (user) { ob_puts(&b, bos); ob_puts(&b, "[INST] "); ob_strip(&b, content.p); ob_puts(&b, " [/INST]"); }
            else if (msgs[i].role && strcmp(msgs[i].role, "assistant") == 0) {
                ob_puts(&b, " "); ob_strip(&b, content.p); ob_puts(&b, " "); ob_puts(&b, eos);
            }
            free(content.p);
        }
        break;
    }
    case CHAT_FMT_LLAMA3: case CHAT_FMT_LLAMA31: {
        int i = 0;
        if (f == CHAT_FMT_LLAMA3 && n) ob_puts(&b, bos);
        if (f == CHAT_FMT_LLAMA31) {
            ob_puts(&b, bos);
            ob_puts(&b, "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
                        "Today Date: 26 Jul 2024\n\n");
            if (msgs[0].role && strcmp(msgs[0].role, "system") == 0) { ob_strip(&b, msgs[0].content); i = 1; }
            ob_puts(&b, "<|eot_id|>");
        }
        for (; i < n; i++) {
            const char *role = msgs[i].role ? msgs[i].role : "";
            int tool = f == CHAT_FMT_LLAMA31 && (!strcmp(role, "tool") || !strcmp(role, "ipython"));
            ob_puts(&b, "<|start_header_id|>"); ob_puts(&b, tool ? "ipython" : role); ob_puts(&b, "<|end_header_id|>\n\n");
            if (tool) ob_puts(&b, msgs[i].content ? msgs[i].content : "");
            else ob_strip(&b, msgs[i].content);
            ob_puts(&b, "<|eot_id|>");
        }
        if (add_generation_prompt) ob_puts(&b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
        break;
    }
    default:
        free(b.p);
        set_err(err, errlen, "chat: error: no built-in chat format");
        return CHAT_ERR_UNSUPPORTED;
    }
    if (b.oom) { free(b.p); set_err(err, errlen, "chat: error: out of memory"); return CHAT_ERR_TEMPLATE; }
    *out = b.p;
    return CHAT_OK;
}

ChatFormat chat_detect_format(const char *t)
{
    if (!t) return CHAT_FMT_NONE;
    if (strstr(t, "<|start_header_id|>"))
        return strstr(t, "Cutting Knowledge Date") ? CHAT_FMT_LLAMA31 : CHAT_FMT_LLAMA3;
    if (strstr(t, "<|im_start|>")) return CHAT_FMT_CHATML;
    if (strstr(t, "[INST]")) return CHAT_FMT_LLAMA2;
    return CHAT_FMT_NONE;
}

const char *chat_format_name(ChatFormat f)
{
    switch (f) {
    case CHAT_FMT_CHATML:  return "ChatML";
    case CHAT_FMT_LLAMA2:  return "LLaMA 2";
    case CHAT_FMT_LLAMA3:  return "LLaMA 3";
    case CHAT_FMT_LLAMA31: return "LLaMA 3.1";
    default:               return "none";
    }
}

ChatFormat chat_format_from_name(const char *name)
{
    if (!name) return CHAT_FMT_NONE;
    if (!strcmp(name, "chatml")) return CHAT_FMT_CHATML;
    if (!strcmp(name, "llama2")) return CHAT_FMT_LLAMA2;
    if (!strcmp(name, "llama3")) return CHAT_FMT_LLAMA3;
    if (!strcmp(name, "llama3.1") || !strcmp(name, "llama31")) return CHAT_FMT_LLAMA31;
    return CHAT_FMT_NONE;
}

int chat_apply(const char *template_src, const ChatMessage *msgs, int n,
               const char *bos, const char *eos, int add_generation_prompt,
               char **out, ChatFormat *fallback, char *err, size_t errlen)
{
    if (fallback) *fallback = CHAT_FMT_NONE;
    int rc = chat_render(template_src, msgs, n, bos, eos, add_generation_prompt, out, err, errlen);
    ChatFormat f = chat_detect_format(template_src);
    if (rc != CHAT_ERR_UNSUPPORTED || f == CHAT_FMT_NONE) return rc;
    char first[512];
    snprintf(first, sizeof first, "%s", err && errlen ? err : "chat_template: error: unsupported");
    char e2[512];
    rc = chat_render_builtin(f, msgs, n, bos, eos, add_generation_prompt, out, e2, sizeof e2);
    if (rc != CHAT_OK) { set_err(err, errlen, "%s; the built-in %s format failed too: %s", first, chat_format_name(f), e2); return rc; }
    if (fallback) *fallback = f;
    set_err(err, errlen, "%s; using the built-in %s format instead", first, chat_format_name(f));
    return CHAT_OK;
}

/* ---- tokenizer_config.json ------------------------------------------------------------- */

static char *json_token(const cJSON *v)
{
    if (cJSON_IsString(v)) return strdup(v->valuestring);
    if (cJSON_IsObject(v)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (cJSON_IsString(c)) return strdup(c->valuestring);
    }
    return NULL;
}

int chat_config_load(const char *path, ChatConfig *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    FILE *f = fopen(path, "rb");
    if (!f) { set_err(err, errlen, "%s: error: cannot open: %s", path, strerror(errno)); return -1; }
    char *text = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = cap ? cap * 2 : 65536 * 2;
            if (cap > ((size_t)256 << 20)) { free(text); fclose(f); set_err(err, errlen, "%s: error: file too large", path); return -1; }
            char *p = realloc(text, cap + 1);
            if (!p) { free(text); fclose(f); set_err(err, errlen, "%s: error: out of memory", path); return -1; }
            text = p;
        }
        size_t got = fread(text + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    text[n] = 0;
    cJSON *root = cJSON_ParseWithLength(text, n);
    free(text);
    if (!cJSON_IsObject(root)) { cJSON_Delete(root); set_err(err, errlen, "%s: error: not a JSON object", path); return -1; }
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(root, "chat_template");
    if (cJSON_IsString(ct)) cfg->chat_template = strdup(ct->valuestring);
    else if (cJSON_IsArray(ct)) {
        const cJSON *it, *pick = NULL;
        cJSON_ArrayForEach(it, ct) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
            if (!pick || (cJSON_IsString(nm) && !strcmp(nm->valuestring, "default"))) pick = it;
        }
        const cJSON *tt = pick ? cJSON_GetObjectItemCaseSensitive(pick, "template") : NULL;
        if (cJSON_IsString(tt)) cfg->chat_template = strdup(tt->valuestring);
    }
    cfg->bos_token = json_token(cJSON_GetObjectItemCaseSensitive(root, "bos_token"));
    cfg->eos_token = json_token(cJSON_GetObjectItemCaseSensitive(root, "eos_token"));
    cJSON_Delete(root);
    return 0;
}

void chat_config_free(ChatConfig *cfg)
{
    if (!cfg) return;
    free(cfg->chat_template);
    free(cfg->bos_token);
    free(cfg->eos_token);
    memset(cfg, 0, sizeof *cfg);
}
