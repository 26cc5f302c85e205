/* test_error.c — error chains: composing and formatting stay linear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dray/error.h"

#include "testutil.h"

static void test_compose_order(void **state)
{
  dray_error_t *err = NULL;
  (void)state;

  assert_null(dray_error_compose(NULL, NULL));
  err = dray_error_compose(err, dray_error_create(DRAY_ERR_INPUT, NULL, "a"));
  err = dray_error_compose(err, dray_error_create(DRAY_ERR_INPUT,
                                                  dray_error_create(DRAY_ERR_HTTP, NULL, "b2"),
                                                  "b1"));
  /* Wrapped in front, then composed again: the end is still found. */
  err = dray_error_quick_wrapf(err, "w");
  err = dray_error_compose(err, dray_error_create(DRAY_ERR_INPUT, NULL, "c"));
  err = dray_error_compose(err, NULL);
  assert_string_equal(dray_error_format(err, pool), "w: a: b1: b2: c");
  assert_true(dray_error_has(err, DRAY_ERR_HTTP));
  dray_error_clear(err);
  assert_string_equal(dray_error_format(NULL, pool), "unknown error");
}

/* 100k problems composed one after another (what every parser does): must
 * simply finish (a walk to the end per compose took minutes); ctest's
 * timeout is the only clock. */
static void test_compose_many(void **state)
{
  enum { N = 100000 };
  dray_error_t *err = NULL, *e;
  const char *text;
  int n = 0;
  (void)state;

  for (int i = 0; i < N; i++)
    err = dray_error_compose(err, dray_error_createf(DRAY_ERR_INPUT, NULL, "%d", i));
  for (e = err; e; e = e->child, n++)
    assert_int_equal(atoi(e->message), n);
  assert_int_equal(n, N);
  text = dray_error_format(err, pool);
  assert_true(strlen(text) > (size_t)N * 3);
  assert_true(strncmp(text, "0: 1: 2: ", 9) == 0);
  dray_error_clear(err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_compose_order),
    cmocka_unit_test(test_compose_many),
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
}
