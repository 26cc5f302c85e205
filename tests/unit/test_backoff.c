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
    cmocka_unit_test(test_attempt_below_one),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
