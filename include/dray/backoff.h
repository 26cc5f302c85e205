/* backoff.h — delays between attempts: exponential, capped, with jitter.
 *
 * Jitter spreads retries of many images that failed together (a registry
 * restart) so they do not hit the registry again in one burst.
 */
#ifndef DRAY_BACKOFF_H
#define DRAY_BACKOFF_H

#include <apr_time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Delay before attempt ATTEMPT+1 after ATTEMPT failures (ATTEMPT >= 1):
 * d = min(MAX, BASE * 2^(ATTEMPT-1)); the result is d/2 + UNIT_RANDOM * d/2
 * ("equal jitter"), UNIT_RANDOM in [0,1). */
apr_interval_time_t dray_backoff_delay(int attempt, apr_interval_time_t base,
                                       apr_interval_time_t max, double unit_random);

/* A small per-caller random source (xorshift64*), not for secrets. */
typedef struct dray_random_t {
  apr_uint64_t state;
} dray_random_t;

void dray_random_seed(dray_random_t *rng, apr_uint64_t seed);
double dray_random_unit(dray_random_t *rng); /* [0,1) */

#ifdef __cplusplus
}
#endif
#endif /* DRAY_BACKOFF_H */
