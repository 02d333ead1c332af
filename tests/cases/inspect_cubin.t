# args: inspect $DIR/../fixtures/cuda/plan.cubin
# >>> stdout
tests/cases/../fixtures/cuda/plan.cubin: CUDA cubin for sm_90, 4816 bytes; launch plan version 1
run-time dims: n
input      1 tensor, 4e-06 MB (times the run-time dims where they appear)
param      1 tensor, 0.0164 MB
output     1 tensor, 0.000512 MB (times the run-time dims where they appear)
temp       1 tensor, 0.000128 MB (times the run-time dims where they appear)
steps      2: 1 kernel launches, 1 cuBLASLt matmuls
