/* test_http.c — curl handle set-up: options refused, the common settings
 * seen by a loopback HTTP listener (user agent, headers, status), protocol
 * restriction, cancellation, the low-speed limit and a caller's progress
 * callback. No network beyond 127.0.0.1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_network_io.h>
#include <apr_atomic.h>
#include <apr_thread_proc.h>

#include "dray/cancel.h"
#include "dray/http.h"
#include "dray/pools.h"

#include "testutil.h"

/* ---- a one-connection listener ------------------------------------------ */

typedef struct server_t {
  apr_socket_t *listener;
  apr_port_t port;
  const char *response;       /* sent after the request; NULL: say nothing */
  apr_interval_time_t hold;   /* keep the connection open this long first */
  char request[4096];         /* what the client sent (headers) */
  apr_thread_t *thread;
  apr_pool_t *pool;
  volatile apr_uint32_t stop;  /* the test is done: stop waiting for a client */
} server_t;

static void *APR_THREAD_FUNC serve(apr_thread_t *thread, void *baton)
{
  server_t *sv = baton;
  apr_socket_t *conn;
  apr_size_t got = 0;

  apr_status_t st;

  /* The listener has a short timeout: accept again until a client comes or
   * the test says it is done (a loaded machine may take seconds to
   * connect; a client that gives up before connecting must not block). */
  do {
    st = apr_socket_accept(&conn, sv->listener, sv->pool);
  } while (st != APR_SUCCESS && !apr_atomic_read32(&sv->stop));
  if (st == APR_SUCCESS && apr_atomic_read32(&sv->stop)) {
    apr_socket_close(conn); /* the wake-up from server_stop */
    st = APR_EOF;
  }
  if (st == APR_SUCCESS) {
    apr_socket_timeout_set(conn, apr_time_from_sec(5));
    while (got < sizeof(sv->request) - 1 && !strstr(sv->request, "\r\n\r\n")) {
      apr_size_t n = sizeof(sv->request) - 1 - got;
      if (apr_socket_recv(conn, sv->request + got, &n) != APR_SUCCESS || n == 0)
        break;
      got += n;
      sv->request[got] = '\0';
    }
    if (sv->hold)
      apr_sleep(sv->hold);
    if (sv->response) {
      apr_size_t n = strlen(sv->response);
      apr_socket_send(conn, sv->response, &n);
    }
    apr_socket_close(conn);
  }
  (void)thread; /* returning, not apr_thread_exit(): pthread_exit upsets ASan */
  return NULL;
}

static server_t *server_start(const char *response, apr_interval_time_t hold)
{
  server_t *sv = apr_pcalloc(pool, sizeof(*sv));
  apr_sockaddr_t *sa;

  /* The server thread allocates while the test does: its own allocator. */
  assert_int_equal(dray_pool_create_threadsafe(&sv->pool, pool), APR_SUCCESS);
  sv->response = response;
  sv->hold = hold;
  assert_int_equal(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, sv->pool),
                   APR_SUCCESS);
  assert_int_equal(apr_socket_create(&sv->listener, APR_INET, SOCK_STREAM, APR_PROTO_TCP,
                                     sv->pool), APR_SUCCESS);
  assert_int_equal(apr_socket_bind(sv->listener, sa), APR_SUCCESS);
  assert_int_equal(apr_socket_listen(sv->listener, 4), APR_SUCCESS);
  assert_int_equal(apr_socket_timeout_set(sv->listener, apr_time_from_msec(200)), APR_SUCCESS);
  assert_int_equal(apr_socket_addr_get(&sa, APR_LOCAL, sv->listener), APR_SUCCESS);
  sv->port = sa->port;
  assert_int_equal(apr_thread_create(&sv->thread, NULL, serve, sv, sv->pool), APR_SUCCESS);
  return sv;
}

static void server_stop(server_t *sv)
{
  apr_status_t rv;
  apr_sockaddr_t *sa;
  apr_socket_t *wake;
  apr_atomic_set32(&sv->stop, 1);
  /* Windows does not time out a blocking accept: a last connection ends it
   * (the server sees STOP and does not answer). */
  if (apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, sv->port, 0, pool) == APR_SUCCESS &&
      apr_socket_create(&wake, APR_INET, SOCK_STREAM, APR_PROTO_TCP, pool) == APR_SUCCESS) {
    apr_socket_connect(wake, sa);
    apr_socket_close(wake);
  }
  apr_thread_join(&rv, sv->thread);
  apr_socket_close(sv->listener);
  apr_pool_destroy(sv->pool);
}

static const char *url_of(const server_t *sv, const char *path)
{
  return apr_psprintf(pool, "http://127.0.0.1:%d%s", (int)sv->port, path);
}

typedef struct sink_t {
  char data[256];
  apr_size_t len;
} sink_t;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *baton)
{
  sink_t *s = baton;
  size_t n = size * nmemb;
  size_t take = n < sizeof(s->data) - 1 - s->len ? n : sizeof(s->data) - 1 - s->len;
  memcpy(s->data + s->len, ptr, take);
  s->len += take;
  s->data[s->len] = '\0';
  return n;
}

/* ---- tests --------------------------------------------------------------- */

static void test_bad_options(void **state)
{
  dray_http_options_t o;
  dray_http_t *h = (dray_http_t *)&o;
  dray_error_t *err;
  (void)state;

  memset(&o, 0, sizeof(o));
  err = dray_http_handle_create(&h, &o, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_HTTP);
  assert_non_null(strstr(err->message, "no URL"));
  assert_null(h);
  dray_error_clear(err);

  o.url = "https://r.example/";
  o.cert_file = "/x/cert.pem"; /* without its key */
  err = dray_http_handle_create(&h, &o, pool);
  assert_non_null(err);
  assert_non_null(strstr(err->message, "key"));
  dray_error_clear(err);

  /* The low level refuses the same, on a handle of the caller's. */
  {
    CURL *c = curl_easy_init();
    assert_non_null(c);
    err = dray_http_easy_setup(c, &o);
    assert_non_null(err);
    dray_error_clear(err);
    o.key_file = "/x/key.pem";
    dray_test_no_error(dray_http_easy_setup(c, &o));
    curl_easy_cleanup(c);
  }
}

static void test_request(void **state)
{
  server_t *sv = server_start("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n"
                              "Connection: close\r\n\r\nhello", 0);
  dray_http_options_t o;
  dray_http_t *h;
  sink_t body = {"", 0};
  (void)state;

  memset(&o, 0, sizeof(o));
  o.url = url_of(sv, "/v2/x");
  o.low_speed_time_sec = 30;
  o.tcp_keepalive = 1;
  dray_test_no_error(dray_http_handle_create(&h, &o, pool));
  dray_test_no_error(dray_http_add_header(h, "X-Dray-Test: one"));
  dray_test_no_error(dray_http_add_header(h, "Accept: text/plain"));
  dray_test_no_error(dray_http_set_write(h, on_write, &body));
  dray_test_no_error(dray_http_perform(h, "test"));
  assert_int_equal(dray_http_status(h), 201);
  assert_string_equal(body.data, "hello");
  dray_http_handle_destroy(h);
  dray_http_handle_destroy(h); /* a second time is harmless, and so is the pool's */
  server_stop(sv);

  assert_non_null(strstr(sv->request, "GET /v2/x HTTP/1.1\r\n"));
  assert_non_null(strstr(sv->request, "User-Agent: dray\r\n"));
  assert_non_null(strstr(sv->request, "X-Dray-Test: one\r\n"));
  assert_non_null(strstr(sv->request, "Accept: text/plain\r\n"));
}

static void test_setopt_and_status(void **state)
{
  server_t *sv = server_start("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n", 0);
  dray_http_options_t o;
  dray_http_t *h;
  (void)state;

  memset(&o, 0, sizeof(o));
  o.url = url_of(sv, "/m");
  dray_test_no_error(dray_http_handle_create(&h, &o, pool));
  dray_test_no_error(dray_http_setopt_long(h, CURLOPT_NOBODY, 1L, "HEAD"));
  dray_test_no_error(dray_http_setopt_ptr(h, CURLOPT_CUSTOMREQUEST, "HEAD", "HEAD"));
  /* An HTTP status is no failure here. */
  dray_test_no_error(dray_http_perform(h, "test"));
  assert_int_equal(dray_http_status(h), 404);
  server_stop(sv);
  assert_non_null(strstr(sv->request, "HEAD /m HTTP/1.1\r\n"));
}

static void test_protocols(void **state)
{
  dray_http_options_t o;
  dray_http_t *h;
  dray_error_t *err;
  (void)state;

  /* Only http and https: a file:// URL is refused, with WHAT in front. */
  memset(&o, 0, sizeof(o));
  o.url = "file:///etc/hostname";
  dray_test_no_error(dray_http_handle_create(&h, &o, pool));
  err = dray_http_perform(h, "registry r: GET x");
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_HTTP);
  assert_int_equal(strncmp(err->message, "registry r: GET x: ", 19), 0);
  assert_false(dray_error_has(err, DRAY_ERR_NET_DOWN)); /* not a transport failure */
  dray_error_clear(err);
  assert_int_equal(dray_http_status(h), 0);

  /* Nothing listens (port 1 on loopback): the transport says so by code. */
  memset(&o, 0, sizeof(o));
  o.url = "http://127.0.0.1:1/v2/";
  o.connect_timeout_sec = 5;
  dray_test_no_error(dray_http_handle_create(&h, &o, pool));
  err = dray_http_perform(h, "registry r: GET /v2/");
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_HTTP);
  assert_true(dray_error_has(err, DRAY_ERR_NET_DOWN));
  dray_error_clear(err);
}

static void test_cancel(void **state)
{
  server_t *sv = server_start(NULL, apr_time_from_sec(2));
  dray_http_options_t o;
  dray_http_t *h;
  dray_cancel_t *cancel;
  dray_error_t *err;
  apr_time_t start;
  (void)state;

  assert_int_equal(dray_cancel_create(&cancel, pool), APR_SUCCESS);
  dray_cancel_trigger(cancel, 0);
  memset(&o, 0, sizeof(o));
  o.url = url_of(sv, "/slow");
  o.cancel = cancel;
  dray_test_no_error(dray_http_handle_create(&h, &o, pool));
  start = apr_time_now();
  err = dray_http_perform(h, "engine e: GET /slow");
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_CANCELLED);
  assert_string_equal(err->message, "engine e: GET /slow: cancelled");
  assert_true(apr_time_now() - start < apr_time_from_sec(2));
  dray_error_clear(err);
  dray_http_handle_destroy(h);
  server_stop(sv);
}

static void test_low_speed(void **state)
{
  server_t *sv = server_start(NULL, apr_time_from_sec(3));
  dray_http_options_t o;
  dray_http_t *h;
  dray_error_t *err;
  (void)state;

  memset(&o, 0, sizeof(o));
  o.url = url_of(sv, "/stall");
  o.low_speed_time_sec = 1;
  dray_test_no_error(dray_http_handle_create(&h, &o, pool));
  err = dray_http_perform(h, "stall");
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_HTTP);
  assert_true(dray_error_has(err, DRAY_ERR_NET_TIMEOUT)); /* curl's low-speed limit */
  dray_error_clear(err);
  dray_http_handle_destroy(h);
  server_stop(sv);
}

typedef struct progress_t {
  int calls;
} progress_t;

static int own_xferinfo(void *baton, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
  progress_t *p = baton;
  (void)a;
  (void)b;
  (void)c;
  (void)d;
  return ++p->calls >= 2; /* a watchdog that gives up */
}

static void test_own_xferinfo(void **state)
{
  server_t *sv = server_start(NULL, apr_time_from_sec(2));
  dray_http_options_t o;
  dray_http_t *h;
  dray_cancel_t *cancel;
  progress_t p = {0};
  dray_error_t *err;
  (void)state;

  /* The caller's callback replaces the default: a triggered CANCEL that it
   * does not check stops nothing, its own verdict does. */
  assert_int_equal(dray_cancel_create(&cancel, pool), APR_SUCCESS);
  dray_cancel_trigger(cancel, 0);
  memset(&o, 0, sizeof(o));
  o.url = url_of(sv, "/push");
  o.cancel = cancel;
  o.xferinfo = own_xferinfo;
  o.xferinfo_data = &p;
  dray_test_no_error(dray_http_handle_create(&h, &o, pool));
  err = dray_http_perform(h, "push");
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_CANCELLED);
  assert_int_equal(p.calls, 2);
  dray_error_clear(err);
  server_stop(sv);
}

/* A handle left to its pool is freed by the pool's cleanup (ASan and
 * valgrind would see a leak otherwise). */
static void test_pool_cleanup(void **state)
{
  apr_pool_t *sub;
  dray_http_options_t o;
  dray_http_t *h;
  (void)state;

  assert_int_equal(apr_pool_create(&sub, pool), APR_SUCCESS);
  memset(&o, 0, sizeof(o));
  o.url = "http://127.0.0.1:9/";
  dray_test_no_error(dray_http_handle_create(&h, &o, sub));
  dray_test_no_error(dray_http_add_header(h, "X-A: 1"));
  assert_non_null(dray_http_curl(h));
  apr_pool_destroy(sub);
}

/* A URL in a message: no user information, no query (an upload session's
 * signed state), no fragment; the rest as it was. */
static void test_url_shown(void **state)
{
  (void)state;
  assert_string_equal(dray_http_url_shown("http://r:5000/v2/a/b/blobs/uploads/u1?_state=SIG"
                                          "&digest=sha256:ab", pool),
                      "http://r:5000/v2/a/b/blobs/uploads/u1?…");
  assert_string_equal(dray_http_url_shown("https://user:pw@r/v2/?x=1#f", pool),
                      "https://r/v2/?…");
  assert_string_equal(dray_http_url_shown("https://r/v2/a/manifests/v1#f", pool),
                      "https://r/v2/a/manifests/v1");
  assert_string_equal(dray_http_url_shown("https://r/v2/", pool), "https://r/v2/");
  /* An "@" past the host is a path's, kept. */
  assert_string_equal(dray_http_url_shown("http://r/v2/a/manifests/x@sha256:1", pool),
                      "http://r/v2/a/manifests/x@sha256:1");
  assert_string_equal(dray_http_url_shown("/v2/a/blobs/uploads/u?_state=s", pool),
                      "/v2/a/blobs/uploads/u?…");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bad_options),
    cmocka_unit_test(test_request),
    cmocka_unit_test(test_setopt_and_status),
    cmocka_unit_test(test_protocols),
    cmocka_unit_test(test_cancel),
    cmocka_unit_test(test_low_speed),
    cmocka_unit_test(test_own_xferinfo),
    cmocka_unit_test(test_pool_cleanup),
    cmocka_unit_test(test_url_shown),
  };
  int rc;
  apr_initialize();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  curl_global_cleanup();
  apr_terminate();
  return rc;
}
