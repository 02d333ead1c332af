# args: inspect $DIR/cubin_plan_v2.cubin
# >>> stderr
ueajc: error: tests/errors/cubin_plan_v2.cubin (its ueaj_plan):1: plan version '2' (this runtime reads version 1)
# >>> exit 1
