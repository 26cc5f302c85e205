/* fuzz_registry.c — what a registry or engine says: WWW-Authenticate
 * challenges and error bodies. */
#include "fuzz.h"

#include "dray/engine.h"
#include "dray/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apr_pool_t *pool = dray_fuzz_pool();
  const char *s = dray_fuzz_text(data, size, pool);
  dray_auth_challenge_t ch;

  memset(&ch, 0, sizeof(ch));
  (void)dray_registry_parse_challenge(&ch, s, pool);
  (void)dray_registry_error_text((const char *)data, size, pool);
  (void)dray_engine_error_message((const char *)data, size, pool);
  apr_pool_destroy(pool);
  return 0;
}
