# args: --emit=plan 'ij,*jk->ik'
# >>> stdout
ueajc-plan 1
dims 3 i j k
tensor 0 x0 input f32 2 d0 d1
tensor 1 w_1 param bf16 2 d1 d2
tensor 2 out output f32 2 d0 d2
tensor 3 x0.bf16 temp bf16 2 d0 d1
launch k0_cast d0*d1/256 1 1 256 1 1 0 2 0 3
gemm k0/ij%2Cjk-%3Eik a=1 b=3 d=2 ta=n tb=n m=d2 n=d0 k=d1 lda=d2 ldb=d1 ldd=d2 batch=1 sa=0 sb=0 sd=0 atype=bf16 btype=bf16 dtype=f32 compute=f32 alpha=1.0 beta=0.0
end
