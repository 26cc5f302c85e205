/* test_outcome.c — the outcome and event tables, and the one classifier
 * both push drivers use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <curl/curl.h>

#include "dray/event.h"
#include "dray/http.h"
#include "dray/outcome.h"

/* Every outcome has one distinct word that maps back to it. */
static void test_outcome_table_round_trips(void **state)
{
  int i, j;
  (void)state;
  for (i = 0; i < DRAY_OUTCOME_COUNT; i++) {
    const char *w = dray_outcome_word((dray_outcome_t)i);
    assert_non_null(w);
    assert_string_not_equal(w, "unknown");
    assert_int_equal(dray_outcome_from_word(w), i);
    for (j = 0; j < i; j++)
      assert_string_not_equal(w, dray_outcome_word((dray_outcome_t)j));
  }
  assert_int_equal(dray_outcome_from_word("no-such-word"), -1);
  assert_string_equal(dray_outcome_word(DRAY_OUTCOME_COUNT), "unknown");
}

/* The words the README and the report document, and which retry. */
static void test_documented_words_and_retryability(void **state)
{
  static const struct { dray_outcome_t o; const char *word; int retry; } want[] = {
    {DRAY_OUTCOME_OK, "ok", 0},
    {DRAY_OUTCOME_EXIT, "exit", 1},
    {DRAY_OUTCOME_STALLED, "stalled", 1},
    {DRAY_OUTCOME_RESET, "reset", 1},
    {DRAY_OUTCOME_NETWORK, "network", 1},
    {DRAY_OUTCOME_SERVER_ERROR, "server-error", 1},
    {DRAY_OUTCOME_RATE_LIMITED, "rate-limited", 1},
    {DRAY_OUTCOME_AUTH, "auth", 0},
    {DRAY_OUTCOME_NOT_FOUND, "not-found", 0},
    {DRAY_OUTCOME_REJECTED, "rejected", 0},
    {DRAY_OUTCOME_PROTOCOL, "protocol", 1},
    {DRAY_OUTCOME_VERIFY, "verify", 1},
    {DRAY_OUTCOME_CANCELLED, "cancelled", 0},
    {DRAY_OUTCOME_INTERRUPTED, "interrupted", 0},
    {DRAY_OUTCOME_DEPENDENCY, "dependency", 0},
    {DRAY_OUTCOME_NOT_STARTED, "not-started", 0},
  };
  apr_size_t i;
  (void)state;
  assert_int_equal(sizeof(want) / sizeof(want[0]), DRAY_OUTCOME_COUNT);
  for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    assert_string_equal(dray_outcome_word(want[i].o), want[i].word);
    assert_int_equal(dray_outcome_retryable(want[i].o), want[i].retry);
  }
}

static void test_http_status(void **state)
{
  (void)state;
  assert_int_equal(dray_outcome_from_http_status(200), DRAY_OUTCOME_OK);
  assert_int_equal(dray_outcome_from_http_status(201), DRAY_OUTCOME_OK);
  assert_int_equal(dray_outcome_from_http_status(401), DRAY_OUTCOME_AUTH);
  assert_int_equal(dray_outcome_from_http_status(403), DRAY_OUTCOME_AUTH);
  assert_int_equal(dray_outcome_from_http_status(404), DRAY_OUTCOME_NOT_FOUND);
  assert_int_equal(dray_outcome_from_http_status(429), DRAY_OUTCOME_RATE_LIMITED);
  assert_int_equal(dray_outcome_from_http_status(400), DRAY_OUTCOME_REJECTED);
  assert_int_equal(dray_outcome_from_http_status(500), DRAY_OUTCOME_SERVER_ERROR);
  assert_int_equal(dray_outcome_from_http_status(503), DRAY_OUTCOME_SERVER_ERROR);
  assert_int_equal(dray_outcome_from_http_status(302), DRAY_OUTCOME_PROTOCOL);
}

/* What dockerd puts in errorDetail and what "docker push" prints last are
 * the same words: one outcome whichever driver saw them. */
static void test_engine_and_cli_messages(void **state)
{
  static const struct { const char *text; dray_outcome_t o; } cases[] = {
    {"no basic auth credentials", DRAY_OUTCOME_AUTH},
    {"unauthorized: authentication required", DRAY_OUTCOME_AUTH},
    {"denied: requested access to the resource is denied", DRAY_OUTCOME_AUTH},
    {"An image does not exist locally with the tag: r/x", DRAY_OUTCOME_NOT_FOUND},
    {"Error: r/x: image not known", DRAY_OUTCOME_NOT_FOUND},
    {"invalid reference format", DRAY_OUTCOME_REJECTED},
    {"toomanyrequests: slow down", DRAY_OUTCOME_RATE_LIMITED},
    {"received unexpected HTTP status: 503 Service Unavailable", DRAY_OUTCOME_SERVER_ERROR},
    {"received unexpected HTTP status: 500 Internal Server Error", DRAY_OUTCOME_SERVER_ERROR},
    {"received unexpected HTTP status: 503 Fault Injected", DRAY_OUTCOME_SERVER_ERROR},
    {"received unexpected HTTP status: 429 Slow Down", DRAY_OUTCOME_RATE_LIMITED},
    {"Put \"http://127.0.0.1:5000/v2/x/blobs/uploads/1\": read tcp 1->2: read: connection reset by peer",
     DRAY_OUTCOME_RESET},
    {"Patch http://r/v2/x/blobs/uploads/1: EOF", DRAY_OUTCOME_RESET},
    {"dial tcp 127.0.0.1:1: connect: connection refused", DRAY_OUTCOME_NETWORK},
    {"net/http: TLS handshake timeout", DRAY_OUTCOME_NETWORK},
    {"lookup nowhere: no such host", DRAY_OUTCOME_NETWORK},
  };
  apr_size_t i;
  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    dray_outcome_t got = dray_outcome_from_message(cases[i].text, DRAY_OUTCOME_EXIT);
    if (got != cases[i].o)
      fail_msg("%s: got %s, want %s", cases[i].text, dray_outcome_word(got),
               dray_outcome_word(cases[i].o));
  }
  assert_int_equal(dray_outcome_from_message("something odd happened", DRAY_OUTCOME_EXIT),
                   DRAY_OUTCOME_EXIT);
  assert_int_equal(dray_outcome_from_message(NULL, DRAY_OUTCOME_PROTOCOL), DRAY_OUTCOME_PROTOCOL);
  assert_int_equal(dray_outcome_from_message("NO BASIC AUTH CREDENTIALS", DRAY_OUTCOME_EXIT),
                   DRAY_OUTCOME_AUTH);
}

/* Errors are classified by their codes first, then the HTTP status, then
 * their text. */
static void test_errors(void **state)
{
  dray_error_t *e;
  (void)state;
  assert_int_equal(dray_outcome_from_error(NULL, 0, DRAY_OUTCOME_EXIT, pool), DRAY_OUTCOME_OK);
  e = dray_error_create(DRAY_ERR_CANCELLED, NULL, "stop");
  e = dray_error_quick_wrapf(e, "push x");
  assert_int_equal(dray_outcome_from_error(e, 500, DRAY_OUTCOME_EXIT, pool), DRAY_OUTCOME_CANCELLED);
  dray_error_clear(e);
  e = dray_error_create(DRAY_ERR_HTTP, NULL, "registry r answered 429");
  assert_int_equal(dray_outcome_from_error(e, 429, DRAY_OUTCOME_NETWORK, pool),
                   DRAY_OUTCOME_RATE_LIMITED);
  assert_int_equal(dray_outcome_from_error(e, 0, DRAY_OUTCOME_NETWORK, pool), DRAY_OUTCOME_NETWORK);
  dray_error_clear(e);
  e = dray_error_create(DRAY_ERR_HTTP, NULL, "registry r: Connection reset by peer");
  assert_int_equal(dray_outcome_from_error(e, 0, DRAY_OUTCOME_NETWORK, pool), DRAY_OUTCOME_RESET);
  dray_error_clear(e);
  e = dray_error_create(DRAY_ERR_AUTH, NULL, "no");
  assert_int_equal(dray_outcome_from_error(e, 0, DRAY_OUTCOME_NETWORK, pool), DRAY_OUTCOME_AUTH);
  dray_error_clear(e);

  /* dray's own transport says how it failed by code, whatever its words:
   * curl's codes become dray's in one place (dray_http_error). */
  e = dray_http_error(CURLE_RECV_ERROR, "PATCH r", "some words curl chose");
  assert_true(dray_error_has(e, DRAY_ERR_HTTP));
  assert_true(dray_error_has(e, DRAY_ERR_NET_RESET));
  assert_string_equal(dray_error_format(e, pool), "PATCH r: some words curl chose");
  assert_int_equal(dray_outcome_from_error(e, 0, DRAY_OUTCOME_PROTOCOL, pool), DRAY_OUTCOME_RESET);
  dray_error_clear(e);
  e = dray_http_error(CURLE_COULDNT_CONNECT, "HEAD r", "connection reset, it says");
  assert_int_equal(dray_outcome_from_error(e, 0, DRAY_OUTCOME_PROTOCOL, pool), DRAY_OUTCOME_NETWORK);
  dray_error_clear(e);
  e = dray_http_error(CURLE_OPERATION_TIMEDOUT, "GET r", NULL);
  assert_true(dray_error_has(e, DRAY_ERR_NET_TIMEOUT));
  assert_int_equal(dray_outcome_from_error(e, 0, DRAY_OUTCOME_PROTOCOL, pool), DRAY_OUTCOME_NETWORK);
  dray_error_clear(e);
  e = dray_http_error(CURLE_SSL_CONNECT_ERROR, "GET r", NULL); /* no tag: FALLBACK */
  assert_false(dray_error_has(e, DRAY_ERR_NET_DOWN) || dray_error_has(e, DRAY_ERR_NET_RESET));
  assert_int_equal(dray_outcome_from_error(e, 0, DRAY_OUTCOME_PROTOCOL, pool), DRAY_OUTCOME_PROTOCOL);
  dray_error_clear(e);
}

/* Every event kind has a distinct word and a class; problems are marked. */
static void test_event_table(void **state)
{
  int i, j;
  (void)state;
  for (i = 0; i < DRAY_EVENT_COUNT; i++) {
    const char *w = dray_event_word((dray_event_kind_t)i);
    assert_string_not_equal(w, "unknown");
    assert_string_not_equal(dray_event_class_word(dray_event_class((dray_event_kind_t)i)),
                            "unknown");
    for (j = 0; j < i; j++)
      assert_string_not_equal(w, dray_event_word((dray_event_kind_t)j));
  }
  assert_string_equal(dray_event_word(DRAY_EVENT_PUSHED), "pushed");
  assert_int_equal(dray_event_class(DRAY_EVENT_PUSH_RETRY), DRAY_EVENT_CLASS_RETRY);
  assert_true(dray_event_is_problem(DRAY_EVENT_BUILD_FAILED));
  assert_false(dray_event_is_problem(DRAY_EVENT_PUSHED));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_outcome_table_round_trips),
    cmocka_unit_test(test_documented_words_and_retryability),
    cmocka_unit_test(test_http_status),
    cmocka_unit_test(test_engine_and_cli_messages),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_event_table),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
