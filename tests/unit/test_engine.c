/* test_engine.c — engine endpoint resolution (flags, environment, contexts in
 * a temporary DOCKER_CONFIG), version negotiation, SHA-256. With
 * DRAY_TEST_DOCKER_HOST set, also talks to that real engine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_env.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "dray/engine.h"
#include "dray/platform.h"

#include "testutil.h"
#include "testhttpd.h"

static const char *cfgdir;

static void write_file(const char *path, const char *text)
{
  apr_file_t *f;
  assert_int_equal(apr_file_open(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                                 | APR_FOPEN_TRUNCATE, APR_OS_DEFAULT, pool), APR_SUCCESS);
  assert_int_equal(apr_file_write_full(f, text, strlen(text), NULL), APR_SUCCESS);
  apr_file_close(f);
}

static void mkdirs(const char *path)
{
  assert_int_equal(apr_dir_make_recursive(path, APR_OS_DEFAULT, pool), APR_SUCCESS);
}

static const char *SHA_CTX1 = "8f9d61fac39402898f831bfec31c774438bb77be6a0cbd47c83cf53d31858372";
static const char *SHA_CTX2 = "511c96ceb7174affc0b103d8fbbb33384196d849f1eeb3c2e9da6145053ae9d3";

static int setup(void **state)
{
  const char *d;
  (void)state;
  apr_pool_create(&pool, NULL);
  if (!(cfgdir = dray_test_make_root("dray-test-engine", pool)))
    return -1;

  d = apr_pstrcat(pool, cfgdir, "/contexts/meta/", SHA_CTX1, NULL);
  mkdirs(d);
  write_file(apr_pstrcat(pool, d, "/meta.json", NULL),
             "{\"Name\":\"ctx1\",\"Metadata\":{},\"Endpoints\":{\"docker\":"
             "{\"Host\":\"tcp://ctx.example:1234\",\"SkipTLSVerify\":false}}}");
  d = apr_pstrcat(pool, cfgdir, "/contexts/tls/", SHA_CTX1, "/docker", NULL);
  mkdirs(d);
  write_file(apr_pstrcat(pool, d, "/ca.pem", NULL), "x");
  write_file(apr_pstrcat(pool, d, "/cert.pem", NULL), "x");
  write_file(apr_pstrcat(pool, d, "/key.pem", NULL), "x");

  d = apr_pstrcat(pool, cfgdir, "/contexts/meta/", SHA_CTX2, NULL);
  mkdirs(d);
  write_file(apr_pstrcat(pool, d, "/meta.json", NULL),
             "{\"Name\":\"ctx2\",\"Endpoints\":{\"docker\":{\"Host\":\"unix:///run/ctx2.sock\"}}}");
  write_file(apr_pstrcat(pool, cfgdir, "/config.json", NULL),
             "{\"auths\":{},\"currentContext\":\"ctx2\"}");
  apr_env_delete("DOCKER_HOST", pool);
  apr_env_delete("DOCKER_CONTEXT", pool);
  apr_env_delete("DOCKER_TLS_VERIFY", pool);
  apr_env_delete("DOCKER_CERT_PATH", pool);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  dray_test_remove_tree(cfgdir, pool);
  apr_pool_destroy(pool);
  return 0;
}

static void test_sha256(void **state)
{
  (void)state;
  assert_string_equal(dray_engine_sha256_hex("", 0, pool),
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_string_equal(dray_engine_sha256_hex("abc", 3, pool),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_string_equal(dray_engine_sha256_hex("ctx1", 4, pool), SHA_CTX1);
  {
    /* Two blocks (FIPS 180-2 example). */
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_string_equal(dray_engine_sha256_hex(m, strlen(m), pool),
                        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  }
}

static void test_parse_host(void **state)
{
  dray_engine_endpoint_t *ep;
  dray_error_t *err;
  (void)state;

  dray_test_no_error(dray_engine_parse_host(&ep, "unix:///var/run/docker.sock", cfgdir, pool));
  assert_int_equal(ep->scheme, DRAY_ENGINE_UNIX);
  assert_string_equal(ep->socket_path, "/var/run/docker.sock");
  assert_string_equal(ep->base_url, "http://localhost");
  assert_true(dray_engine_http_capable(ep));

  dray_test_no_error(dray_engine_parse_host(&ep, "tcp://h.example", cfgdir, pool));
  assert_string_equal(ep->base_url, "http://h.example:2375");
  assert_false(ep->tls);
  dray_test_no_error(dray_engine_parse_host(&ep, "tcp://[::1]:7777/", cfgdir, pool));
  assert_string_equal(ep->base_url, "http://[::1]:7777");
  dray_test_no_error(dray_engine_parse_host(&ep, "tcp://[::1]", cfgdir, pool));
  assert_string_equal(ep->base_url, "http://[::1]:2375");

  apr_env_set("DOCKER_TLS_VERIFY", "1", pool);
  apr_env_set("DOCKER_CERT_PATH",
              apr_pstrcat(pool, cfgdir, "/contexts/tls/", SHA_CTX1, "/docker", NULL), pool);
  dray_test_no_error(dray_engine_parse_host(&ep, "tcp://h.example", cfgdir, pool));
  assert_string_equal(ep->base_url, "https://h.example:2376");
  assert_true(ep->tls && ep->tls_verify);
  assert_non_null(ep->ca_file);
  assert_non_null(strstr(ep->ca_file, "/ca.pem"));
  assert_non_null(strstr(ep->cert_file, "/cert.pem"));
  assert_non_null(strstr(ep->key_file, "/key.pem"));
  apr_env_delete("DOCKER_TLS_VERIFY", pool);
  apr_env_delete("DOCKER_CERT_PATH", pool);

  dray_test_no_error(dray_engine_parse_host(&ep, "npipe:////./pipe/docker_engine", cfgdir, pool));
  assert_int_equal(ep->scheme, DRAY_ENGINE_NPIPE);
  assert_false(dray_engine_http_capable(ep));
  dray_test_no_error(dray_engine_parse_host(&ep, "ssh://me@h.example", cfgdir, pool));
  assert_int_equal(ep->scheme, DRAY_ENGINE_SSH);
  assert_false(dray_engine_http_capable(ep));

  err = dray_engine_parse_host(&ep, "http://h.example", cfgdir, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  dray_error_clear(err);
  err = dray_engine_parse_host(&ep, "unix://", cfgdir, pool);
  assert_non_null(err);
  dray_error_clear(err);
}

static void test_resolve_precedence(void **state)
{
  const dray_engine_endpoint_t *ep;
  dray_error_t *err;
  (void)state;

  /* currentContext in config.json */
  dray_test_no_error(dray_engine_resolve(&ep, NULL, NULL, cfgdir, pool, pool));
  assert_string_equal(ep->host, "unix:///run/ctx2.sock");
  assert_string_equal(ep->context, "ctx2");
  assert_string_equal(ep->source, "currentContext");

  /* DOCKER_CONTEXT beats currentContext; the context's TLS files apply. */
  apr_env_set("DOCKER_CONTEXT", "ctx1", pool);
  dray_test_no_error(dray_engine_resolve(&ep, NULL, NULL, cfgdir, pool, pool));
  assert_string_equal(ep->base_url, "https://ctx.example:1234");
  assert_true(ep->tls_verify);
  assert_non_null(ep->ca_file);
  assert_string_equal(ep->source, "DOCKER_CONTEXT");

  /* DOCKER_HOST beats DOCKER_CONTEXT. */
  apr_env_set("DOCKER_HOST", "tcp://env.example:1", pool);
  dray_test_no_error(dray_engine_resolve(&ep, NULL, NULL, cfgdir, pool, pool));
  assert_string_equal(ep->base_url, "http://env.example:1");
  assert_string_equal(ep->source, "DOCKER_HOST");
  assert_null(ep->context);

  /* --context beats DOCKER_HOST. */
  dray_test_no_error(dray_engine_resolve(&ep, NULL, "ctx2", cfgdir, pool, pool));
  assert_string_equal(ep->socket_path, "/run/ctx2.sock");
  assert_string_equal(ep->source, "--context");

  /* --context default is DOCKER_HOST or the default socket. */
  dray_test_no_error(dray_engine_resolve(&ep, NULL, "default", cfgdir, pool, pool));
  assert_string_equal(ep->host, "tcp://env.example:1");

  /* --engine-host beats everything. */
  dray_test_no_error(dray_engine_resolve(&ep, "unix:///x.sock", "ctx2", cfgdir, pool, pool));
  assert_string_equal(ep->socket_path, "/x.sock");
  assert_string_equal(ep->source, "--engine-host");

  /* An unknown context is an input error naming it. */
  err = dray_engine_resolve(&ep, NULL, "nope", cfgdir, pool, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  assert_non_null(strstr(dray_error_format(err, pool), "\"nope\""));
  dray_error_clear(err);

  apr_env_delete("DOCKER_HOST", pool);
  apr_env_delete("DOCKER_CONTEXT", pool);

  /* Nothing configured at all: the system's default engine (Windows: a
   * named pipe, which only the CLI driver reaches). */
  dray_test_no_error(dray_engine_resolve(&ep, NULL, NULL, "/nonexistent/dray-test", pool, pool));
  assert_string_equal(ep->host, dray_platform_default_engine_host());
  assert_int_equal(ep->scheme, strncmp(ep->host, "npipe://", 8) == 0 ? DRAY_ENGINE_NPIPE
                                                                    : DRAY_ENGINE_UNIX);
  assert_int_equal(dray_engine_http_capable(ep), ep->scheme == DRAY_ENGINE_UNIX);
  assert_string_equal(ep->source, "default");

  /* DOCKER_CONFIG is honoured when no folder is given. */
  apr_env_set("DOCKER_CONFIG", cfgdir, pool);
  dray_test_no_error(dray_engine_resolve(&ep, NULL, NULL, NULL, pool, pool));
  assert_string_equal(ep->context, "ctx2");
  apr_env_delete("DOCKER_CONFIG", pool);
}

static void test_negotiate(void **state)
{
  (void)state;
  assert_true(dray_engine_version_cmp("1.41", "1.9") > 0);
  assert_true(dray_engine_version_cmp("1.41", "1.41") == 0);
  assert_true(dray_engine_version_cmp("1.4", "2.0") < 0);
  assert_string_equal(dray_engine_negotiate("1.41", "1.12"), "1.41");
  assert_string_equal(dray_engine_negotiate("1.52", "1.24"), DRAY_ENGINE_API_MAX);
  assert_string_equal(dray_engine_negotiate("1.60", "1.50"), "1.50");
  assert_string_equal(dray_engine_negotiate(NULL, NULL), DRAY_ENGINE_API_MAX);
}

static void test_escape(void **state)
{
  (void)state;
  assert_string_equal(dray_engine_escape_name("127.0.0.1:5000/a/b:v1", pool),
                      "127.0.0.1:5000/a/b:v1");
  assert_string_equal(dray_engine_escape_name("a b?#", pool), "a%20b%3F%23");
}

static void test_unreachable(void **state)
{
  dray_engine_endpoint_t *ep;
  dray_engine_t *engine;
  dray_error_t *err;
  const char *sock = apr_pstrcat(pool, "unix://", cfgdir, "/no.sock", NULL);
  (void)state;

  dray_test_no_error(dray_engine_parse_host(&ep, sock, cfgdir, pool));
  ep->source = "--engine-host";
  err = dray_engine_open(&engine, ep, NULL, pool, pool);
  assert_non_null(err);
  assert_true(dray_error_has(err, DRAY_ERR_HTTP));
  assert_non_null(strstr(dray_error_format(err, pool), sock));
  dray_error_clear(err);

  dray_test_no_error(dray_engine_parse_host(&ep, "ssh://h.example", cfgdir, pool));
  err = dray_engine_open(&engine, ep, NULL, pool, pool);
  assert_non_null(err);
  assert_non_null(strstr(dray_error_format(err, pool), "not reachable over HTTP"));
  dray_error_clear(err);
}

static void test_http_options(void **state)
{
  dray_engine_endpoint_t *ep;
  dray_engine_t *engine;
  dray_http_options_t o;
  testhttpd_route_t routes[] = {
    {"GET", "/version", 200, NULL, "{\"ApiVersion\":\"1.43\",\"MinAPIVersion\":\"1.12\"}"},
  };
  testhttpd_t srv;
  (void)state;

  assert_int_equal(testhttpd_start(&srv, routes, 1, pool), APR_SUCCESS);
  dray_test_no_error(dray_engine_parse_host(
      &ep, apr_pstrcat(pool, "tcp://", testhttpd_host(&srv, pool), NULL), cfgdir, pool));
  dray_test_no_error(dray_engine_open(&engine, ep, NULL, pool, pool));
  testhttpd_stop(&srv);
  dray_test_no_error(dray_engine_http_options(&o, engine, "/images/x/json", NULL, pool));
  assert_string_equal(o.url, apr_psprintf(pool, "http://127.0.0.1:%d/v1.43/images/x/json",
                                          (int)srv.port));
  assert_null(o.unix_socket);
  assert_true(o.tcp_keepalive);
  assert_int_equal(o.connect_timeout_sec, DRAY_ENGINE_CONNECT_TIMEOUT_SEC);
  assert_int_equal(o.low_speed_time_sec, DRAY_ENGINE_LOW_SPEED_TIME_SEC);
  assert_false(o.tls_insecure);
  assert_null(o.cert_file);

}

/* RepoDigests: only "repo@digest" entries with a valid digest count. */
static void test_repo_digests(void **state)
{
  testhttpd_route_t routes[] = {
    {"GET", "/version", 200, NULL, "{\"ApiVersion\":\"1.41\"}"},
    {"GET", "/v1.41/images/app/json", 200, NULL,
     "{\"RepoDigests\":[\"r/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
     "0123456789abcdef\",\"r/app@sha256:0123\",\"nodigest\",\"@sha256:0123456789abcdef"
     "0123456789abcdef0123456789abcdef0123456789abcdef\",7,"
     "\"r/app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"]}"},
  };
  testhttpd_t srv;
  dray_engine_endpoint_t *ep;
  dray_engine_t *engine;
  apr_array_header_t *digests;
  (void)state;

  assert_int_equal(testhttpd_start(&srv, routes, 2, pool), APR_SUCCESS);
  dray_test_no_error(dray_engine_parse_host(
      &ep, apr_pstrcat(pool, "tcp://", testhttpd_host(&srv, pool), NULL), cfgdir, pool));
  dray_test_no_error(dray_engine_open(&engine, ep, NULL, pool, pool));
  dray_test_no_error(dray_engine_repo_digests(&digests, engine, "app", NULL, pool, pool));
  testhttpd_stop(&srv);
  assert_int_equal(digests->nelts, 1);
  assert_string_equal(APR_ARRAY_IDX(digests, 0, const char *),
                      "r/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
                      "0123456789abcdef");
}

/* The image store from GET /info: dockerd 20.10's graph driver (what
 * Debian's answers), or containerd's snapshotter (docker 24+ opt-in, 29's
 * default; the answer as docker 27 gives it). */
static void test_image_store(void **state)
{
  testhttpd_route_t graph[] = {
    {"GET", "/version", 200, NULL, "{\"ApiVersion\":\"1.41\"}"},
    {"GET", "/v1.41/info", 200, NULL,
     "{\"Driver\":\"overlay2\",\"DriverStatus\":[[\"Backing Filesystem\",\"extfs\"],"
     "[\"Supports d_type\",\"true\"],[\"Native Overlay Diff\",\"true\"]]}"},
  };
  testhttpd_route_t containerd[] = {
    {"GET", "/version", 200, NULL, "{\"ApiVersion\":\"1.46\"}"},
    {"GET", "/v1.46/info", 200, NULL,
     "{\"Driver\":\"overlayfs\",\"DriverStatus\":[[\"driver-type\","
     "\"io.containerd.snapshotter.v1\"]]}"},
  };
  testhttpd_route_t *routes[] = {graph, containerd};
  dray_engine_image_store_t want[] = {DRAY_ENGINE_STORE_GRAPH, DRAY_ENGINE_STORE_CONTAINERD};
  (void)state;

  for (int i = 0; i < 2; i++) {
    testhttpd_t srv;
    dray_engine_endpoint_t *ep;
    dray_engine_t *engine;
    dray_engine_image_store_t store;
    assert_int_equal(testhttpd_start(&srv, routes[i], 2, pool), APR_SUCCESS);
    dray_test_no_error(dray_engine_parse_host(
        &ep, apr_pstrcat(pool, "tcp://", testhttpd_host(&srv, pool), NULL), cfgdir, pool));
    dray_test_no_error(dray_engine_open(&engine, ep, NULL, pool, pool));
    dray_test_no_error(dray_engine_image_store(&store, engine, NULL, pool));
    testhttpd_stop(&srv);
    assert_int_equal(store, want[i]);
  }
}

/* Only with a real engine: DRAY_TEST_DOCKER_HOST=unix:///path/to/docker.sock */
static void test_real_engine(void **state)
{
  char *host = NULL;
  dray_engine_endpoint_t *ep;
  dray_engine_t *engine;
  apr_array_header_t *digests;
  json_t *json;
  dray_error_t *err;
  (void)state;

  if (apr_env_get(&host, "DRAY_TEST_DOCKER_HOST", pool) || !host || !*host)
    skip();
  dray_test_no_error(dray_engine_parse_host(&ep, host, cfgdir, pool));
  dray_test_no_error(dray_engine_open(&engine, ep, NULL, pool, pool));
  print_message("engine API version %s\n", dray_engine_api_version(engine));
  dray_test_no_error(dray_engine_get_json(&json, NULL, engine, "/info", NULL, pool));
  assert_true(json_is_object(json));
  json_decref(json);
  err = dray_engine_repo_digests(&digests, engine, "dray-no-such-image:nope", NULL, pool, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_NOT_FOUND);
  dray_error_clear(err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sha256),
    cmocka_unit_test(test_parse_host),
    cmocka_unit_test(test_resolve_precedence),
    cmocka_unit_test(test_negotiate),
    cmocka_unit_test(test_escape),
    cmocka_unit_test(test_unreachable),
    cmocka_unit_test(test_http_options),
    cmocka_unit_test(test_repo_digests),
    cmocka_unit_test(test_image_store),
    cmocka_unit_test(test_real_engine),
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, setup, teardown);
}
