# args: models/llama.ue --config models/tiny-llama.json --emit=plan
# >>> stdout
ueajc-plan 1
dims 3 n C m
config hidden_size num 64
config intermediate_size num 160
config num_hidden_layers num 2
config num_attention_heads num 4
config num_key_value_heads num 2
config head_dim num 16
config vocab_size num 256
config rms_norm_eps num 1.0000000000000001e-05
config rope_parameters.rope_theta absent
config rope_theta num 500000
config tie_word_embeddings bool true
config rope_parameters.rope_type absent
config rope_scaling.rope_type str =llama3
config rope_parameters.factor absent
config rope_scaling.factor num 32
config rope_parameters.low_freq_factor absent
config rope_scaling.low_freq_factor num 1
config rope_parameters.high_freq_factor absent
config rope_scaling.high_freq_factor num 4
config rope_parameters.original_max_position_embeddings absent
config rope_scaling.original_max_position_embeddings num 8192
config torch_dtype str =bfloat16
tensor 0 tokens input i32 1 d0
tensor 1 pos input i32 1 d0
tensor 2 embed param bf16 2 256 64
load 2 model.embed_tokens.weight 2 256 64 perm 0 1
lookup 2
tensor 3 x temp f32 2 d0 64
tensor 4 attn_norm.0 param bf16 1 64
load 4 model.layers.0.input_layernorm.weight 1 64 perm 0
tensor 5 wq.0 param bf16 4 64 2 2 16
load 5 model.layers.0.self_attn.q_proj.weight 2 64 64 perm 1 0
tensor 6 wk.0 param bf16 3 64 2 16
load 6 model.layers.0.self_attn.k_proj.weight 2 32 64 perm 1 0
tensor 7 wv.0 param bf16 3 64 2 16
load 7 model.layers.0.self_attn.v_proj.weight 2 32 64 perm 1 0
tensor 8 wo.0 param bf16 4 2 2 16 64
load 8 model.layers.0.self_attn.o_proj.weight 2 64 64 perm 1 0
tensor 9 mlp_norm.0 param bf16 1 64
load 9 model.layers.0.post_attention_layernorm.weight 1 64 perm 0
tensor 10 wg.0 param bf16 2 64 160
load 10 model.layers.0.mlp.gate_proj.weight 2 160 64 perm 1 0
tensor 11 wu.0 param bf16 2 64 160
load 11 model.layers.0.mlp.up_proj.weight 2 160 64 perm 1 0
tensor 12 wd.0 param bf16 2 160 64
load 12 model.layers.0.mlp.down_proj.weight 2 64 160 perm 1 0
tensor 13 kc.0 state f32 3 d1 2 16
tensor 14 vc.0 state f32 3 d1 2 16
tensor 15 h.0 temp f32 2 d0 64
tensor 16 q.0 temp f32 4 d0 2 2 16
tensor 17 kk.0 temp f32 3 d0 2 16
tensor 18 vv.0 temp f32 3 d0 2 16
tensor 19 qr.0 temp f32 4 d0 2 2 16
tensor 20 kr.0 temp f32 3 d0 2 16
tensor 21 a.0 temp f32 4 d0 2 2 16
tensor 22 t22 temp f32 2 d0 64
tensor 23 x.0 temp f32 2 d0 64
tensor 24 hm.0 temp f32 2 d0 64
tensor 25 g.0 temp f32 2 d0 160
tensor 26 u.0 temp f32 2 d0 160
tensor 27 t28 temp f32 2 d0 160
tensor 28 t29 temp f32 2 d0 64
tensor 29 x.0_2 temp f32 2 d0 64
tensor 30 attn_norm.1 param bf16 1 64
load 30 model.layers.1.input_layernorm.weight 1 64 perm 0
tensor 31 wq.1 param bf16 4 64 2 2 16
load 31 model.layers.1.self_attn.q_proj.weight 2 64 64 perm 1 0
tensor 32 wk.1 param bf16 3 64 2 16
load 32 model.layers.1.self_attn.k_proj.weight 2 32 64 perm 1 0
tensor 33 wv.1 param bf16 3 64 2 16
load 33 model.layers.1.self_attn.v_proj.weight 2 32 64 perm 1 0
tensor 34 wo.1 param bf16 4 2 2 16 64
load 34 model.layers.1.self_attn.o_proj.weight 2 64 64 perm 1 0
tensor 35 mlp_norm.1 param bf16 1 64
load 35 model.layers.1.post_attention_layernorm.weight 1 64 perm 0
tensor 36 wg.1 param bf16 2 64 160
load 36 model.layers.1.mlp.gate_proj.weight 2 160 64 perm 1 0
tensor 37 wu.1 param bf16 2 64 160
load 37 model.layers.1.mlp.up_proj.weight 2 160 64 perm 1 0
tensor 38 wd.1 param bf16 2 160 64
load 38 model.layers.1.mlp.down_proj.weight 2 64 160 perm 1 0
tensor 39 kc.1 state f32 3 d1 2 16
tensor 40 vc.1 state f32 3 d1 2 16
tensor 41 h.1 temp f32 2 d0 64
tensor 42 q.1 temp f32 4 d0 2 2 16
tensor 43 kk.1 temp f32 3 d0 2 16
tensor 44 vv.1 temp f32 3 d0 2 16
tensor 45 qr.1 temp f32 4 d0 2 2 16
tensor 46 kr.1 temp f32 3 d0 2 16
tensor 47 a.1 temp f32 4 d0 2 2 16
tensor 48 t49 temp f32 2 d0 64
tensor 49 x.1 temp f32 2 d0 64
tensor 50 hm.1 temp f32 2 d0 64
tensor 51 g.1 temp f32 2 d0 160
tensor 52 u.1 temp f32 2 d0 160
tensor 53 t55 temp f32 2 d0 160
tensor 54 t56 temp f32 2 d0 64
tensor 55 x.1_2 temp f32 2 d0 64
tensor 56 norm param bf16 1 64
load 56 model.norm.weight 1 64 perm 0
tensor 57 head param bf16 2 64 256
load 57 model.embed_tokens.weight 2 256 64 perm 1 0
tensor 58 t60 temp f32 2 d2 64
tensor 59 t61 temp f32 2 d2 64
tensor 60 logits output f32 2 d2 256
tensor 61 h.0.bf16 temp bf16 2 d0 64
tensor 62 a.0.bf16 temp bf16 4 d0 2 2 16
tensor 63 hm.0.bf16 temp bf16 2 d0 64
tensor 64 t28.bf16 temp bf16 2 d0 160
tensor 65 h.1.bf16 temp bf16 2 d0 64
tensor 66 a.1.bf16 temp bf16 4 d0 2 2 16
tensor 67 hm.1.bf16 temp bf16 2 d0 64
tensor 68 t55.bf16 temp bf16 2 d0 160
tensor 69 t61.bf16 temp bf16 2 d2 64
share 16 15
share 19 61
share 20 15
share 21 15
share 23 15
share 24 3
share 25 3
share 26 61
share 27 17
share 29 3
share 41 15
share 42 15
share 43 61
share 44 17
share 45 18
share 46 15
share 47 15
share 49 15
share 50 3
share 51 3
share 52 17
share 53 61
share 55 3
share 58 15
share 59 18
share 62 17
share 63 17
share 64 18
share 65 18
share 66 61
share 67 61
share 68 18
share 69 3
launch k0 64*d0/256 1 1 256 1 1 0 3 2 0 3
launch k1 d0 1 1 256 1 1 0 4 3 4 15 61
gemm k2/nd%2Cdhik-%3Enhik a=5 b=61 d=16 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k3/nd%2Cdhk-%3Enhk a=6 b=61 d=17 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k4/nd%2Cdhk-%3Enhk a=7 b=61 d=18 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k5 32*d0/256 1 1 256 1 1 0 3 16 1 19
launch k6 16*d0/256 1 1 256 1 1 0 3 17 1 20
launch k7 32*d0/256 1 1 256 1 1 0 3 20 1 13
launch k8 32*d0/256 1 1 256 1 1 0 3 18 1 14
launch k9 4*d0 1 1 256 1 1 0 6 19 13 14 1 21 62
gemm k10/nhik%2Chikd-%3End a=8 b=62 d=23 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=1.0 c=3
launch k12 d0 1 1 256 1 1 0 4 23 9 24 63
gemm k13/nd%2Cdf-%3Enf a=10 b=63 d=25 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k14/nd%2Cdf-%3Enf a=11 b=63 d=26 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k15 20*d0/256 1 1 256 1 1 0 4 25 26 27 64
gemm k16/nf%2Cfd-%3End a=12 b=64 d=29 ta=n tb=n m=64 n=d0 k=160 lda=64 ldb=160 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=1.0 c=23
launch k18 d0 1 1 256 1 1 0 4 29 30 41 65
gemm k19/nd%2Cdhik-%3Enhik a=31 b=65 d=42 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k20/nd%2Cdhk-%3Enhk a=32 b=65 d=43 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k21/nd%2Cdhk-%3Enhk a=33 b=65 d=44 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k22 32*d0/256 1 1 256 1 1 0 3 42 1 45
launch k23 16*d0/256 1 1 256 1 1 0 3 43 1 46
launch k24 32*d0/256 1 1 256 1 1 0 3 46 1 39
launch k25 32*d0/256 1 1 256 1 1 0 3 44 1 40
launch k26 4*d0 1 1 256 1 1 0 6 45 39 40 1 47 66
gemm k27/nhik%2Chikd-%3End a=34 b=66 d=49 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=1.0 c=29
launch k29 d0 1 1 256 1 1 0 4 49 35 50 67
gemm k30/nd%2Cdf-%3Enf a=36 b=67 d=51 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k31/nd%2Cdf-%3Enf a=37 b=67 d=52 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k32 20*d0/256 1 1 256 1 1 0 4 51 52 53 68
gemm k33/nf%2Cfd-%3End a=38 b=68 d=55 ta=n tb=n m=64 n=d0 k=160 lda=64 ldb=160 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=1.0 c=49
launch k35 64*d2/256 1 1 256 1 1 0 2 55 58
launch k36 d2 1 1 256 1 1 0 4 58 56 59 69
gemm k37/nd%2Cdv-%3Env a=57 b=69 d=60 ta=n tb=n m=256 n=d2 k=64 lda=256 ldb=64 ldd=256 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
end
