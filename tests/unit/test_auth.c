/* test_auth.c — config.json lookup, credential helpers, header encodings, and
 * that no secret ever reaches an error message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_base64.h>
#include <apr_env.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "dray/auth.h"
#include "dray/dockercfg.h"
#include "dray/platform.h"

#include "testutil.h"


static const char *b64(const char *s)
{
  char *out = apr_palloc(pool, (apr_size_t)apr_base64_encode_len((int)strlen(s)));
  apr_base64_encode(out, s, (int)strlen(s));
  return out;
}

static dray_auth_config_t *parse(const char *json)
{
  dray_auth_config_t *cfg = NULL;
  dray_test_no_error(dray_auth_config_parse(&cfg, json, strlen(json), "config.json", pool));
  return cfg;
}

static void test_base64url(void **state)
{
  (void)state;
  /* RFC 4648 alphabet differences, and padding kept. */
  assert_string_equal(dray_auth_base64url("\xfb\xff", 2, pool), "-_8=");
  assert_string_equal(dray_auth_base64url("\xfb\xef\xbe", 3, pool), "----");
  assert_string_equal(dray_auth_base64url("\xff\xff\xff", 3, pool), "____");
  assert_string_equal(dray_auth_base64url("a", 1, pool), "YQ==");
  assert_string_equal(dray_auth_base64url("{}", 2, pool), "e30=");
  assert_string_equal(dray_auth_base64url("", 0, pool), "");
  /* The encoder (apr_size_t lengths, no int casts) agrees with APR's on
   * every length and byte value. */
  {
    unsigned char data[300];
    for (int i = 0; i < (int)sizeof(data); i++)
      data[i] = (unsigned char)(i * 37 + 11);
    for (int n = 0; n <= (int)sizeof(data); n++) {
      char *want = apr_palloc(pool, (apr_size_t)apr_base64_encode_len(n));
      const char *got = dray_auth_base64url(data, (apr_size_t)n, pool);
      apr_base64_encode_binary(want, data, n);
      for (char *c = want; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
      assert_string_equal(got, want);
    }
  }
  {
    dray_credentials_t cr;
    memset(&cr, 0, sizeof(cr));
    cr.username = "Aladdin";
    cr.password = "open sesame";
    assert_string_equal(dray_auth_basic_header(&cr, pool), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  }
}

static void test_registry_header(void **state)
{
  dray_credentials_t c = {0};
  (void)state;
  assert_string_equal(dray_auth_registry_header(NULL, pool), "e30=");
  assert_string_equal(dray_auth_registry_header(&c, pool), DRAY_AUTH_ANONYMOUS);

  c.username = "u";
  c.password = "p?>";
  c.serveraddress = "reg.example:5000";
  assert_string_equal(
      dray_auth_registry_header(&c, pool),
      dray_auth_base64url(
          "{\"username\":\"u\",\"password\":\"p?>\",\"serveraddress\":\"reg.example:5000\"}",
          strlen("{\"username\":\"u\",\"password\":\"p?>\",\"serveraddress\":\"reg.example:5000\"}"),
          pool));

  memset(&c, 0, sizeof(c));
  c.identitytoken = "tok";
  c.serveraddress = DRAY_AUTH_HUB_KEY;
  {
    const char *json = "{\"identitytoken\":\"tok\",\"serveraddress\":\"https://index.docker.io/v1/\"}";
    assert_string_equal(dray_auth_registry_header(&c, pool),
                        dray_auth_base64url(json, strlen(json), pool));
  }
  c.identitytoken = NULL;
  c.username = "al";
  c.password = "pw";
  assert_string_equal(dray_auth_basic_header(&c, pool), "Basic YWw6cHc=");
  c.username = NULL;
  assert_null(dray_auth_basic_header(&c, pool));
}

static void test_keys(void **state)
{
  (void)state;
  /* Every form of Docker Hub (dray_ref_domain_is_docker_hub) has its key. */
  assert_string_equal(dray_auth_server_key(NULL), DRAY_AUTH_HUB_KEY);
  assert_string_equal(dray_auth_server_key(""), DRAY_AUTH_HUB_KEY);
  assert_string_equal(dray_auth_server_key("docker.io"), DRAY_AUTH_HUB_KEY);
  assert_string_equal(dray_auth_server_key("index.docker.io"), DRAY_AUTH_HUB_KEY);
  assert_string_equal(dray_auth_server_key("registry-1.docker.io"), DRAY_AUTH_HUB_KEY);
  assert_string_equal(dray_auth_server_key("ghcr.io"), "ghcr.io");
  assert_string_equal(dray_auth_server_key("localhost:5000"), "localhost:5000");
  assert_string_equal(dray_auth_key_hostname("https://index.docker.io/v1/", pool),
                      "index.docker.io");
  assert_string_equal(dray_auth_key_hostname("http://r.example:5000/v2", pool),
                      "r.example:5000");
  assert_string_equal(dray_auth_key_hostname("r.example", pool), "r.example");
}

static void test_auths_lookup(void **state)
{
  const char *json = apr_psprintf(pool,
      "{\"auths\":{"
      "\"https://index.docker.io/v1/\":{\"auth\":\"%s\"},"
      "\"reg.example:5000\":{\"auth\":\"%s\"},"
      "\"https://schemed.example/v1/\":{\"username\":\"sc\",\"password\":\"scpw\"},"
      "\"tok.example\":{\"identitytoken\":\"idtok\"},"
      "\"email.example\":{\"email\":\"a@b\"}"
      "}}", b64("hubuser:hub:pw"), b64("alice:s3cret"));
  dray_auth_config_t *cfg = parse(json);
  const dray_credentials_t *c;
  (void)state;

  dray_test_no_error(dray_auth_get(&c, cfg, "docker.io", NULL, pool, pool));
  assert_non_null(c);
  assert_string_equal(c->username, "hubuser");
  assert_string_equal(c->password, "hub:pw"); /* split at the first colon */
  assert_string_equal(c->serveraddress, DRAY_AUTH_HUB_KEY);
  dray_test_no_error(dray_auth_get(&c, cfg, NULL, NULL, pool, pool));
  assert_string_equal(c->username, "hubuser");
  dray_test_no_error(dray_auth_get(&c, cfg, "registry-1.docker.io", NULL, pool, pool));
  assert_string_equal(c->username, "hubuser");

  /* The result is the caller's: a copy in RESULT_POOL, not the config's. */
  {
    apr_pool_t *result;
    const dray_credentials_t *c2;
    assert_int_equal(apr_pool_create(&result, pool), APR_SUCCESS);
    dray_test_no_error(dray_auth_get(&c2, cfg, "docker.io", NULL, result, pool));
    assert_ptr_not_equal(c2, c);
    assert_ptr_not_equal(c2->username, c->username);
    assert_string_equal(c2->username, "hubuser");
    assert_string_equal(c2->password, "hub:pw");
    assert_string_equal(c2->serveraddress, DRAY_AUTH_HUB_KEY);
    assert_string_equal(c2->source, "config.json");
    apr_pool_destroy(result);
  }

  dray_test_no_error(dray_auth_get(&c, cfg, "reg.example:5000", NULL, pool, pool));
  assert_string_equal(c->username, "alice");
  assert_string_equal(c->password, "s3cret");
  assert_string_equal(c->source, "config.json");

  dray_test_no_error(dray_auth_get(&c, cfg, "schemed.example", NULL, pool, pool));
  assert_non_null(c);
  assert_string_equal(c->username, "sc");

  dray_test_no_error(dray_auth_get(&c, cfg, "tok.example", NULL, pool, pool));
  assert_string_equal(c->identitytoken, "idtok");
  assert_null(c->username);

  dray_test_no_error(dray_auth_get(&c, cfg, "email.example", NULL, pool, pool));
  assert_null(c);
  dray_test_no_error(dray_auth_get(&c, cfg, "reg.example", NULL, pool, pool)); /* port matters */
  assert_null(c);
  dray_test_no_error(dray_auth_get(&c, cfg, "other.example", NULL, pool, pool));
  assert_null(c);
}

static void test_helper_choice(void **state)
{
  dray_auth_config_t *cfg = parse(
      "{\"credsStore\":\"desktop\",\"credHelpers\":{"
      "\"gcr.io\":\"gcloud\",\"https://index.docker.io/v1/\":\"hub\","
      "\"https://ecr.example/\":\"ecr\"}}");
  (void)state;
  assert_string_equal(dray_auth_helper_for(cfg, "gcr.io"), "gcloud");
  assert_string_equal(dray_auth_helper_for(cfg, "docker.io"), "hub");
  assert_string_equal(dray_auth_helper_for(cfg, "ecr.example"), "ecr");
  assert_string_equal(dray_auth_helper_for(cfg, "other.example"), "desktop");
  assert_string_equal(dray_auth_helper_for(cfg, NULL), "hub");
  assert_string_equal(dray_auth_helper_for(cfg, "index.docker.io"), "hub");
  cfg = parse("{\"auths\":{}}");
  assert_null(dray_auth_helper_for(cfg, "gcr.io"));
}

static void test_bad_config_keeps_secrets(void **state)
{
  dray_auth_config_t *cfg = NULL;
  const char *bad = "{\"auths\":{\"r.example\":{\"auth\":\"s3cretNOCOLON\"}}, oops";
  const char *nocolon = apr_psprintf(pool, "{\"auths\":{\"r.example\":{\"auth\":\"%s\"}}}",
                                     b64("s3cretNOCOLON"));
  dray_error_t *err;
  const char *msg;
  (void)state;

  err = dray_auth_config_parse(&cfg, bad, strlen(bad), "/x/config.json", pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  msg = dray_error_format(err, pool);
  assert_non_null(strstr(msg, "/x/config.json"));
  assert_null(strstr(msg, "s3cret"));
  dray_error_clear(err);

  err = dray_auth_config_parse(&cfg, nocolon, strlen(nocolon), "config.json", pool);
  assert_non_null(err);
  msg = dray_error_format(err, pool);
  assert_non_null(strstr(msg, "r.example"));
  assert_null(strstr(msg, "s3cret"));
  assert_null(strstr(msg, b64("s3cretNOCOLON")));
  dray_error_clear(err);
}

/* A temporary folder for files the test writes (the test removes it). */
static const char *make_temp_dir(void)
{
  const char *dir = dray_test_make_root("dray-test-auth", pool);
  assert_non_null(dir);
  return dir;
}

static void write_file(const char *path, const char *text, apr_fileperms_t perms)
{
  apr_file_t *f;
  assert_int_equal(apr_file_open(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                                 | APR_FOPEN_TRUNCATE, perms, pool), APR_SUCCESS);
  assert_int_equal(apr_file_write_full(f, text, strlen(text), NULL), APR_SUCCESS);
  apr_file_close(f);
  if (perms != APR_OS_DEFAULT)
    apr_file_perms_set(path, perms);
}

static int count_lines(const char *path)
{
  apr_file_t *f;
  char buf[256];
  apr_size_t n = sizeof(buf);
  int lines = 0;
  if (apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, pool))
    return 0;
  apr_file_read(f, buf, &n);
  apr_file_close(f);
  for (apr_size_t i = 0; i < n; i++)
    lines += buf[i] == '\n';
  return lines;
}

/* The credential helper: tests/unit/helpers/docker_credential_dtest.c, built
 * into DRAY_TEST_HELPER_DIR (a program, so that this runs on Windows too). */
#ifndef DRAY_TEST_HELPER_DIR
#error "DRAY_TEST_HELPER_DIR: the folder of docker-credential-dtest, set by tests/CMakeLists.txt"
#endif

static void test_credential_helper(void **state)
{
  const char *dir, *calls;
  char *old_path = NULL, *path_env;
  apr_array_header_t *path_list;
  dray_auth_config_t *cfg;
  const dray_credentials_t *c;
  dray_error_t *err;
  const char *msg;
  (void)state;

  dir = make_temp_dir();
  calls = apr_pstrcat(pool, dir, "/calls", NULL);
  assert_int_equal(apr_env_set("DRAY_TEST_HELPER_CALLS", calls, pool), APR_SUCCESS);
  write_file(apr_pstrcat(pool, dir, "/config.json", NULL),
             "{\"credsStore\":\"dtest\",\"auths\":{\"reg.example:5000\":{\"auth\":\"eDp5\"}}}",
             APR_OS_DEFAULT);
  /* The helper's folder first on PATH, joined with the system's separator. */
  apr_env_get(&old_path, "PATH", pool);
  path_list = apr_array_make(pool, 2, sizeof(const char *));
  APR_ARRAY_PUSH(path_list, const char *) = DRAY_TEST_HELPER_DIR;
  if (old_path && *old_path)
    APR_ARRAY_PUSH(path_list, const char *) = old_path;
  assert_int_equal(apr_filepath_list_merge(&path_env, path_list, pool), APR_SUCCESS);
  apr_env_set("PATH", path_env, pool);

  dray_test_no_error(dray_auth_config_load(&cfg, dir, pool, pool));

  /* credsStore wins over auths. */
  dray_test_no_error(dray_auth_get(&c, cfg, "reg.example:5000", NULL, pool, pool));
  assert_non_null(c);
  assert_string_equal(c->username, "alice");
  assert_string_equal(c->password, "s3cret");
  assert_string_equal(c->serveraddress, "reg.example:5000");
  assert_string_equal(c->source, "docker-credential-dtest");
  /* Cached: the helper ran once; each caller gets its own copy. */
  {
    const dray_credentials_t *first = c;
    dray_test_no_error(dray_auth_get(&c, cfg, "reg.example:5000", NULL, pool, pool));
    assert_ptr_not_equal(c, first);
  }
  assert_string_equal(c->username, "alice");
  assert_int_equal(count_lines(calls), 1);

  dray_test_no_error(dray_auth_get(&c, cfg, "tok.example", NULL, pool, pool));
  assert_string_equal(c->identitytoken, "tok123");
  assert_null(c->username);

  /* Docker Hub is asked for by its key. */
  dray_test_no_error(dray_auth_get(&c, cfg, "docker.io", NULL, pool, pool));
  assert_null(c);

  err = dray_auth_get(&c, cfg, "fail.example", NULL, pool, pool);
  assert_non_null(err);
  assert_true(dray_error_has(err, DRAY_ERR_AUTH));
  msg = dray_error_format(err, pool);
  assert_non_null(strstr(msg, "fail.example"));
  assert_non_null(strstr(msg, "docker-credential-dtest"));
  assert_null(strstr(msg, "s3cret"));
  dray_error_clear(err);

  err = dray_auth_get(&c, cfg, "junk.example", NULL, pool, pool);
  assert_non_null(err);
  assert_null(strstr(dray_error_format(err, pool), "s3cret"));
  dray_error_clear(err);

  /* A helper that is not installed: an error naming it. */
  cfg = parse("{\"credHelpers\":{\"x.example\":\"dray-no-such-helper\"}}");
  err = dray_auth_get(&c, cfg, "x.example", NULL, pool, pool);
  assert_non_null(err);
  assert_non_null(strstr(dray_error_format(err, pool), "docker-credential-dray-no-such-helper"));
  dray_error_clear(err);

  apr_env_set("PATH", old_path ? old_path : "", pool);
  apr_env_delete("DRAY_TEST_HELPER_CALLS", pool);
  dray_test_remove_tree(dir, pool);
}

/* How many lines of the calls file PATH are KEY: how often the helper ran
 * for it. */
static int count_calls(const char *path, const char *key)
{
  apr_file_t *f;
  char line[512];
  int n = 0;
  if (apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, pool))
    return 0;
  while (apr_file_gets(line, sizeof(line), f) == APR_SUCCESS) {
    line[strcspn(line, "\r\n")] = '\0';
    n += !strcmp(line, key);
  }
  apr_file_close(f);
  return n;
}

/* Put the helper's folder first on PATH; returns the old PATH. */
static char *helper_on_path(void)
{
  char *old_path = NULL, *path_env;
  apr_array_header_t *path_list = apr_array_make(pool, 2, sizeof(const char *));
  apr_env_get(&old_path, "PATH", pool);
  APR_ARRAY_PUSH(path_list, const char *) = DRAY_TEST_HELPER_DIR;
  if (old_path && *old_path)
    APR_ARRAY_PUSH(path_list, const char *) = old_path;
  assert_int_equal(apr_filepath_list_merge(&path_env, path_list, pool), APR_SUCCESS);
  apr_env_set("PATH", path_env, pool);
  return old_path;
}

/* A helper that prints a byte every 200 ms is never idle: the deadline ends
 * it, and its failure is remembered, so a second image does not run it (or
 * wait for it) again. Failures that are not timeouts are remembered too. */
static void test_helper_deadline_and_failure_remembered(void **state)
{
  const char *dir = make_temp_dir(), *calls, *msg;
  char *old_path;
  dray_auth_config_t *cfg;
  const dray_credentials_t *c;
  dray_error_t *err;
  apr_time_t t0;
  (void)state;

  calls = apr_pstrcat(pool, dir, "/calls", NULL);
  assert_int_equal(apr_env_set("DRAY_TEST_HELPER_CALLS", calls, pool), APR_SUCCESS);
  old_path = helper_on_path();
  cfg = parse("{\"credsStore\":\"dtest\"}");
  /* The default is documented; the test uses 1 s. */
  assert_true(DRAY_AUTH_HELPER_DEADLINE == apr_time_from_sec(30));
  dray_auth_config_set_helper_deadline(cfg, apr_time_from_sec(1));

  t0 = apr_time_now();
  err = dray_auth_get(&c, cfg, "drip.example", NULL, pool, pool);
  /* The helper gives up by itself after 20 s: well before that. */
  assert_true(apr_time_now() - t0 < apr_time_from_sec(15));
  assert_non_null(err);
  assert_true(dray_error_has(err, DRAY_ERR_AUTH));
  msg = dray_error_format(err, pool);
  assert_non_null(strstr(msg, "drip.example"));
  assert_non_null(strstr(msg, "no answer within 1 s"));
  dray_error_clear(err);
  assert_int_equal(count_calls(calls, "drip.example"), 1);

  /* Remembered: the same error at once, the helper not run again. */
  err = dray_auth_get(&c, cfg, "drip.example", NULL, pool, pool);
  assert_non_null(err);
  assert_true(dray_error_has(err, DRAY_ERR_AUTH));
  assert_non_null(strstr(dray_error_format(err, pool), "no answer within 1 s"));
  dray_error_clear(err);
  assert_int_equal(count_calls(calls, "drip.example"), 1);

  for (int i = 0; i < 3; i++) {
    err = dray_auth_get(&c, cfg, "fail.example", NULL, pool, pool);
    assert_non_null(err);
    assert_true(dray_error_has(err, DRAY_ERR_AUTH));
    msg = dray_error_format(err, pool);
    assert_non_null(strstr(msg, "exit code 3"));
    assert_null(strstr(msg, "s3cret"));
    dray_error_clear(err);
  }
  assert_int_equal(count_calls(calls, "fail.example"), 1);

  /* "Nothing stored" is an answer, remembered as such. */
  dray_test_no_error(dray_auth_get(&c, cfg, "none.example", NULL, pool, pool));
  dray_test_no_error(dray_auth_get(&c, cfg, "none.example", NULL, pool, pool));
  assert_null(c);
  assert_int_equal(count_calls(calls, "none.example"), 1);

  apr_env_set("PATH", old_path ? old_path : "", pool);
  apr_env_delete("DRAY_TEST_HELPER_CALLS", pool);
  dray_test_remove_tree(dir, pool);
}

typedef struct gate_get_t {
  dray_auth_config_t *cfg;
  const char *registry;
  const dray_credentials_t *creds;
  dray_error_t *err;
  apr_pool_t *pool;
  volatile int done;
} gate_get_t;

static void *APR_THREAD_FUNC gate_get_main(apr_thread_t *t, void *baton)
{
  gate_get_t *g = baton;
  g->err = dray_auth_get(&g->creds, g->cfg, g->registry, NULL, g->pool, g->pool);
  g->done = 1;
  apr_thread_exit(t, APR_SUCCESS);
  return NULL;
}

/* While one helper hangs (gate.example: until the test opens the gate),
 * another registry's credentials come at once: no lock is held while a
 * helper runs. A second thread asking for the hanging key waits for the
 * one answer instead of running the helper again. */
static void test_helper_runs_without_lock(void **state)
{
  const char *dir = make_temp_dir(), *calls, *gate;
  char *old_path;
  dray_auth_config_t *cfg;
  const dray_credentials_t *c;
  apr_thread_t *t1, *t2;
  apr_status_t rv;
  gate_get_t g1, g2;
  (void)state;

  calls = apr_pstrcat(pool, dir, "/calls", NULL);
  gate = apr_pstrcat(pool, dir, "/gate", NULL);
  assert_int_equal(apr_env_set("DRAY_TEST_HELPER_CALLS", calls, pool), APR_SUCCESS);
  assert_int_equal(apr_env_set("DRAY_TEST_HELPER_GATE", gate, pool), APR_SUCCESS);
  old_path = helper_on_path();
  cfg = parse("{\"credsStore\":\"dtest\"}");

  memset(&g1, 0, sizeof(g1));
  g1.cfg = cfg;
  g1.registry = "gate.example";
  apr_pool_create(&g1.pool, pool);
  g2 = g1;
  apr_pool_create(&g2.pool, pool);
  assert_int_equal(apr_thread_create(&t1, NULL, gate_get_main, &g1, pool), APR_SUCCESS);
  /* The helper is running once it wrote its call. */
  for (int i = 0; i < 2000 && count_calls(calls, "gate.example") < 1; i++)
    apr_sleep(apr_time_from_msec(10));
  assert_int_equal(count_calls(calls, "gate.example"), 1);
  assert_int_equal(apr_thread_create(&t2, NULL, gate_get_main, &g2, pool), APR_SUCCESS);

  /* Another key, while the gate helper still waits for its gate. */
  dray_test_no_error(dray_auth_get(&c, cfg, "reg.example:5000", NULL, pool, pool));
  assert_non_null(c);
  assert_string_equal(c->username, "alice");
  assert_false(g1.done);
  assert_false(g2.done);

  /* Open the gate: both threads get the one answer. */
  write_file(gate, "open", APR_OS_DEFAULT);
  apr_thread_join(&rv, t1);
  apr_thread_join(&rv, t2);
  dray_test_no_error(g1.err);
  dray_test_no_error(g2.err);
  assert_non_null(g1.creds);
  assert_non_null(g2.creds);
  assert_string_equal(g1.creds->username, "bob");
  assert_string_equal(g2.creds->username, "bob");
  assert_int_equal(count_calls(calls, "gate.example"), 1);

  apr_env_set("PATH", old_path ? old_path : "", pool);
  apr_env_delete("DRAY_TEST_HELPER_CALLS", pool);
  apr_env_delete("DRAY_TEST_HELPER_GATE", pool);
  dray_test_remove_tree(dir, pool);
}

static void test_missing_config(void **state)
{
  dray_auth_config_t *cfg;
  const dray_credentials_t *c;
  const char *dir, *file;
  dray_error_t *err;
  (void)state;
  dray_test_no_error(dray_auth_config_load(&cfg, "/nonexistent/dray/test", pool, pool));
  dray_test_no_error(dray_auth_get(&c, cfg, "reg.example", NULL, pool, pool));
  assert_null(c);

  /* A config folder that is a file: no configuration, as a missing one. */
  dir = make_temp_dir();
  file = apr_pstrcat(pool, dir, "/plainfile", NULL);
  write_file(file, "x", APR_OS_DEFAULT);
  dray_test_no_error(dray_auth_config_load(&cfg, file, pool, pool));
  /* config.json that is a folder: an error naming it. */
  assert_int_equal(apr_dir_make(apr_pstrcat(pool, dir, "/config.json", NULL), APR_OS_DEFAULT,
                                pool), APR_SUCCESS);
  err = dray_auth_config_load(&cfg, dir, pool, pool);
  assert_non_null(err);
  assert_non_null(strstr(dray_error_format(err, pool), "config.json"));
  dray_error_clear(err);
  dray_test_remove_tree(dir, pool);
}

/* The docker config folder: $DOCKER_CONFIG, else HOME/.docker. */
static void test_dockercfg_dir(void **state)
{
  char *old = NULL;
  const char *home;
  int had = apr_env_get(&old, "DOCKER_CONFIG", pool) == APR_SUCCESS;
  (void)state;

  apr_env_set("DOCKER_CONFIG", "/some/where", pool);
  assert_string_equal(dray_dockercfg_dir(pool), "/some/where");
  apr_env_set("DOCKER_CONFIG", "", pool);
  home = dray_platform_home_dir(pool);
  if (home)
    assert_string_equal(dray_dockercfg_dir(pool), apr_pstrcat(pool, home, "/.docker", NULL));
  else
    assert_null(dray_dockercfg_dir(pool));
  apr_env_delete("DOCKER_CONFIG", pool);
  if (home)
    assert_string_equal(dray_dockercfg_dir(pool), apr_pstrcat(pool, home, "/.docker", NULL));
  if (had)
    apr_env_set("DOCKER_CONFIG", old, pool);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_base64url),
    cmocka_unit_test(test_registry_header),
    cmocka_unit_test(test_keys),
    cmocka_unit_test(test_auths_lookup),
    cmocka_unit_test(test_helper_choice),
    cmocka_unit_test(test_bad_config_keeps_secrets),
    cmocka_unit_test(test_credential_helper),
    cmocka_unit_test(test_helper_deadline_and_failure_remembered),
    cmocka_unit_test(test_helper_runs_without_lock),
    cmocka_unit_test(test_missing_config),
    cmocka_unit_test(test_dockercfg_dir),
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
}
