/* test_output.c — where dray writes: logs and the report never through a
 * symbolic link, only in the user's own folders and files, owner-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <jansson.h>

#include "dray/file.h"
#include "dray/joblog.h"
#include "dray/junit.h"
#include "dray/platform.h"
#include "dray/plan.h"
#include "dray/report.h"
#include "dray/run.h"
#include "dray/timeline.h"

#include "testutil.h"

#ifndef _WIN32 /* links, modes and owners: the Unix half (tests may #ifdef, minimally) */
#include <sys/stat.h>
#include <unistd.h>
#define HAVE_LINKS 1
#endif

static const char *root;

static int setup(void **state)
{
  if (dray_test_setup(state) != 0 || !(root = dray_test_make_root("dray-output", pool)))
    return -1;
  return 0;
}

static int teardown(void **state)
{
  dray_test_remove_tree(root, pool);
  return dray_test_teardown(state);
}

static const char *path_of(const char *name)
{
  return apr_pstrcat(pool, root, "/", name, NULL);
}

static void write_file(const char *path, const char *text)
{
  apr_file_t *f;
  assert_int_equal(apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                                 APR_FPROT_OS_DEFAULT, pool), APR_SUCCESS);
  assert_int_equal(apr_file_puts(text, f), APR_SUCCESS);
  apr_file_close(f);
}


/* A run of one image "web". */
static dray_run_t *one_image_run(void)
{
  dray_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
  dray_image_t *img = apr_pcalloc(pool, sizeof(*img));
  img->name = "web";
  img->repository = "registry.test/web";
  img->tags = dray_test_list("latest", NULL);
  plan->images = apr_array_make(pool, 1, sizeof(dray_image_t *));
  APR_ARRAY_PUSH(plan->images, dray_image_t *) = img;
  return dray_run_create(plan, DRAY_MODE_BUILD, pool);
}

static void assert_input_error(dray_error_t *err, const char *needle)
{
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  if (!strstr(dray_error_format(err, pool), needle)) {
    print_error("\"%s\" not in \"%s\"\n", needle, dray_error_format(err, pool));
    fail();
  }
  dray_error_clear(err);
}

static void test_log_dir_must_be_a_folder(void **state)
{
  const char *file = path_of("a-file");
  (void)state;
  write_file(file, "x");
  assert_input_error(dray_file_check_output(file, 1, "--log-dir", pool), "not a folder");
  assert_input_error(dray_joblog_check(one_image_run(), file, pool), "--log-dir");
  /* Missing (made later) and an existing folder are fine. */
  dray_test_no_error(dray_file_check_output(path_of("new/logs"), 1, "--log-dir", pool));
  dray_test_no_error(dray_file_check_output(root, 1, "--log-dir", pool));
  dray_test_no_error(dray_joblog_check(one_image_run(), root, pool));
}

#ifdef HAVE_LINKS
static const char *read_file(const char *path)
{
  char *text;
  apr_size_t len;
  dray_test_no_error(dray_file_read(&text, &len, NULL, path, NULL, pool));
  return text;
}

static void test_no_write_through_links(void **state)
{
  const char *victim = path_of("victim"), *logs = path_of("logs");
  const char *report = path_of("report.json");
  dray_run_t *run = one_image_run();
  apr_file_t *f;
  struct stat st;
  (void)state;

  write_file(victim, "precious\n");
  assert_int_equal(apr_dir_make(logs, APR_FPROT_OS_DEFAULT, pool), APR_SUCCESS);

  /* A committed logs/web.log -> victim: refused before anything starts, and
   * never opened through, even when it appears after the check. */
  assert_int_equal(symlink(victim, path_of("logs/web.log")), 0);
  assert_input_error(dray_joblog_check(run, logs, pool), "web.log is a symbolic link");
  assert_non_null(dray_joblog_prepare(run, logs, pool, pool));
  assert_string_equal(read_file(victim), "precious\n");
  assert_int_not_equal(dray_platform_open_private(&f, path_of("logs/web.log"), APR_FOPEN_APPEND,
                                                  pool), APR_SUCCESS);
  unlink(path_of("logs/web.log"));

  /* The build's --iidfile beside the log, written by docker itself. */
  assert_int_equal(symlink(victim, path_of("logs/web.log.iid")), 0);
  assert_input_error(dray_joblog_check(run, logs, pool), "web.log.iid is a symbolic link");
  unlink(path_of("logs/web.log.iid"));

  /* The log folder itself a link. */
  assert_int_equal(symlink(root, path_of("logs-link")), 0);
  assert_input_error(dray_joblog_check(run, path_of("logs-link"), pool), "symbolic link");

  /* Logs are made owner-only. */
  dray_test_no_error(dray_joblog_check(run, logs, pool));
  dray_test_no_error(dray_joblog_prepare(run, logs, pool, pool));
  assert_int_equal(stat(path_of("logs/web.log"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);

  /* The report: its PATH.tmp a link is removed, not followed; PATH a link
   * is refused by the check; the report is owner-only. */
  assert_int_equal(symlink(victim, apr_pstrcat(pool, report, ".tmp", NULL)), 0);
  dray_test_no_error(dray_report_check_path(report, pool));
  dray_test_no_error(dray_report_write_json(report, run, 0, pool));
  assert_string_equal(read_file(victim), "precious\n");
  assert_non_null(strstr(read_file(report), "\"dray_version\""));
  assert_int_equal(lstat(report, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  unlink(report);
  assert_int_equal(symlink(victim, report), 0);
  assert_input_error(dray_report_check_path(report, pool), "--report");
  unlink(report);

  /* The JUnit report and the timeline are written the same way. */
  {
    const char *junit = path_of("junit.xml"), *svg = path_of("run.svg");
    json_t *json;
    run->start = apr_time_now(); /* the timeline wants a run that began */
    run->end = run->start + apr_time_from_sec(1);
    json = dray_report_json(run, 0, pool);
    assert_int_equal(symlink(victim, apr_pstrcat(pool, junit, ".tmp", NULL)), 0);
    assert_int_equal(symlink(victim, apr_pstrcat(pool, svg, ".tmp", NULL)), 0);
    dray_test_no_error(dray_junit_write(junit, run, pool));
    dray_test_no_error(dray_timeline_write(svg, json, pool));
    json_decref(json);
    assert_string_equal(read_file(victim), "precious\n");
    assert_int_equal(lstat(junit, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(lstat(svg, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    unlink(junit);
    assert_int_equal(symlink(victim, junit), 0);
    assert_input_error(dray_file_check_output(junit, 0, "--junit", pool), "--junit");
    unlink(junit);
    unlink(svg);
  }

  /* A link among the folders of a relative path: ".dray -> elsewhere". */
  {
    char *cwd;
    assert_int_equal(apr_filepath_get(&cwd, 0, pool), APR_SUCCESS);
    assert_int_equal(apr_filepath_set(root, pool), APR_SUCCESS);
    assert_int_equal(symlink(logs, ".dray"), 0);
    assert_input_error(dray_joblog_check(run, ".dray/logs", pool),
                       ".dray/logs: .dray is a symbolic link");
    assert_input_error(dray_report_check_path(".dray/report.json", pool), "symbolic link");
    unlink(".dray");
    dray_test_no_error(dray_joblog_check(run, ".dray/logs", pool));
    assert_int_equal(apr_filepath_set(cwd, pool), APR_SUCCESS);
  }
}

static void test_other_users_folder(void **state)
{
  const char *theirs = path_of("theirs");
  (void)state;
  if (geteuid() != 0)
    skip(); /* only root can give a folder away */
  assert_int_equal(apr_dir_make(theirs, APR_FPROT_OS_DEFAULT, pool), APR_SUCCESS);
  assert_int_equal(chown(theirs, 65534, 65534), 0);
  assert_input_error(dray_file_check_output(theirs, 1, "--log-dir", pool), "another user");
  write_file(path_of("their-report"), "{}");
  assert_int_equal(chown(path_of("their-report"), 65534, 65534), 0);
  assert_input_error(dray_report_check_path(path_of("their-report"), pool), "another user");
}
#endif

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_log_dir_must_be_a_folder),
#ifdef HAVE_LINKS
    cmocka_unit_test(test_no_write_through_links),
    cmocka_unit_test(test_other_users_folder),
#endif
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, setup, teardown);
  apr_terminate();
  return rc;
}
