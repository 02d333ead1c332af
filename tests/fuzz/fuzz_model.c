/* fuzz_model.c - bytes as a model description file (.ue) through the whole
 * compiler, as `ueajc FILE.ue --config C.json --emit=...` runs it: parse,
 * lower (with a tiny Llama's config.json, or none, by the first byte's low
 * bit), every pass, then the C source and the CUDA source with its plan.
 * Bits 1 and 2 of the first byte are --no-fuse and --no-share, bit 3 keeps
 * weights row-major (as the CUDA targets do); the rest of the input is the
 * file.  Every input must compile or give diagnostics, which are rendered
 * (to /dev/null): never a crash, a leak, undefined behaviour or a hang. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_compile.h"
#include "model.h"
#include "model_sema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char tiny_config[] =
    "{\"hidden_size\": 64, \"intermediate_size\": 160, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
    " \"num_key_value_heads\": 2, \"head_dim\": 16, \"vocab_size\": 256, \"rms_norm_eps\": 1e-05,"
    " \"rope_theta\": 500000.0, \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\","
    " \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 32.0, \"low_freq_factor\": 1.0,"
    " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ModelOptions mo = {.path = "<fuzz>.ue"};
    mo.copt.verify = 1;
    mo.copt.no_fuse = data[0] >> 1 & 1;
    mo.copt.no_share = data[0] >> 2 & 1;
    mo.copt.no_pack = data[0] >> 3 & 1;
    UeajCtx *ctx = ueaj_ctx_new(&mo.copt);
    const Source *src = source_new(ctx, "<fuzz>.ue", (const char *)data + 1, size - 1);
    Program *p = parse_model(ctx, src);
    cJSON *config = (data[0] & 1) ? cJSON_Parse(tiny_config) : NULL;
    IrGraph *g = p ? model_lower(ctx, p, config, &mo) : NULL;
    fuzz_finish(ctx, g);
    cJSON_Delete(config);
    return 0;
}
