# args: inspect $DIR/../fixtures/cuda/plan.cubin --plan
# >>> stdout
ueajc-plan 1
dims 1 n
tensor 0 tokens input i32 1 d0
tensor 1 wq param bf16 2 64 128
load 1 model.layers.0.self_attn.q_proj.weight 2 128 64 perm 1 0
tensor 2 x temp bf16 2 d0 64
tensor 3 q output f32 2 d0 128
launch embed d0 1 1 64 1 1 0 2 0 2
gemm nd%2C%2Adk-%3Enk a=1 b=2 d=3 ta=n tb=n m=128 n=d0 k=64 lda=128 ldb=64 ldd=128 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1 beta=0
end
