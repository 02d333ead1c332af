# args: models/llama.ue --config models/tiny-llama.json -o $OUT/x.cubin --arch sm_12
# >>> absent
$OUT/x.cubin
# >>> stderr
ueajc: error: --arch sm_12: not a GPU architecture NVRTC compiles for; accepted: sm_75 sm_80 sm_86 sm_87 sm_88 sm_89 sm_90 sm_100 sm_103 sm_110 sm_120 sm_121
