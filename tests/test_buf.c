/* test_buf.c - tests of compiler/buf.c (the string builder).
 *
 * buf_c_string is the one place user text (names, ueajsum source, checkpoint
 * paths) enters generated C as a string literal.  Two independent checks
 * that it can never inject code:
 *  - a strict decoder written here accepts only a quote, printable ASCII
 *    other than '"' '\\' '?', and three-digit octal escapes, then a final
 *    quote, and must give back the input bytes exactly (on hostile strings
 *    and 2000 random byte strings);
 *  - the literals of the hostile strings are compiled by the system C
 *    compiler into a program that prints them, and the bytes must come
 *    back unchanged (skipped when no `cc` is installed).
 */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

START_TEST(puts_putc_printf)
{
    Buf b;
    buf_init(&b);
    ck_assert_uint_eq(b.len, 0);
    buf_puts(&b, "abc");
    buf_putc(&b, 'd');
    buf_printf(&b, "%d-%s", 12, "x");
    ck_assert_str_eq(b.p, "abcd12-x");
    ck_assert_uint_eq(b.len, 8);
    ck_assert_uint_ge(b.cap, b.len + 1);
    buf_puts(&b, "");
    ck_assert_uint_eq(b.len, 8);
    /* growth across many reallocations keeps the content */
    for (int i = 0; i < 10000; i++) buf_printf(&b, "%04d", i % 10000);
    ck_assert_uint_eq(b.len, 8 + 40000);
    ck_assert_int_eq(strncmp(b.p + 8, "000000010002", 12), 0);
    ck_assert_int_eq(strncmp(b.p + b.len - 4, "9999", 4), 0);
    ck_assert_int_eq(b.p[b.len], 0);
    /* one printf longer than the initial capacity */
    buf_printf(&b, "%5000s", "z");
    ck_assert_uint_eq(b.len, 8 + 40000 + 5000);
    ck_assert_int_eq(b.p[b.len - 1], 'z');
    buf_free(&b);
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

static void via_vprintf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

START_TEST(vprintf_and_putc_nul_terminated)
{
    Buf b;
    buf_init(&b);
    via_vprintf(&b, "%s=%g", "x", 0.5);
    ck_assert_str_eq(b.p, "x=0.5");
    buf_putc(&b, '!');
    ck_assert_str_eq(b.p, "x=0.5!");
    buf_free(&b);
}
END_TEST

START_TEST(indentation)
{
    Buf b;
    buf_init(&b);
    buf_open(&b, "void f(int n)");
    ck_assert_int_eq(b.indent, 1);
    buf_open(&b, "for (int i = 0; i < %d; i++) {", 3);
    buf_line(&b, "g(i);");
    buf_close(&b, "}");
    buf_line(&b, "return;");
    buf_close(&b, "}");
    ck_assert_int_eq(b.indent, 0);
    ck_assert_str_eq(b.p, "void f(int n)\n"
                          "    for (int i = 0; i < 3; i++) {\n"
                          "        g(i);\n"
                          "    }\n"
                          "    return;\n"
                          "}\n");
    /* closing at depth 0 does not go negative */
    buf_close(&b, "/* %s */", "end");
    ck_assert_int_eq(b.indent, 0);
    ck_assert_str_eq(b.p + b.len - 10, "/* end */\n");
    buf_free(&b);
}
END_TEST

START_TEST(take_transfers_ownership)
{
    Buf b;
    buf_init(&b);
    buf_puts(&b, "owned");
    char *p = buf_take(&b);
    ck_assert_str_eq(p, "owned");
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    /* the Buf is reusable and independent of the taken string */
    buf_puts(&b, "again");
    ck_assert_str_eq(b.p, "again");
    ck_assert_str_eq(p, "owned");
    free(p);
    buf_free(&b);
    /* taking an empty Buf gives "" (never NULL) */
    buf_init(&b);
    char *e = buf_take(&b);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e[0], 0);
    free(e);
}
END_TEST

/* ---- buf_c_string ----------------------------------------------------- */

/* Decodes a literal as buf_c_string writes it; returns the byte count, or
 * -1 if the text is anything but '"' (safe chars | \ooo)* '"'. */
static long strict_decode(const char *lit, unsigned char *out)
{
    size_t n = strlen(lit);
    if (n < 2 || lit[0] != '"' || lit[n - 1] != '"') return -1;
    long k = 0;
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)lit[i];
        if (c == '\\') {
            if (i + 3 >= n - 1) return -1;
            int v = 0;
            for (int d = 1; d <= 3; d++) {
                char o = lit[i + (size_t)d];
                if (o < '0' || o > '7') return -1;
                v = v * 8 + (o - '0');
            }
            if (v > 255) return -1;
            out[k++] = (unsigned char)v;
            i += 3;
            continue;
        }
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '?') return -1;
        out[k++] = c;
    }
    return k;
}

static const char *const hostile[] = {
    "plain",
    "",
    "quote\" and backslash\\",
    "\"; system(\"rm -rf /\"); \"",
    "end */ int evil; /* comment",
    "// line comment",
    "newline\n#include <stdio.h>\n",
    "trigraph ?\?= ?\?/ ?\?' ?\?( ?\?) ?\?! ?\?< ?\?> ?\?-",
    "?\?/\nbackslash-newline via trigraph",
    "\\\nsplice",
    "tab\tcr\rvt\vff\fbell\a",
    "\x01\x02\x1f\x7f\x80\xff",
    "utf-8: \xc3\xa9 \xce\xbb \xe2\x82\xac",
    "octal then digit \001" "1 and \377" "7",
    "%s %d %n",
    "'single' quotes",
};

START_TEST(c_string_strict_decode)
{
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        Buf b;
        buf_init(&b);
        buf_c_string(&b, hostile[i]);
        unsigned char out[1024];
        long n = strict_decode(b.p, out);
        ck_assert_msg(n >= 0, "case %zu: not a safe literal: %s", i, b.p);
        ck_assert_msg((size_t)n == strlen(hostile[i]) && memcmp(out, hostile[i], (size_t)n) == 0,
                      "case %zu: does not decode back", i);
        ck_assert_msg(strstr(b.p + 1, "??") == NULL, "case %zu: trigraph start", i);
        buf_free(&b);
    }
    Buf b;
    buf_init(&b);
    buf_c_string(&b, "ab\"c");
    ck_assert_str_eq(b.p, "\"ab\\042c\"");
    buf_free(&b);
    /* appends: existing content is kept */
    buf_init(&b);
    buf_puts(&b, "x = ");
    buf_c_string(&b, "?");
    buf_putc(&b, ';');
    ck_assert_str_eq(b.p, "x = \"\\077\";");
    buf_free(&b);
}
END_TEST

START_TEST(c_string_random_roundtrip)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int it = 0; it < 2000; it++) {
        char in[300];
        int len = 0;
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        int want = (int)(s % 299);
        while (len < want) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            unsigned char c = (unsigned char)(s >> 24);
            if (c) in[len++] = (char)c;
        }
        in[len] = 0;
        Buf b;
        buf_init(&b);
        buf_c_string(&b, in);
        unsigned char out[300 * 4];
        long n = strict_decode(b.p, out);
        ck_assert_msg(n == len && memcmp(out, in, (size_t)len) == 0, "iteration %d", it);
        buf_free(&b);
    }
}
END_TEST

/* The real thing: the literals compiled by the C compiler print the bytes back. */
START_TEST(c_string_compiles_back)
{
    if (system("cc --version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_buf: SKIP c_string_compiles_back: no cc\n");
        return;
    }
    char dir[] = "/tmp/ueaj-test-buf-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char src[512], exe[512], cmd[2048];
    snprintf(src, sizeof src, "%s/lit.c", dir);
    snprintf(exe, sizeof exe, "%s/lit", dir);
    Buf b;
    buf_init(&b);
    buf_line(&b, "#include <stdio.h>");
    buf_line(&b, "static const char *const s[] = {");
    size_t n = sizeof hostile / sizeof hostile[0];
    for (size_t i = 0; i < n; i++) {
        buf_puts(&b, "    ");
        buf_c_string(&b, hostile[i]);
        buf_puts(&b, ",\n");
    }
    buf_line(&b, "};");
    buf_line(&b, "int main(void) { for (unsigned i = 0; i < %zu; i++) { fputs(s[i], stdout); putchar(0); } return 0; }",
             n);
    FILE *f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    fputs(b.p, f);
    fclose(f);
    buf_free(&b);
    /* -trigraphs: a trigraph that slipped through would change the bytes */
    snprintf(cmd, sizeof cmd, "cc -std=c11 -trigraphs -w -o %s %s", exe, src);
    ck_assert_int_eq(system(cmd), 0);
    FILE *p = popen(exe, "r");
    ck_assert_ptr_nonnull(p);
    char got[8192];
    size_t len = fread(got, 1, sizeof got, p);
    ck_assert_int_eq(pclose(p), 0);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(hostile[i]);
        ck_assert_msg(off + l < len && memcmp(got + off, hostile[i], l) == 0 && got[off + l] == 0,
                      "string %zu did not come back unchanged", i);
        off += l + 1;
    }
    ck_assert_uint_eq(off, len);
    unlink(src);
    unlink(exe);
    rmdir(dir);
}
END_TEST

extern Suite *suite_buf(void);
Suite *suite_buf(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf_puts_printf");
    tcase_add_test(tc, puts_putc_printf);
    tcase_add_test(tc, vprintf_and_putc_nul_terminated);
    suite_add_tcase(s, tc);
    tc = tcase_create("buf_line_open_close");
    tcase_add_test(tc, indentation);
    suite_add_tcase(s, tc);
    tc = tcase_create("buf_take");
    tcase_add_test(tc, take_transfers_ownership);
    suite_add_tcase(s, tc);
    tc = tcase_create("buf_c_string");
    tcase_add_test(tc, c_string_strict_decode);
    tcase_add_test(tc, c_string_random_roundtrip);
    tcase_add_test(tc, c_string_compiles_back);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
