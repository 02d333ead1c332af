/* test_cuda_plan.c - the launch plan reader (runtime/cuda_plan.c).
 *
 *  - a complete plan (dims, tensors, a load, a launch, a gemm) read field
 *    by field, percent-escapes decoded, EXPRs evaluated;
 *  - cuda_plan_eval: products, ceiling division, overflow, missing dims;
 *  - about 90 malformed plans, each rejected with its exact
 *    "FILE:LINE: message" (truncated lines, empty fields, bad and huge
 *    numbers, bad EXPRs, indices out of range, dtype mismatches, types
 *    cuBLASLt does not run, duplicate or missing keys, text after end);
 *    every prefix of the good plan is rejected too, never a crash;
 *  - cuda_plan_from_cubin on a real cubin made by nvcc
 *    (nvcc's cubin of tests/fixtures/cuda/plan.cu, made by the Makefile), on
 *    every truncation of it and on corrupted headers.
 */
#include <check.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_plan.h"

#define HEAD "ueajc-plan 1\ndims 2 n m\n" \
             "tensor 0 x input bf16 2 d0 64\n" \
             "tensor 1 w param bf16 2 64 128\n" \
             "tensor 2 y output f32 2 d0 128\n" \
             "tensor 3 e8 temp f8e4m3 2 64 64\n" \
             "tensor 4 f8 temp f8e4m3 2 64 64\n"

#define GEMM_OK "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 " \
                "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0"

static const char good[] =
    "ueajc-plan 1\n"
    "dims 2 n%20tokens past\n"
    "config hidden_size num 64\n"
    "config rms_norm_eps num 1.0000000000000001e-05\n"
    "config tie_word_embeddings bool true\n"
    "config rope_scaling.rope_type str =llama%203\n"
    "config pad str =\n"
    "config rope_parameters.factor absent\n"
    "tensor 0 tokens input i32 1 d0\n"
    "tensor 1 model.embed%2Fw param bf16 2 100 64\n"
    "load 1 model.embed_tokens.weight 2 64 100 perm 1 0\n"
    "lookup 1\n"
    "tensor 2 x temp bf16 2 d0 64\n"
    "tensor 3 kv state f32 3 d1 4 16\n"
    "tensor 4 y output f32 3 2 d0 100\n"
    "launch k_embed d0*64/256 1 1 256 1 1 1024 3 0 1 2\n"
    "gemm nd%2C%2Adv-%3Env a=1 b=2 d=4 ta=t tb=n m=100 n=d0 k=64 lda=64 ldb=64 ldd=100 batch=2 sa=0 "
    "sb=0 sd=d0*100 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=0.125 beta=1e0 c=3\n"
    "end\n";

START_TEST(test_share)
{
    char err[300];
    static const char text[] = HEAD "tensor 5 t5 temp f32 1 8\nshare 4 3\nshare 5 3\n" GEMM_OK "\nend\n";
    CudaPlan *p = cuda_plan_parse(text, strlen(text), "s.plan", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->tensors[3].root, 3);
    ck_assert_int_eq(p->tensors[3].lends, 1);
    ck_assert_int_eq(p->tensors[4].root, 3);
    ck_assert_int_eq(p->tensors[5].root, 3);
    for (int i = 0; i < 3; i++) ck_assert(p->tensors[i].root == i && !p->tensors[i].lends);
    cuda_plan_free(p);
}
END_TEST

START_TEST(test_good_plan)
{
    char err[300];
    CudaPlan *p = cuda_plan_parse(good, strlen(good), "good.plan", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->ndims, 2);
    ck_assert_str_eq(p->dim_names[0], "n tokens");
    ck_assert_str_eq(p->dim_names[1], "past");
    ck_assert_int_eq(p->ntensors, 5);
    ck_assert_str_eq(p->tensors[1].name, "model.embed/w");
    ck_assert_int_eq(p->tensors[1].kind, 1);
    ck_assert_str_eq(p->tensors[1].dtype, "bf16");
    ck_assert_str_eq(p->tensors[1].load, "model.embed_tokens.weight");
    ck_assert_int_eq(p->tensors[1].load_rank, 2);
    ck_assert_int_eq(p->tensors[1].load_shape[0], 64);
    ck_assert_int_eq(p->tensors[1].load_perm[0], 1);
    ck_assert_int_eq(p->tensors[1].load_perm[1], 0);
    ck_assert_ptr_null(p->tensors[2].load);
    ck_assert_int_eq(p->tensors[1].lookup, 1);
    ck_assert_int_eq(p->tensors[2].lookup, 0);
    ck_assert_int_eq(p->nconfig, 6);
    ck_assert_str_eq(p->config[0].key, "hidden_size");
    ck_assert(p->config[0].kind == 1 && p->config[0].num == 64);
    ck_assert(p->config[1].kind == 1 && p->config[1].num == 1e-5);
    ck_assert(p->config[2].kind == 2 && p->config[2].num == 1);
    ck_assert_int_eq(p->config[3].kind, 3);
    ck_assert_str_eq(p->config[3].key, "rope_scaling.rope_type");
    ck_assert_str_eq(p->config[3].str, "llama 3");
    ck_assert_str_eq(p->config[4].str, "");
    ck_assert_int_eq(p->config[5].kind, 0);
    ck_assert_ptr_null(p->config[5].str);
    ck_assert_int_eq(p->tensors[3].kind, 4);
    ck_assert_int_eq(p->tensors[3].rank, 3);
    ck_assert_int_eq(p->tensors[3].shape[0], -2);  /* d1 */
    ck_assert_int_eq(p->tensors[3].shape[2], 16);
    ck_assert_int_eq(p->tensors[0].shape[0], -1);  /* d0 */
    ck_assert_int_eq(p->nsteps, 2);
    const CudaPlanStep *l = &p->steps[0];
    ck_assert_int_eq(l->kind, CUDA_STEP_LAUNCH);
    ck_assert_str_eq(l->name, "k_embed");
    int64_t dyn[8] = { 7, 3 };
    ck_assert_int_eq(cuda_plan_eval(&l->grid[0], dyn), 2);     /* ceil(7*64/256) */
    ck_assert_int_eq(cuda_plan_eval(&l->block[0], dyn), 256);
    ck_assert_int_eq(cuda_plan_eval(&l->smem, dyn), 1024);
    ck_assert_int_eq(l->nargs, 3);
    ck_assert_int_eq(l->args[2], 2);
    const CudaPlanStep *g = &p->steps[1];
    ck_assert_int_eq(g->kind, CUDA_STEP_GEMM);
    ck_assert_str_eq(g->name, "nd,*dv->nv");
    ck_assert_int_eq(g->a, 1);
    ck_assert_int_eq(g->b, 2);
    ck_assert_int_eq(g->d, 4);
    ck_assert_int_eq(g->ta, 't');
    ck_assert_int_eq(g->tb, 'n');
    ck_assert_int_eq(cuda_plan_eval(&g->n, dyn), 7);
    ck_assert_int_eq(cuda_plan_eval(&g->sd, dyn), 700);
    ck_assert_int_eq(cuda_plan_eval(&g->batch, dyn), 2);
    ck_assert_str_eq(g->dtype, "f32");
    ck_assert(g->alpha == 0.125 && g->beta == 1.0);
    ck_assert_int_eq(g->c, 3);
    cuda_plan_free(p);

    /* without a trailing newline, and the smallest plan */
    p = cuda_plan_parse(good, strlen(good) - 1, "good.plan", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    cuda_plan_free(p);
    /* without c=, C is D */
    p = cuda_plan_parse(HEAD GEMM_OK "\nend\n", strlen(HEAD GEMM_OK "\nend\n"), "g.plan", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->steps[0].c, p->steps[0].d);
    cuda_plan_free(p);
    p = cuda_plan_parse("ueajc-plan 1\nend", 16, "min.plan", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->ntensors + p->nsteps + p->ndims, 0);
    cuda_plan_free(p);
    cuda_plan_free(NULL);
}
END_TEST

START_TEST(test_eval)
{
    CudaPlanExpr e = { .c = 3, .ndyn = 2, .dyn = { 0, 1 }, .div = 4 };
    int64_t dyn[8] = { 5, 7 };
    ck_assert_int_eq(cuda_plan_eval(&e, dyn), 27);             /* ceil(105/4) */
    dyn[1] = 0;
    ck_assert_int_eq(cuda_plan_eval(&e, dyn), 0);
    dyn[1] = -1;
    ck_assert_int_eq(cuda_plan_eval(&e, dyn), -1);
    dyn[0] = INT64_MAX / 2;
    dyn[1] = 3;
    ck_assert_int_eq(cuda_plan_eval(&e, dyn), -1);             /* overflow */
    ck_assert_int_eq(cuda_plan_eval(&e, NULL), -1);            /* dims needed */
    e.ndyn = 0;
    e.div = 1;
    ck_assert_int_eq(cuda_plan_eval(&e, NULL), 3);
    e.div = 0;
    ck_assert_int_eq(cuda_plan_eval(&e, NULL), -1);
    e = (CudaPlanExpr){ .c = INT64_MAX, .div = 2 };
    ck_assert_int_eq(cuda_plan_eval(&e, NULL), INT64_MAX / 2 + 1);
}
END_TEST

typedef struct Bad { const char *text, *msg; } Bad;

static const Bad bad[] = {
    /* the header and the line structure */
    { "", "t.plan:0: empty plan" },
    { "ueajc-plan 2\nend\n", "t.plan:1: plan version '2' (this runtime reads version 1)" },
    { "ueajc-plan\nend\n", "t.plan:1: not a ueajc plan (expected 'ueajc-plan 1')" },
    { "ueajc-plan 1 x\nend\n", "t.plan:1: not a ueajc plan (expected 'ueajc-plan 1')" },
    { "\x7f" "ELF\nend\n", "t.plan:1: not a ueajc plan (expected 'ueajc-plan 1')" },
    { "ueajc-plan 1\n", "t.plan:1: the plan ends without 'end' (truncated?)" },
    { "ueajc-plan 1\ntensor 0 x input f32 1\n", "t.plan:2: tensor: rank 1 needs 1 shape entries, 0 given" },
    { "ueajc-plan 1\nend\nend\n", "t.plan:3: text after 'end'" },
    { "ueajc-plan 1\nend\n\n", "t.plan:3: text after 'end'" },
    { "ueajc-plan 1\n\nend\n", "t.plan:2: empty line" },
    { "ueajc-plan 1\nend x\n", "t.plan:2: end takes no fields" },
    { "ueajc-plan 1\nend \n", "t.plan:2: empty field (two spaces, or a space at the start or end)" },
    { "ueajc-plan 1\n end\n", "t.plan:2: empty field (two spaces, or a space at the start or end)" },
    { "ueajc-plan 1\ntensor  0 x input f32 0\nend\n", "t.plan:2: empty field (two spaces, or a space at the start or end)" },
    { "ueajc-plan 1\nend\r\n", "t.plan:2: unknown record 'end\\x0d'" },
    { "ueajc-plan 1\nlaunch\x01 x\nend\n", "t.plan:2: unknown record 'launch\\x01'" },
    { "ueajc-plan 1\nfrobnicate\nend\n", "t.plan:2: unknown record 'frobnicate'" },
    { "ueajc-plan 1\nx x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x "
      "x x x x x x x x x x x x x x x x x x x x x x x\nend\n", "t.plan:2: more than 64 fields" },
    /* dims */
    { "ueajc-plan 1\ndims\nend\n", "t.plan:2: dims: missing the count" },
    { "ueajc-plan 1\ndims 2 n\nend\n", "t.plan:2: dims: 2 names announced, 1 given" },
    { "ueajc-plan 1\ndims 9 a b c d e f g h i\nend\n", "t.plan:2: dims count 9 is out of range (0..8)" },
    { "ueajc-plan 1\ndims 1 n\ndims 1 m\nend\n", "t.plan:3: a second dims line" },
    { "ueajc-plan 1\ntensor 0 x input f32 0\ndims 1 n\nend\n",
      "t.plan:3: the dims line must come before tensors and steps" },
    { "ueajc-plan 1\ndims 1 n:m\nend\n", "t.plan:2: dim name 'n:m': byte 0x3a must be percent-escaped" },
    { "ueajc-plan 1\ndims 1 n%2\nend\n", "t.plan:2: dim name 'n%2': '%' must be followed by two hex digits" },
    { "ueajc-plan 1\ndims 1 n%zz\nend\n", "t.plan:2: dim name 'n%zz': '%' must be followed by two hex digits" },
    { "ueajc-plan 1\ndims 1 n%00\nend\n", "t.plan:2: dim name 'n%00' contains %00" },
    { "ueajc-plan 1\ndims -1\nend\n", "t.plan:2: dims count '-1' is not a number (digits only, no sign or leading zero)" },
    /* tensor */
    { "ueajc-plan 1\ntensor 0 x input f32\nend\n", "t.plan:2: tensor: too few fields (IDX NAME KIND DTYPE RANK S...)" },
    { "ueajc-plan 1\ntensor 1 x input f32 0\nend\n", "t.plan:2: tensor index 1, expected 0 (tensors are numbered in order)" },
    { "ueajc-plan 1\ntensor 00 x input f32 0\nend\n",
      "t.plan:2: tensor index '00' is not a number (digits only, no sign or leading zero)" },
    { "ueajc-plan 1\ntensor +0 x input f32 0\nend\n",
      "t.plan:2: tensor index '+0' is not a number (digits only, no sign or leading zero)" },
    { "ueajc-plan 1\ntensor 99999999999999999999999 x input f32 0\nend\n",
      "t.plan:2: tensor index '99999999999999999999999' is too large" },
    { "ueajc-plan 1\ntensor 0 x weight f32 0\nend\n", "t.plan:2: tensor: unknown kind 'weight' (input param output temp state)" },
    { "ueajc-plan 1\ntensor 0 x input f12 0\nend\n",
      "t.plan:2: tensor: unknown dtype 'f12' (f32 bf16 f16 f8e4m3 f8e5m2 i32 f64)" },
    { "ueajc-plan 1\ntensor 0 x input f32 9 1 1 1 1 1 1 1 1 1\nend\n", "t.plan:2: tensor rank 9 is out of range (0..8)" },
    { "ueajc-plan 1\ntensor 0 x input f32 2 3\nend\n", "t.plan:2: tensor: rank 2 needs 2 shape entries, 1 given" },
    { "ueajc-plan 1\ntensor 0 x input f32 1 3 4\nend\n", "t.plan:2: tensor: rank 1 needs 1 shape entries, 2 given" },
    { "ueajc-plan 1\ntensor 0 x input f32 1 d0\nend\n", "t.plan:2: run-time dim d0 in 'd0' is not declared (the plan has 0)" },
    { "ueajc-plan 1\ndims 1 n\ntensor 0 x input f32 1 d\nend\n", "t.plan:3: bad factor in 'd' (a number or dK)" },
    { "ueajc-plan 1\ndims 1 n\ntensor 0 x input f32 1 dx\nend\n", "t.plan:3: bad factor in 'dx' (a number or dK)" },
    { "ueajc-plan 1\ntensor 0 x input f32 1 -3\nend\n",
      "t.plan:2: shape entry '-3' is not a number (digits only, no sign or leading zero)" },
    { "ueajc-plan 1\ntensor 0 x input f32 1 9223372036854775808\nend\n",
      "t.plan:2: shape entry '9223372036854775808' is too large" },
    { "ueajc-plan 1\ntensor 0 x input f32 0\ntensor 1 x temp f32 0\nend\n", "t.plan:3: tensor name 'x' is already tensor 0" },
    { "ueajc-plan 1\ntensor 0 a\"b input f32 0\nend\n", "t.plan:2: tensor name 'a\"b': byte 0x22 must be percent-escaped" },
    /* load */
    { HEAD "load 1 w 2\nend\n", "t.plan:8: load: too few fields (IDX CKPTNAME RANK S... perm P...)" },
    /* lookup */
    { HEAD "lookup\nend\n", "t.plan:8: lookup: expected one field (IDX)" },
    { HEAD "lookup 9\nend\n", "t.plan:8: lookup: tensor 9 is not in the table (5 tensors so far)" },
    { HEAD "lookup 0\nend\n", "t.plan:8: lookup: tensor 0 is a input, not a param" },
    { HEAD "lookup 1\nlookup 1\nend\n", "t.plan:9: lookup: tensor 1 is already marked" },
    /* share */
    { HEAD "share\nend\n", "t.plan:8: share: expected two fields (IDX ROOT)" },
    { HEAD "share 4 9\nend\n", "t.plan:8: share: tensor 9 is not in the table (5 tensors so far)" },
    { HEAD "share 0 3\nend\n", "t.plan:8: share: tensor 0 is a input; only temps share memory" },
    { HEAD "share 4 2\nend\n", "t.plan:8: share: tensor 2 is a output; only temps share memory" },
    { HEAD "share 3 3\nend\n", "t.plan:8: share: tensor 3 cannot share with itself" },
    { HEAD "share 4 3\nshare 4 3\nend\n", "t.plan:9: share: tensor 4 already shares tensor 3's memory" },
    { HEAD "tensor 5 t5 temp f32 1 8\nshare 4 3\nshare 5 4\nend\n",
      "t.plan:10: share: tensor 4 shares tensor 3's memory, so it cannot lend its own" },
    { HEAD "tensor 5 t5 temp f32 1 8\nshare 4 3\nshare 3 5\nend\n",
      "t.plan:10: share: tensor 3 lends its memory already, so it cannot share another's" },
    { HEAD GEMM_OK "\nshare 4 3\nend\n", "t.plan:9: share lines must come before the steps" },
    /* config */
    { "ueajc-plan 1\nconfig a\nend\n", "t.plan:2: config: too few fields (KEY KIND [VALUE])" },
    { "ueajc-plan 1\nconfig a int 3\nend\n", "t.plan:2: config: unknown kind 'int' (num bool str absent)" },
    { "ueajc-plan 1\nconfig a num\nend\n", "t.plan:2: config: a num value takes one field after the kind" },
    { "ueajc-plan 1\nconfig a absent 3\nend\n", "t.plan:2: config: an absent value takes no field after the kind" },
    { "ueajc-plan 1\nconfig a num 1e400\nend\n", "t.plan:2: config: bad number '1e400'" },
    { "ueajc-plan 1\nconfig a num nan\nend\n", "t.plan:2: config: bad number 'nan'" },
    { "ueajc-plan 1\nconfig a num 3x\nend\n", "t.plan:2: config: bad number '3x'" },
    { "ueajc-plan 1\nconfig a bool yes\nend\n", "t.plan:2: config: bool 'yes' (true or false)" },
    { "ueajc-plan 1\nconfig a str bf16\nend\n", "t.plan:2: config: a str value starts with '=', got 'bf16'" },
    { "ueajc-plan 1\nconfig a str =a%2\nend\n", "t.plan:2: config value 'a%2': '%' must be followed by two hex digits" },
    { "ueajc-plan 1\nconfig a:b num 1\nend\n", "t.plan:2: config key 'a:b': byte 0x3a must be percent-escaped" },
    { "ueajc-plan 1\nconfig a num 1\nconfig a bool true\nend\n", "t.plan:3: config key 'a' appears twice" },
    { HEAD "config a num 1\nend\n", "t.plan:8: config lines must come before tensors and steps" },
    { HEAD "load 5 w 1 8192 perm 0\nend\n", "t.plan:8: load: tensor 5 is not in the table (5 tensors so far)" },
    { HEAD "load 0 w 1 8192 perm 0\nend\n", "t.plan:8: load: tensor 0 is a input, not a param" },
    { HEAD "load 1 w 2 128 64 perm 1 0\nload 1 w 2 128 64 perm 1 0\nend\n", "t.plan:9: load: tensor 1 already has a load line" },
    { HEAD "load 1 w 2 128 64 perm 1\nend\n",
      "t.plan:8: load: rank 2 needs 2 shape entries, 'perm' and 2 axes (8 fields, expected 9)" },
    { HEAD "load 1 w 2 128 64 prem 1 0\nend\n", "t.plan:8: load: 'perm' expected after the 2 shape entries" },
    { HEAD "load 1 w 2 128 64 perm 1 1\nend\n", "t.plan:8: load: axis 1 appears twice in perm" },
    { HEAD "load 1 w 2 128 64 perm 2 0\nend\n", "t.plan:8: perm axis 2 is out of range (0..1)" },
    { HEAD "load 1 w 2 128 65 perm 1 0\nend\n", "t.plan:8: load: the checkpoint shape has 8320 elements, tensor 1 has 8192" },
    { HEAD "load 1 w 2 9223372036854775807 2 perm 1 0\nend\n", "t.plan:8: load: the shape overflows" },
    { HEAD "load 1 w%2 2 128 64 perm 1 0\nend\n", "t.plan:8: checkpoint name 'w%2': '%' must be followed by two hex digits" },
    /* launch */
    { HEAD "launch k 1 1 1 32 1 1 0\nend\n", "t.plan:8: launch: too few fields (KERNEL GX GY GZ BX BY BZ SMEM NARGS A...)" },
    { HEAD "launch 9k 1 1 1 32 1 1 0 0\nend\n", "t.plan:8: launch: kernel name '9k' is not a C identifier" },
    { HEAD "launch k-1 1 1 1 32 1 1 0 0\nend\n", "t.plan:8: launch: kernel name 'k-1' is not a C identifier" },
    { HEAD "launch k 1 1 1 32 1 1 0 2 0\nend\n", "t.plan:8: launch: 2 arguments announced, 1 given" },
    { HEAD "launch k 1 1 1 32 1 1 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\nend\n",
      "t.plan:8: launch argument count 17 is out of range (0..16)" },
    { HEAD "launch k 1 1 1 32 1 1 0 1 5\nend\n", "t.plan:8: launch: argument 0 is tensor 5, but the table has 5 tensors" },
    { HEAD "launch k 1 1 1 32 1 1 0 1 x\nend\n",
      "t.plan:8: launch argument 'x' is not a number (digits only, no sign or leading zero)" },
    { HEAD "launch k d2 1 1 32 1 1 0 0\nend\n", "t.plan:8: run-time dim d2 in 'd2' is not declared (the plan has 2)" },
    { HEAD "launch k d0** 1 1 32 1 1 0 0\nend\n", "t.plan:8: grid x 'd0**': empty factor" },
    { HEAD "launch k *d0 1 1 32 1 1 0 0\nend\n", "t.plan:8: grid x '*d0': empty factor" },
    { HEAD "launch k d0* 1 1 32 1 1 0 0\nend\n", "t.plan:8: grid x 'd0*': empty factor" },
    { HEAD "launch k d0/0 1 1 32 1 1 0 0\nend\n", "t.plan:8: grid x 'd0/0': the divisor must be a positive number" },
    { HEAD "launch k d0/ 1 1 32 1 1 0 0\nend\n", "t.plan:8: grid x 'd0/': the divisor must be a positive number" },
    { HEAD "launch k d0/2/2 1 1 32 1 1 0 0\nend\n", "t.plan:8: grid x 'd0/2/2': the divisor must be a positive number" },
    { HEAD "launch k /2 1 1 32 1 1 0 0\nend\n", "t.plan:8: grid x '/2' is empty" },
    { HEAD "launch k d0+1 1 1 32 1 1 0 0\nend\n", "t.plan:8: bad factor in 'd0+1' (a number or dK)" },
    { HEAD "launch k 2*-1 1 1 32 1 1 0 0\nend\n",
      "t.plan:8: grid x '2*-1': bad factor (a number without sign or leading zero, or dK)" },
    { HEAD "launch k 1 1 1 32 1 1 4294967296*4294967296 0\nend\n",
      "t.plan:8: smem '4294967296*4294967296': the constant overflows" },
    { HEAD "launch k 1 1 1 d0*d0*d0*d0*d0*d0*d0*d0*d0 1 1 0 0\nend\n",
      "t.plan:8: block x 'd0*d0*d0*d0*d0*d0*d0*d0*d0' has more than 8 run-time factors" },
    { HEAD "launch k 0 1 1 32 1 1 0 0\nend\n", "t.plan:8: launch: grid x is 0" },
    { HEAD "launch k 1 1 1 64 32 1 0 0\nend\n", "t.plan:8: launch: a block of 64x32x1 threads (CUDA allows 1024)" },
    /* gemm */
    { HEAD "gemm\nend\n", "t.plan:8: gemm: missing the term name" },
    { HEAD "gemm t a=1\nend\n", "t.plan:8: gemm: missing key 'b'" },
    { HEAD GEMM_OK " a=1\nend\n", "t.plan:8: gemm: key 'a' given twice" },
    { HEAD GEMM_OK " cc=1\nend\n", "t.plan:8: gemm: unknown key 'cc'" },
    { HEAD GEMM_OK " c=1\nend\n", "t.plan:8: gemm: c=1 is bf16, d=2 is f32 (C and D share a type and layout)" },
    { HEAD GEMM_OK " c=5\nend\n", "t.plan:8: gemm: c=5, but the table has 5 tensors" },
    { HEAD GEMM_OK " c=2 c=2\nend\n", "t.plan:8: gemm: key 'c' given twice" },
    { HEAD GEMM_OK " x\nend\n", "t.plan:8: gemm: 'x' is not key=value" },
    { HEAD "gemm t a=9 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0\nend\n", "t.plan:8: gemm: a=9, but the table has 5 tensors" },
    { HEAD "gemm t a=1 b=0 d=0 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0\nend\n", "t.plan:8: gemm: d=0 is also an input" },
    { HEAD "gemm t a=1 b=0 d=2 ta=x tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0\nend\n", "t.plan:8: gemm: ta='x' (n or t)" },
    { HEAD "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=64 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0\nend\n",
      "t.plan:8: gemm: lda=64 is less than the 128 rows it strides over" },
    { HEAD "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=0 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0\nend\n", "t.plan:8: gemm: batch=0" },
    { HEAD "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=d9 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0\nend\n",
      "t.plan:8: run-time dim d9 in 'd9' is not declared (the plan has 2)" },
    { HEAD "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=i32 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0\nend\n",
      "t.plan:8: gemm: atype='i32' is not a cuBLASLt type (f32 bf16 f16 f8e4m3 f8e5m2)" },
    { HEAD "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=f16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0\nend\n", "t.plan:8: gemm: atype=f16, but tensor 1 is bf16" },
    { HEAD "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f16 alpha=1 beta=0\nend\n", "t.plan:8: gemm: compute='f16' (only f32)" },
    { HEAD "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=nan beta=0\nend\n", "t.plan:8: gemm: alpha 'nan' is not a decimal number" },
    { HEAD "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=1e999\nend\n",
      "t.plan:8: gemm: beta '1e999' is not a finite decimal number" },
    { HEAD "gemm t a=1 b=0 d=2 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 "
      "atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0.0 beta=0\nend\n",
      "t.plan:8: gemm: alpha '1.0.0' is not a finite decimal number" },
    { HEAD "gemm t a=3 b=4 d=2 ta=n tb=n m=64 n=64 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 "
      "atype=f8e4m3 btype=f8e4m3 dtype=f32 compute=f32 alpha=1 beta=0\nend\n",
      "t.plan:8: gemm: fp8 matmuls must be ta=t tb=n (cuBLASLt's fp8 layout)" },
    { HEAD "gemm t a=3 b=0 d=2 ta=t tb=n m=64 n=64 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 "
      "atype=f8e4m3 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0\nend\n",
      "t.plan:8: gemm: f8e4m3 x bf16 -> f32: fp8 A needs fp8 B and vice versa" },
    { HEAD "tensor 5 h temp f16 2 64 64\ngemm t a=1 b=0 d=5 ta=n tb=n m=128 n=64 k=64 lda=128 ldb=64 ldd=128 batch=1 "
      "sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f16 compute=f32 alpha=1 beta=0\nend\n",
      "t.plan:9: gemm: bf16 x bf16 -> f16: D must be f32 or the inputs' type" },
};

START_TEST(test_bad)
{
    const Bad *b = &bad[_i];
    char err[400];
    CudaPlan *p = cuda_plan_parse(b->text, strlen(b->text), "t.plan", err, sizeof err);
    if (p) cuda_plan_free(p);
    ck_assert_msg(p == NULL, "case %d accepted", _i);
    ck_assert_str_eq(err, b->msg);
}
END_TEST

/* The good plan as HEAD + GEMM_OK, and every prefix of the good plan. */
START_TEST(test_prefixes)
{
    char err[400];
    const char *ok = HEAD GEMM_OK "\nend\n";
    CudaPlan *p = cuda_plan_parse(ok, strlen(ok), "t.plan", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    cuda_plan_free(p);
    size_t n = strlen(good);
    for (size_t i = 0; i + 1 < n; i++) {
        char *copy = malloc(i ? i : 1);        /* exact size: ASan sees any overread */
        memcpy(copy, good, i);
        p = cuda_plan_parse(copy, i, "t.plan", err, sizeof err);
        ck_assert_msg(p == NULL, "prefix %zu accepted", i);
        ck_assert_msg(strncmp(err, "t.plan:", 7) == 0, "%s", err);
        free(copy);
    }
    /* a NUL inside, a tiny error buffer */
    char nul[] = "ueajc-plan 1\nend\0\n";
    p = cuda_plan_parse(nul, sizeof nul - 1, "t.plan", err, sizeof err);
    ck_assert_ptr_null(p);
    ck_assert_str_eq(err, "t.plan:2: a NUL byte inside the plan");
    char small[8];
    ck_assert_ptr_null(cuda_plan_parse("x", 1, "t.plan", small, sizeof small));
    ck_assert_str_eq(small, "t.plan:");
}
END_TEST

/* ---------------------------------------------------------------- cubin */

/* BUILD/fixtures/plan.cubin: nvcc's cubin of tests/fixtures/cuda/plan.cu,
 * made by the Makefile beside the fakes (BUILD is $UEAJC's directory);
 * NULL, with a note, where there was no nvcc to make it */
static unsigned char *read_fixture(size_t *n)
{
    char path[600], dir[512];
    const char *ueajc = getenv("UEAJC");
    snprintf(dir, sizeof dir, "%s", ueajc ? ueajc : "build/ueajc");
    snprintf(path, sizeof path, "%s/fixtures/plan.cubin", dirname(dir));
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "SKIP cuda_plan cubin test: no %s (made by `make fakes` with nvcc)\n", path);
        return NULL;
    }
    unsigned char *buf = malloc(1 << 20);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

START_TEST(test_cubin)
{
    size_t n;
    unsigned char *elf = read_fixture(&n);
    if (!elf) return;
    char err[300];
    char *text = cuda_plan_from_cubin(elf, n, "plan.cubin", err, sizeof err);
    ck_assert_msg(text != NULL, "%s", err);
    ck_assert(strncmp(text, "ueajc-plan 1\ndims 1 n\n", 22) == 0);
    CudaPlan *p = cuda_plan_parse(text, strlen(text), "plan.cubin", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->ntensors, 4);
    ck_assert_int_eq(p->nsteps, 2);
    ck_assert_str_eq(p->steps[0].name, "embed");
    ck_assert_str_eq(p->steps[1].name, "nd,*dk->nk");
    ck_assert_str_eq(p->tensors[1].load, "model.layers.0.self_attn.q_proj.weight");
    cuda_plan_free(p);
    free(text);
    /* its one kernel, as cubin_elf.c reads it: registers from .nv.info, the code's size */
    CubinKernel *k = NULL;
    int nk = 0;
    ck_assert_msg(cuda_cubin_kernels(elf, n, "plan.cubin", &k, &nk, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(nk, 1);
    ck_assert_str_eq(k[0].name, "embed");
    ck_assert_int_gt(k[0].regs, 0);
    ck_assert_int_lt(k[0].regs, 256);
    ck_assert_int_gt(k[0].code_bytes, 0);
    cuda_cubin_kernels_free(k, nk);

    /* every truncation: an error, never a crash (exact-size copies) */
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char *c = malloc(i ? i : 1);
        memcpy(c, elf, i);
        text = cuda_plan_from_cubin(c, i, "plan.cubin", err, sizeof err);
        if (text) { found++; free(text); }
        else ck_assert_msg(strncmp(err, "plan.cubin: ", 12) == 0, "%s", err);
        if (cuda_cubin_kernels(c, i, "plan.cubin", &k, &nk, err, sizeof err) == 0) cuda_cubin_kernels_free(k, nk);
        else ck_assert_msg(strncmp(err, "plan.cubin: ", 12) == 0, "%s", err);
        free(c);
    }
    /* sections may precede the headers: only a cut after those may still work */
    ck_assert_int_le(found, (int)n);
    free(elf);
}
END_TEST

static void put(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* corrupted headers and tables, each with its message */
START_TEST(test_cubin_corrupt)
{
    size_t n;
    unsigned char *elf = read_fixture(&n);
    if (!elf) return;
    unsigned char *c = malloc(n);
    char err[300];
    uint64_t shoff = get(elf + 0x28, 8), shnum = get(elf + 0x3c, 2);
    int symtab = -1, plan_sec = -1;
    for (uint64_t i = 0; i < shnum; i++)
        if (get(elf + shoff + i * 64 + 4, 4) == 2) symtab = (int)i;
    ck_assert_int_ge(symtab, 0);
    unsigned char *sh = elf + shoff + (uint64_t)symtab * 64;
    uint64_t symoff = get(sh + 0x18, 8), symsz = get(sh + 0x20, 8), link = get(sh + 0x28, 4);
    uint64_t stroff = get(elf + shoff + link * 64 + 0x18, 8);
    uint64_t plan_sym = 0;
    for (uint64_t j = 0; j < symsz; j += 24)
        if (strcmp((char *)elf + stroff + get(elf + symoff + j, 4), "ueaj_plan") == 0) {
            plan_sym = symoff + j;
            plan_sec = (int)get(elf + plan_sym + 6, 2);
        }
    ck_assert_int_gt(plan_sec, 0);
    struct { uint64_t off; int width; uint64_t value; const char *msg; } cases[] = {
        { 0, 1, 0x7e, "not an ELF file" },
        { 4, 1, 1, "not a 64-bit ELF file" },
        { 5, 1, 2, "not a little-endian ELF file" },
        { 0x28, 8, 0, "no section headers" },
        { 0x28, 8, ~0ull - 10, "section headers past the end of the file (truncated?)" },
        { 0x3c, 2, 0xffff, "section headers past the end of the file (truncated?)" },
        { 0x3a, 2, 40, "unexpected section header size" },
        { shoff + (uint64_t)symtab * 64 + 0x38, 8, 16, "unexpected symbol size" },
        { shoff + (uint64_t)symtab * 64 + 0x18, 8, n - 8, "symbol table past the end of the file (truncated?)" },
        { shoff + (uint64_t)symtab * 64 + 0x20, 8, ~0ull, "symbol table past the end of the file (truncated?)" },
        { shoff + (uint64_t)symtab * 64 + 0x28, 4, 999, "symbol table links to a missing string table" },
        { shoff + (uint64_t)symtab * 64 + 0x28, 4, (uint64_t)plan_sec, "bad string table for the symbols" },
        { shoff + (uint64_t)symtab * 64 + 4, 4, 1, "no symbol table" },
        { plan_sym, 4, 0, "no ueaj_plan symbol (not made from ueajc CUDA source?)" },
        { plan_sym + 6, 2, 0, "ueaj_plan is not in a section of the file" },
        { plan_sym + 6, 2, 999, "ueaj_plan is not in a section of the file" },
        { plan_sym + 8, 8, 1ull << 40, "ueaj_plan extends past its section" },
        { plan_sym + 16, 8, ~0ull, "ueaj_plan extends past its section" },
        { shoff + (uint64_t)plan_sec * 64 + 4, 4, 8, "ueaj_plan has no bytes in the file (SHT_NOBITS)" },
        { shoff + (uint64_t)plan_sec * 64 + 0x18, 8, n, "ueaj_plan's section is past the end of the file (truncated?)" },
        { shoff + (uint64_t)plan_sec * 64 + 0x10, 8, 4096, "ueaj_plan lies before its section" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(c, elf, n);
        put(c + cases[i].off, cases[i].value, cases[i].width);
        CubinKernel *k = NULL;
        int nk = 0;
        if (cuda_cubin_kernels(c, n, "x.cubin", &k, &nk, err, sizeof err) == 0) cuda_cubin_kernels_free(k, nk);
        char *text = cuda_plan_from_cubin(c, n, "x.cubin", err, sizeof err);
        free(text);
        ck_assert_msg(text == NULL, "case %zu accepted", i);
        char want[300];
        snprintf(want, sizeof want, "x.cubin: %s", cases[i].msg);
        ck_assert_msg(strcmp(err, want) == 0, "case %zu: got '%s', want '%s'", i, err, want);
    }
    /* the plan's bytes without their NUL: shorten the symbol to cut it off */
    memcpy(c, elf, n);
    put(c + plan_sym + 16, 10, 8);
    ck_assert_ptr_null(cuda_plan_from_cubin(c, n, "x.cubin", err, sizeof err));
    ck_assert_str_eq(err, "x.cubin: ueaj_plan is not NUL-terminated");
    ck_assert_ptr_null(cuda_plan_from_cubin(NULL, 0, "x.cubin", err, sizeof err));
    ck_assert_str_eq(err, "x.cubin: too short for an ELF64 header");
    free(c);
    free(elf);
}
END_TEST

extern Suite *suite_cuda_plan(void);
Suite *suite_cuda_plan(void)
{
    Suite *s = suite_create("cuda_plan");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_good_plan);
    tcase_add_test(tc, test_share);
    tcase_add_test(tc, test_eval);
    tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_prefixes);
    suite_add_tcase(s, tc);
    tc = tcase_create("cubin");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cubin);
    tcase_add_test(tc, test_cubin_corrupt);
    suite_add_tcase(s, tc);
    return s;
}
