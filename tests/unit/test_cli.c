/* Unit tests: command-line parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>

#include "dray/cli.h"

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
  assert_int_equal(cli->builders, 4);
  assert_int_equal(cli->pushers, 2);
  assert_int_equal(cli->retries, 5);
  assert_int_equal(cli->build_retries, 1);
  assert_int_equal(cli->tags->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(cli->tags, 1, const char *), "v1");
  assert_string_equal(cli->registry, "localhost:5000/team");
  assert_string_equal(APR_ARRAY_IDX(cli->build_args, 0, const char *), "A=1");
  assert_string_equal(APR_ARRAY_IDX(cli->only, 0, const char *), "web*");
  assert_string_equal(APR_ARRAY_IDX(cli->skip, 0, const char *), "*-test");
  assert_string_equal(cli->network, "none");
  assert_true(cli->no_cache);
  assert_true(cli->verbose);
  assert_string_equal(cli->report, "r.json");
  assert_string_equal(cli->log_dir, "logs");
  assert_string_equal(cli->engine_cmd, "podman");
  assert_string_equal(cli->platform, "linux/amd64");
  assert_true(cli->retry_delay > 0.49 && cli->retry_delay < 0.51);
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
  assert_int_equal(cli->builders, -1);
  assert_int_equal(cli->pushers, -1);
  assert_int_equal(cli->retries, -1);
  assert_string_equal(cli->engine_cmd, "docker");
  assert_string_equal(cli->log_dir, ".dray/logs");
  assert_int_equal(cli->paths->nelts, 0);
  assert_int_equal(cli->progress, DRAY_VIEW_AUTO);
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
  dray_error_clear(err_);
  PARSE(cli, "push", "--no-cache");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--no-cache"));
  dray_error_clear(err_);
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
  assert_int_equal(cli->progress, DRAY_VIEW_QUIET);
  PARSE(cli, "run", "--progress", "plain");
  assert_null(err_);
  assert_int_equal(cli->progress, DRAY_VIEW_PLAIN);
  PARSE(cli, "run", "--progress", "fancy");
  assert_non_null(err_);
  assert_non_null(strstr(err_->message, "--progress"));
  dray_error_clear(err_);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_run_with_everything),
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_bad_number_names_option),
    cmocka_unit_test(test_unknown_option_and_command),
    cmocka_unit_test(test_option_not_for_command),
    cmocka_unit_test(test_build_arg_needs_equals),
    cmocka_unit_test(test_help_and_version),
  };
  apr_initialize();
  int rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
