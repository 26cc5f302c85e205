/* backoff.h — delays between attempts: exponential, capped, with jitter;
 * and the one rule for trying a request again inside an attempt.
 *
 * Jitter spreads retries of many images that failed together (a registry
 * restart) so they do not hit the registry again in one burst.
 *
 * Two levels retry, and only two: the scheduler retries a whole attempt
 * (--retries, dray_backoff_delay); inside an attempt, a loop that makes
 * requests (the upload state machine, the registry client's own loop for
 * callers without one) tries a failed request again only while its failure
 * streak is short (dray_streak_again). A loop never calls another loop
 * that retries: the inner caller asks for one try.
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

/* Failed tries in a row, with no progress between them, that end a retry
 * loop inside an attempt: the attempt then ends with its outcome and the
 * scheduler decides the rest. */
#define DRAY_RETRY_STREAK 3

/* The failures since the last progress. Zeroed: no failure yet. */
typedef struct dray_streak_t {
  int failures;
  apr_time_t first;           /* when the first of them was seen */
} dray_streak_t;

/* Progress (bytes the peer took, a step done): the streak is over. */
void dray_streak_reset(dray_streak_t *streak);

/* A failure seen at NOW: whether to try again, and after *DELAY (the
 * backoff for the streak's length from BASE, capped at MAX, jittered with
 * UNIT_RANDOM; at least AT_LEAST, a peer's Retry-After). No, when this is
 * failure number LIMIT in a row (0: DRAY_RETRY_STREAK), or when the next
 * try would begin WINDOW or more after the streak's first failure (WINDOW
 * 0: no such bound). WINDOW is the stall timeout: a streak of hung
 * requests, each cut by its own watchdog after the stall timeout, ends
 * after two of them; fast failures (refused, reset, 5xx) after LIMIT,
 * within a second or two. */
int dray_streak_again(dray_streak_t *streak, apr_time_t now, int limit,
                      apr_interval_time_t window, apr_interval_time_t base,
                      apr_interval_time_t max, apr_interval_time_t at_least,
                      double unit_random, apr_interval_time_t *delay);

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
