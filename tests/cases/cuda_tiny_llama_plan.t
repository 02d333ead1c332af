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
tensor 27 t27 temp f32 2 d0 160
tensor 28 t28 temp f32 2 d0 160
tensor 29 t29 temp f32 2 d0 64
tensor 30 x.0_2 temp f32 2 d0 64
tensor 31 attn_norm.1 param bf16 1 64
load 31 model.layers.1.input_layernorm.weight 1 64 perm 0
tensor 32 wq.1 param bf16 4 64 2 2 16
load 32 model.layers.1.self_attn.q_proj.weight 2 64 64 perm 1 0
tensor 33 wk.1 param bf16 3 64 2 16
load 33 model.layers.1.self_attn.k_proj.weight 2 32 64 perm 1 0
tensor 34 wv.1 param bf16 3 64 2 16
load 34 model.layers.1.self_attn.v_proj.weight 2 32 64 perm 1 0
tensor 35 wo.1 param bf16 4 2 2 16 64
load 35 model.layers.1.self_attn.o_proj.weight 2 64 64 perm 1 0
tensor 36 mlp_norm.1 param bf16 1 64
load 36 model.layers.1.post_attention_layernorm.weight 1 64 perm 0
tensor 37 wg.1 param bf16 2 64 160
load 37 model.layers.1.mlp.gate_proj.weight 2 160 64 perm 1 0
tensor 38 wu.1 param bf16 2 64 160
load 38 model.layers.1.mlp.up_proj.weight 2 160 64 perm 1 0
tensor 39 wd.1 param bf16 2 160 64
load 39 model.layers.1.mlp.down_proj.weight 2 64 160 perm 1 0
tensor 40 kc.1 state f32 3 d1 2 16
tensor 41 vc.1 state f32 3 d1 2 16
tensor 42 h.1 temp f32 2 d0 64
tensor 43 q.1 temp f32 4 d0 2 2 16
tensor 44 kk.1 temp f32 3 d0 2 16
tensor 45 vv.1 temp f32 3 d0 2 16
tensor 46 qr.1 temp f32 4 d0 2 2 16
tensor 47 kr.1 temp f32 3 d0 2 16
tensor 48 a.1 temp f32 4 d0 2 2 16
tensor 49 t49 temp f32 2 d0 64
tensor 50 x.1 temp f32 2 d0 64
tensor 51 hm.1 temp f32 2 d0 64
tensor 52 g.1 temp f32 2 d0 160
tensor 53 u.1 temp f32 2 d0 160
tensor 54 t54 temp f32 2 d0 160
tensor 55 t55 temp f32 2 d0 160
tensor 56 t56 temp f32 2 d0 64
tensor 57 x.1_2 temp f32 2 d0 64
tensor 58 norm param bf16 1 64
load 58 model.norm.weight 1 64 perm 0
tensor 59 head param bf16 2 64 256
load 59 model.embed_tokens.weight 2 256 64 perm 1 0
tensor 60 t60 temp f32 2 d2 64
tensor 61 t61 temp f32 2 d2 64
tensor 62 logits output f32 2 d2 256
tensor 63 h.0.bf16 temp bf16 2 d0 64
tensor 64 a.0.bf16 temp bf16 4 d0 2 2 16
tensor 65 hm.0.bf16 temp bf16 2 d0 64
tensor 66 t28.bf16 temp bf16 2 d0 160
tensor 67 h.1.bf16 temp bf16 2 d0 64
tensor 68 a.1.bf16 temp bf16 4 d0 2 2 16
tensor 69 hm.1.bf16 temp bf16 2 d0 64
tensor 70 t55.bf16 temp bf16 2 d0 160
tensor 71 t61.bf16 temp bf16 2 d2 64
launch k0 64*d0/256 1 1 256 1 1 0 3 2 0 3
launch k1 d0 1 1 256 1 1 0 3 3 4 15
launch k2_cast 8*d0/256 1 1 256 1 1 0 2 15 63
gemm k2/nd%2Cdhik-%3Enhik a=5 b=63 d=16 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k3/nd%2Cdhk-%3Enhk a=6 b=63 d=17 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k4/nd%2Cdhk-%3Enhk a=7 b=63 d=18 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k5 32*d0/256 1 1 256 1 1 0 3 16 1 19
launch k6 16*d0/256 1 1 256 1 1 0 3 17 1 20
launch k7 32*d0/256 1 1 256 1 1 0 3 20 1 13
launch k8 32*d0/256 1 1 256 1 1 0 3 18 1 14
launch k9 4*d0 1 1 256 1 1 0 5 19 13 14 1 21
launch k10_cast 8*d0/256 1 1 256 1 1 0 2 21 64
gemm k10/nhik%2Chikd-%3End a=8 b=64 d=22 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k11 8*d0/256 1 1 256 1 1 0 3 3 22 23
launch k12 d0 1 1 256 1 1 0 3 23 9 24
launch k13_cast 8*d0/256 1 1 256 1 1 0 2 24 65
gemm k13/nd%2Cdf-%3Enf a=10 b=65 d=25 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k14/nd%2Cdf-%3Enf a=11 b=65 d=26 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k15 20*d0/256 1 1 256 1 1 0 2 25 27
launch k16 20*d0/256 1 1 256 1 1 0 3 27 26 28
launch k17_cast 20*d0/256 1 1 256 1 1 0 2 28 66
gemm k17/nf%2Cfd-%3End a=12 b=66 d=29 ta=n tb=n m=64 n=d0 k=160 lda=64 ldb=160 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k18 8*d0/256 1 1 256 1 1 0 3 23 29 30
launch k19 d0 1 1 256 1 1 0 3 30 31 42
launch k20_cast 8*d0/256 1 1 256 1 1 0 2 42 67
gemm k20/nd%2Cdhik-%3Enhik a=32 b=67 d=43 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k21/nd%2Cdhk-%3Enhk a=33 b=67 d=44 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k22/nd%2Cdhk-%3Enhk a=34 b=67 d=45 ta=n tb=n m=32 n=d0 k=64 lda=32 ldb=64 ldd=32 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k23 32*d0/256 1 1 256 1 1 0 3 43 1 46
launch k24 16*d0/256 1 1 256 1 1 0 3 44 1 47
launch k25 32*d0/256 1 1 256 1 1 0 3 47 1 40
launch k26 32*d0/256 1 1 256 1 1 0 3 45 1 41
launch k27 4*d0 1 1 256 1 1 0 5 46 40 41 1 48
launch k28_cast 8*d0/256 1 1 256 1 1 0 2 48 68
gemm k28/nhik%2Chikd-%3End a=35 b=68 d=49 ta=n tb=n m=64 n=d0 k=64 lda=64 ldb=64 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k29 8*d0/256 1 1 256 1 1 0 3 30 49 50
launch k30 d0 1 1 256 1 1 0 3 50 36 51
launch k31_cast 8*d0/256 1 1 256 1 1 0 2 51 69
gemm k31/nd%2Cdf-%3Enf a=37 b=69 d=52 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
gemm k32/nd%2Cdf-%3Enf a=38 b=69 d=53 ta=n tb=n m=160 n=d0 k=64 lda=160 ldb=64 ldd=160 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k33 20*d0/256 1 1 256 1 1 0 2 52 54
launch k34 20*d0/256 1 1 256 1 1 0 3 54 53 55
launch k35_cast 20*d0/256 1 1 256 1 1 0 2 55 70
gemm k35/nf%2Cfd-%3End a=39 b=70 d=56 ta=n tb=n m=64 n=d0 k=160 lda=64 ldb=160 ldd=64 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
launch k36 8*d0/256 1 1 256 1 1 0 3 50 56 57
launch k37 64*d2/256 1 1 256 1 1 0 2 57 60
launch k38 d2 1 1 256 1 1 0 3 60 58 61
launch k39_cast 8*d2/256 1 1 256 1 1 0 2 61 71
gemm k39/nd%2Cdv-%3Env a=59 b=71 d=62 ta=n tb=n m=256 n=d2 k=64 lda=256 ldb=64 ldd=256 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
end
