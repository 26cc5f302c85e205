/* test_progress.c — the push stream parser, on streams captured from a real
 * dockerd 20.10 pushing to a real registry, split at every byte boundary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "dray/progress.h"

#include "testutil.h"

#define DIGEST "sha256:8e234863ba750e95fc9ba092c652e8b33058b4e39ab961788c2c772194a86f01"

/* Captured with: POST /v1.41/images/<name>/push (X-Registry-Auth: e30=). */
static const char STREAM_PUSH1[] =
  "{\"status\":\"The push refers to repository [127.0.0.1:5800/x]\"}\r\n"
  "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"d69cd5778f3f\"}\r\n"
  "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"a3860387b599\"}\r\n"
  "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":33792,\"total\":1982256},\"progress\":\"[\\u003e                                                  ]  33.79kB/1.982MB\",\"id\":\"a3860387b599\"}\r\n"
  "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":33280,\"total\":3000000},\"progress\":\"[\\u003e                                                  ]  33.28kB/3MB\",\"id\":\"d69cd5778f3f\"}\r\n"
  "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":1115136,\"total\":1982256},\"progress\":\"[============================\\u003e                      ]  1.115MB/1.982MB\",\"id\":\"a3860387b599\"}\r\n"
  "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":1475072,\"total\":3000000},\"progress\":\"[========================\\u003e                          ]  1.475MB/3MB\",\"id\":\"d69cd5778f3f\"}\r\n"
  "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":1984512,\"total\":1982256},\"progress\":\"[==================================================\\u003e]  1.985MB\",\"id\":\"a3860387b599\"}\r\n"
  "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":3001856,\"total\":3000000},\"progress\":\"[==================================================\\u003e]  3.002MB\",\"id\":\"d69cd5778f3f\"}\r\n"
  "{\"status\":\"Pushed\",\"progressDetail\":{},\"id\":\"a3860387b599\"}\r\n"
  "{\"status\":\"Pushed\",\"progressDetail\":{},\"id\":\"d69cd5778f3f\"}\r\n"
  "{\"status\":\"latest: digest: sha256:8e234863ba750e95fc9ba092c652e8b33058b4e39ab961788c2c772194a86f01 size: 738\"}\r\n"
  "{\"progressDetail\":{},\"aux\":{\"Tag\":\"latest\",\"Digest\":\"sha256:8e234863ba750e95fc9ba092c652e8b33058b4e39ab961788c2c772194a86f01\",\"Size\":738}}\r\n";

static const char STREAM_PUSH2[] =
  "{\"status\":\"The push refers to repository [127.0.0.1:5800/x]\"}\r\n"
  "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"d69cd5778f3f\"}\r\n"
  "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"a3860387b599\"}\r\n"
  "{\"status\":\"Layer already exists\",\"progressDetail\":{},\"id\":\"a3860387b599\"}\r\n"
  "{\"status\":\"Layer already exists\",\"progressDetail\":{},\"id\":\"d69cd5778f3f\"}\r\n"
  "{\"status\":\"latest: digest: sha256:8e234863ba750e95fc9ba092c652e8b33058b4e39ab961788c2c772194a86f01 size: 738\"}\r\n"
  "{\"progressDetail\":{},\"aux\":{\"Tag\":\"latest\",\"Digest\":\"sha256:8e234863ba750e95fc9ba092c652e8b33058b4e39ab961788c2c772194a86f01\",\"Size\":738}}\r\n";

static const char STREAM_PUSH_MOUNT[] =
  "{\"status\":\"The push refers to repository [127.0.0.1:5800/y]\"}\r\n"
  "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"d69cd5778f3f\"}\r\n"
  "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"a3860387b599\"}\r\n"
  "{\"status\":\"Mounted from x\",\"progressDetail\":{},\"id\":\"a3860387b599\"}\r\n"
  "{\"status\":\"Mounted from x\",\"progressDetail\":{},\"id\":\"d69cd5778f3f\"}\r\n"
  "{\"status\":\"v1: digest: sha256:8e234863ba750e95fc9ba092c652e8b33058b4e39ab961788c2c772194a86f01 size: 738\"}\r\n"
  "{\"progressDetail\":{},\"aux\":{\"Tag\":\"v1\",\"Digest\":\"sha256:8e234863ba750e95fc9ba092c652e8b33058b4e39ab961788c2c772194a86f01\",\"Size\":738}}\r\n";

static const char STREAM_PUSH_ERR[] =
  "{\"status\":\"The push refers to repository [127.0.0.1:5899/z]\"}\r\n"
  "{\"errorDetail\":{\"message\":\"Get \\\"http://127.0.0.1:5899/v2/\\\": dial tcp 127.0.0.1:5899: connect: connection refused\"},\"error\":\"Get \\\"http://127.0.0.1:5899/v2/\\\": dial tcp 127.0.0.1:5899: connect: connection refused\"}\r\n";


typedef struct expect_t {
  const char *digest;
  apr_int64_t size;
  const char *error;
  apr_int64_t bytes_done, bytes_total;
  int layers_done, layers_total;
  int lines;
  const char *status;
} expect_t;

static void check(dray_progress_t *p, const expect_t *e)
{
  dray_push_progress_t snap;
  apr_int64_t size;
  const char *digest = dray_progress_digest(p, &size);

  if (e->digest) {
    assert_non_null(digest);
    assert_string_equal(digest, e->digest);
    assert_int_equal(size, e->size);
  }
  else
    assert_null(digest);
  if (e->error) {
    assert_non_null(dray_progress_error(p));
    assert_string_equal(dray_progress_error(p), e->error);
  }
  else
    assert_null(dray_progress_error(p));
  dray_progress_snapshot(p, &snap);
  assert_int_equal(snap.bytes_done, e->bytes_done);
  assert_int_equal(snap.bytes_total, e->bytes_total);
  assert_int_equal(snap.layers_done, e->layers_done);
  assert_int_equal(snap.layers_total, e->layers_total);
  assert_int_equal(dray_progress_lines(p), e->lines);
  assert_string_equal(snap.status, e->status);
}

/* Whole, split once at every byte, and one byte at a time. */
static void run_splits(const char *stream, const expect_t *e)
{
  apr_size_t len = strlen(stream);
  apr_pool_t *iterpool;
  dray_progress_t *p;

  apr_pool_create(&iterpool, pool);
  for (apr_size_t cut = 0; cut <= len; cut++) {
    apr_pool_clear(iterpool);
    p = dray_progress_create(0, iterpool);
    dray_test_no_error(dray_progress_feed(p, stream, cut, 1));
    dray_test_no_error(dray_progress_feed(p, stream + cut, len - cut, 2));
    dray_test_no_error(dray_progress_finish(p, 3));
    check(p, e);
  }
  apr_pool_clear(iterpool);
  p = dray_progress_create(0, iterpool);
  for (apr_size_t i = 0; i < len; i++)
    dray_test_no_error(dray_progress_feed(p, stream + i, 1, (apr_time_t)i));
  dray_test_no_error(dray_progress_finish(p, (apr_time_t)len));
  check(p, e);
  apr_pool_destroy(iterpool);
}

static void test_full_push(void **state)
{
  /* Counts pass the engine's estimated totals: clamped to them. */
  expect_t e = {DIGEST, 738, NULL, 1982256 + 3000000, 1982256 + 3000000, 2, 2, 13, "pushed"};
  (void)state;
  run_splits(STREAM_PUSH1, &e);
}

static void test_layers_exist(void **state)
{
  expect_t e = {DIGEST, 738, NULL, 0, 0, 2, 2, 7, "pushed"};
  (void)state;
  run_splits(STREAM_PUSH2, &e);
}

static void test_mounted(void **state)
{
  expect_t e = {DIGEST, 738, NULL, 0, 0, 2, 2, 7, "pushed"};
  (void)state;
  run_splits(STREAM_PUSH_MOUNT, &e);
}

static void test_error_in_stream(void **state)
{
  expect_t e = {NULL, -1,
                "Get \"http://127.0.0.1:5899/v2/\": dial tcp 127.0.0.1:5899: connect: "
                "connection refused",
                0, 0, 0, 0, 2, "failed"};
  (void)state;
  run_splits(STREAM_PUSH_ERR, &e);
}

/* Mid-push: the first eight lines only (both layers partly pushed). */
static void test_partial(void **state)
{
  const char *end = STREAM_PUSH1;
  dray_progress_t *p = dray_progress_create(0, pool);
  expect_t e = {NULL, -1, NULL, 1115136 + 1475072, 1982256 + 3000000, 0, 2, 7, "pushing"};
  (void)state;
  for (int i = 0; i < 7; i++)
    end = strchr(end, '\n') + 1;
  dray_test_no_error(dray_progress_feed(p, STREAM_PUSH1, (apr_size_t)(end - STREAM_PUSH1), 5));
  check(p, &e);
}

/* The containerd image store sends no aux; the classic one sends both. With
 * only aux, aux is used; with both, the status line wins. */
static void test_aux_fallback(void **state)
{
  const char *s =
      "{\"status\":\"Pushed\",\"id\":\"aaa\"}\n"
      "{\"progressDetail\":{},\"aux\":{\"Tag\":\"t\",\"Digest\":\"sha256:abababababababababababababababababababababababababababababababab\",\"Size\":12}}\n";
  const char *both =
      "{\"status\":\"t: digest: sha256:0101010101010101010101010101010101010101010101010101010101010101 size: 7\"}\n"
      "{\"aux\":{\"Tag\":\"t\",\"Digest\":\"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\",\"Size\":9}}";
  expect_t e = {"sha256:abababababababababababababababababababababababababababababababab", 12, NULL, 0, 0, 1, 1, 2, "pushed"};
  expect_t e2 = {"sha256:0101010101010101010101010101010101010101010101010101010101010101", 7, NULL, 0, 0, 0, 0, 2, "pushed"};
  (void)state;
  run_splits(s, &e);
  run_splits(both, &e2); /* also: last line without terminator */
}

/* Only a whole digest is one: a short or uppercase one is ignored. */
static void test_short_digest_rejected(void **state)
{
  static const char *bad[] = {
    "{\"status\":\"t: digest: sha256:0123 size: 7\"}\n",
    "{\"status\":\"t: digest: sha256:ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB size: 7\"}\n",
    "{\"aux\":{\"Tag\":\"t\",\"Digest\":\"sha256:ffff\",\"Size\":9}}\n",
  };
  apr_size_t i;
  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    dray_progress_t *p = dray_progress_create(0, pool);
    apr_int64_t size = 0;
    dray_test_no_error(dray_progress_feed(p, bad[i], strlen(bad[i]), 1));
    assert_null(dray_progress_digest(p, &size));
  }
}

static void test_status_is_not_a_digest(void **state)
{
  const char *s =
      "{\"status\":\"x: digest: nothex size: 3\"}\n"
      "{\"status\":\"x: digest: sha256:ZZ size: 3\"}\n";
  expect_t e = {NULL, -1, NULL, 0, 0, 0, 0, 2, "starting"};
  (void)state;
  run_splits(s, &e);
}

static void test_error_string_only(void **state)
{
  const char *s = "{\"error\":\"denied: requested access to the resource is denied\"}\n";
  expect_t e = {NULL, -1, "denied: requested access to the resource is denied", 0, 0, 0, 0, 1,
                "failed"};
  (void)state;
  run_splits(s, &e);
}

static void test_waiting_and_idle(void **state)
{
  const apr_time_t s = APR_USEC_PER_SEC;
  dray_progress_t *p = dray_progress_create(0, pool);
  dray_push_progress_t snap;
  const char *prep =
      "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"l1\"}\r\n"
      "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"l2\"}\r\n"
      "{\"status\":\"Layer already exists\",\"progressDetail\":{},\"id\":\"l3\"}\r\n";
  const char *wait =
      "{\"status\":\"Waiting\",\"progressDetail\":{},\"id\":\"l1\"}\r\n"
      "{\"status\":\"Waiting\",\"progressDetail\":{},\"id\":\"l2\"}\r\n";
  const char *push10 =
      "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":10,\"total\":100},\"id\":\"l1\"}\r\n";
  const char *retry =
      "{\"status\":\"Retrying in 5 seconds\",\"progressDetail\":{},\"id\":\"l1\"}\r\n";
  (void)state;

  assert_int_equal(dray_progress_idle(p, 7 * s), 7 * s); /* nothing yet */
  dray_test_no_error(dray_progress_feed(p, prep, strlen(prep), 8 * s));
  dray_progress_snapshot(p, &snap);
  assert_string_equal(snap.status, "preparing");
  assert_int_equal(snap.layers_total, 3);
  assert_int_equal(snap.layers_done, 1);
  assert_int_equal(dray_progress_idle(p, 10 * s), 2 * s);

  dray_test_no_error(dray_progress_feed(p, wait, strlen(wait), 10 * s));
  dray_progress_snapshot(p, &snap);
  assert_true(snap.waiting);
  assert_string_equal(snap.status, "waiting");
  /* Waiting behind the engine's limit does not count, however long. */
  assert_int_equal(dray_progress_idle(p, 500 * s), 0);
  assert_int_equal(dray_progress_idle(p, 900 * s), 0);

  dray_test_no_error(dray_progress_feed(p, push10, strlen(push10), 1000 * s));
  dray_progress_snapshot(p, &snap);
  assert_false(snap.waiting); /* l1 pushes, l2 still waits */
  assert_string_equal(snap.status, "pushing");
  assert_int_equal(snap.bytes_done, 10);
  assert_int_equal(snap.bytes_total, 100);
  assert_int_equal(dray_progress_idle(p, 1005 * s), 5 * s);

  /* The same count again is not progress. */
  dray_test_no_error(dray_progress_feed(p, push10, strlen(push10), 1010 * s));
  assert_int_equal(dray_progress_idle(p, 1020 * s), 20 * s);

  /* A retry is news (and the countdown messages keep coming). */
  dray_test_no_error(dray_progress_feed(p, retry, strlen(retry), 1030 * s));
  dray_progress_snapshot(p, &snap);
  assert_string_equal(snap.status, "retrying");
  assert_int_equal(snap.retries, 1);
  assert_int_equal(dray_progress_idle(p, 1031 * s), 1 * s);
  /* The countdown goes on: still one retry. */
  dray_test_no_error(dray_progress_feed(p, retry, strlen(retry), 1032 * s));
  dray_progress_snapshot(p, &snap);
  assert_int_equal(snap.retries, 1);
  /* Pushing again after a retry counts even at a lower count. */
  dray_test_no_error(dray_progress_feed(p, push10, strlen(push10), 1040 * s));
  assert_int_equal(dray_progress_idle(p, 1040 * s), 0);
  /* The same layer failing again is a second retry. */
  dray_test_no_error(dray_progress_feed(p, retry, strlen(retry), 1050 * s));
  dray_progress_snapshot(p, &snap);
  assert_int_equal(snap.retries, 2);
}

static void collect(void *baton, const char *line, apr_size_t len)
{
  char *buf = baton;
  strncat(buf, line, len);
  strcat(buf, "|");
}

static void test_lines_logged(void **state)
{
  char got[4096] = "";
  dray_progress_t *p = dray_progress_create(0, pool);
  const char *s = "{\"status\":\"a\"}\r\n\r\n{\"status\":\"b\"}\n{\"status\":\"c\"}";
  (void)state;
  dray_progress_set_line_fn(p, collect, got);
  dray_test_no_error(dray_progress_feed(p, s, 5, 0));
  dray_test_no_error(dray_progress_feed(p, s + 5, strlen(s) - 5, 0));
  assert_string_equal(got, "{\"status\":\"a\"}|{\"status\":\"b\"}|");
  dray_test_no_error(dray_progress_finish(p, 0));
  assert_string_equal(got, "{\"status\":\"a\"}|{\"status\":\"b\"}|{\"status\":\"c\"}|");
}

static void test_garbage(void **state)
{
  dray_progress_t *p = dray_progress_create(0, pool);
  dray_error_t *err;
  char *big;
  (void)state;

  err = dray_progress_feed(p, "<html>\n", 7, 0);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_PROTOCOL);
  dray_error_clear(err);

  err = dray_progress_feed(p, "[1,2]\n", 6, 0);
  assert_non_null(err);
  dray_error_clear(err);

  p = dray_progress_create(0, pool);
  big = apr_palloc(pool, DRAY_PROGRESS_MAX_LINE + 10);
  memset(big, ' ', DRAY_PROGRESS_MAX_LINE + 10);
  err = dray_progress_feed(p, big, DRAY_PROGRESS_MAX_LINE + 10, 0);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_PROTOCOL);
  dray_error_clear(err);
}

/* A hostile engine's byte counts: two layers at INT64_MAX (the sum
 * overflowed, UBSan), negative counts. Clamped, summed without overflow. */
static void test_huge_counts(void **state)
{
  static const char stream[] =
      "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":9223372036854775807,"
      "\"total\":9223372036854775807},\"id\":\"a\"}\n"
      "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":9223372036854775807,"
      "\"total\":9223372036854775807},\"id\":\"b\"}\n"
      "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":-5,\"total\":-7},"
      "\"id\":\"c\"}\n";
  dray_progress_t *p = dray_progress_create(0, pool);
  dray_push_progress_t snap;
  (void)state;

  dray_test_no_error(dray_progress_feed(p, stream, sizeof(stream) - 1, 1));
  dray_progress_snapshot(p, &snap);
  assert_int_equal(snap.layers_total, 3);
  assert_true(snap.bytes_done > 0);
  assert_true(snap.bytes_total >= snap.bytes_done);
  assert_true(snap.bytes_total <= 2 * DRAY_PROGRESS_MAX_BYTES);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_full_push),
    cmocka_unit_test(test_layers_exist),
    cmocka_unit_test(test_mounted),
    cmocka_unit_test(test_error_in_stream),
    cmocka_unit_test(test_partial),
    cmocka_unit_test(test_aux_fallback),
    cmocka_unit_test(test_status_is_not_a_digest),
    cmocka_unit_test(test_error_string_only),
    cmocka_unit_test(test_waiting_and_idle),
    cmocka_unit_test(test_short_digest_rejected),
    cmocka_unit_test(test_lines_logged),
    cmocka_unit_test(test_garbage),
    cmocka_unit_test(test_huge_counts),
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
}
