/* smallmem.c - fake libcuda: modules.c with 16 MiB of device memory, for
 * the executor's "needs X MiB, the device has 16.0 MiB free". */
#define FAKE_MODULES 1
#define FAKE_MEM (16ull << 20)
#include "fake_driver.h"
