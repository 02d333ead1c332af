/* modules.c - fake libcuda: the working H200 of h200.c whose modules load
 * and whose launches do nothing, so runtime/cuda_exec.c's device path
 * (NVRTC, module, functions, arena, copies, events) runs without a GPU. */
#define FAKE_MODULES 1
#include "fake_driver.h"
