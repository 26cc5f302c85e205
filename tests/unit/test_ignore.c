/* test_ignore.c — .drayignore rules (gitignore syntax) and the folders
 * discovery skips by default; discovery with them through the plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <apr_strings.h>

#include "dray/ignore.h"
#include "dray/plan.h"

#include "testutil.h"

DRAY_TEST_ROOT_FIXTURE("dray-test-ignore")
DRAY_TEST_ROOT_FILES

static int dir_ignored(const dray_ignore_t *ig, const char *rel)
{
  return dray_ignore_match(ig, rel, 1, pool);
}

static void test_defaults(void **state)
{
  dray_ignore_t *ig = dray_ignore_parse(NULL, pool);
  (void)state;
  assert_true(dir_ignored(ig, "node_modules"));
  assert_true(dir_ignored(ig, "web/node_modules"));
  assert_true(dir_ignored(ig, "go/vendor"));
  assert_false(dir_ignored(ig, "vendors"));
  assert_false(dir_ignored(ig, "web"));
  assert_false(dray_ignore_match(ig, "vendor", 0, pool)); /* folders only */
  /* re-included by the file */
  ig = dray_ignore_parse("!vendor/\n", pool);
  assert_false(dir_ignored(ig, "go/vendor"));
  assert_true(dir_ignored(ig, "node_modules"));
}

static void test_gitignore_syntax(void **state)
{
  dray_ignore_t *ig = dray_ignore_parse("# a comment\n"
                                        "\n"
                                        "build\n"            /* a name at any depth */
                                        "/docs\n"            /* at the root only */
                                        "services/*/old/\n"  /* relative to the root */
                                        "**/tmp-*\n"         /* any depth */
                                        "a/**/z\n"           /* any folders between */
                                        "legacy*\n"
                                        "!legacy-keep\n"     /* the last match decides */
                                        "\\#hash\n"
                                        "trailing   \n",
                                        pool);
  (void)state;
  assert_true(dir_ignored(ig, "build"));
  assert_true(dir_ignored(ig, "x/y/build"));
  assert_false(dir_ignored(ig, "builder"));
  assert_true(dir_ignored(ig, "docs"));
  assert_false(dir_ignored(ig, "web/docs"));
  assert_true(dir_ignored(ig, "services/api/old"));
  assert_false(dir_ignored(ig, "services/api/v2/old"));
  assert_false(dir_ignored(ig, "old"));
  assert_true(dir_ignored(ig, "tmp-1"));
  assert_true(dir_ignored(ig, "x/tmp-2"));
  assert_true(dir_ignored(ig, "a/z"));
  assert_true(dir_ignored(ig, "a/b/c/z"));
  assert_false(dir_ignored(ig, "b/a/z"));
  assert_true(dir_ignored(ig, "legacy-app"));
  assert_false(dir_ignored(ig, "legacy-keep"));
  assert_true(dir_ignored(ig, "#hash"));
  assert_true(dir_ignored(ig, "trailing"));
}

/* Through discovery: .git and other dot folders, .drayignore at each PATH
 * root, node_modules and vendor unless named, Containerfile. */
static void test_discovery(void **state)
{
  dray_plan_options_t o;
  dray_settings_t cli;
  dray_plan_t *plan;
  dray_error_t *err;
  const char *names = "";
  int i;
  (void)state;

  put("mono/.git/hooks/Dockerfile", "FROM scratch\n");
  put("mono/web/Dockerfile", "FROM scratch\n");
  put("mono/web/node_modules/pkg/Dockerfile", "FROM scratch\n");
  put("mono/go/vendor/lib/Dockerfile", "FROM scratch\n");
  put("mono/tools/Containerfile", "FROM scratch\n");
  put("mono/examples/demo/Dockerfile", "FROM scratch\n");
  put("mono/services/api/Dockerfile", "FROM scratch\n");
  put("mono/services/api/testdata/Dockerfile", "FROM scratch\n");
  put("mono/.drayignore", "examples/\ntestdata\n");
  put("other/vendor/x/Dockerfile", "FROM scratch\n");

  memset(&o, 0, sizeof(o));
  dray_settings_init(&cli);
  o.settings = &cli;
  o.paths = dray_test_list(apr_pstrcat(pool, root, "/mono", NULL),
                           apr_pstrcat(pool, root, "/other/vendor", NULL), NULL);
  err = dray_plan_load(&plan, &o, pool, pool);
  dray_test_no_error(err);
  for (i = 0; i < plan->images->nelts; i++)
    names = apr_pstrcat(pool, names, i ? " " : "",
                        APR_ARRAY_IDX(plan->images, i, dray_image_t *)->name, NULL);
  /* vendor named as a PATH is walked; the .drayignore of mono is not
   * other's */
  assert_string_equal(names, "services/api tools web x");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
    cmocka_unit_test_setup_teardown(test_gitignore_syntax, setup, teardown),
    cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
  };
  DRAY_TEST_RUN(tests);
}
