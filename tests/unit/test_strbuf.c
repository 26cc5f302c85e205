/* test_strbuf.c — growable buffers: appends of any size, NUL after the
 * contents, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "dray/strbuf.h"

static void test_grows_and_terminates(void **state)
{
  dray_strbuf_t b;
  char chunk[1000];
  int i;
  (void)state;
  dray_strbuf_init(&b, 0, pool);
  assert_int_equal(b.len, 0);
  assert_string_equal(b.data, "");
  memset(chunk, 'x', sizeof(chunk));
  for (i = 0; i < 100; i++)
    dray_strbuf_append(&b, chunk, sizeof(chunk));
  dray_strbuf_append(&b, "end", 3);
  assert_int_equal(b.len, 100003);
  assert_true(b.cap > b.len);
  assert_int_equal(b.data[b.len], '\0');
  assert_string_equal(b.data + 100000, "end");
  assert_int_equal(b.data[99999], 'x');
  /* Appending nothing changes nothing; embedded NULs are kept. */
  dray_strbuf_append(&b, "", 0);
  assert_int_equal(b.len, 100003);
  dray_strbuf_append(&b, "a\0b", 3);
  assert_int_equal(b.len, 100006);
  assert_int_equal(b.data[100004], '\0');
  assert_int_equal(b.data[100005], 'b');
}

static void test_truncate_and_clear(void **state)
{
  dray_strbuf_t b;
  apr_size_t cap;
  (void)state;
  dray_strbuf_init(&b, 4, pool);
  dray_strbuf_append(&b, "hello world", 11);
  cap = b.cap;
  dray_strbuf_truncate(&b, 5);
  assert_string_equal(b.data, "hello");
  dray_strbuf_truncate(&b, 50); /* longer than it is: nothing */
  assert_string_equal(b.data, "hello");
  dray_strbuf_clear(&b);
  assert_int_equal(b.len, 0);
  assert_string_equal(b.data, "");
  assert_int_equal(b.cap, cap);
  dray_strbuf_append(&b, "again", 5);
  assert_string_equal(b.data, "again");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_grows_and_terminates),
    cmocka_unit_test(test_truncate_and_clear),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
