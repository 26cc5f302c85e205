/* backoff.c — exponential backoff with equal jitter; the failure streak. */
#include "dray/backoff.h"

apr_interval_time_t dray_backoff_delay(int attempt, apr_interval_time_t base,
                                       apr_interval_time_t max, double unit_random)
{
  apr_interval_time_t d = base;
  int i;

  if (attempt < 1)
    attempt = 1;
  if (unit_random < 0)
    unit_random = 0;
  if (unit_random >= 1)
    unit_random = 0.999999;
  /* Double without overflowing: stop as soon as the cap is reached. */
  for (i = 1; i < attempt && d < max; i++)
    d *= 2;
  if (d > max)
    d = max;
  return d / 2 + (apr_interval_time_t)(unit_random * (double)(d / 2));
}

void dray_streak_reset(dray_streak_t *streak)
{
  streak->failures = 0;
  streak->first = 0;
}

int dray_streak_again(dray_streak_t *streak, apr_time_t now, int limit,
                      apr_interval_time_t window, apr_interval_time_t base,
                      apr_interval_time_t max, apr_interval_time_t at_least,
                      double unit_random, apr_interval_time_t *delay)
{
  apr_interval_time_t d;

  if (streak->failures++ == 0)
    streak->first = now;
  if (streak->failures >= (limit > 0 ? limit : DRAY_RETRY_STREAK))
    return 0;
  d = dray_backoff_delay(streak->failures, base, max, unit_random);
  if (at_least > d)
    d = at_least;
  /* Waiting out the window only to give up then helps no one: give up now
   * (the attempt's outcome carries any Retry-After to the scheduler). */
  if (window > 0 && now + d - streak->first >= window)
    return 0;
  *delay = d;
  return 1;
}

void dray_random_seed(dray_random_t *rng, apr_uint64_t seed)
{
  rng->state = seed ? seed : APR_UINT64_C(0x9E3779B97F4A7C15);
}

double dray_random_unit(dray_random_t *rng)
{
  apr_uint64_t x = rng->state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng->state = x;
  /* Top 53 bits give a double in [0,1). */
  return (double)((x * APR_UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}
