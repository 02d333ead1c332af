/* h200.c - fake libcuda: a working NVIDIA H200 (sm_90, 132 SMs, driver 13.0)
 * whose device memory is host memory. */
#include "fake_driver.h"
