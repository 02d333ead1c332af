# args: inspect
# >>> stderr
usage: ueajc inspect FILE.cubin [--plan | --source | --kernels]
prints the GPU architecture a cubin was built for and the launch plan inside it
(--plan: the plan's text, format in runtime/cuda_plan.h; --source: the CUDA source
the cubin was compiled from, which `ueajc FILE.ue -o OUT.cubin` puts inside it;
--kernels: registers, static shared memory and code size of each kernel, and how
the plan launches it)
# >>> exit 2
