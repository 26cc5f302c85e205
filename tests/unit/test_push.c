/* test_push.c — both push drivers and verification, against fake peers:
 * a fake "docker push" client program (helpers/fake_push_client.c) and a
 * fake engine and registry on a loopback port (testhttpd.h). The same
 * engine or registry words must give the same outcome whichever driver saw
 * them; digests, verification and dray_push_image's tag loop are checked on
 * the way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "testhttpd.h"

#include "dray/engine.h"
#include "dray/push.h"
#include "dray/push_auto.h"
#include "dray/push_engine.h"
#include "dray/registry.h"
#include "dray/verify.h"

#define DIGEST "sha256:4c4e9e4f2a3d9b1c0e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d"
#define OTHER  "sha256:0000000000000000000000000000000000000000000000000000000000000001"

static const char *fake_client(void)
{
  return apr_pstrcat(pool, DRAY_TEST_HELPER_DIR, "/fake_push_client", DRAY_TEST_EXE_SUFFIX, NULL);
}

/* Push REF with the CLI driver, the fake client printing OUTPUT and
 * exiting with CODE. */
static dray_error_t *cli_push(dray_push_result_t *res, const char *output, int code)
{
  const char *env[3];
  dray_push_driver_t *driver;
  dray_push_request_t req;
  env[0] = apr_pstrcat(pool, "FAKE_PUSH_OUTPUT=", output, NULL);
  env[1] = apr_psprintf(pool, "FAKE_PUSH_EXIT=%d", code);
  env[2] = NULL;
  dray_test_no_error(dray_push_cli_driver_create(&driver, fake_client(), env, pool));
  memset(&req, 0, sizeof(req));
  req.reference = "registry.test/app:latest";
  return driver->push(driver, &req, res, pool, pool);
}

/* Push with the Engine API driver against a fake engine that answers the
 * push with STATUS and BODY. */
static dray_error_t *engine_push(dray_push_result_t *res, int status, const char *body)
{
  testhttpd_route_t routes[] = {
    {"GET", "/version", 200, "Content-Type: application/json\r\n",
     "{\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\"}"},
    {"POST", "/v1.41/images/registry.test/app/push?tag=latest", 0, NULL, NULL},
  };
  testhttpd_t engine;
  const dray_engine_endpoint_t *ep;
  dray_engine_t *e;
  dray_push_driver_t *driver;
  dray_push_request_t req;
  dray_error_t *err;

  routes[1].status = status;
  routes[1].body = body;
  assert_int_equal(testhttpd_start(&engine, routes, 2, pool), APR_SUCCESS);
  dray_test_no_error(dray_engine_resolve(&ep, apr_pstrcat(pool, "tcp://",
                                                          testhttpd_host(&engine, pool), NULL),
                                         NULL, NULL, pool, pool));
  dray_test_no_error(dray_engine_open(&e, ep, NULL, pool, pool));
  dray_test_no_error(dray_push_engine_driver_create(&driver, e, NULL, pool));
  memset(&req, 0, sizeof(req));
  req.reference = "registry.test/app:latest";
  req.stall_timeout = 30;
  err = driver->push(driver, &req, res, pool, pool);
  assert_string_equal(engine.last_request, "POST /v1.41/images/registry.test/app/push?tag=latest");
  testhttpd_stop(&engine);
  return err;
}

/* One line of the engine's push stream carrying an error. */
static const char *stream_error(const char *message)
{
  return apr_psprintf(pool,
                      "{\"status\":\"The push refers to repository [registry.test/app]\"}\r\n"
                      "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"a1\"}\r\n"
                      "{\"errorDetail\":{\"message\":\"%s\"},\"error\":\"%s\"}\r\n",
                      message, message);
}

static void expect_outcome(dray_error_t *err, const dray_push_result_t *res, dray_outcome_t want)
{
  assert_non_null(err);
  if (res->outcome != want)
    fail_msg("outcome %s, want %s (%s)", dray_outcome_word(res->outcome),
             dray_outcome_word(want), dray_error_format(err, pool));
  dray_error_clear(err);
}

/* The same words, through either driver, give the same outcome. */
static void test_drivers_agree(void **state)
{
  static const struct { const char *words; dray_outcome_t want; } cases[] = {
    {"Put http://registry.test/v2/app/blobs/uploads/1: read tcp 1->2: connection reset by peer",
     DRAY_OUTCOME_RESET},
    {"unauthorized: authentication required", DRAY_OUTCOME_AUTH},
    {"no basic auth credentials", DRAY_OUTCOME_AUTH},
    {"received unexpected HTTP status: 503 Service Unavailable", DRAY_OUTCOME_SERVER_ERROR},
    {"toomanyrequests: too many requests", DRAY_OUTCOME_RATE_LIMITED},
    {"An image does not exist locally with the tag: registry.test/app", DRAY_OUTCOME_NOT_FOUND},
    {"something nobody classified", DRAY_OUTCOME_EXIT},
  };
  apr_size_t i;
  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    dray_push_result_t a, b;
    dray_error_t *err = cli_push(&a, apr_pstrcat(pool, "The push refers to repository "
                                                 "[registry.test/app]|",
                                                 cases[i].words, NULL), 1);
    expect_outcome(err, &a, cases[i].want);
    err = engine_push(&b, 200, stream_error(cases[i].words));
    expect_outcome(err, &b, cases[i].want);
    assert_int_equal(dray_outcome_retryable(a.outcome), dray_outcome_retryable(b.outcome));
  }
}

static void test_digests(void **state)
{
  dray_push_result_t res;
  (void)state;
  dray_test_no_error(cli_push(&res, "a1: Pushed|latest: digest: " DIGEST " size: 528", 0));
  assert_int_equal(res.outcome, DRAY_OUTCOME_OK);
  assert_string_equal(res.digest, DIGEST);
  assert_int_equal(res.size, 528);
  dray_test_no_error(engine_push(&res, 200,
                                 "{\"status\":\"Pushed\",\"progressDetail\":{},\"id\":\"a1\"}\r\n"
                                 "{\"status\":\"latest: digest: " DIGEST " size: 528\"}\r\n"));
  assert_int_equal(res.outcome, DRAY_OUTCOME_OK);
  assert_string_equal(res.digest, DIGEST);
  /* A push that ends well but names no digest: the peer said too little. */
  expect_outcome(cli_push(&res, "a1: Pushed", 0), &res, DRAY_OUTCOME_PROTOCOL);
  expect_outcome(engine_push(&res, 200, "{\"status\":\"Pushed\",\"id\":\"a1\"}\r\n"), &res,
                 DRAY_OUTCOME_PROTOCOL);
  /* A short digest is no digest. */
  expect_outcome(cli_push(&res, "latest: digest: sha256:0123 size: 1", 0), &res,
                 DRAY_OUTCOME_PROTOCOL);
}

/* HTTP errors of the engine itself, before any stream. */
static void test_engine_http_errors(void **state)
{
  dray_push_result_t res;
  (void)state;
  expect_outcome(engine_push(&res, 404, "{\"message\":\"No such image: registry.test/app\"}"),
                 &res, DRAY_OUTCOME_NOT_FOUND);
  expect_outcome(engine_push(&res, 500, "{\"message\":\"boom\"}"), &res,
                 DRAY_OUTCOME_SERVER_ERROR);
  expect_outcome(engine_push(&res, 401, "{\"message\":\"no\"}"), &res, DRAY_OUTCOME_AUTH);
}

/* A client that cannot be started is not-started, and not retried. */
static void test_cli_not_started(void **state)
{
  dray_push_driver_t *driver;
  dray_push_request_t req;
  dray_push_result_t res;
  (void)state;
  dray_test_no_error(dray_push_cli_driver_create(&driver, "/nonexistent/docker-nowhere", NULL, pool));
  memset(&req, 0, sizeof(req));
  req.reference = "registry.test/app:latest";
  expect_outcome(driver->push(driver, &req, &res, pool, pool), &res, DRAY_OUTCOME_NOT_STARTED);
  assert_false(dray_outcome_retryable(res.outcome));
}

/* Verification: the digest served must be the one pushed; a registry that
 * cannot be asked says why. */
static void test_verify(void **state)
{
  testhttpd_route_t routes[] = {
    {"HEAD", "/v2/app/manifests/good", 200, "Docker-Content-Digest: " DIGEST "\r\n", NULL},
    {"HEAD", "/v2/app/manifests/other", 200, "Docker-Content-Digest: " OTHER "\r\n", NULL},
    {"HEAD", "/v2/app/manifests/busy", 429, "Retry-After: 3\r\n", NULL},
    {"HEAD", "/v2/app/manifests/broken", 503, NULL, NULL},
  };
  testhttpd_t reg;
  dray_registry_t *registry;
  dray_outcome_t outcome;
  apr_interval_time_t retry_after;
  const char *host;
  dray_error_t *err;
  (void)state;

  assert_int_equal(testhttpd_start(&reg, routes, 4, pool), APR_SUCCESS);
  host = testhttpd_host(&reg, pool);
  dray_test_no_error(dray_registry_create(&registry, NULL, NULL, pool));
  dray_test_no_error(dray_verify_pushed(&outcome, registry, apr_pstrcat(pool, host, "/app:good", NULL),
                                        DIGEST, NULL, &retry_after, pool));
  assert_int_equal(outcome, DRAY_OUTCOME_OK);

  err = dray_verify_pushed(&outcome, registry, apr_pstrcat(pool, host, "/app:other", NULL), DIGEST,
                           NULL, &retry_after, pool);
  assert_non_null(err);
  assert_int_equal(outcome, DRAY_OUTCOME_VERIFY);
  assert_non_null(strstr(dray_error_format(err, pool), OTHER));
  dray_error_clear(err);

  err = dray_verify_pushed(&outcome, registry, apr_pstrcat(pool, host, "/app:missing", NULL),
                           DIGEST, NULL, &retry_after, pool);
  assert_non_null(err);
  assert_int_equal(outcome, DRAY_OUTCOME_VERIFY);
  dray_error_clear(err);

  err = dray_verify_pushed(&outcome, registry, apr_pstrcat(pool, host, "/app:busy", NULL), DIGEST,
                           NULL, &retry_after, pool);
  assert_non_null(err);
  assert_int_equal(outcome, DRAY_OUTCOME_RATE_LIMITED);
  assert_int_equal(retry_after, apr_time_from_sec(3));
  dray_error_clear(err);

  err = dray_verify_pushed(&outcome, registry, apr_pstrcat(pool, host, "/app:broken", NULL),
                           DIGEST, NULL, &retry_after, pool);
  assert_non_null(err);
  assert_int_equal(outcome, DRAY_OUTCOME_SERVER_ERROR);
  dray_error_clear(err);
  testhttpd_stop(&reg);
}

/* dray_push_image: every tag pushed (the CLI fake answers each with the same
 * digest), verified against the registry; one tag the registry serves
 * otherwise fails the image with "verify". */
static void test_push_image(void **state)
{
  testhttpd_route_t routes[] = {
    {"HEAD", "/v2/app/manifests/", 200, "Docker-Content-Digest: " DIGEST "\r\n", NULL},
  };
  testhttpd_route_t bad_routes[] = {
    {"HEAD", "/v2/app/manifests/v1", 200, "Docker-Content-Digest: " DIGEST "\r\n", NULL},
    {"HEAD", "/v2/app/manifests/v2", 200, "Docker-Content-Digest: " OTHER "\r\n", NULL},
  };
  const char *env[3] = {"FAKE_PUSH_OUTPUT=a1: Pushed|x: digest: " DIGEST " size: 528",
                        "FAKE_PUSH_EXIT=0", NULL};
  testhttpd_t reg;
  dray_registry_t *registry;
  dray_push_driver_t *driver;
  dray_pusher_t pusher;
  dray_image_t image;
  dray_push_image_result_t res;
  dray_error_t *err;
  (void)state;

  assert_int_equal(testhttpd_start(&reg, routes, 1, pool), APR_SUCCESS);
  dray_test_no_error(dray_registry_create(&registry, NULL, NULL, pool));
  dray_test_no_error(dray_push_cli_driver_create(&driver, fake_client(), env, pool));
  memset(&pusher, 0, sizeof(pusher));
  pusher.driver = driver;
  pusher.registry = registry;
  pusher.verify = 1;
  memset(&image, 0, sizeof(image));
  image.name = "app";
  image.repository = apr_pstrcat(pool, testhttpd_host(&reg, pool), "/app", NULL);
  image.tags = dray_test_list("v1", "v2", NULL);
  dray_test_no_error(dray_push_image(&res, &pusher, &image, NULL, NULL, NULL, NULL, pool, pool));
  assert_int_equal(res.outcome, DRAY_OUTCOME_OK);
  assert_int_equal(res.tag_digests->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(res.tag_digests, 1, const char *), DIGEST);
  assert_true(res.verified);
  assert_false(res.up_to_date);
  assert_true(apr_atomic_read32(&reg.requests) >= 2);
  testhttpd_stop(&reg);

  assert_int_equal(testhttpd_start(&reg, bad_routes, 2, pool), APR_SUCCESS);
  image.repository = apr_pstrcat(pool, testhttpd_host(&reg, pool), "/app", NULL);
  err = dray_push_image(&res, &pusher, &image, NULL, NULL, NULL, NULL, pool, pool);
  assert_non_null(err);
  assert_int_equal(res.outcome, DRAY_OUTCOME_VERIFY);
  assert_non_null(strstr(dray_error_format(err, pool), ":v2"));
  dray_error_clear(err);
  testhttpd_stop(&reg);
}

/* What --dry-run shows for each driver. */
/* What auto means, decided in one place: the CLI for podman and for an
 * engine not reachable over HTTP; for a local engine, unless its image
 * store is containerd's, the Engine API then the registry driver for what
 * it failed; else the Engine API. A driver asked for by name is that
 * driver. */
static void test_driver_choice(void **state)
{
  const char *local[] = {"unix:///var/run/docker.sock", "tcp://127.0.0.1:2375",
                         "tcp://localhost", "tcp://[::1]:7777"};
  const char *remote[] = {"tcp://build.example:2376", "tcp://10.0.0.5"};
  dray_engine_endpoint_t *ep;
  (void)state;

  for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
    dray_test_no_error(dray_engine_parse_host(&ep, local[i], NULL, pool));
    assert_true(dray_engine_is_local(ep));
    assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_AUTO, DRAY_ENGINE_CMD_DOCKER, ep,
                                             DRAY_ENGINE_STORE_UNKNOWN),
                     DRAY_PUSH_DRIVER_ENGINE_THEN_REGISTRY);
    assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_AUTO, DRAY_ENGINE_CMD_DOCKER, ep,
                                             DRAY_ENGINE_STORE_GRAPH),
                     DRAY_PUSH_DRIVER_ENGINE_THEN_REGISTRY);
    assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_AUTO, DRAY_ENGINE_CMD_DOCKER, ep,
                                             DRAY_ENGINE_STORE_CONTAINERD),
                     DRAY_PUSH_DRIVER_ENGINE);
    assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_ENGINE, DRAY_ENGINE_CMD_DOCKER, ep, DRAY_ENGINE_STORE_UNKNOWN),
                     DRAY_PUSH_DRIVER_ENGINE);
    assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_CLI, DRAY_ENGINE_CMD_DOCKER, ep, DRAY_ENGINE_STORE_UNKNOWN),
                     DRAY_PUSH_DRIVER_CLI);
  }
  for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
    dray_test_no_error(dray_engine_parse_host(&ep, remote[i], NULL, pool));
    assert_false(dray_engine_is_local(ep));
    assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_AUTO, DRAY_ENGINE_CMD_DOCKER, ep, DRAY_ENGINE_STORE_UNKNOWN),
                     DRAY_PUSH_DRIVER_ENGINE);
    assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_REGISTRY, DRAY_ENGINE_CMD_DOCKER, ep, DRAY_ENGINE_STORE_UNKNOWN), DRAY_PUSH_DRIVER_REGISTRY);
  }
  /* A named pipe is local but not HTTP here; ssh neither: the CLI. */
  dray_test_no_error(dray_engine_parse_host(&ep, "npipe:////./pipe/docker_engine", NULL, pool));
  assert_true(dray_engine_is_local(ep));
  assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_AUTO, DRAY_ENGINE_CMD_DOCKER, ep, DRAY_ENGINE_STORE_UNKNOWN),
                   DRAY_PUSH_DRIVER_CLI);
  dray_test_no_error(dray_engine_parse_host(&ep, "ssh://me@build.example", NULL, pool));
  assert_false(dray_engine_is_local(ep));
  assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_AUTO, DRAY_ENGINE_CMD_DOCKER, ep, DRAY_ENGINE_STORE_UNKNOWN),
                   DRAY_PUSH_DRIVER_CLI);
  /* podman: its CLI, unless the registry driver is asked for. */
  assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_AUTO, DRAY_ENGINE_CMD_PODMAN, NULL, DRAY_ENGINE_STORE_UNKNOWN),
                   DRAY_PUSH_DRIVER_CLI);
  assert_int_equal(dray_push_driver_choose(DRAY_PUSH_DRIVER_REGISTRY, DRAY_ENGINE_CMD_PODMAN, NULL, DRAY_ENGINE_STORE_UNKNOWN), DRAY_PUSH_DRIVER_REGISTRY);
}

/* A fake driver: counts its pushes, fails with OUTCOME while FAIL. */
typedef struct fake_driver_t {
  int pushes;
  int fail;
  dray_outcome_t outcome;
} fake_driver_t;

static dray_error_t *fake_push(const dray_push_driver_t *driver, const dray_push_request_t *req,
                               dray_push_result_t *result, apr_pool_t *result_pool,
                               apr_pool_t *scratch_pool)
{
  fake_driver_t *f = driver->baton;
  (void)req;
  (void)result_pool;
  (void)scratch_pool;
  memset(result, 0, sizeof(*result));
  f->pushes++;
  if (f->fail)
    return dray_push_fail(result, f->outcome,
                          dray_error_create(DRAY_ERR_HTTP, NULL, "the fake failed"));
  result->outcome = DRAY_OUTCOME_OK;
  result->digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  return DRAY_NO_ERROR;
}

static const char *fake_describe(const dray_push_driver_t *driver, const char *reference,
                                 apr_pool_t *result_pool)
{
  (void)driver;
  return apr_pstrcat(result_pool, "# engine push ", reference, NULL);
}

/* auto for a local engine: the engine's push; once it failed for a
 * reference (not cancelled), dray's registry client for that one. */
static void test_auto_driver(void **state)
{
  fake_driver_t engine = {0, 0, DRAY_OUTCOME_OK}, registry = {0, 0, DRAY_OUTCOME_OK};
  dray_push_driver_t first = {"engine", fake_push, fake_describe, NULL, NULL, &engine};
  dray_push_driver_t then = {"registry", fake_push, fake_describe, NULL, NULL, &registry};
  dray_push_driver_t *d;
  dray_push_request_t req;
  dray_push_result_t res;
  dray_error_t *err;
  (void)state;

  dray_test_no_error(dray_push_auto_driver_create(&d, &first, &then, pool));
  memset(&req, 0, sizeof(req));
  req.reference = "r/a:1";
  dray_test_no_error(d->push(d, &req, &res, pool, pool));
  dray_test_no_error(d->push(d, &req, &res, pool, pool));
  assert_int_equal(engine.pushes, 2);
  assert_int_equal(registry.pushes, 0);

  /* Cancelled: not the engine's fault; the engine again next time. */
  engine.fail = 1;
  engine.outcome = DRAY_OUTCOME_CANCELLED;
  err = d->push(d, &req, &res, pool, pool);
  assert_non_null(err);
  dray_error_clear(err);
  engine.fail = 0;
  dray_test_no_error(d->push(d, &req, &res, pool, pool));
  assert_int_equal(engine.pushes, 4);
  assert_int_equal(registry.pushes, 0);

  /* A stall: that reference is dray's to push from now on, others not. */
  engine.fail = 1;
  engine.outcome = DRAY_OUTCOME_STALLED;
  err = d->push(d, &req, &res, pool, pool);
  assert_non_null(err);
  assert_int_equal(res.outcome, DRAY_OUTCOME_STALLED);
  dray_error_clear(err);
  engine.fail = 0;
  dray_test_no_error(d->push(d, &req, &res, pool, pool));
  dray_test_no_error(d->push(d, &req, &res, pool, pool));
  assert_int_equal(engine.pushes, 5);
  assert_int_equal(registry.pushes, 2);
  req.reference = "r/b:1";
  dray_test_no_error(d->push(d, &req, &res, pool, pool));
  assert_int_equal(engine.pushes, 6);
  assert_int_equal(registry.pushes, 2);
  /* A dry run says both. */
  assert_non_null(strstr(d->describe(d, "r/b:1", pool), "# engine push r/b:1"));
  assert_non_null(strstr(d->describe(d, "r/b:1", pool), "dray uploads the image itself"));
}

static void test_describe(void **state)
{
  dray_push_driver_t *driver;
  (void)state;
  dray_test_no_error(dray_push_cli_driver_create(&driver, "docker", NULL, pool));
  assert_string_equal(driver->describe(driver, "r.test/app:1", pool), "$ docker push r.test/app:1");
  dray_test_no_error(dray_push_cli_driver_create(&driver, "/usr/bin/podman", NULL, pool));
  assert_string_equal(driver->describe(driver, "r.test/app:1", pool),
                      "$ /usr/bin/podman push --digestfile DIGESTFILE r.test/app:1");
}

/* An image for several platforms: podman pushes its manifest list, with
 * every platform's image, to each reference; docker pushes it as any image. */
static void test_describe_list(void **state)
{
  dray_push_driver_t *driver;
  dray_image_t image;
  (void)state;
  memset(&image, 0, sizeof(image));
  image.repository = "r.test/app";
  image.tags = dray_test_list("1", "r.test/other:2", NULL);
  image.platforms = dray_test_list("linux/amd64", "linux/arm64", NULL);
  dray_test_no_error(dray_push_cli_driver_create(&driver, "podman", NULL, pool));
  assert_string_equal(dray_push_describe(driver, &image, "r.test/other:2", pool),
                      "$ podman manifest push --all --digestfile DIGESTFILE r.test/app:1 "
                      "docker://r.test/other:2");
  dray_test_no_error(dray_push_cli_driver_create(&driver, "docker", NULL, pool));
  assert_string_equal(dray_push_describe(driver, &image, "r.test/other:2", pool),
                      "$ docker push r.test/other:2");
  /* one platform: an image */
  image.platforms = dray_test_list("linux/arm64", NULL);
  dray_test_no_error(dray_push_cli_driver_create(&driver, "podman", NULL, pool));
  assert_string_equal(dray_push_describe(driver, &image, "r.test/app:1", pool),
                      "$ podman push --digestfile DIGESTFILE r.test/app:1");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_drivers_agree),
    cmocka_unit_test(test_digests),
    cmocka_unit_test(test_engine_http_errors),
    cmocka_unit_test(test_cli_not_started),
    cmocka_unit_test(test_verify),
    cmocka_unit_test(test_push_image),
    cmocka_unit_test(test_driver_choice),
    cmocka_unit_test(test_auto_driver),
    cmocka_unit_test(test_describe),
    cmocka_unit_test(test_describe_list),
  };
  int rc;
  apr_initialize();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  curl_global_cleanup();
  apr_terminate();
  return rc;
}
