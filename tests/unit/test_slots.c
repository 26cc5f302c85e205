/* test_slots.c — machine-wide push slots: the NAME[:N] syntax, and that a
 * slot held by one set (as another dray process would hold it) is not
 * taken by a second set until it is given back. The cross-process case with
 * a killed holder runs in tests/integration/test_global_slots.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <apr_thread_proc.h>

#include "testutil.h"

#include "dray/slots.h"

DRAY_TEST_ROOT_FIXTURE("dray-test-slots-")

static void test_parse(void **state)
{
  const char *name;
  int n;
  dray_error_t *err;
  (void)state;
  dray_test_no_error(dray_slots_parse(&name, &n, "ci-uplink", pool));
  assert_string_equal(name, "ci-uplink");
  assert_int_equal(n, DRAY_SLOTS_DEFAULT);
  dray_test_no_error(dray_slots_parse(&name, &n, "up_1.x:5", pool));
  assert_string_equal(name, "up_1.x");
  assert_int_equal(n, 5);
  {
    static const char *bad[] = {"", ":2", "x:0", "x:65", "x:", "x:2a", "../x", ".x", "a/b", "a b"};
    apr_size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      err = dray_slots_parse(&name, &n, bad[i], pool);
      if (!err)
        fail_msg("accepted \"%s\"", bad[i]);
      assert_int_equal(err->apr_err, DRAY_ERR_USAGE);
      assert_non_null(strstr(err->message, "--global-slots"));
      dray_error_clear(err);
    }
  }
}

/* Within one set: each slot once, the next acquire waits until a release. */
typedef struct waiter_t {
  dray_slots_t *slots;
  volatile int slot;
  volatile int done;
} waiter_t;

static void *APR_THREAD_FUNC acquire_main(apr_thread_t *thd, void *data)
{
  waiter_t *w = data;
  int slot = -1;
  dray_error_t *err = dray_slots_acquire(&slot, w->slots, NULL);
  dray_error_clear(err);
  w->slot = err ? -2 : slot;
  w->done = 1;
  (void)thd;
  return NULL;
}

static void test_two_slots_two_holders(void **state)
{
  dray_slots_t *a, *b;
  apr_thread_t *t;
  apr_status_t rv;
  waiter_t w;
  int s0, s1, i;
  (void)state;

  dray_test_no_error(dray_slots_open(&a, "unit", 2, root, pool));
  /* A second set on the same files stands for another dray process. */
  dray_test_no_error(dray_slots_open(&b, "unit", 2, root, pool));
  dray_test_no_error(dray_slots_acquire(&s0, a, NULL));
  dray_test_no_error(dray_slots_acquire(&s1, b, NULL));
  assert_int_equal(s0, 0);
  assert_int_equal(s1, 1); /* slot 0 is taken elsewhere: the next one */
  assert_string_equal(dray_slots_describe(a, pool), "unit:2");

  /* Both held: a third pusher (of A) waits... */
  memset(&w, 0, sizeof(w));
  w.slots = a;
  w.slot = -1;
  assert_int_equal(apr_thread_create(&t, NULL, acquire_main, &w, pool), APR_SUCCESS);
  for (i = 0; i < 5; i++)
    apr_sleep(apr_time_from_msec(100));
  assert_false(w.done);
  /* ...until the other "process" gives its slot back. */
  dray_slots_release(b, s1);
  for (i = 0; i < 50 && !w.done; i++)
    apr_sleep(apr_time_from_msec(100));
  assert_true(w.done);
  assert_int_equal(w.slot, 1);
  apr_thread_join(&rv, t);
  dray_slots_release(a, 1);
  dray_slots_release(a, s0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse),
    cmocka_unit_test(test_two_slots_two_holders),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, setup, teardown);
  apr_terminate();
  return rc;
}
