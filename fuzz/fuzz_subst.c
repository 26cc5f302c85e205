/* fuzz_subst.c — ${VAR} substitution in both dialects (compose, and the
 * Dockerfile's shell words); every name has a value: "v". */
#include "fuzz.h"

#include "dray/subst.h"

static const char *lookup(void *baton, const char *name, apr_pool_t *scratch_pool)
{
  (void)baton;
  (void)scratch_pool;
  return name[0] == 'U' ? NULL : "v";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apr_pool_t *pool = dray_fuzz_pool();
  dray_subst_options_t opts;
  dray_subst_failure_t failure;
  const char *out;

  memset(&opts, 0, sizeof(opts));
  opts.lookup = lookup;
  opts.flags = DRAY_SUBST_DOLLAR_DOLLAR;
  dray_error_clear(dray_subst_expand(&out, &failure, (const char *)data, size, &opts, pool, pool));
  opts.flags = DRAY_SUBST_SHELL_WORDS;
  opts.escape = '\\';
  dray_error_clear(dray_subst_expand(&out, &failure, (const char *)data, size, &opts, pool, pool));
  opts.escape = '`';
  dray_error_clear(dray_subst_expand(&out, &failure, (const char *)data, size, &opts, pool, pool));
  apr_pool_destroy(pool);
  return 0;
}
