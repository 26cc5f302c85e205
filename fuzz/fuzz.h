/* fuzz.h — what every harness shares: APR started once, a pool per input.
 *
 * Each fuzz_*.c defines LLVMFuzzerTestOneInput. Built with clang and
 * -DDRAY_FUZZ=ON it is a libFuzzer program; in every build it is also linked
 * with driver.c, a plain main that runs the kept inputs (fuzz/regress/NAME and
 * fuzz/corpus/NAME) once each, as a ctest.
 */
#ifndef DRAY_FUZZ_H
#define DRAY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "dray/pools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fresh pool for one input, under a root made once. */
static inline apr_pool_t *dray_fuzz_pool(void)
{
  static apr_pool_t *root;
  apr_pool_t *pool;
  if (!root) {
    apr_initialize();
    root = dray_pool_create_root();
  }
  if (apr_pool_create(&pool, root) != APR_SUCCESS)
    dray_pool_abort(APR_ENOMEM);
  return pool;
}

/* DATA[0..SIZE) as a NUL-terminated string in POOL (it may hold NULs). */
static inline char *dray_fuzz_text(const uint8_t *data, size_t size, apr_pool_t *pool)
{
  char *s = apr_palloc(pool, size + 1);
  if (size)
    memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

#endif
