/* test_runtmp.c — the run's private temporary folder: made when first asked
 * for, one for all threads, gone with its pool; the folders of dead runs
 * swept, those of live runs (a lock held by another process: this program
 * run again as a lock holder) and anything else left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <apr_thread_proc.h>

#include "testutil.h"

#include "dray/pools.h"
#include "dray/runtmp.h"

DRAY_TEST_ROOT_FIXTURE("dray-test-runtmp")
DRAY_TEST_ROOT_FILES

static const char *self; /* this program, for the lock holder */

/* What a run leaves in its lock file once it holds the lock. */
#define MARK "dray run\n"

static int exists(const char *path)
{
  apr_finfo_t fi;
  return apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_LINK, pool) == APR_SUCCESS;
}

/* The names in DIR, sorted, joined by " ". */
static const char *names_in(const char *dir)
{
  apr_array_header_t *names = apr_array_make(pool, 4, sizeof(const char *));
  apr_dir_t *d;
  apr_finfo_t fi;
  apr_status_t rv;
  int i, j;
  assert_int_equal(apr_dir_open(&d, dir, pool), APR_SUCCESS);
  while ((rv = apr_dir_read(&fi, APR_FINFO_NAME, d)) == APR_SUCCESS || rv == APR_INCOMPLETE)
    if (strcmp(fi.name, ".") && strcmp(fi.name, ".."))
      APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(pool, fi.name);
  apr_dir_close(d);
  for (i = 1; i < names->nelts; i++) /* few: insertion sort */
    for (j = i; j > 0 && strcmp(APR_ARRAY_IDX(names, j - 1, const char *),
                                APR_ARRAY_IDX(names, j, const char *)) > 0; j--) {
      const char *t = APR_ARRAY_IDX(names, j, const char *);
      APR_ARRAY_IDX(names, j, const char *) = APR_ARRAY_IDX(names, j - 1, const char *);
      APR_ARRAY_IDX(names, j - 1, const char *) = t;
    }
  return dray_test_joined(names);
}

/* A run folder NAME in ROOT as a run leaves it, with a spill and a folder. */
static const char *left_run(const char *name, const char *lock_text)
{
  put(apr_pstrcat(pool, name, "/blob-abcdef", NULL), "bytes");
  put(apr_pstrcat(pool, name, "/sub/more", NULL), "bytes");
  put(apr_pstrcat(pool, name, "/" DRAY_RUNTMP_LOCK_NAME, NULL), lock_text);
  return apr_pstrcat(pool, root, "/", name, NULL);
}

/* Nothing is made until asked for; then one owner-only folder named
 * dray-run-…, its lock file marked, the same path every time; the
 * folder and what is in it are gone with the pool. */
static void test_made_when_asked_removed_with_pool(void **state)
{
  apr_pool_t *run_pool = dray_pool_create_sub(pool);
  dray_runtmp_t *rt;
  const char *path, *again;
  apr_finfo_t fi;
  (void)state;

  dray_test_no_error(dray_runtmp_create(&rt, root, run_pool));
  assert_string_equal(names_in(root), "");
  dray_test_no_error(dray_runtmp_path(&path, rt));
  assert_string_equal(at(path), apr_pstrcat(pool, "@/", names_in(root), NULL));
  assert_int_equal(strncmp(names_in(root), DRAY_RUNTMP_PREFIX, strlen(DRAY_RUNTMP_PREFIX)), 0);
  assert_int_equal(strlen(names_in(root)), strlen(DRAY_RUNTMP_PREFIX) + 12);
#ifdef _WIN32 /* Windows has no such bits (TEMP is the user's own): asked, APR says incomplete */
  assert_int_equal(apr_stat(&fi, path, APR_FINFO_TYPE, pool), APR_SUCCESS);
  assert_int_equal(fi.filetype, APR_DIR);
#else
  assert_int_equal(apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_PROT, pool), APR_SUCCESS);
  assert_int_equal(fi.filetype, APR_DIR);
  assert_int_equal(fi.protection & (APR_FPROT_GREAD | APR_FPROT_GWRITE | APR_FPROT_GEXECUTE
                                    | APR_FPROT_WREAD | APR_FPROT_WWRITE | APR_FPROT_WEXECUTE),
                   0);
#endif
  assert_string_equal(names_in(path), DRAY_RUNTMP_LOCK_NAME);
  assert_int_equal(apr_stat(&fi, apr_pstrcat(pool, path, "/" DRAY_RUNTMP_LOCK_NAME, NULL),
                            APR_FINFO_SIZE, pool), APR_SUCCESS);
  assert_true(fi.size > 0); /* the owner's mark */
  dray_test_no_error(dray_runtmp_path(&again, rt));
  assert_ptr_equal(again, path);

  put(apr_pstrcat(pool, path + strlen(root) + 1, "/blob-x", NULL), "bytes");
  put(apr_pstrcat(pool, path + strlen(root) + 1, "/sub/blob-y", NULL), "bytes");
  apr_pool_destroy(run_pool);
  assert_false(exists(path));
  assert_string_equal(names_in(root), "");
}

/* Spills are made from several threads: all get the one folder. */
typedef struct asker_t {
  dray_runtmp_t *rt;
  const char *path;
  dray_error_t *err;
} asker_t;

static void *APR_THREAD_FUNC ask_main(apr_thread_t *thd, void *data)
{
  asker_t *a = data;
  a->err = dray_runtmp_path(&a->path, a->rt);
  (void)thd;
  return NULL;
}

static void test_one_folder_for_all_threads(void **state)
{
  enum { N = 8 };
  apr_pool_t *run_pool = dray_pool_create_sub(pool);
  dray_runtmp_t *rt;
  apr_thread_t *t[N];
  asker_t a[N];
  apr_status_t rv;
  int i;
  (void)state;

  dray_test_no_error(dray_runtmp_create(&rt, root, run_pool));
  for (i = 0; i < N; i++) {
    a[i].rt = rt;
    a[i].path = NULL;
    a[i].err = NULL;
    assert_int_equal(apr_thread_create(&t[i], NULL, ask_main, &a[i], pool), APR_SUCCESS);
  }
  for (i = 0; i < N; i++) {
    apr_thread_join(&rv, t[i]);
    dray_test_no_error(a[i].err);
    assert_non_null(a[i].path);
    assert_string_equal(a[i].path, a[0].path);
  }
  assert_string_equal(apr_pstrcat(pool, "@/", names_in(root), NULL), at(a[0].path));
  apr_pool_destroy(run_pool);
  assert_string_equal(names_in(root), "");
}

/* A dead run's folder (its lock file marked, nobody holding it) goes when
 * the next run makes its own; what is not a dead run's stays: a run folder
 * whose lock file is empty (its owner may be about to lock it) or missing,
 * a file of that name, anything not named so. */
static void test_dead_runs_swept(void **state)
{
  apr_pool_t *run_pool = dray_pool_create_sub(pool);
  dray_runtmp_t *rt;
  const char *path, *mine;
  (void)state;

  path = left_run(DRAY_RUNTMP_PREFIX "000000000001", MARK);
  left_run(DRAY_RUNTMP_PREFIX "000000000002", "");
  put(DRAY_RUNTMP_PREFIX "000000000003/blob-abcdef", "no lock file");
  put(DRAY_RUNTMP_PREFIX "file", "a file");
  put("other-run/" DRAY_RUNTMP_LOCK_NAME, MARK);

  dray_test_no_error(dray_runtmp_create(&rt, root, run_pool));
  dray_test_no_error(dray_runtmp_path(&mine, rt));
  assert_false(exists(path));
  assert_true(exists(apr_pstrcat(pool, root, "/" DRAY_RUNTMP_PREFIX "000000000002/blob-abcdef",
                                 NULL)));
  assert_true(exists(apr_pstrcat(pool, root, "/" DRAY_RUNTMP_PREFIX "000000000003/blob-abcdef",
                                 NULL)));
  assert_true(exists(apr_pstrcat(pool, root, "/" DRAY_RUNTMP_PREFIX "file", NULL)));
  assert_true(exists(apr_pstrcat(pool, root, "/other-run/" DRAY_RUNTMP_LOCK_NAME, NULL)));
  assert_true(exists(mine));
  apr_pool_destroy(run_pool);
  assert_false(exists(mine));
}

/* ---- a live run: its lock held by another process ----------------------- */

/* This program as "--hold LOCK_FILE": lock the file, say "locked", hold
 * the lock until stdin ends. */
static int hold_lock(const char *path)
{
  apr_pool_t *p;
  apr_file_t *f, *in;
  char c;
  apr_pool_create(&p, NULL);
  if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_BINARY,
                    APR_FPROT_OS_DEFAULT, p) != APR_SUCCESS
      || apr_file_lock(f, APR_FLOCK_EXCLUSIVE) != APR_SUCCESS)
    return 1;
  fputs("locked\n", stdout);
  fflush(stdout);
  apr_file_open_stdin(&in, p);
  while (apr_file_getc(&c, in) == APR_SUCCESS)
    ;
  return 0;
}

static void test_live_run_left_alone(void **state)
{
  apr_pool_t *run_pool = dray_pool_create_sub(pool);
  const char *path = left_run(DRAY_RUNTMP_PREFIX "00000000000a", MARK);
  const char *args[4];
  apr_procattr_t *attr;
  apr_proc_t holder;
  apr_exit_why_e why;
  dray_runtmp_t *rt;
  const char *mine;
  char line[32] = "";
  int code;
  (void)state;

  args[0] = self;
  args[1] = "--hold";
  args[2] = apr_pstrcat(pool, path, "/" DRAY_RUNTMP_LOCK_NAME, NULL);
  args[3] = NULL;
  assert_int_equal(apr_procattr_create(&attr, pool), APR_SUCCESS);
  assert_int_equal(apr_procattr_io_set(attr, APR_FULL_BLOCK, APR_FULL_BLOCK, APR_NO_PIPE),
                   APR_SUCCESS);
  assert_int_equal(apr_procattr_cmdtype_set(attr, APR_PROGRAM), APR_SUCCESS);
  assert_int_equal(apr_proc_create(&holder, self, args, NULL, attr, pool), APR_SUCCESS);
  assert_int_equal(apr_file_gets(line, sizeof(line), holder.out), APR_SUCCESS);
  assert_int_equal(strncmp(line, "locked", 6), 0); /* "\r\n" on Windows */

  /* Held: the sweep leaves the folder whole. */
  dray_test_no_error(dray_runtmp_create(&rt, root, run_pool));
  dray_test_no_error(dray_runtmp_path(&mine, rt));
  assert_true(exists(apr_pstrcat(pool, path, "/blob-abcdef", NULL)));
  assert_true(exists(apr_pstrcat(pool, path, "/sub/more", NULL)));
  apr_pool_destroy(run_pool);

  /* Its holder gone, the next run sweeps it. */
  apr_file_close(holder.in);
  assert_int_equal(apr_proc_wait(&holder, &code, &why, APR_WAIT), APR_CHILD_DONE);
  assert_int_equal(code, 0);
  apr_file_close(holder.out);
  run_pool = dray_pool_create_sub(pool);
  dray_test_no_error(dray_runtmp_create(&rt, root, run_pool));
  dray_test_no_error(dray_runtmp_path(&mine, rt));
  assert_false(exists(path));
  apr_pool_destroy(run_pool);
  assert_string_equal(names_in(root), "");
}

int main(int argc, const char *const *argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_made_when_asked_removed_with_pool, setup, teardown),
    cmocka_unit_test_setup_teardown(test_one_folder_for_all_threads, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dead_runs_swept, setup, teardown),
    cmocka_unit_test_setup_teardown(test_live_run_left_alone, setup, teardown),
  };
  int rc;
  apr_initialize();
  if (argc == 3 && strcmp(argv[1], "--hold") == 0) {
    rc = hold_lock(argv[2]);
    apr_terminate();
    return rc;
  }
  self = argv[0];
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  apr_terminate();
  return rc;
}
