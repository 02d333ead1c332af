# args: inspect
# >>> stderr
usage: ueajc inspect FILE.cubin [--plan]
prints the GPU architecture a cubin was built for and the launch plan inside it
(--plan: the plan's text, format in runtime/cuda_plan.h)
# >>> exit 2
