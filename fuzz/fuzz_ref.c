/* fuzz_ref.c — image references, tags, digests, registry prefixes. */
#include "fuzz.h"

#include "dray/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apr_pool_t *pool = dray_fuzz_pool();
  const char *s = dray_fuzz_text(data, size, pool), *norm;
  dray_ref_t *ref;
  dray_error_t *err = dray_ref_parse(&ref, s, pool);

  if (!err) {
    (void)dray_ref_string(ref, pool);
    (void)dray_ref_normalized_name(ref, pool);
  }
  dray_error_clear(err);
  dray_error_clear(dray_ref_check_registry(&norm, s, pool));
  (void)dray_ref_is_valid_tag(s);
  (void)dray_ref_is_valid_name(s, pool);
  (void)dray_digest_parse(s, size, pool);
  (void)dray_digest_problem(s, size, pool);
  apr_pool_destroy(pool);
  return 0;
}
