/* oldgpu.c - fake libcuda: a Volta (sm_70) device. */
#define FAKE_CC 70
#define FAKE_NAME "Tesla V100-SXM2-16GB"
#define FAKE_SMS 80
#define FAKE_MEM 17071734784ull
#include "fake_driver.h"
