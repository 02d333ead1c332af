/* fuzz_chat.c - bytes as a Jinja chat template (the chat_template of a
 * checkpoint's tokenizer_config.json) into chat_render and chat_apply
 * (runtime/chat*.c) with fixed conversations.
 *
 * A template is a program from the checkpoint's author: every input must
 * render or give a message "chat_template:LINE:COL: error: ...", never a
 * crash, a leak, undefined behaviour, a hang or unbounded memory (the
 * interpreter's limits, chat_jinja.h).  Each template is rendered for a
 * plain four-message conversation with a generation prompt, for an empty
 * one without BOS/EOS, and for one with odd roles and a NULL content;
 * chat_apply must agree with chat_render except where it falls back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "chat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render(const char *src, const ChatMessage *m, int n, const char *bos, const char *eos, int gen)
{
    char err[512], err2[1024];
    char *out = NULL, *out2 = NULL;
    int rc = chat_render(src, m, n, bos, eos, gen, &out, err, sizeof err);
    if ((rc == CHAT_OK) != (out != NULL)) abort();
    if (rc != CHAT_OK && strncmp(err, "chat_template:", 14) != 0) abort();
    ChatFormat fb;
    int rc2 = chat_apply(src, m, n, bos, eos, gen, &out2, &fb, err2, sizeof err2);
    /* the same, unless a template that cannot be interpreted has a
     * built-in format to fall back on (which may fail in its own way) */
    int may_fall_back = rc == CHAT_ERR_UNSUPPORTED && chat_detect_format(src) != CHAT_FMT_NONE;
    if (!may_fall_back && (fb != CHAT_FMT_NONE || rc2 != rc || (out && strcmp(out, out2)))) abort();
    if (may_fall_back && rc2 == CHAT_OK && fb == CHAT_FMT_NONE) abort();
    free(out);
    free(out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size + 1);
    if (!src) return 0;
    memcpy(src, data, size);
    src[size] = '\0';
    static const ChatMessage plain[] = {
        {"system", "You are a helpful assistant."},
        {"user", "Hello! What is 2+2?"},
        {"assistant", "2+2 = 4."},
        {"user", "And h\xC3\xA9llo {{ 'not code' }} <|eot_id|>?"},
    };
    static const ChatMessage odd[] = {
        {"tool", NULL}, {"user", ""}, {"user", "\n  spaced  \n"}, {"", "x"},
    };
    render(src, plain, 4, "<s>", "</s>", 1);
    render(src, NULL, 0, NULL, NULL, 0);
    render(src, odd, 4, "<|begin_of_text|>", "<|eot_id|>", 0);
    (void)chat_detect_format(src);
    free(src);
    return 0;
}
