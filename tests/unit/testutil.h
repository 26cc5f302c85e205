/* testutil.h — what the cmocka unit tests share: a pool per group, a check
 * that an error is absent (printing it when not), temporary folder trees. */
#ifndef DRAY_TESTUTIL_H
#define DRAY_TESTUTIL_H

#include <stdarg.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "dray/error.h"
#include "dray/file.h"

static apr_pool_t *pool; /* the group's pool, made by dray_test_setup */

static inline int dray_test_setup(void **state)
{
  (void)state;
  return apr_pool_create(&pool, NULL) == APR_SUCCESS ? 0 : -1;
}

static inline int dray_test_teardown(void **state)
{
  (void)state;
  apr_pool_destroy(pool);
  return 0;
}

/* Fail the test on an error, showing its whole chain first. */
#define dray_test_no_error(expr)                   \
  do {                                             \
    dray_error_t *dray_test__err = (expr);         \
    if (dray_test__err) {                          \
      dray_error_print(dray_test__err, "unexpected: "); \
      dray_error_clear(dray_test__err);            \
      fail();                                      \
    }                                              \
  } while (0)

/* Remove PATH and everything below it, never following a link. */
static inline void dray_test_remove_tree(const char *path, apr_pool_t *p)
{
  dray_file_remove_tree(path, p);
}

/* A new empty folder under the temp dir, named after PREFIX. Returned in
 * APR's canonical form (apr_filepath_merge without flags: "C:/Users/..." on
 * Windows, where apr_temp_dir_get gives "C:\Users\..."), the form the
 * plan reports paths in, so tests can build expected paths from it. */
static inline const char *dray_test_make_root(const char *prefix, apr_pool_t *p)
{
  const char *tmp;
  char *root;
  static int counter;
  if (apr_temp_dir_get(&tmp, p) != APR_SUCCESS
      || apr_filepath_merge(&root, NULL, tmp, 0, p) != APR_SUCCESS)
    return NULL;
  tmp = root;
  for (;;) {
    root = apr_psprintf(p, "%s/%s-%" APR_TIME_T_FMT "-%d", tmp, prefix, apr_time_now(), ++counter);
    if (apr_dir_make(root, APR_FPROT_OS_DEFAULT, p) == APR_SUCCESS)
      return root;
  }
}

/* A NULL-ended list of strings as an APR array in the group's pool. */
static inline apr_array_header_t *dray_test_list(const char *first, ...)
{
  apr_array_header_t *a = apr_array_make(pool, 4, sizeof(const char *));
  va_list ap;
  const char *s;
  va_start(ap, first);
  for (s = first; s; s = va_arg(ap, const char *))
    APR_ARRAY_PUSH(a, const char *) = s;
  va_end(ap);
  return a;
}

/* Write TEXT to DIR/REL, making folders as needed; the path, or NULL. */
static inline const char *dray_test_put(const char *dir, const char *rel, const char *text)
{
  const char *path = apr_pstrcat(pool, dir, "/", rel, NULL);
  char *folder = apr_pstrdup(pool, path);
  apr_file_t *f;
  apr_status_t status;
  *strrchr(folder, '/') = '\0';
  if (apr_dir_make_recursive(folder, APR_FPROT_OS_DEFAULT, pool) != APR_SUCCESS
      || apr_file_open(&f, path,
                       APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE | APR_FOPEN_BINARY,
                       APR_FPROT_OS_DEFAULT, pool) != APR_SUCCESS)
    return NULL;
  status = apr_file_write_full(f, text, strlen(text), NULL);
  apr_file_close(f);
  return status == APR_SUCCESS ? path : NULL;
}

/* S with every DIR in it shown as "@" (NULL: "(null)"). */
static inline const char *dray_test_shown(const char *s, const char *dir)
{
  const char *out = "", *p;
  if (!s)
    return "(null)";
  while ((p = strstr(s, dir)) != NULL) {
    out = apr_pstrcat(pool, out, apr_pstrmemdup(pool, s, (apr_size_t)(p - s)), "@", NULL);
    s = p + strlen(dir);
  }
  return apr_pstrcat(pool, out, s, NULL);
}

/* The strings of A joined by " " ("" for none or NULL). */
static inline const char *dray_test_joined(const apr_array_header_t *a)
{
  const char *out = "";
  int i;
  for (i = 0; a && i < a->nelts; i++)
    out = apr_pstrcat(pool, out, i ? " " : "", APR_ARRAY_IDX(a, i, const char *), NULL);
  return out;
}

/* The body of main(): run the group TESTS with APR up. */
#define DRAY_TEST_RUN(tests)                                                \
  do {                                                                      \
    int dray_test__rc;                                                      \
    apr_initialize();                                                       \
    dray_test__rc = cmocka_run_group_tests(tests, NULL, NULL);              \
    apr_terminate();                                                        \
    return dray_test__rc;                                                   \
  } while (0)

/* A helper a test file may not use: no warning for that. */
#if defined(__GNUC__)
#define DRAY_TEST_MAYBE_UNUSED __attribute__((unused))
#else
#define DRAY_TEST_MAYBE_UNUSED
#endif

/* put(REL, TEXT): write a file below the group's ROOT (fails the test when
 * it cannot), its path; at(S): S with ROOT shown as "@". For a group with
 * DRAY_TEST_ROOT_FIXTURE. */
#define DRAY_TEST_ROOT_FILES                                                \
  static DRAY_TEST_MAYBE_UNUSED const char *put(const char *rel, const char *text) \
  {                                                                         \
    const char *path = dray_test_put(root, rel, text);                      \
    assert_non_null(path);                                                  \
    return path;                                                            \
  }                                                                         \
  static DRAY_TEST_MAYBE_UNUSED const char *at(const char *s)               \
  {                                                                         \
    return dray_test_shown(s, root);                                        \
  }

/* setup/teardown for a group that works in a fresh temp folder ROOT, made
 * with PREFIX in its name and removed afterwards. */
#define DRAY_TEST_ROOT_FIXTURE(prefix)                                      \
  static const char *root;                                                  \
  static int setup(void **state)                                            \
  {                                                                         \
    if (dray_test_setup(state) != 0 || !(root = dray_test_make_root(prefix, pool))) \
      return -1;                                                            \
    return 0;                                                               \
  }                                                                         \
  static int teardown(void **state)                                         \
  {                                                                         \
    dray_test_remove_tree(root, pool);                                      \
    return dray_test_teardown(state);                                       \
  }

#endif /* DRAY_TESTUTIL_H */
