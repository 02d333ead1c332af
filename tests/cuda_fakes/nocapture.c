/* nocapture.c - fake libcuda: modules.c's working H200 whose stream capture
 * fails (CUDA_ERROR_NOT_SUPPORTED), for the executor's fallback from CUDA
 * graphs to launching the steps one by one. */
#define FAKE_MODULES 1
#define FAKE_CAPTURE_FAILS 1
#include "fake_driver.h"
