/* test_registry.c — WWW-Authenticate and error-body parsing, plain-HTTP
 * rules; with DRAY_TEST_REGISTRY (host:port of a real registry holding
 * DRAY_TEST_REGISTRY_REF) and DRAY_TEST_FAKE_REGISTRY (host:port of
 * tests/tools/fake_registry.py) also the HTTP exchanges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_env.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "dray/registry.h"

#include "testutil.h"
#include "testhttpd.h"


static void test_challenge(void **state)
{
  dray_auth_challenge_t ch;
  (void)state;

  assert_true(dray_registry_parse_challenge(
      &ch,
      "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
      "scope=\"repository:library/busybox:pull\"",
      pool));
  assert_string_equal(ch.scheme, "Bearer");
  assert_string_equal(ch.realm, "https://auth.docker.io/token");
  assert_string_equal(ch.service, "registry.docker.io");
  assert_string_equal(ch.scope, "repository:library/busybox:pull");

  /* Spaces after commas, unquoted values, escapes, a comma inside quotes,
   * case-insensitive keys, unknown keys. */
  assert_true(dray_registry_parse_challenge(
      &ch,
      "  bearer Realm=https://r.example/t?x=1, Service=\"a \\\"q\\\" b\", "
      "error=\"insufficient_scope\", scope=\"repository:a/b:pull,push\"",
      pool));
  assert_string_equal(ch.scheme, "bearer");
  assert_string_equal(ch.realm, "https://r.example/t?x=1");
  assert_string_equal(ch.service, "a \"q\" b");
  assert_string_equal(ch.scope, "repository:a/b:pull,push");

  assert_true(dray_registry_parse_challenge(&ch, "Basic realm=\"Registry Realm\"", pool));
  assert_string_equal(ch.scheme, "Basic");
  assert_string_equal(ch.realm, "Registry Realm");
  assert_null(ch.service);
  assert_null(ch.scope);

  assert_true(dray_registry_parse_challenge(&ch, "Basic", pool));
  assert_null(ch.realm);
  assert_false(dray_registry_parse_challenge(&ch, "   ", pool));
  assert_true(dray_registry_parse_challenge(&ch, "Bearer realm=\"unterminated", pool));
  assert_string_equal(ch.realm, "unterminated");

  /* Many parameters within the cap: each value gets its own size (the
   * buffer was the rest of the header per parameter: quadratic). */
  {
    apr_array_header_t *parts = apr_array_make(pool, 1200, sizeof(const char *));
    const char *h;
    APR_ARRAY_PUSH(parts, const char *) = "Bearer ";
    for (int i = 0; i < 1000; i++)
      APR_ARRAY_PUSH(parts, const char *) = "a=\"b\",";
    APR_ARRAY_PUSH(parts, const char *) = "realm=\"https://r.example/t\"";
    h = apr_array_pstrcat(pool, parts, 0);
    assert_true(strlen(h) <= DRAY_REGISTRY_MAX_CHALLENGE);
    assert_true(dray_registry_parse_challenge(&ch, h, pool));
    assert_string_equal(ch.realm, "https://r.example/t");

    /* 100 KB of parameters: over the cap, refused without parsing. */
    parts->nelts = 1;
    for (int i = 0; i < 16000; i++)
      APR_ARRAY_PUSH(parts, const char *) = "a=b, ";
    APR_ARRAY_PUSH(parts, const char *) = "realm=\"https://r.example/t\"";
    h = apr_array_pstrcat(pool, parts, 0);
    assert_true(strlen(h) > 80000);
    assert_false(dray_registry_parse_challenge(&ch, h, pool));
    assert_null(ch.realm);
  }
}

static void test_error_text(void **state)
{
  const char *body =
      "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
      "\"detail\":{\"Tag\":\"x\"}},{\"code\":\"DENIED\"}]}";
  (void)state;
  assert_string_equal(dray_registry_error_text(body, strlen(body), pool),
                      "MANIFEST_UNKNOWN: manifest unknown; DENIED");
  assert_null(dray_registry_error_text("<html>", 6, pool));
  assert_null(dray_registry_error_text("", 0, pool));
  assert_null(dray_registry_error_text("{\"errors\":[]}", 13, pool));
}

/* Basic credentials go to a token realm only over HTTPS, to the registry's
 * own host, or to a host --insecure-registry names. */
static void test_realm_credentials(void **state)
{
  dray_registry_t *reg;
  apr_array_header_t *insecure = apr_array_make(pool, 1, sizeof(const char *));
  (void)state;
  APR_ARRAY_PUSH(insecure, const char *) = "auth.lan:8080";
  dray_test_no_error(dray_registry_create(&reg, NULL, insecure, pool));

  assert_true(dray_registry_realm_may_get_credentials(reg, "reg.example.com",
                                                      "https://auth.elsewhere/token", pool));
  assert_true(dray_registry_realm_may_get_credentials(reg, "reg.lan:5000",
                                                      "http://reg.lan:5001/token", pool));
  assert_true(dray_registry_realm_may_get_credentials(reg, "reg.lan:5000",
                                                      "http://auth.lan:8080/token", pool));
  assert_false(dray_registry_realm_may_get_credentials(reg, "reg.example.com",
                                                       "http://evil.example.net/token", pool));
  assert_false(dray_registry_realm_may_get_credentials(reg, "localhost:5000",
                                                       "http://127.0.0.2:80/t", pool));
  assert_false(dray_registry_realm_may_get_credentials(NULL, "reg.lan",
                                                       "http://auth.lan:8080/token", pool));
  assert_false(dray_registry_realm_may_get_credentials(reg, "reg.lan", "ftp://reg.lan/x", pool));
  assert_false(dray_registry_realm_may_get_credentials(reg, "reg.lan", "/relative", pool));
}

static void test_plain_http(void **state)
{
  dray_registry_t *reg;
  apr_array_header_t *insecure = apr_array_make(pool, 2, sizeof(const char *));
  (void)state;
  APR_ARRAY_PUSH(insecure, const char *) = "reg.lan:5000";
  APR_ARRAY_PUSH(insecure, const char *) = "other.lan";
  dray_test_no_error(dray_registry_create(&reg, NULL, insecure, pool));

  assert_true(dray_registry_is_plain_http(reg, "localhost"));
  assert_true(dray_registry_is_plain_http(reg, "localhost:5000"));
  assert_true(dray_registry_is_plain_http(reg, "127.0.0.1:5000"));
  assert_true(dray_registry_is_plain_http(reg, "127.1.2.3"));
  assert_true(dray_registry_is_plain_http(reg, "[::1]:5000"));
  assert_true(dray_registry_is_plain_http(reg, "reg.lan:5000"));
  assert_true(dray_registry_is_plain_http(reg, "other.lan:443"));
  assert_false(dray_registry_is_plain_http(reg, "reg.lan"));
  assert_false(dray_registry_is_plain_http(reg, "ghcr.io"));
  assert_false(dray_registry_is_plain_http(reg, "128.0.0.1"));
  assert_false(dray_registry_is_plain_http(reg, "localhost.example.com"));
  assert_false(dray_registry_is_plain_http(NULL, "ghcr.io"));
}

static const char *getenv_pool(const char *name)
{
  char *v = NULL;
  if (apr_env_get(&v, name, pool) || !v || !*v)
    return NULL;
  return v;
}

/* A real registry (anonymous, plain HTTP on loopback). */
static void test_real_registry(void **state)
{
  const char *host = getenv_pool("DRAY_TEST_REGISTRY");
  const char *ref = getenv_pool("DRAY_TEST_REGISTRY_REF");
  dray_registry_t *reg;
  dray_registry_manifest_t m;
  (void)state;
  if (!host || !ref)
    skip();
  dray_test_no_error(dray_registry_create(&reg, NULL, NULL, pool));
  dray_test_no_error(dray_registry_head_manifest(&m, reg, ref, NULL, pool, pool));
  assert_true(m.found);
  assert_non_null(m.digest);
  assert_non_null(strstr(m.digest, "sha256:"));
  assert_true(m.size > 0);
  print_message("%s -> %s (%s, %ld bytes)\n", ref, m.digest, m.media_type, (long)m.size);

  dray_test_no_error(dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/dray/none:x", NULL),
                                       NULL, pool, pool));
  assert_false(m.found);
  assert_int_equal(m.http_status, 404);
}

/* tests/tools/fake_registry.py: Bearer realm + Basic, user "alice" password
 * "s3cret", 503 with Retry-After on repository "busy". */
static void test_fake_registry(void **state)
{
  const char *host = getenv_pool("DRAY_TEST_FAKE_REGISTRY");
  dray_registry_t *reg;
  dray_auth_config_t *auth;
  dray_registry_manifest_t m;
  dray_error_t *err;
  const char *cfg;
  const char *msg;
  (void)state;
  if (!host)
    skip();

  /* Anonymous: the token server refuses. */
  dray_test_no_error(dray_registry_create(&reg, NULL, NULL, pool));
  err = dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/bearer/app:v1", NULL),
                                    NULL, pool, pool);
  assert_non_null(err);
  assert_true(dray_error_has(err, DRAY_ERR_AUTH));
  dray_error_clear(err);

  /* Right credentials: Bearer and Basic both work; the token is cached. */
  cfg = apr_psprintf(pool, "{\"auths\":{\"%s\":{\"auth\":\"YWxpY2U6czNjcmV0\"}}}", host);
  dray_test_no_error(dray_auth_config_parse(&auth, cfg, strlen(cfg), "config.json", pool));
  dray_test_no_error(dray_registry_create(&reg, auth, NULL, pool));
  dray_test_no_error(dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/bearer/app:v1", NULL),
                                       NULL, pool, pool));
  assert_true(m.found);
  assert_string_equal(m.digest, "sha256:1111111111111111111111111111111111111111111111111111111111111111");
  dray_test_no_error(dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/bearer/app:v1", NULL),
                                       NULL, pool, pool));
  assert_true(m.found);
  dray_test_no_error(dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/basic/app:v1", NULL),
                                       NULL, pool, pool));
  assert_true(m.found);

  /* 503 with Retry-After: an error with the hint. */
  err = dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/busy/app:v1", NULL),
                                    NULL, pool, pool);
  assert_non_null(err);
  assert_int_equal(m.http_status, 503);
  assert_int_equal(m.retry_after, apr_time_from_sec(7));
  dray_error_clear(err);

  /* Wrong credentials: an auth error naming the registry, no secret in it. */
  cfg = apr_psprintf(pool, "{\"auths\":{\"%s\":{\"username\":\"alice\",\"password\":\"WRONGpw\"}}}",
                     host);
  dray_test_no_error(dray_auth_config_parse(&auth, cfg, strlen(cfg), "config.json", pool));
  dray_test_no_error(dray_registry_create(&reg, auth, NULL, pool));
  err = dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/basic/app:v1", NULL),
                                    NULL, pool, pool);
  assert_non_null(err);
  assert_true(dray_error_has(err, DRAY_ERR_AUTH));
  msg = dray_error_format(err, pool);
  assert_non_null(strstr(msg, host));
  assert_non_null(strstr(msg, "basic/app"));
  assert_null(strstr(msg, "WRONGpw"));
  dray_error_clear(err);
  err = dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/bearer/app:v1", NULL),
                                    NULL, pool, pool);
  assert_non_null(err);
  assert_true(dray_error_has(err, DRAY_ERR_AUTH));
  assert_null(strstr(dray_error_format(err, pool), "WRONGpw"));
  dray_error_clear(err);
}

#define GOOD "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Docker-Content-Digest must pass the one strict digest rule. */
static void test_digest_header(void **state)
{
  testhttpd_route_t routes[] = {
    {"HEAD", "/v2/app/manifests/good", 200, "Docker-Content-Digest: " GOOD "\r\n", NULL},
    {"HEAD", "/v2/app/manifests/short", 200, "Docker-Content-Digest: sha256:0123\r\n", NULL},
    {"HEAD", "/v2/app/manifests/upper", 200,
     "Docker-Content-Digest: sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef"
     "0123456789abcdef\r\n", NULL},
    {"HEAD", "/v2/app/manifests/none", 200, NULL, NULL},
  };
  testhttpd_t srv;
  dray_registry_t *reg;
  dray_registry_manifest_t m;
  dray_error_t *err;
  const char *host;
  (void)state;

  assert_int_equal(testhttpd_start(&srv, routes, 4, pool), APR_SUCCESS);
  host = testhttpd_host(&srv, pool);
  dray_test_no_error(dray_registry_create(&reg, NULL, NULL, pool));

  dray_test_no_error(dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/app:good", NULL),
                                                 NULL, pool, pool));
  assert_true(m.found);
  assert_string_equal(m.digest, GOOD);

  err = dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/app:short", NULL), NULL,
                                    pool, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_PROTOCOL);
  assert_non_null(strstr(err->message, "invalid Docker-Content-Digest"));
  assert_false(m.found);
  dray_error_clear(err);

  err = dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/app:upper", NULL), NULL,
                                    pool, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_PROTOCOL);
  dray_error_clear(err);

  /* No header at all: found, without a digest (the caller decides). */
  dray_test_no_error(dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/app:none", NULL),
                                                 NULL, pool, pool));
  assert_true(m.found);
  assert_null(m.digest);

  dray_test_no_error(dray_registry_head_manifest(&m, reg, apr_pstrcat(pool, host, "/app:gone", NULL),
                                                 NULL, pool, pool));
  assert_false(m.found);
  assert_int_equal(m.http_status, 404);
  testhttpd_stop(&srv);
}

/* A push's authorization: the challenge from GET /v2/, asked once per host,
 * one token for pull and push on the repository and pull on each mount
 * source (one scope parameter each), cached per scopes; after a refusal the
 * challenge and the token are asked again. An anonymous registry needs
 * none, and is asked once. */
static void test_push_auth(void **state)
{
  testhttpd_route_t routes[] = {
    {"GET", "/v2/", 401, NULL, NULL},
    {"GET", "/token?service=reg&scope=repository%3Ateam%2Fapp%3Apull%2Cpush"
            "&scope=repository%3Ateam%2Fbase%3Apull", 200, NULL, "{\"token\":\"T1\"}"},
    {"GET", "/token?service=reg&scope=repository%3Ateam%2Fapp%3Apull%2Cpush", 200, NULL,
     "{\"token\":\"T0\",\"expires_in\":300}"},
  };
  testhttpd_t reg_httpd, anon_httpd;
  testhttpd_route_t anon_routes[] = {{"GET", "/v2/", 200, NULL, "{}"}};
  dray_registry_t *reg;
  apr_array_header_t *from = apr_array_make(pool, 1, sizeof(const char *));
  const char *authz, *host, *anon;
  (void)state;

  assert_int_equal(testhttpd_start(&reg_httpd, routes, 3, pool), APR_SUCCESS);
  host = testhttpd_host(&reg_httpd, pool);
  routes[0].headers = apr_psprintf(pool, "WWW-Authenticate: Bearer realm=\"http://%s/token\","
                                   "service=\"reg\"\r\n", host);
  dray_test_no_error(dray_registry_create(&reg, NULL, NULL, pool));
  assert_string_equal(dray_registry_base_url(reg, host, pool),
                      apr_pstrcat(pool, "http://", host, NULL));

  APR_ARRAY_PUSH(from, const char *) = "team/base";
  dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/app", from, 0, NULL, NULL, pool,
                                             pool));
  assert_string_equal(authz, "Bearer T1");
  assert_int_equal(apr_atomic_read32(&reg_httpd.requests), 2);
  /* Other scopes: a token, but no second GET /v2/. */
  dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/app", NULL, 0, NULL, NULL, pool,
                                             pool));
  assert_string_equal(authz, "Bearer T0");
  assert_int_equal(apr_atomic_read32(&reg_httpd.requests), 3);
  /* Cached: no request at all the second time. */
  dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/app", NULL, 0, NULL, NULL, pool,
                                             pool));
  assert_string_equal(authz, "Bearer T0");
  assert_int_equal(apr_atomic_read32(&reg_httpd.requests), 3);
  /* Refused: the challenge and the token again, then kept again. */
  dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/app", NULL, 1, NULL, NULL, pool,
                                             pool));
  assert_string_equal(authz, "Bearer T0");
  assert_int_equal(apr_atomic_read32(&reg_httpd.requests), 5);
  dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/app", NULL, 0, NULL, NULL, pool,
                                             pool));
  assert_int_equal(apr_atomic_read32(&reg_httpd.requests), 5);
  testhttpd_stop(&reg_httpd);

  assert_int_equal(testhttpd_start(&anon_httpd, anon_routes, 1, pool), APR_SUCCESS);
  anon = testhttpd_host(&anon_httpd, pool);
  for (int i = 0; i < 3; i++) {
    dray_test_no_error(dray_registry_push_auth(&authz, reg, anon, i ? "team/other" : "team/app",
                                               NULL, 0, NULL, NULL, pool, pool));
    assert_null(authz);
  }
  assert_int_equal(apr_atomic_read32(&anon_httpd.requests), 1);
  dray_test_no_error(dray_registry_push_auth(&authz, reg, anon, "team/app", NULL, 1, NULL, NULL, pool,
                                             pool));
  assert_null(authz);
  assert_int_equal(apr_atomic_read32(&anon_httpd.requests), 2);
  testhttpd_stop(&anon_httpd);
}

/* A registry anonymous at its root (GET /v2/ 200) that asks for
 * authorization on a write (nginx's auth on POST/PUT/PATCH, a registry with
 * anonymous pull): after the write's 401, its own challenge is answered,
 * with no GET /v2/, and kept as the host's: the next push, of another
 * repository, goes to the token server at once. A refusal whose challenge
 * is neither Bearer nor Basic asks GET /v2/ again, as before. */
static void test_push_auth_answers_the_refusals_challenge(void **state)
{
  testhttpd_route_t routes[] = {
    {"GET", "/v2/", 200, NULL, "{}"},
    {"GET", "/token?service=reg&scope=repository%3Ateam%2Fapp%3Apull%2Cpush", 200, NULL,
     "{\"token\":\"TA\"}"},
    {"GET", "/token?service=reg&scope=repository%3Ateam%2Fother%3Apull%2Cpush", 200, NULL,
     "{\"token\":\"TO\"}"},
  };
  testhttpd_t httpd;
  dray_registry_t *reg;
  const char *authz, *host, *challenge;
  (void)state;

  assert_int_equal(testhttpd_start(&httpd, routes, 3, pool), APR_SUCCESS);
  host = testhttpd_host(&httpd, pool);
  /* Two challenges, as a 401 may carry: the Bearer one is answered. */
  challenge = apr_psprintf(pool, "Basic realm=\"reg\"\nBearer realm=\"http://%s/token\","
                           "service=\"reg\",scope=\"repository:team/app:push,pull\"", host);
  dray_test_no_error(dray_registry_create(&reg, NULL, NULL, pool));
  dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/app", NULL, 0, NULL, NULL,
                                             pool, pool));
  assert_null(authz); /* anonymous at the root */
  assert_int_equal(apr_atomic_read32(&httpd.requests), 1);
  /* The write was refused with a challenge of its own: answered. */
  dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/app", NULL, 1, challenge,
                                             NULL, pool, pool));
  assert_string_equal(authz, "Bearer TA");
  assert_int_equal(apr_atomic_read32(&httpd.requests), 2); /* the token, no GET /v2/ */
  /* Kept as the host's challenge: another repository's push asks for a
   * token first, and only that. */
  dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/other", NULL, 0, NULL,
                                             NULL, pool, pool));
  assert_string_equal(authz, "Bearer TO");
  assert_int_equal(apr_atomic_read32(&httpd.requests), 3);
  /* A refusal with an unknown scheme: the root is asked again. */
  dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/app", NULL, 1,
                                             "Negotiate", NULL, pool, pool));
  assert_null(authz);
  assert_int_equal(apr_atomic_read32(&httpd.requests), 4);
  testhttpd_stop(&httpd);
}

/* GET /v2/ that says nothing of authorization (a 5xx) is not kept: the
 * next push asks again. */
static void test_push_auth_keeps_no_failure(void **state)
{
  testhttpd_route_t routes[] = {{"GET", "/v2/", 503, NULL, "{}"}};
  testhttpd_t httpd;
  dray_registry_t *reg;
  const char *authz, *host;
  (void)state;

  assert_int_equal(testhttpd_start(&httpd, routes, 1, pool), APR_SUCCESS);
  host = testhttpd_host(&httpd, pool);
  dray_test_no_error(dray_registry_create(&reg, NULL, NULL, pool));
  for (int i = 0; i < 2; i++) {
    dray_test_no_error(dray_registry_push_auth(&authz, reg, host, "team/app", NULL, 0, NULL, NULL,
                                               pool, pool));
    assert_null(authz);
  }
  assert_int_equal(apr_atomic_read32(&httpd.requests), 2);
  testhttpd_stop(&httpd);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_challenge),
    cmocka_unit_test(test_error_text),
    cmocka_unit_test(test_plain_http),
    cmocka_unit_test(test_realm_credentials),
    cmocka_unit_test(test_digest_header),
    cmocka_unit_test(test_push_auth),
    cmocka_unit_test(test_push_auth_keeps_no_failure),
    cmocka_unit_test(test_push_auth_answers_the_refusals_challenge),
    cmocka_unit_test(test_real_registry),
    cmocka_unit_test(test_fake_registry),
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
}
