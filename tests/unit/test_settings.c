/* test_settings.c — run-wide settings: one parser for every source, and the
 * precedence flag > environment > x-dray > config file > default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <apr_env.h>
#include <apr_file_io.h>

#include "dray/compose.h"
#include "dray/platform.h"
#include "dray/settings.h"
#include "testutil.h"

DRAY_TEST_ROOT_FIXTURE("dray-settings")

/* A fake environment: NULL-ended "NAME", "VALUE" pairs. */
static const char *fake_env(void *baton, const char *name, apr_pool_t *p)
{
  const char *const *kv = baton;
  (void)p;
  for (; kv[0]; kv += 2)
    if (strcmp(kv[0], name) == 0)
      return kv[1];
  return NULL;
}

static void put(const char *path, const char *text)
{
  apr_file_t *f;
  assert_int_equal(apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                                 APR_FPROT_OS_DEFAULT, pool), APR_SUCCESS);
  assert_int_equal(apr_file_puts(text, f), APR_SUCCESS);
  apr_file_close(f);
}

static void test_one_name_everywhere(void **state)
{
  (void)state;
  assert_string_equal(dray_setting_key(DRAY_SETTING_STALL_TIMEOUT), "stall-timeout");
  assert_string_equal(dray_setting_flag(DRAY_SETTING_STALL_TIMEOUT), "--stall-timeout");
  assert_string_equal(dray_setting_env(DRAY_SETTING_STALL_TIMEOUT), "DRAY_STALL_TIMEOUT");
  assert_string_equal(dray_setting_flag(DRAY_SETTING_TAGS), "--tag");
  assert_int_equal(dray_setting_find("log-dir"), DRAY_SETTING_LOG_DIR);
  assert_int_equal(dray_setting_find("log_dir"), -1);
}

static void test_environment(void **state)
{
  const char *env[] = {"DRAY_BUILDERS", "8", "DRAY_TAGS", "latest, 1.4", "DRAY_PROGRESS", "plain",
                       "DRAY_REGISTRY", "reg.example.com:5000/team/", "DRAY_LOG_DIR", "",
                       "DRAY_RETRY_DELAY", "0.5", NULL};
  const char *bad[] = {"DRAY_PUSHERS", "0", "DRAY_PUSH_DRIVER", "fast", "DRAY_TAGS", ".x", NULL};
  dray_settings_t s;
  dray_error_t *err;
  const char *msg;
  (void)state;

  dray_settings_init(&s);
  dray_test_no_error(dray_settings_from_env(&s, fake_env, (void *)env, pool));
  assert_int_equal(s.builders, 8);
  assert_int_equal(s.tags->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(s.tags, 1, const char *), "1.4");
  assert_string_equal(s.progress, "plain");
  assert_string_equal(s.registry, "reg.example.com:5000/team"); /* normalized */
  assert_null(s.log_dir);                                      /* empty: not set */
  assert_true(s.retry_delay > 0.49 && s.retry_delay < 0.51);
  assert_int_equal(s.source[DRAY_SETTING_BUILDERS], DRAY_SOURCE_ENV);
  assert_string_equal(s.where[DRAY_SETTING_BUILDERS], "DRAY_BUILDERS");
  assert_int_equal(s.pushers, DRAY_SETTING_UNSET);

  /* A repository's compose file does not pick the program dray runs. */
  {
    dray_error_t *e = dray_settings_set(&s, DRAY_SETTING_ENGINE_CMD, "/tmp/evil", DRAY_SOURCE_COMPOSE,
                                        "x-dray.engine-cmd", pool);
    assert_non_null(e);
    assert_non_null(strstr(e->message, "x-dray.engine-cmd: a compose file cannot choose"));
    dray_error_clear(e);
    dray_test_no_error(dray_settings_set(&s, DRAY_SETTING_ENGINE_CMD, "podman", DRAY_SOURCE_CONFIG,
                                         "config.yaml:1", pool));
  }

  /* Every bad variable is named, all at once. */
  dray_settings_init(&s);
  err = dray_settings_from_env(&s, fake_env, (void *)bad, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_USAGE);
  msg = dray_error_format(err, pool);
  assert_non_null(strstr(msg, "DRAY_PUSHERS needs auto or a whole number from 1 to 256, not '0'"));
  assert_non_null(strstr(msg, "DRAY_PUSH_DRIVER takes auto, engine, cli or registry, not 'fast'"));
  assert_non_null(strstr(msg, "DRAY_TAGS: invalid tag '.x'"));
  dray_error_clear(err);
}

static void test_precedence(void **state)
{
  dray_settings_t flags, env, compose, config, out;
  (void)state;
  dray_settings_init(&flags);
  dray_settings_init(&env);
  dray_settings_init(&compose);
  dray_settings_init(&config);
  /* builders: everyone says something; the flag wins. */
  dray_test_no_error(dray_settings_set(&flags, DRAY_SETTING_BUILDERS, "1", DRAY_SOURCE_FLAG, "--builders", pool));
  dray_test_no_error(dray_settings_set(&env, DRAY_SETTING_BUILDERS, "2", DRAY_SOURCE_ENV, "DRAY_BUILDERS", pool));
  dray_test_no_error(dray_settings_set(&compose, DRAY_SETTING_BUILDERS, "3", DRAY_SOURCE_COMPOSE, "c.yaml:2", pool));
  dray_test_no_error(dray_settings_set(&config, DRAY_SETTING_BUILDERS, "4", DRAY_SOURCE_CONFIG, "cfg:1", pool));
  /* pushers: all but the flag; the environment wins. */
  dray_test_no_error(dray_settings_set(&env, DRAY_SETTING_PUSHERS, "5", DRAY_SOURCE_ENV, "DRAY_PUSHERS", pool));
  dray_test_no_error(dray_settings_set(&compose, DRAY_SETTING_PUSHERS, "6", DRAY_SOURCE_COMPOSE, "c.yaml:3", pool));
  dray_test_no_error(dray_settings_set(&config, DRAY_SETTING_PUSHERS, "7", DRAY_SOURCE_CONFIG, "cfg:2", pool));
  /* retries: x-dray over the config file. */
  dray_test_no_error(dray_settings_set(&compose, DRAY_SETTING_RETRIES, "8", DRAY_SOURCE_COMPOSE, "c.yaml:4", pool));
  dray_test_no_error(dray_settings_set(&config, DRAY_SETTING_RETRIES, "9", DRAY_SOURCE_CONFIG, "cfg:3", pool));
  /* log-dir: the config file over the default. */
  dray_test_no_error(dray_settings_set(&config, DRAY_SETTING_LOG_DIR, "logs", DRAY_SOURCE_CONFIG, "cfg:4", pool));

  dray_settings_resolve(&out, &flags, &env, &compose, &config, pool);
  assert_int_equal(out.builders, 1);
  assert_int_equal(out.source[DRAY_SETTING_BUILDERS], DRAY_SOURCE_FLAG);
  assert_int_equal(out.pushers, 5);
  assert_int_equal(out.source[DRAY_SETTING_PUSHERS], DRAY_SOURCE_ENV);
  assert_int_equal(out.retries, 8);
  assert_string_equal(out.where[DRAY_SETTING_RETRIES], "c.yaml:4");
  assert_string_equal(out.log_dir, "logs");
  assert_int_equal(out.source[DRAY_SETTING_LOG_DIR], DRAY_SOURCE_CONFIG);
  assert_int_equal(out.stall_timeout, 60);
  assert_int_equal(out.source[DRAY_SETTING_STALL_TIMEOUT], DRAY_SOURCE_DEFAULT);
  assert_string_equal(out.engine_cmd, "docker");
  assert_string_equal(out.push_driver, "auto");

  /* Without the stronger layers, the weaker ones show. */
  dray_settings_resolve(&out, NULL, NULL, NULL, &config, pool);
  assert_int_equal(out.builders, 4);
  assert_int_equal(out.retries, 9);
  dray_settings_resolve(&out, NULL, NULL, NULL, NULL, pool);
  assert_int_equal(out.retries, 2);
  assert_string_equal(out.log_dir, ".dray/logs");

  /* A value set directly (no dray_settings_set) is credited to its layer. */
  dray_settings_init(&flags);
  flags.pushers = 2;
  dray_settings_resolve(&out, &flags, &env, NULL, NULL, pool);
  assert_int_equal(out.source[DRAY_SETTING_PUSHERS], DRAY_SOURCE_FLAG);
  assert_string_equal(out.where[DRAY_SETTING_PUSHERS], "--pushers");
}

static void test_config_file_and_print(void **state)
{
  const char *dir = apr_pstrcat(pool, root, "/dray", NULL), *path;
  dray_settings_t config, env, out;
  const char *envs[] = {"DRAY_PUSHERS", "4", NULL};
  dray_error_t *err;
  char buf[2048];
  FILE *f;
  size_t n;
  (void)state;

  apr_env_set("XDG_CONFIG_HOME", root, pool);
  apr_env_set("APPDATA", root, pool);
  path = dray_settings_config_path(pool);
  assert_non_null(path);
  assert_non_null(strstr(path, "config.yaml"));
  /* Not there yet: nothing set, no error. */
  dray_test_no_error(dray_compose_load_config(&config, path, pool, pool));
  assert_int_equal(config.builders, DRAY_SETTING_UNSET);

  assert_int_equal(apr_dir_make(dir, APR_FPROT_OS_DEFAULT, pool), APR_SUCCESS);
  put(path, "# mine\nbuilders: 6\ntags: [a, b]\nstall-timeout: 120\n");
  dray_test_no_error(dray_compose_load_config(&config, path, pool, pool));
  assert_int_equal(config.builders, 6);
  assert_int_equal(config.tags->nelts, 2);
  assert_int_equal(config.source[DRAY_SETTING_BUILDERS], DRAY_SOURCE_CONFIG);
  assert_string_equal(config.where[DRAY_SETTING_BUILDERS], apr_pstrcat(pool, path, ":2", NULL));

  dray_settings_init(&env);
  dray_test_no_error(dray_settings_from_env(&env, fake_env, (void *)envs, pool));
  dray_settings_resolve(&out, NULL, &env, NULL, &config, pool);
  f = tmpfile();
  assert_non_null(f);
  dray_settings_print(f, &out, pool);
  rewind(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  assert_non_null(strstr(buf, "builders"));
  assert_non_null(strstr(buf, "config file (" ));
  assert_non_null(strstr(buf, "pushers        4"));
  assert_non_null(strstr(buf, "environment (DRAY_PUSHERS)"));
  assert_non_null(strstr(buf, "stall-timeout  120"));
  assert_null(strstr(buf, "retries"));  /* a default: not shown */
  assert_null(strstr(buf, "engine-cmd"));

  /* A problem names the file and line. */
  put(path, "builders: 6\npushers: many\ncolour: blue\n");
  err = dray_compose_load_config(&config, path, pool, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  assert_non_null(strstr(dray_error_format(err, pool),
                         apr_pstrcat(pool, path, ":2: pushers needs auto or a whole number", NULL)));
  assert_non_null(strstr(dray_error_format(err, pool),
                         apr_pstrcat(pool, path, ":3: unknown setting \"colour\"", NULL)));
  dray_error_clear(err);
}

/* The limits (a number or auto, with their bounds) and the global slots go
 * through the one parser from every source; defaults auto, auto, 4 per CPU,
 * 8, no slots. */
static void test_limits_and_slots(void **state)
{
  const char *env[] = {"DRAY_BUILDERS", "auto", "DRAY_PUSHERS_MAX", "5",
                       "DRAY_GLOBAL_SLOTS", "uplink:3", NULL};
  const char *bad[] = {"DRAY_BUILDERS", "many", "DRAY_BUILDERS_MAX", "auto",
                       "DRAY_GLOBAL_SLOTS", "up link", NULL};
  dray_settings_t flags, es, compose, out;
  dray_error_t *err;
  const char *msg;
  (void)state;

  dray_settings_resolve(&out, NULL, NULL, NULL, NULL, pool);
  assert_int_equal(out.builders, DRAY_SETTING_AUTO);
  assert_int_equal(out.pushers, DRAY_SETTING_AUTO);
  assert_int_equal(out.builders_max, 4 * dray_platform_cpu_count());
  assert_int_equal(out.pushers_max, 8);
  assert_null(out.global_slots);
  assert_string_equal(dray_settings_value_word(&out, DRAY_SETTING_PUSHERS, pool), "auto");
  assert_string_equal(dray_setting_env(DRAY_SETTING_BUILDERS_MAX), "DRAY_BUILDERS_MAX");
  assert_string_equal(dray_setting_flag(DRAY_SETTING_GLOBAL_SLOTS), "--global-slots");
  assert_int_equal(dray_setting_find("pushers-max"), DRAY_SETTING_PUSHERS_MAX);

  dray_settings_init(&es);
  dray_test_no_error(dray_settings_from_env(&es, fake_env, (void *)env, pool));
  assert_int_equal(es.builders, DRAY_SETTING_AUTO);
  assert_int_equal(es.source[DRAY_SETTING_BUILDERS], DRAY_SOURCE_ENV);
  assert_int_equal(es.pushers_max, 5);
  assert_string_equal(es.global_slots, "uplink");
  assert_int_equal(es.global_slot_count, 3);

  dray_settings_init(&flags);
  dray_settings_init(&compose);
  dray_test_no_error(dray_settings_set(&flags, DRAY_SETTING_BUILDERS, "3", DRAY_SOURCE_FLAG, "--builders", pool));
  dray_test_no_error(dray_settings_set(&compose, DRAY_SETTING_PUSHERS, "auto", DRAY_SOURCE_COMPOSE, "c.yaml:2", pool));
  dray_test_no_error(dray_settings_set(&compose, DRAY_SETTING_BUILDERS_MAX, "12", DRAY_SOURCE_COMPOSE, "c.yaml:3", pool));
  dray_test_no_error(dray_settings_set(&compose, DRAY_SETTING_GLOBAL_SLOTS, "ci", DRAY_SOURCE_COMPOSE, "c.yaml:4", pool));
  dray_settings_resolve(&out, &flags, &es, &compose, NULL, pool);
  assert_int_equal(out.builders, 3);                       /* the flag */
  assert_int_equal(out.pushers, DRAY_SETTING_AUTO);        /* x-dray */
  assert_int_equal(out.source[DRAY_SETTING_PUSHERS], DRAY_SOURCE_COMPOSE);
  assert_int_equal(out.builders_max, 12);                  /* x-dray */
  assert_int_equal(out.pushers_max, 5);                    /* the environment */
  assert_string_equal(out.global_slots, "uplink");         /* the environment over x-dray */
  assert_int_equal(out.global_slot_count, 3);
  assert_string_equal(dray_settings_value_word(&out, DRAY_SETTING_GLOBAL_SLOTS, pool), "uplink:3");
  assert_int_equal(out.source[DRAY_SETTING_GLOBAL_SLOTS], DRAY_SOURCE_ENV);
  dray_settings_resolve(&out, NULL, NULL, &compose, NULL, pool);
  assert_string_equal(out.global_slots, "ci");
  assert_int_equal(out.global_slot_count, 2);              /* slots.h's default */

  dray_settings_init(&es);
  err = dray_settings_from_env(&es, fake_env, (void *)bad, pool);
  assert_non_null(err);
  msg = dray_error_format(err, pool);
  assert_non_null(strstr(msg, "DRAY_BUILDERS needs auto or a whole number from 1 to 1024, not 'many'"));
  assert_non_null(strstr(msg, "DRAY_BUILDERS_MAX needs a whole number from 1 to 1024, not 'auto'"));
  assert_non_null(strstr(msg, "DRAY_GLOBAL_SLOTS: up link"));
  assert_null(strstr(msg, "--global-slots"));
  dray_error_clear(err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_one_name_everywhere),
    cmocka_unit_test(test_environment),
    cmocka_unit_test(test_precedence),
    cmocka_unit_test(test_config_file_and_print),
    cmocka_unit_test(test_limits_and_slots),
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, setup, teardown);
}
