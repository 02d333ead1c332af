/* allfail.c - fake libcuda: every call fails with CUDA_ERROR_UNKNOWN. */
#define FAKE_RESULT 999
#include "fake_driver.h"
