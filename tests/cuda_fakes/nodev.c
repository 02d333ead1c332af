/* nodev.c - fake libcuda: cuInit succeeds, no device. */
#define FAKE_DEVICE_COUNT 0
#include "fake_driver.h"
