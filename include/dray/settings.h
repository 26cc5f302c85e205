/* settings.h — run-wide settings and where each value comes from.
 *
 * A setting may come from the command line, from a compose file's x-dray
 * section, or from dray's default. The precedence (command line, then
 * x-dray, then default) is decided here and nowhere else.
 */
#ifndef DRAY_SETTINGS_H
#define DRAY_SETTINGS_H

#include <apr_pools.h>
#include <apr_tables.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_SETTING_UNSET (-1)
#define DRAY_SETTING_AUTO 0       /* builders, pushers: found while running */

typedef struct dray_settings_t {
  const char *registry;           /* HOST[:PORT][/NAMESPACE], or NULL */
  apr_array_header_t *tags;       /* const char *, or NULL */
  int builders;                   /* builds at once, AUTO, or UNSET */
  int pushers;                    /* pushes at once, AUTO, or UNSET */
  int builders_max;               /* the bound of AUTO builders, or UNSET */
  int pushers_max;                /* the bound of AUTO pushers, or UNSET */
  int retries;                    /* push attempts beyond the first, or UNSET */
  int build_retries;              /* build attempts beyond the first, or UNSET */
  double retry_delay;             /* first backoff delay in seconds, < 0: unset */
  int stall_timeout;              /* seconds, 0 = never, or UNSET */
  const char *network;            /* RUN steps' network, or NULL */
  const char *platform;           /* target platform, or NULL */
} dray_settings_t;

/* Every setting unset. */
void dray_settings_init(dray_settings_t *settings);

/* OUT gets each setting from OVER when set there, else from UNDER. OUT may
 * be either of them. */
void dray_settings_merge(dray_settings_t *out, const dray_settings_t *over,
                         const dray_settings_t *under);

/* Fill what is still unset with dray's defaults: builders and pushers auto
 * (at most 4 per CPU and 8), retries 2, build retries 0, retry delay 2 s, stall timeout 60 s,
 * tags "latest". Arrays are made in RESULT_POOL. */
void dray_settings_default(dray_settings_t *settings, apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_SETTINGS_H */
