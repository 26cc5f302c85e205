/* Unit tests: exponential backoff with equal jitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dray/backoff.h"

#define S(x) apr_time_from_sec(x)

static void test_doubles_per_attempt(void **state)
{
  (void)state;
  /* unit_random 0 gives the lower bound d/2 */
  assert_int_equal(dray_backoff_delay(1, S(2), S(60), 0.0), S(1));
  assert_int_equal(dray_backoff_delay(2, S(2), S(60), 0.0), S(2));
  assert_int_equal(dray_backoff_delay(3, S(2), S(60), 0.0), S(4));
  assert_int_equal(dray_backoff_delay(4, S(2), S(60), 0.0), S(8));
}

static void test_capped(void **state)
{
  (void)state;
  assert_int_equal(dray_backoff_delay(10, S(2), S(60), 0.0), S(30));
  /* a huge attempt number must not overflow */
  assert_int_equal(dray_backoff_delay(1000, S(2), S(60), 0.0), S(30));
  assert_true(dray_backoff_delay(1000, S(2), S(60), 0.999) <= S(60));
}

static void test_jitter_range(void **state)
{
  dray_random_t rng;
  int i, attempt;
  apr_interval_time_t lo = S(60), hi = 0;
  (void)state;
  dray_random_seed(&rng, 42);
  for (attempt = 1; attempt <= 5; attempt++) {
    apr_interval_time_t d = S(1);
    int k;
    for (k = 1; k < attempt; k++)
      d *= 2;
    for (i = 0; i < 1000; i++) {
      apr_interval_time_t v = dray_backoff_delay(attempt, S(1), S(60), dray_random_unit(&rng));
      assert_true(v >= d / 2);
      assert_true(v <= d);
      if (attempt == 5) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  /* jitter spreads: over 1000 draws the values cover most of [8s, 16s] */
  assert_true(lo < S(9));
  assert_true(hi > S(15));
}

/* The rule for retrying inside an attempt: LIMIT failures in a row, or a
 * streak as long as the window, end it; progress starts a new one. */
static void test_streak_limit_and_progress(void **state)
{
  dray_streak_t s = {0};
  apr_interval_time_t d = -1;
  apr_time_t t = S(100);
  (void)state;
  assert_true(dray_streak_again(&s, t, 3, S(60), S(1), S(10), 0, 0.0, &d));
  assert_int_equal(d, apr_time_from_msec(500)); /* the backoff of failure 1 */
  assert_true(dray_streak_again(&s, t + S(1), 3, S(60), S(1), S(10), 0, 0.0, &d));
  assert_int_equal(d, S(1));
  assert_false(dray_streak_again(&s, t + S(2), 3, S(60), S(1), S(10), 0, 0.0, &d));
  /* Progress: a new streak, with its own count and the first backoff. */
  dray_streak_reset(&s);
  assert_true(dray_streak_again(&s, t + S(3), 3, S(60), S(1), S(10), 0, 0.0, &d));
  assert_int_equal(d, apr_time_from_msec(500));
  assert_int_equal(s.failures, 1);
  /* LIMIT 0: DRAY_RETRY_STREAK. */
  dray_streak_reset(&s);
  for (int i = 1; i < DRAY_RETRY_STREAK; i++)
    assert_true(dray_streak_again(&s, t, 0, 0, S(1), S(10), 0, 0.0, &d));
  assert_false(dray_streak_again(&s, t, 0, 0, S(1), S(10), 0, 0.0, &d));
}

static void test_streak_window(void **state)
{
  dray_streak_t s = {0};
  apr_interval_time_t d = -1;
  apr_time_t t = S(100);
  (void)state;
  /* Two hung requests, each cut after the window (3 s): the first is
   * tried again, the second ends the streak though the limit is far. */
  assert_true(dray_streak_again(&s, t + S(3), 10, S(3), S(1), S(10), 0, 0.0, &d));
  assert_false(dray_streak_again(&s, t + S(6), 10, S(3), S(1), S(10), 0, 0.0, &d));
  /* A Retry-After longer than the window: give up at once, not after it. */
  dray_streak_reset(&s);
  assert_false(dray_streak_again(&s, t, 10, S(3), S(1), S(10), S(5), 0.0, &d));
  /* within the window it lengthens the wait */
  dray_streak_reset(&s);
  assert_true(dray_streak_again(&s, t, 10, S(60), S(1), S(10), S(5), 0.0, &d));
  assert_int_equal(d, S(5));
}

static void test_random_unit_interval(void **state)
{
  dray_random_t rng;
  int i;
  double sum = 0;
  (void)state;
  dray_random_seed(&rng, 0); /* zero seed is replaced, not stuck at zero */
  for (i = 0; i < 10000; i++) {
    double u = dray_random_unit(&rng);
    assert_true(u >= 0.0 && u < 1.0);
    sum += u;
  }
  assert_true(sum / 10000 > 0.45 && sum / 10000 < 0.55);
}

static void test_attempt_below_one(void **state)
{
  (void)state;
  assert_int_equal(dray_backoff_delay(0, S(2), S(60), 0.0), S(1));
  assert_int_equal(dray_backoff_delay(-3, S(2), S(60), 0.0), S(1));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_doubles_per_attempt),
    cmocka_unit_test(test_capped),
    cmocka_unit_test(test_jitter_range),
    cmocka_unit_test(test_random_unit_interval),
    cmocka_unit_test(test_streak_limit_and_progress),
    cmocka_unit_test(test_streak_window),
    cmocka_unit_test(test_attempt_below_one),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
