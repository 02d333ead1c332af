/* a100.c - fake libcuda: modules.c's working device, but an Ampere A100
 * (sm_80), for "x.cubin was built for sm_90, but CUDA device 0 ... is sm_80". */
#define FAKE_MODULES 1
#define FAKE_CC 80
#define FAKE_NAME "NVIDIA A100-SXM4-80GB"
#define FAKE_SMS 108
#define FAKE_MEM 85899345920ull
#include "fake_driver.h"
