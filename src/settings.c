/* settings.c — the one precedence rule for run-wide settings. */
#include "dray/settings.h"

#include <string.h>

#include "dray/platform.h"

void dray_settings_init(dray_settings_t *s)
{
  memset(s, 0, sizeof(*s));
  s->builders = s->pushers = s->retries = s->build_retries = DRAY_SETTING_UNSET;
  s->builders_max = s->pushers_max = DRAY_SETTING_UNSET;
  s->stall_timeout = DRAY_SETTING_UNSET;
  s->retry_delay = -1;
}

static int pick_int(int over, int under)
{
  return over != DRAY_SETTING_UNSET ? over : under;
}

static const char *pick_str(const char *over, const char *under)
{
  return over ? over : under;
}

void dray_settings_merge(dray_settings_t *out, const dray_settings_t *over,
                         const dray_settings_t *under)
{
  dray_settings_t r;
  r.registry = pick_str(over->registry, under->registry);
  r.tags = over->tags && over->tags->nelts ? over->tags : under->tags;
  r.builders = pick_int(over->builders, under->builders);
  r.pushers = pick_int(over->pushers, under->pushers);
  r.builders_max = pick_int(over->builders_max, under->builders_max);
  r.pushers_max = pick_int(over->pushers_max, under->pushers_max);
  r.retries = pick_int(over->retries, under->retries);
  r.build_retries = pick_int(over->build_retries, under->build_retries);
  r.retry_delay = over->retry_delay >= 0 ? over->retry_delay : under->retry_delay;
  r.stall_timeout = pick_int(over->stall_timeout, under->stall_timeout);
  r.network = pick_str(over->network, under->network);
  r.platform = pick_str(over->platform, under->platform);
  *out = r;
}

void dray_settings_default(dray_settings_t *s, apr_pool_t *result_pool)
{
  dray_settings_t d;
  dray_settings_init(&d);
  d.builders = DRAY_SETTING_AUTO;
  d.pushers = DRAY_SETTING_AUTO;
  d.builders_max = 4 * dray_platform_cpu_count();
  d.pushers_max = 8;
  d.retries = 2;
  d.build_retries = 0;
  d.retry_delay = 2.0;
  d.stall_timeout = 60;
  d.tags = apr_array_make(result_pool, 1, sizeof(const char *));
  APR_ARRAY_PUSH(d.tags, const char *) = "latest";
  dray_settings_merge(s, s, &d);
}
