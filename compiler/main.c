/* main.c - the ueajc command line.  The only place that may exit().
 *
 *   ueajc eval EXPR ARG... -o OUT [options]    evaluate one ueajsum expression
 *   ueajc --emit=STAGE (FILE.ue | EXPR)        print a stage: ast, config, ir, ir-after=PASS, c
 *   ueajc FILE.ue -o OUT.c|OUT.so              compile a model file
 *   ueajc run -m DIR|ORG/NAME ...              generate text with a checkpoint (runtime/run_cli.c)
 *   ueajc bench -m DIR|ORG/NAME ...            llama-bench-style speed
 *   ueajc tokenize / convert                   tokenizer.json; GGUF -> HF directory
 *   ueajc cache [--stats|--trim|--clear]       the compile cache (runtime/cache_cli.c)
 *   ueajc --help | --version
 *
 * Results go to stdout or files; diagnostics and notes to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "eval.h"
#include "internal.h"
#include "convert.h"
#include "run_cli.h"
#include "tokenizer.h"
#include "model.h"
#include "cuda_out.h"
#include "cache_trim.h"
int ueaj_inspect_main(int argc, char **argv); /* runtime/cubin_cli.c */

static void usage(FILE *f)
{
    fputs("usage: ueajc eval EXPR [ARG...] -o OUT.npy|OUT.safetensors [options]\n"
          "       ueajc run -m DIR|ORG/NAME [-p PROMPT] [--chat] [options]   (ueajc run --help)\n"
          "       ueajc bench -m DIR|ORG/NAME [-p 512] [-n 128]               (ueajc bench --help)\n"
          "       ueajc tokenize -m DIR|tokenizer.json [--bos] (TEXT | -f FILE) | --decode ID...\n"
          "       ueajc convert MODEL.gguf -o DIR [--dtype f32|bf16|f16] [--force] | --info\n"
          "       ueajc --emit=STAGE (FILE.ue | EXPR) [options]\n"
          "       ueajc FILE.ue -o OUT.c|OUT.so|OUT.cu|OUT.ptx|OUT.cubin [--config config.json]\n"
          "       ueajc inspect FILE.cubin [--plan|--source|--kernels]   what a cubin holds\n"
          "             [--dim NAME=VALUE]... [--arch sm_XX]\n"
          "       ueajc cache [--stats|--trim|--clear] [--cache-dir DIR]   the compile cache: size, LRU cap\n"
          "       ueajc --help | --version\n"
          "\n"
          "Evaluate a ueajsum expression:\n"
          "  ARG                 an array file (.npy, or .safetensors: one tensor, the argument's\n"
          "                      name, or FILE.safetensors:TENSOR) for the next positional slot;\n"
          "                      '_' leaves a slot empty (its parameter is initialised)\n"
          "  NAME=FILE           an array for a named argument, a slot number or w_<slot>/x<slot>\n"
          "  -o OUT              .npy (f16/f32/f64; bf16/fp8 results are widened exactly to f32)\n"
          "                      or .safetensors (any dtype)\n"
          "  --unit              variance 1 on every argument and the result (unit scaling)\n"
          "  --fp8-params --bf16-params --bf16-grads --fp32-grads\n"
          "                      the seed's chained helpers, applied in this order after --unit\n"
          "  --variance NAME=V   variance of an argument ('out' for the result)\n"
          "  --dtype NAME=DT     storage dtype of an argument: f32 f16 bf16 f8e4m3 f8e5m2 f64\n"
          "  --out-dtype DT      dtype of the result (default: promoted from the operands)\n"
          "  --dim LETTER=N      size of a letter (for parameters initialised without an array)\n"
          "  --seed N            seed of parameter initialisation (default 0)\n"
          "\n"
          "Inspect:\n"
          "  --emit=ast          the syntax tree\n"
          "  --emit=config       the resolved arguments, slots and terms (ueajsum only)\n"
          "  --emit=ir           the IR after all passes; --emit=ir-after=PASS stops after PASS\n"
          "                      (passes: shapes variance precision order layout fuse)\n"
          "  --no-fuse           keep every elementwise op and cast its own kernel (pass fuse merges\n"
          "                      chains; in CUDA the producer of a matmul input stores its bf16 copy)\n"
          "  --no-share          give every temporary its own buffer (by default temps whose lifetimes\n"
          "                      do not overlap share one; the CUDA plan's share records)\n"
          "  --emit=c            the generated C; --emit=c-kernels without the fixed prelude\n"
          "  --emit=cuda         the generated CUDA; --emit=cuda-kernels without the fixed prelude\n"
          "  --emit=plan         the CUDA launch plan (tensors, kernel launches, cuBLASLt matmuls)\n"
          "  --emit=ptxas        compile the CUDA with NVRTC: registers, spills, stack, shared\n"
          "                      memory per kernel\n"
          "  --arch sm_XX        the GPU architecture of .ptx/.cubin and ptxas (default sm_90)\n"
          "\n"
          "Model files:\n"
          "  --config FILE       config.json that binds dims (config.NAME in the model file)\n"
          "  --dim NAME=VALUE    bind or override a dim\n"
          "  --run \"ID ...\"      run the model on these token ids with parameters initialised by the\n"
          "                      seed's rules, and print the argmax of the output per position\n"
          "  --weights FILE      with --run: load parameters from a .safetensors file by the\n"
          "                      model file's checkpoint mapping (HuggingFace names)\n"
          "  --input NAME=FILE   run the model with this .npy array as input NAME (with or\n"
          "                      without --run; run-time dims take their sizes from inputs)\n"
          "  --dump OUT.npy      write the (first) output of the run (alias --dump-logits)\n"
          "  --device D          run on cpu (the C backend, default), cuda (a GPU through the CUDA\n"
          "                      plan), harness (the CUDA plan on the CPU, for tests) or auto\n"
          "                      (cuda when a usable GPU is there, else cpu with the reason)\n"
          "  --repeat K          after the run, time K more forward passes (params uploaded once)\n"
          "                      and print the median ms per pass\n"
          "  --decode K          (cuda, harness) then time K one-token passes at position n on the\n"
          "                      KV cache the run left (fix the other run-time dims with --dim)\n"
          "  --compare           also run the C backend and compare its output with --device's\n"
          "                      (harness when --device is cpu)\n"
          "\n"
          "General:\n"
          "  -v, --verbose       report compile-cache hits and timings\n"
          "  --cache-dir DIR     compile cache (default $UEAJ_CACHE or ~/.cache/ueajc); at most\n"
          "                      $UEAJ_CACHE_MAX (default 2G; 0: no cap), least recently used\n"
          "                      entries evicted first\n"
          "  --color=auto|always|never\n",
          f);
}

static int take_kv(const char *opt, const char *arg, EvalKV *kv, int *n)
{
    const char *eq = arg ? strchr(arg, '=') : NULL;
    if (!eq || eq == arg) {
        fprintf(stderr, "ueajc: error: %s expects NAME=VALUE, got '%s'\n", opt, arg ? arg : "");
        return -1;
    }
    if (*n >= EVAL_MAX_KV) {
        fprintf(stderr, "ueajc: error: too many %s options\n", opt);
        return -1;
    }
    size_t len = (size_t)(eq - arg);
    char *key = malloc(len + 1);
    if (!key) return -1;
    memcpy(key, arg, len);
    key[len] = 0;
    kv[*n].key = key;
    kv[*n].val = eq + 1;
    (*n)++;
    return 0;
}

/* --name=VALUE or --name VALUE; sets *bad when the value is missing. */
static int optval(int argc, char **argv, int *i, const char *name, const char **val, int *bad)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (!strncmp(a, name, n) && a[n] == '=') { *val = a + n + 1; return 1; }
    if (strcmp(a, name) != 0) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "ueajc: error: %s needs a value\n", name);
        *bad = 1;
        return 0;
    }
    *val = argv[++*i];
    return 1;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

int main(int argc, char **argv)
{
    EvalOptions o;
    memset(&o, 0, sizeof o);
    o.copt.verify = 1;
    o.copt.color = isatty(2);
    const char **pos = calloc((size_t)argc + 1, sizeof *pos);
    int npos = 0, is_eval = 0, status = 2;
    const char *config = NULL, *run = NULL, *weights = NULL, *dump = NULL, *device = NULL;
    int repeat = 0, compare = 0, decode = 0;
    EvalKV inputs[EVAL_MAX_KV];
    int ninputs = 0;
    if (!pos) return 2;
    if (argc < 2) { usage(stderr); goto done; }
    /* subcommands with their own options */
    if (!strcmp(argv[1], "convert")) { free(pos); return ueaj_convert_main(argc - 1, argv + 1); }
    if (!strcmp(argv[1], "run")) { free(pos); return ueaj_run_main(argc - 1, argv + 1); }
    if (!strcmp(argv[1], "bench")) { free(pos); return ueaj_bench_main(argc - 1, argv + 1); }
    if (!strcmp(argv[1], "tokenize")) { free(pos); return ueaj_tokenize_main(argc - 1, argv + 1); }
    if (!strcmp(argv[1], "inspect")) { free(pos); return ueaj_inspect_main(argc - 1, argv + 1); }
    if (!strcmp(argv[1], "cache")) { free(pos); return ueaj_cache_main(argc - 1, argv + 1); }
    int i = 1;
    int only_pos = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos) { pos[npos++] = a; continue; }
        if (npos == 0 && !is_eval && !strcmp(a, "eval")) { is_eval = 1; continue; } /* the command, after options */
        if (!strcmp(a, "--")) { only_pos = 1; continue; }
        const char *val = NULL;
        /* options with a value: --opt=VAL or --opt VAL */
#define OPTVAL(name) optval(argc, argv, &i, name, &val, &bad)
        int bad = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); status = 0; goto done; }
        else if (!strcmp(a, "--version")) { printf("ueajc %s\n", UEAJC_VERSION); status = 0; goto done; }
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) o.copt.verbose = 1;
        else if (!strcmp(a, "--unit")) o.helpers |= UEAJ_H_UNIT;
        else if (!strcmp(a, "--fp8-params")) o.helpers |= UEAJ_H_FP8_PARAMS;
        else if (!strcmp(a, "--bf16-params")) o.helpers |= UEAJ_H_BF16_PARAMS;
        else if (!strcmp(a, "--bf16-grads")) o.helpers |= UEAJ_H_BF16_GRADS;
        else if (!strcmp(a, "--fp32-grads")) o.helpers |= UEAJ_H_FP32_GRADS;
        else if (!strcmp(a, "--no-fuse")) o.copt.no_fuse = 1;
        else if (!strcmp(a, "--no-share")) o.copt.no_share = 1;
        else if (!strcmp(a, "-o")) {
            if (i + 1 >= argc) { fprintf(stderr, "ueajc: error: -o needs a file name\n"); goto done; }
            o.out_path = argv[++i];
        }
        else if (OPTVAL("--emit")) o.emit = val;
        else if (OPTVAL("--variance")) { if (take_kv("--variance", val, o.variances, &o.nvar)) goto done; }
        else if (OPTVAL("--dtype")) { if (take_kv("--dtype", val, o.dtypes, &o.ndtype)) goto done; }
        else if (OPTVAL("--dim")) { if (take_kv("--dim", val, o.dims, &o.ndims)) goto done; }
        else if (OPTVAL("--out-dtype")) o.out_dtype = val;
        else if (OPTVAL("--config")) config = val;
        else if (OPTVAL("--arch")) o.arch = val;
        else if (OPTVAL("--run")) run = val;
        else if (OPTVAL("--weights")) weights = val;
        else if (OPTVAL("--dump-logits") || OPTVAL("--dump")) dump = val;
        else if (OPTVAL("--device")) device = val;
        else if (!strcmp(a, "--compare")) compare = 1;
        else if (OPTVAL("--repeat")) {
            char *end;
            long r = strtol(val, &end, 10);
            if (!*val || *end || r < 1 || r > 100000) { fprintf(stderr, "ueajc: error: --repeat expects a count from 1 to 100000\n"); goto done; }
            repeat = (int)r;
        }
        else if (OPTVAL("--decode")) {
            char *end;
            long r = strtol(val, &end, 10);
            if (!*val || *end || r < 1 || r > 100000) { fprintf(stderr, "ueajc: error: --decode expects a count from 1 to 100000\n"); goto done; }
            decode = (int)r;
        }
        else if (OPTVAL("--input")) { if (take_kv("--input", val, inputs, &ninputs)) goto done; }
        else if (OPTVAL("--cache-dir")) o.copt.cache_dir = val;
        else if (OPTVAL("--seed")) {
            char *end;
            unsigned long long s = strtoull(val, &end, 10);
            if (!*val || *end || val[0] == '-') { fprintf(stderr, "ueajc: error: --seed expects a non-negative integer\n"); goto done; }
            o.seed = s;
        }
        else if (OPTVAL("--color")) {
            if (!strcmp(val, "always")) o.copt.color = 1;
            else if (!strcmp(val, "never")) o.copt.color = 0;
            else if (strcmp(val, "auto")) {
                fprintf(stderr, "ueajc: error: --color: expected auto, always or never, got '%s'\n", val);
                goto done;
            }
        }
        else if (bad) goto done;
        else if (a[0] == '-' && a[1] == '-' && a[2]) {
            fprintf(stderr, "ueajc: error: unknown option '%s' (see ueajc --help)\n", a);
            goto done;
        }
        else if (val == NULL && a[0] == '-' && a[1] && a[1] != '-' && strlen(a) <= 3 && !is_eval) {
            fprintf(stderr, "ueajc: error: unknown option '%s' (see ueajc --help)\n", a);
            goto done;
        }
        else pos[npos++] = a;
#undef OPTVAL
    }
    if (npos == 0) {
        fprintf(stderr, "ueajc: error: no input (a ueajsum expression after 'eval', or a model file)\n");
        usage(stderr);
        goto done;
    }
    if (!is_eval && has_suffix(pos[0], ".ue")) {
        ModelOptions mo;
        memset(&mo, 0, sizeof mo);
        mo.path = pos[0];
        mo.config = config;
        mo.out_path = o.out_path;
        mo.emit = o.emit;
        mo.arch = o.arch;
        mo.run = run;
        mo.weights = weights;
        mo.dump = dump;
        mo.device = device;
        mo.repeat = repeat;
        mo.compare = compare;
        mo.decode = decode;
        if (decode && (!device || !strcmp(device, "cpu"))) {
            fprintf(stderr, "ueajc: error: --decode needs --device cuda, harness or auto\n");
            goto done;
        }
        if (device && strcmp(device, "cpu") && strcmp(device, "cuda") && strcmp(device, "harness") &&
            strcmp(device, "auto")) {
            fprintf(stderr, "ueajc: error: --device %s: expected cpu, cuda, harness or auto\n", device);
            goto done;
        }
        memcpy(mo.inputs, inputs, sizeof inputs);
        mo.ninputs = ninputs;
        memcpy(mo.dims, o.dims, sizeof o.dims);
        mo.ndims = o.ndims;
        mo.copt = o.copt;
        if (npos > 1) { fprintf(stderr, "ueajc: error: unexpected argument '%s'\n", pos[1]); goto done; }
        if (mo.emit && strcmp(mo.emit, "ast") && strcmp(mo.emit, "ir") && strcmp(mo.emit, "c") &&
            strcmp(mo.emit, "c-kernels") && !cuda_is_emit(mo.emit) &&
            strncmp(mo.emit, "ir-after=", 9)) {
            fprintf(stderr, "ueajc: error: --emit=%s: unknown stage (ast, ir, ir-after=PASS, c, c-kernels, cuda, "
                            "cuda-kernels, plan, ptxas)\n", mo.emit);
            goto done;
        }
        if (mo.out_path && !has_suffix(mo.out_path, ".c") && !has_suffix(mo.out_path, ".so") &&
            !cuda_is_output(mo.out_path)) {
            fprintf(stderr, "ueajc: error: %s: unknown output type (.c, .so, .cu, .ptx or .cubin)\n", mo.out_path);
            goto done;
        }
        if (!mo.out_path && !mo.emit && !mo.run && !mo.ninputs) { fprintf(stderr, "ueajc: error: nothing to do: give -o OUT or --emit=STAGE\n"); goto done; }
        status = ueaj_model_main(&mo);
        goto done;
    }
    if (!is_eval && !o.emit) {
        fprintf(stderr, "ueajc: error: '%s' is not a model file (.ue); to evaluate an expression use "
                        "'ueajc eval EXPR ARG... -o OUT', to inspect one '--emit=STAGE'\n", pos[0]);
        goto done;
    }
    o.expr = pos[0];
    o.files = pos + 1;
    o.nfiles = npos - 1;
    if (!o.emit && !o.out_path) {
        fprintf(stderr, "ueajc: error: eval needs an output file: -o OUT.npy or -o OUT.safetensors\n");
        goto done;
    }
    if (o.out_path && !has_suffix(o.out_path, ".npy") && !has_suffix(o.out_path, ".safetensors")) {
        fprintf(stderr, "ueajc: error: %s: the output must be .npy or .safetensors\n", o.out_path);
        goto done;
    }
    if (o.emit && strcmp(o.emit, "ast") && strcmp(o.emit, "config") && strcmp(o.emit, "ir") &&
        strcmp(o.emit, "c") && strcmp(o.emit, "c-kernels") && !cuda_is_emit(o.emit) && strncmp(o.emit, "ir-after=", 9)) {
        fprintf(stderr, "ueajc: error: --emit=%s: unknown stage (ast, config, ir, ir-after=PASS, c)\n", o.emit);
        goto done;
    }
    status = ueaj_eval(&o);
done:
    for (int k = 0; k < o.nvar; k++) free((char *)o.variances[k].key);
    for (int k = 0; k < o.ndtype; k++) free((char *)o.dtypes[k].key);
    for (int k = 0; k < o.ndims; k++) free((char *)o.dims[k].key);
    for (int k = 0; k < ninputs; k++) free((char *)inputs[k].key);
    free(pos);
    return status;
}
