/* fuzz_compose.c — compose files (libyaml, merge keys, interpolation). The
 * path names a folder that does not exist: no .env is read. */
#include "fuzz.h"

#include "dray/compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apr_pool_t *pool = dray_fuzz_pool();
  dray_compose_t *compose = NULL;
  dray_error_t *err = dray_compose_parse(&compose, dray_fuzz_text(data, size, pool), size,
                                         "/nonexistent-dray-fuzz/compose.yaml", pool, pool);
  if (err) {
    (void)dray_error_format(err, pool);
    dray_error_clear(err);
  }
  apr_pool_destroy(pool);
  return 0;
}
