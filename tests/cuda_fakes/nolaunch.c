/* nolaunch.c - fake libcuda: a driver without cuLaunchKernel. */
#define FAKE_NO_LAUNCH 1
#include "fake_driver.h"
