/* Unit tests: command-line parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "dray/cli.h"
#include "dray/engines.h"

#include "testutil.h"


#define PARSE(cli, ...)                                                     \
  do {                                                                     \
    const char *argv_[] = {"dray", __VA_ARGS__, NULL};                      \
    err_ = dray_cli_parse(&(cli), (int)(sizeof(argv_) / sizeof(*argv_)) - 1, \
                          argv_, pool);                                     \
  } while (0)

static dray_error_t *err_;

static void test_run_with_everything(void **state)
{
  dray_cli_t *cli;
  (void)state;
  PARSE(cli, "run", "images", "-j", "4", "--pushers", "2", "-t", "latest", "--tag", "v1",
        "--registry", "localhost:5000/team", "--build-arg", "A=1", "--only", "web*",
        "--skip", "*-test", "--retries", "5", "--build-retries", "1", "--network", "none",
        "--no-cache", "--report", "r.json", "--log-dir", "logs", "--engine-cmd", "podman",
        "--platform", "linux/amd64", "more", "-v", "--retry-delay", "0.5");
  assert_null(err_);
  assert_int_equal(cli->command, DRAY_CMD_RUN);
  assert_int_equal(cli->settings.builders, 4);
  assert_int_equal(cli->settings.pushers, 2);
  assert_int_equal(cli->settings.retries, 5);
  assert_int_equal(cli->settings.build_retries, 1);
  assert_int_equal(cli->settings.tags->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(cli->settings.tags, 1, const char *), "v1");
  assert_string_equal(cli->settings.registry, "localhost:5000/team");
  assert_string_equal(APR_ARRAY_IDX(cli->build_args, 0, const char *), "A=1");
  assert_string_equal(APR_ARRAY_IDX(cli->only, 0, const char *), "web*");
  assert_string_equal(APR_ARRAY_IDX(cli->skip, 0, const char *), "*-test");
  assert_string_equal(cli->settings.network, "none");
  assert_true(cli->no_cache);
  assert_true(cli->verbose);
  assert_string_equal(cli->report, "r.json");
  assert_string_equal(cli->settings.log_dir, "logs");
  assert_string_equal(cli->settings.engine_cmd, "podman");
  assert_string_equal(cli->settings.platform, "linux/amd64");
  assert_true(cli->settings.retry_delay > 0.49 && cli->settings.retry_delay < 0.51);
  /* paths before and after options are both kept, in order */
  assert_int_equal(cli->paths->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(cli->paths, 0, const char *), "images");
  assert_string_equal(APR_ARRAY_IDX(cli->paths, 1, const char *), "more");
}

static void test_defaults(void **state)
{
  dray_cli_t *cli;
  (void)state;
  PARSE(cli, "build");
  assert_null(err_);
  assert_int_equal(cli->command, DRAY_CMD_BUILD);
  assert_int_equal(cli->settings.builders, -1);
  assert_int_equal(cli->settings.pushers, -1);
  assert_int_equal(cli->settings.retries, -1);
  /* Not given: unset, so that the environment, x-dray, the config file or
   * the default (settings.c) decides. */
  assert_null(cli->settings.engine_cmd);
  assert_null(cli->settings.log_dir);
  assert_int_equal(cli->settings.source[DRAY_SETTING_BUILDERS], DRAY_SOURCE_NONE);
  assert_int_equal(cli->paths->nelts, 0);
  assert_null(cli->settings.progress);
}

/* -j/-p auto, their bounds and the global slots are settings like the rest:
 * parsed by settings.c, credited to the flag. */
static void test_limits_and_slots(void **state)
{
  dray_cli_t *cli;
  const char *words[] = {"run", "-j", "a"};
  dray_completion_t *c;
  (void)state;
  PARSE(cli, "run", "-j", "auto", "-p", "3", "--builders-max", "16", "--pushers-max", "4",
        "--global-slots", "uplink:3");
  assert_null(err_);
  assert_int_equal(cli->settings.builders, DRAY_SETTING_AUTO);
  assert_int_equal(cli->settings.pushers, 3);
  assert_int_equal(cli->settings.builders_max, 16);
  assert_int_equal(cli->settings.pushers_max, 4);
  assert_string_equal(cli->settings.global_slots, "uplink");
  assert_int_equal(cli->settings.global_slot_count, 3);
  assert_int_equal(cli->settings.source[DRAY_SETTING_GLOBAL_SLOTS], DRAY_SOURCE_FLAG);
  assert_string_equal(cli->settings.where[DRAY_SETTING_BUILDERS_MAX], "--builders-max");

  PARSE(cli, "push", "-p", "auto", "--pushers-max", "2", "--global-slots", "ci");
  assert_null(err_);
  assert_int_equal(cli->settings.global_slot_count, 2);
  PARSE(cli, "build", "--pushers-max", "2");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "dray build does not take --pushers-max"));
  dray_error_clear(err_);
  PARSE(cli, "run", "--builders-max", "auto");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--builders-max needs a whole number"));
  dray_error_clear(err_);
  PARSE(cli, "run", "--global-slots", "../x");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--global-slots ../x"));
  dray_error_clear(err_);

  /* "N|auto": auto is a value to complete. */
  c = dray_cli_complete(3, words, pool);
  assert_int_equal(c->words->nelts, 1);
  assert_string_equal(APR_ARRAY_IDX(c->words, 0, const char *), "auto");
}

static void test_bad_number_names_option(void **state)
{
  dray_cli_t *cli;
  (void)state;
  PARSE(cli, "run", "-j", "0");
  assert_non_null(err_);
  assert_int_equal(err_->apr_err, DRAY_ERR_USAGE);
  assert_non_null(strstr(err_->message, "--builders"));
  assert_non_null(strstr(err_->message, "'0'"));
  dray_error_clear(err_);
  PARSE(cli, "run", "--pushers", "two");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--pushers"));
  dray_error_clear(err_);
  PARSE(cli, "run", "--retry-delay", "-1");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--retry-delay"));
  dray_error_clear(err_);
}

static void test_unknown_option_and_command(void **state)
{
  dray_cli_t *cli;
  (void)state;
  PARSE(cli, "run", "--frobnicate");
  assert_non_null(err_);
  assert_int_equal(err_->apr_err, DRAY_ERR_USAGE);
  assert_non_null(strstr(err_->message, "frobnicate"));
  dray_error_clear(err_);
  PARSE(cli, "deploy");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "deploy"));
  dray_error_clear(err_);
  PARSE(cli, "run", "--registry");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "registry"));
  dray_error_clear(err_);
}

static void test_option_not_for_command(void **state)
{
  dray_cli_t *cli;
  (void)state;
  PARSE(cli, "build", "--pushers", "2");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "dray build does not take --pushers"));
  assert_int_equal(err_->apr_err, DRAY_ERR_USAGE);
  dray_error_clear(err_);
  PARSE(cli, "push", "--no-cache");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--no-cache"));
  dray_error_clear(err_);
  /* plan only reads the input: a run's report, events or dry run are not its. */
  PARSE(cli, "plan", ".", "--report", "F");
  assert_non_null(err_);
  assert_int_equal(err_->apr_err, DRAY_ERR_USAGE);
  assert_non_null(strstr(err_->message, "dray plan does not take --report"));
  dray_error_clear(err_);
  PARSE(cli, "plan", "--events", "json");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "dray plan does not take --events"));
  dray_error_clear(err_);
}

/* --engine-host and --context are repeatable, each with limits of its own;
 * both are the setting "engines", one word grammar (engines.h). */
static void test_engines(void **state)
{
  dray_cli_t *cli;
  dray_engine_target_t *t;
  const apr_array_header_t *words;
  (void)state;
  PARSE(cli, "run", "--engine-host", "tcp://b1:2376#builders=4,pushers=2", "--context",
        "fast", "--engine-host", "unix:///x.sock#pushers=1", ".");
  assert_null(err_);
  words = cli->settings.engines;
  assert_int_equal(words->nelts, 3);
  dray_test_no_error(dray_engine_target_parse(&t, APR_ARRAY_IDX(words, 0, const char *), "x", pool));
  assert_string_equal(t->spec.name, "tcp://b1:2376");
  assert_string_equal(t->host, "tcp://b1:2376");
  assert_null(t->context);
  assert_int_equal(t->spec.builders, 4);
  assert_int_equal(t->spec.pushers, 2);
  assert_string_equal(t->env[0], "DOCKER_HOST=tcp://b1:2376");
  assert_null(t->env[1]);
  dray_test_no_error(dray_engine_target_parse(&t, APR_ARRAY_IDX(words, 1, const char *), "x", pool));
  assert_string_equal(t->context, "fast");
  assert_null(t->host);
  assert_string_equal(t->env[0], "DOCKER_CONTEXT=fast");
  assert_string_equal(t->env[1], "DOCKER_HOST"); /* unset: it would win over the context */
  assert_int_equal(t->spec.builders, 0);
  dray_test_no_error(dray_engine_target_parse(&t, APR_ARRAY_IDX(words, 2, const char *), "x", pool));
  assert_int_equal(t->spec.pushers, 1);

  PARSE(cli, "run", "--engine-host", "tcp://h#builders=0", ".");
  assert_non_null(err_);
  assert_int_equal(err_->apr_err, DRAY_ERR_USAGE);
  assert_non_null(strstr(err_->message, "--engine-host tcp://h#builders=0"));
  dray_error_clear(err_);
  PARSE(cli, "run", "--engine-host", "tcp://h#cpus=2", ".");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "'cpus=2' is not a limit"));
  dray_error_clear(err_);
  /* The option and the word agree. */
  PARSE(cli, "run", "--engine-host", "build1", ".");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--engine-host build1: needs a URL"));
  dray_error_clear(err_);
  PARSE(cli, "run", "--context", "tcp://h", ".");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--context tcp://h: takes a context name"));
  dray_error_clear(err_);
}

/* Every option a command would ignore is refused, naming the option and
 * the command; the ones it uses are accepted. */
static void refused(const char *command, const char *option, const char *value)
{
  const char *argv[] = {"dray", command, option, value, NULL};
  const char *want = apr_psprintf(pool, "dray %s does not take %s", command, option);
  dray_cli_t *cli;
  dray_error_t *err = dray_cli_parse(&cli, value ? 4 : 3, argv, pool);
  if (!err)
    fail_msg("dray %s %s %s was accepted", command, option, value ? value : "");
  assert_int_equal(err->apr_err, DRAY_ERR_USAGE);
  if (!strstr(err->message, want))
    fail_msg("dray %s %s: \"%s\" does not say \"%s\"", command, option, err->message, want);
  dray_error_clear(err);
}

static void accepted(const char *command, const char *option, const char *value)
{
  const char *argv[] = {"dray", command, option, value, NULL};
  dray_cli_t *cli;
  dray_error_t *err = dray_cli_parse(&cli, value ? 4 : 3, argv, pool);
  if (err) {
    dray_error_print(err, "unexpected: ");
    dray_error_clear(err);
    fail_msg("dray %s %s was refused", command, option);
  }
}

static void test_ignored_options_refused(void **state)
{
  /* What only a run, build or push does with the images. */
  static const char *const not_for_plan[][2] = {
    {"--report", "r.json"}, {"--events", "json"}, {"--dry-run", NULL}, {"--builders", "2"},
    {"--pushers", "2"}, {"--retries", "1"}, {"--build-retries", "1"},
    {"--retry-delay", "1"}, {"--stall-timeout", "5"}, {"--push-driver", "cli"},
    {"--insecure-registry", "h"}, {"--skip-existing", NULL}, {"--no-verify", NULL},
    {"--platform", "linux/amd64"}, {"--network", "none"}, {"--no-cache", NULL},
    {"--log-dir", "logs"}, {"--progress", "plain"}, {"--quiet", NULL}};
  /* -v: plan lists where the settings in force come from; the engines named
   * are listed and asked whether they answer. */
  static const char *const plan_uses[][2] = {
    {"-f", "compose.yaml"}, {"--registry", "r:5000/ns"}, {"-t", "v1"},
    {"--build-arg", "A=1"}, {"--only", "a*"}, {"--skip", "b*"}, {"--help", NULL},
    {"--verbose", NULL}, {"--engine-cmd", "podman"}, {"--engine-host", "unix:///x.sock"},
    {"--context", "c"}, {"--engines-optional", NULL}};
  /* Push-side options mean nothing to a build... */
  static const char *const not_for_build[][2] = {
    {"--pushers", "2"}, {"--retries", "1"}, {"--stall-timeout", "5"},
    {"--push-driver", "engine"}, {"--insecure-registry", "h"}, {"--skip-existing", NULL},
    {"--no-verify", NULL}};
  /* ...and build-side ones to a push of images built before. */
  static const char *const not_for_push[][2] = {
    {"--builders", "2"}, {"--build-retries", "1"}, {"--platform", "linux/amd64"},
    {"--network", "none"}, {"--no-cache", NULL}};
  static const char *const both[][2] = {
    {"--registry", "r"}, {"-t", "v1"}, {"--retry-delay", "1"}, {"--engine-cmd", "docker"},
    {"--engine-host", "unix:///x.sock"}, {"--context", "c"}, {"--events", "json"},
    {"--build-arg", "A=1"}, {"--log-dir", "l"}, {"--report", "r.json"}, {"--dry-run", NULL},
    {"--progress", "plain"}, {"-q", NULL}, {"-v", NULL}};
  size_t i;
  (void)state;

  for (i = 0; i < sizeof(not_for_plan) / sizeof(*not_for_plan); i++) {
    refused("plan", not_for_plan[i][0], not_for_plan[i][1]);
    accepted("run", not_for_plan[i][0], not_for_plan[i][1]);
  }
  for (i = 0; i < sizeof(plan_uses) / sizeof(*plan_uses); i++) {
    accepted("plan", plan_uses[i][0], plan_uses[i][1]);
    accepted("run", plan_uses[i][0], plan_uses[i][1]);
  }
  for (i = 0; i < sizeof(not_for_build) / sizeof(*not_for_build); i++) {
    refused("build", not_for_build[i][0], not_for_build[i][1]);
    accepted("push", not_for_build[i][0], not_for_build[i][1]);
  }
  for (i = 0; i < sizeof(not_for_push) / sizeof(*not_for_push); i++) {
    refused("push", not_for_push[i][0], not_for_push[i][1]);
    accepted("build", not_for_push[i][0], not_for_push[i][1]);
  }
  for (i = 0; i < sizeof(both) / sizeof(*both); i++) {
    accepted("build", both[i][0], both[i][1]);
    accepted("push", both[i][0], both[i][1]);
  }
  refused("version", "--report", "r.json");
  refused("version", "--verbose", NULL);
  /* A short option is named by its long name. */
  {
    const char *argv[] = {"dray", "plan", "-j", "2", NULL};
    dray_cli_t *cli;
    dray_error_t *err = dray_cli_parse(&cli, 4, argv, pool);
    assert_non_null(err);
    assert_non_null(strstr(err->message, "dray plan does not take --builders"));
    dray_error_clear(err);
  }
}

/* The help of a command lists exactly the options it takes. */
static void test_help_lists_only_taken_options(void **state)
{
  const char *tmp, *path;
  apr_file_t *f;
  apr_finfo_t fi;
  char *text;
  FILE *out;
  (void)state;

  assert_int_equal(apr_temp_dir_get(&tmp, pool), APR_SUCCESS);
  path = apr_psprintf(pool, "%s/dray-help-%" APR_TIME_T_FMT ".txt", tmp, apr_time_now());
  out = fopen(path, "w+");
  assert_non_null(out);
  dray_cli_print_help(out, DRAY_CMD_PLAN);
  fclose(out);
  assert_int_equal(apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, pool), APR_SUCCESS);
  assert_int_equal(apr_file_info_get(&fi, APR_FINFO_SIZE, f), APR_SUCCESS);
  text = apr_pcalloc(pool, (apr_size_t)fi.size + 1);
  assert_int_equal(apr_file_read_full(f, text, (apr_size_t)fi.size, NULL), APR_SUCCESS);
  apr_file_close(f);
  apr_file_remove(path, pool);
  assert_non_null(strstr(text, "--registry"));
  assert_non_null(strstr(text, "--build-arg"));
  assert_non_null(strstr(text, "--only"));
  assert_null(strstr(text, "--report"));
  assert_null(strstr(text, "--events"));
  assert_null(strstr(text, "--dry-run"));
  assert_null(strstr(text, "--pushers"));
}

static void test_build_arg_needs_equals(void **state)
{
  dray_cli_t *cli;
  (void)state;
  PARSE(cli, "run", "--build-arg", "NOVALUE");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--build-arg"));
  dray_error_clear(err_);
}

static void test_help_and_version(void **state)
{
  dray_cli_t *cli;
  (void)state;
  PARSE(cli, "--help");
  assert_null(err_);
  assert_int_equal(cli->command, DRAY_CMD_HELP);
  PARSE(cli, "plan", "--help");
  assert_null(err_);
  assert_int_equal(cli->command, DRAY_CMD_PLAN);
  assert_true(cli->help);
  PARSE(cli, "version");
  assert_null(err_);
  assert_int_equal(cli->command, DRAY_CMD_VERSION);
  PARSE(cli, "run", "-q");
  assert_null(err_);
  assert_string_equal(cli->settings.progress, "quiet");
  PARSE(cli, "run", "--progress", "plain");
  assert_null(err_);
  assert_string_equal(cli->settings.progress, "plain");
  PARSE(cli, "run", "--progress", "fancy");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--progress"));
  dray_error_clear(err_);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_engines),
    cmocka_unit_test(test_run_with_everything),
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_limits_and_slots),
    cmocka_unit_test(test_bad_number_names_option),
    cmocka_unit_test(test_unknown_option_and_command),
    cmocka_unit_test(test_option_not_for_command),
    cmocka_unit_test(test_ignored_options_refused),
    cmocka_unit_test(test_help_lists_only_taken_options),
    cmocka_unit_test(test_build_arg_needs_equals),
    cmocka_unit_test(test_help_and_version),
  };
  apr_initialize();
  int rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
