/* olddriver.c - fake libcuda: a CUDA 12.2 driver. */
#define FAKE_DRIVER_VERSION 12020
#include "fake_driver.h"
