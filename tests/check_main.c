/* check_main.c - runs every Check suite of the project.
 *
 * Suites are registered automatically: the Makefile greps tests/test_*.c
 * for `Suite *suite_NAME(void)` and writes build/gen/suites.h as a list of
 * X(suite_NAME) lines.  Usage: check_ueajc [SUITE...] (default: all).
 * Tests find ../shared/fixtures and the built binary through the
 * environment variables set by tests/run_all.sh (see tests/support.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X(fn) Suite *fn(void);
#include "suites.h"
#undef X

typedef struct { const char *name; Suite *(*make)(void); } SuiteEntry;
static const SuiteEntry all_suites[] = {
#define X(fn) { #fn, fn },
#include "suites.h"
#undef X
};

int main(int argc, char **argv)
{
    SRunner *sr = NULL;
    size_t n = sizeof all_suites / sizeof all_suites[0];
    for (size_t i = 0; i < n; i++) {
        int want = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], all_suites[i].name + 6) == 0 || strcmp(argv[a], all_suites[i].name) == 0)
                want = 1;
        if (!want) continue;
        Suite *s = all_suites[i].make();
        if (!sr) sr = srunner_create(s); else srunner_add_suite(sr, s);
    }
    if (!sr) { fprintf(stderr, "check_ueajc: no such suite\n"); return 2; }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
