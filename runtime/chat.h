/* chat.h - turning a conversation into a prompt with the checkpoint's chat
 * template.
 *
 * A HuggingFace checkpoint ships its prompt format as a Jinja2 template, the
 * `chat_template` string of tokenizer_config.json.  chat_render() runs such a
 * template with a small Jinja2 interpreter (runtime/chat*.c) in the
 * environment transformers' apply_chat_template uses: trim_blocks and
 * lstrip_blocks on, a trailing newline of the template dropped, the
 * variables `messages` (a list of {role, content}), `bos_token`,
 * `eos_token` (undefined when NULL), `add_generation_prompt`, `tools` and
 * `documents` (none), and the functions raise_exception(msg),
 * strftime_now(fmt), namespace(...), range(...) and dict(...).
 * strftime_now formats a fixed date, CHAT_FIXED_DATE (26 Jul 2024, the
 * date the Llama 3.1 template falls back to), never the clock, so a prompt
 * is a function of the conversation alone.
 *
 * The supported subset, which covers the LLaMA 2, LLaMA 3 / 3.1 / 3.2 and
 * ChatML (SmolLM2, Qwen 2.5) templates (their tool-calling branches parse,
 * but there is no way to pass tools: `tools` is always none):
 * {{ }}, {% if/elif/else %}, {% for x in xs [if c] %} ... {% else %}
 * (with loop.index/index0/revindex/revindex0/first/last/length/previtem/
 * nextitem, tuple targets, break/continue), {% set x = e %},
 * {% set a, b = e %}, {% set ns.attr = e %}, {% set x %}...{% endset %},
 * {% generation %}, comments, whitespace control (- and +), every Jinja
 * operator and literal, is-tests, about thirty filters and the common str
 * and dict methods (see chat_eval.c).  Anything else - macros, includes, call
 * blocks, unknown filters, tests or methods - is an error naming the
 * construct and its line and column, never a crash.  Known departures:
 * upper/lower/title change ASCII letters only; integers are 64-bit (an
 * overflow is an error, Python would grow).
 *
 * Errors: "chat_template:LINE:COL: error: MESSAGE" in err (truncated to
 * errlen), with a return value saying what kind of failure it was:
 *   CHAT_ERR_TEMPLATE      the template rejected the conversation or failed
 *                          at run time as Jinja would (raise_exception,
 *                          undefined attribute access, a type error);
 *   CHAT_ERR_UNSUPPORTED   the template is malformed or uses something
 *                          outside the subset; chat_apply() then falls back
 *                          to a built-in format.
 */
#ifndef UEAJ_CHAT_H
#define UEAJ_CHAT_H

#include <stddef.h>

#define CHAT_FIXED_DATE "2024-07-26"

enum { CHAT_OK = 0, CHAT_ERR_TEMPLATE = -1, CHAT_ERR_UNSUPPORTED = -2 };

typedef struct ChatMessage {
    const char *role;      /* "system", "user", "assistant", ... */
    const char *content;   /* NULL: none */
} ChatMessage;

/* Renders template_src for msgs[0..n).  On success *out is a malloc'd,
 * NUL-terminated prompt (free() it).  On failure *out is NULL. */
int chat_render(const char *template_src, const ChatMessage *msgs, int n,
                const char *bos, const char *eos, int add_generation_prompt,
                char **out, char *err, size_t errlen);

/* Built-in formats, for templates that cannot be interpreted.  Each gives
 * exactly what its model's real template gives for plain conversations
 * (tests/fixtures/chat compares them):
 *   CHATML   <|im_start|>ROLE\nCONTENT<|im_end|>\n ... (no default system)
 *   LLAMA2   Llama-2-chat: BOS[INST] <<SYS>>\n..\n<</SYS>>\n\nUSER [/INST] ASSISTANT EOS
 *            (roles must alternate user/assistant: CHAT_ERR_TEMPLATE)
 *   LLAMA3   BOS<|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>...
 *   LLAMA31  LLAMA3 with Llama 3.1/3.2's system block (knowledge cutoff and
 *            "Today Date: 26 Jul 2024") always first. */
typedef enum ChatFormat {
    CHAT_FMT_NONE, CHAT_FMT_CHATML, CHAT_FMT_LLAMA2, CHAT_FMT_LLAMA3, CHAT_FMT_LLAMA31
} ChatFormat;

/* From markers in the template: "<|start_header_id|>" (LLAMA31 if it also
 * has "Cutting Knowledge Date", else LLAMA3), "<|im_start|>" (CHATML),
 * "[INST]" (LLAMA2); CHAT_FMT_NONE for none of them or NULL. */
ChatFormat  chat_detect_format(const char *template_src);
const char *chat_format_name(ChatFormat f);      /* "ChatML", "LLaMA 2", ... */
ChatFormat  chat_format_from_name(const char *name); /* "chatml", "llama2", "llama3", "llama3.1" */

int chat_render_builtin(ChatFormat f, const ChatMessage *msgs, int n,
                        const char *bos, const char *eos, int add_generation_prompt,
                        char **out, char *err, size_t errlen);

/* chat_render(), and when it returns CHAT_ERR_UNSUPPORTED and the template
 * has a recognised marker, the built-in format instead: then it returns
 * CHAT_OK, *fallback (if not NULL) is that format, and err holds a note
 * "chat_template:L:C: error: ...; using the built-in FORMAT format
 * instead" for the caller to print.  Otherwise *fallback is
 * CHAT_FMT_NONE and the result is chat_render()'s. */
int chat_apply(const char *template_src, const ChatMessage *msgs, int n,
               const char *bos, const char *eos, int add_generation_prompt,
               char **out, ChatFormat *fallback, char *err, size_t errlen);

/* The chat-related fields of a tokenizer_config.json: chat_template (a
 * string, or from a list of {name, template} the one named "default", else
 * the first), bos_token and eos_token (a string or an {"content": ...}
 * object).  Absent or null fields are NULL.  Returns 0, or -1 with err. */
typedef struct ChatConfig {
    char *chat_template;
    char *bos_token;
    char *eos_token;
} ChatConfig;

int  chat_config_load(const char *path, ChatConfig *cfg, char *err, size_t errlen);
void chat_config_free(ChatConfig *cfg);

#endif
