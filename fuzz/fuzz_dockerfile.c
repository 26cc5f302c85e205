/* fuzz_dockerfile.c — the Dockerfile parser, then the target walk. */
#include "fuzz.h"

#include "dray/dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apr_pool_t *pool = dray_fuzz_pool();
  dray_dockerfile_t *df = NULL;
  apr_array_header_t *args = apr_array_make(pool, 1, sizeof(const char *));
  dray_error_t *err;

  APR_ARRAY_PUSH(args, const char *) = "BASE=busybox";
  err = dray_dockerfile_parse_string(&df, dray_fuzz_text(data, size, pool), size, "Dockerfile",
                                     args, pool, pool);
  if (!err) {
    apr_array_header_t *refs;
    dray_error_clear(dray_dockerfile_target_refs(&refs, df, NULL, pool));
    dray_error_clear(dray_dockerfile_target_refs(&refs, df, "build", pool));
  } else {
    (void)dray_error_format(err, pool);
    dray_error_clear(err);
  }
  apr_pool_destroy(pool);
  return 0;
}
