/* nodevinit.c - fake libcuda: cuInit reports no device (a driver on a machine without GPU). */
#define FAKE_INIT_RESULT 100
#include "fake_driver.h"
