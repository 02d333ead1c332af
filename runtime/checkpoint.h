/* checkpoint.h - a HuggingFace model directory as it is on disk.
 *
 *   DIR/config.json                    required (when DIR is a directory)
 *   DIR/generation_config.json         optional
 *   DIR/model.safetensors              one file, or
 *   DIR/model.safetensors.index.json   + the shards its weight_map names
 *
 * ckpt_open() reads and checks all of it up front: the JSON files are
 * parsed (a syntax error is reported as "PATH:LINE:COL: error: ..."), every
 * weights file is mmapped and its header validated by tio_st_open() (data
 * is never copied), the index is checked against the shards (a missing
 * file, a listed tensor absent from its file, a tensor in two files or in
 * a file the index does not name for it are errors), and every tensor is
 * put in one hash table so that lookups by name are O(1) however many
 * shards there are.  ckpt_open() also accepts the path of a single
 * .safetensors file or of an index file: then only the weights are read
 * (no config; ckpt_config() returns NULL).
 *
 * The runtime does not know what a LLaMA is: it hands ckpt_validate() the
 * list of tensors the compiled plan expects (CkptExpect: checkpoint name,
 * checkpoint shape, whether a float dtype is required) and gets back every
 * problem at once, then loads each parameter with ckpt_load_tensor(), which
 * views the checkpoint tensor with the plan's load shape, permutes its axes
 * and converts to the storage dtype with a single rounding.
 *
 * Errors: functions return 0 on success and -1 on failure with one message
 * in *err, "PATH: error: MESSAGE", naming the file and the tensor where one
 * is involved.  Nothing here exits or keeps global state; a Checkpoint is
 * immutable after ckpt_open() and may be read from several threads.
 */
#ifndef UEAJ_CHECKPOINT_H
#define UEAJ_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tensorio.h"

struct cJSON;                            /* <cjson/cJSON.h> */

#define CKPT_MAX_RANK TIO_MAX_RANK

typedef struct CkptError { char msg[2048]; } CkptError;

typedef struct Checkpoint Checkpoint;    /* opaque */

/* Opens PATH: a model directory, a .safetensors file or a
 * model.safetensors.index.json file.  On failure *out is NULL. */
int  ckpt_open(const char *path, Checkpoint **out, CkptError *err);
void ckpt_close(Checkpoint *ck);         /* NULL is fine */

const char *ckpt_dir(const Checkpoint *ck);          /* the directory */

/* ---- configuration ---- */

/* The parsed config.json / generation_config.json (NULL when absent).
 * Owned by the checkpoint. */
const struct cJSON *ckpt_config(const Checkpoint *ck);
const struct cJSON *ckpt_generation_config(const Checkpoint *ck);

/* bos_token_id: generation_config.json's if it has one, else config.json's;
 * -1 when neither has one (or it is null). */
int64_t ckpt_bos_token_id(const Checkpoint *ck);
/* eos_token_id (an integer or a list in either file): config.json's ids,
 * then those of generation_config.json not already listed.  Returns the
 * count; *ids (may be NULL) points into the checkpoint. */
int     ckpt_eos_token_ids(const Checkpoint *ck, const int64_t **ids);
bool    ckpt_is_eos(const Checkpoint *ck, int64_t id);
/* torch_dtype (or "dtype", as newer transformers write it); DT_NONE if absent. */
DType   ckpt_torch_dtype(const Checkpoint *ck);
/* max_position_embeddings; -1 if absent. */
int64_t ckpt_max_position_embeddings(const Checkpoint *ck);

/* Sampling defaults from generation_config.json, where present. */
typedef struct CkptSampling {
    bool    has_temperature, has_top_p, has_top_k, has_do_sample;
    double  temperature, top_p;
    int64_t top_k;
    bool    do_sample;
} CkptSampling;
const CkptSampling *ckpt_sampling(const Checkpoint *ck);

/* ---- tensors ---- */

/* Tensors in file order (the index's files sorted by name), and in offset
 * order within a file.  *file (may be NULL) gets the file's path. */
int ckpt_tensor_count(const Checkpoint *ck);
const HostTensor *ckpt_tensor(const Checkpoint *ck, int i, const char **file);
/* NULL when the checkpoint has no tensor NAME. */
const HostTensor *ckpt_find(const Checkpoint *ck, const char *name, const char **file);

/* ---- validation against what a model expects ---- */

typedef struct CkptExpect {
    const char *name;                    /* tensor name in the checkpoint */
    int         rank;                    /* expected checkpoint shape */
    int64_t     shape[CKPT_MAX_RANK];
    bool        need_float;              /* must be F32, F16 or BF16 */
} CkptExpect;

typedef struct CkptReport {
    int   missing, bad_shape, bad_dtype; /* errors */
    int   unused;                        /* checkpoint tensors nothing expects (warnings) */
    bool  oom;                           /* the report could not be completed */
    char *text;                          /* malloc'd; one finding per line, or NULL */
} CkptReport;

/* Checks every expectation and reports EVERY missing tensor, shape
 * mismatch (both shapes) and wrong dtype, one line each, in the order of
 * `want` (an expectation repeated exactly, as for tied embeddings, is
 * reported once); then one "warning: ... is not used" line per checkpoint
 * tensor no expectation names (rotary_emb.inv_freq, typically).  Lines
 * are "FILE: error: ..." / "FILE: warning: ..." with the file holding the
 * tensor (for a missing one, the weights file or the index).  Returns 0
 * when there are no errors, -1 otherwise.  Free with ckpt_report_free(). */
int  ckpt_validate(const Checkpoint *ck, const CkptExpect *want, int n, CkptReport *rep);
void ckpt_report_free(CkptReport *rep);

/* ---- loading ---- */

/* Copies checkpoint tensor NAME into dst: the tensor must have exactly the
 * shape load_shape[0..load_rank) and a float dtype (any of F32 F16 BF16
 * F64 F8_E4M3 F8_E5M2); the result is its transpose by perm (numpy's
 * transpose(perm): output axis a is source axis perm[a]; NULL = identity),
 * in row-major order, converted to dst_dtype with one rounding.  dst must
 * hold numel * dtype_size(dst_dtype) bytes. */
int ckpt_load_tensor(const Checkpoint *ck, const char *name, int load_rank, const int64_t *load_shape,
                     const int *perm, void *dst, DType dst_dtype, CkptError *err);

/* The copy itself, for any source: src of dtype st and row-major shape
 * shape[0..rank) -> dst (dtype dt) = transpose(src, perm).  Identity and
 * axis-merged inner runs go through dtype_convert(); a (batched) 2-D
 * transpose is tiled.  Returns false for an invalid rank, shape, perm or
 * dtype (nothing is written then). */
bool ckpt_copy_permuted(void *dst, DType dt, const void *src, DType st, int rank, const int64_t *shape,
                        const int *perm);

#endif
