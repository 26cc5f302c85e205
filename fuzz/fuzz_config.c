/* fuzz_config.c — the docker config.json (auths, credsStore, credHelpers). */
#include "fuzz.h"

#include "dray/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apr_pool_t *pool = dray_fuzz_pool();
  dray_auth_config_t *cfg = NULL;
  dray_error_t *err = dray_auth_config_parse(&cfg, (const char *)data, size, "config.json", pool);

  if (!err) {
    (void)dray_auth_helper_for(cfg, "registry.example.com");
    (void)dray_auth_helper_for(cfg, NULL);
  }
  dray_error_clear(err);
  (void)dray_auth_key_hostname(dray_fuzz_text(data, size, pool), pool);
  apr_pool_destroy(pool);
  return 0;
}
