/* Unit tests: the argv of "docker build" / "podman build" (dray_build_argv)
 * and podman detection (dray_engine_cmd_kind). No process is started. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "dray/build.h"
#include "dray/enginecmd.h"
#include "dray/plan.h"

#include "testutil.h"

/* An image as the plan makes it: every field set from the arguments. */
static dray_image_t *image(const char *repository, apr_array_header_t *tags,
                           apr_array_header_t *build_args, const char *target)
{
  dray_image_t *img = apr_pcalloc(pool, sizeof(*img));
  img->name = "web";
  img->repository = repository;
  img->tags = tags;
  img->context_dir = "/src/ctx dir/web";
  img->dockerfile = "/src/ctx dir/web/Dockerfile.prod";
  img->target = target;
  img->build_args = build_args;
  img->origin = "/src/ctx dir/web";
  return img;
}

static int argc_of(const char **argv)
{
  int n = 0;
  while (argv[n])
    n++;
  return n;
}

/* The whole argv as one string ("|" between arguments): order matters. */
static const char *joined(const char **argv)
{
  const char *s = "";
  int i;
  for (i = 0; argv[i]; i++)
    s = i ? apr_pstrcat(pool, s, "|", argv[i], NULL) : argv[i];
  return s;
}

/* Index of the first WHAT in ARGV, or -1. */
static int index_of(const char **argv, const char *what)
{
  int i;
  for (i = 0; argv[i]; i++)
    if (strcmp(argv[i], what) == 0)
      return i;
  return -1;
}

static void test_minimal(void **state)
{
  dray_build_options_t opts;
  const char **argv;
  (void)state;

  memset(&opts, 0, sizeof(opts));
  opts.engine_cmd = "docker";
  argv = dray_build_argv(image("localhost:5000/ns/web", dray_test_list("latest", NULL),
                               NULL, NULL), &opts, NULL, pool);
  assert_string_equal(joined(argv),
                      "docker|build|--file|/src/ctx dir/web/Dockerfile.prod"
                      "|--tag|localhost:5000/ns/web:latest|/src/ctx dir/web");
  assert_int_equal(argc_of(argv), 7);
  /* Nothing optional slipped in. */
  assert_int_equal(index_of(argv, "--no-cache"), -1);
  assert_int_equal(index_of(argv, "--iidfile"), -1);
  assert_int_equal(index_of(argv, "--target"), -1);
  assert_int_equal(index_of(argv, "--platform"), -1);
  assert_int_equal(index_of(argv, "--network"), -1);
  assert_int_equal(index_of(argv, "--build-arg"), -1);
}

static void test_everything_in_order(void **state)
{
  dray_build_options_t opts;
  const char **argv;
  (void)state;

  memset(&opts, 0, sizeof(opts));
  opts.engine_cmd = "/usr/bin/docker";
  opts.platform = "linux/arm64";
  opts.network = "none";
  opts.no_cache = 1;
  argv = dray_build_argv(
      image("reg.example/team/web", dray_test_list("latest", "1.4.2", "with space", NULL),
            dray_test_list("B=2", "A=1", "EMPTY=", "NAME_ONLY", NULL), "prod"),
      &opts, "/tmp/iid file", pool);
  assert_string_equal(joined(argv),
                      "/usr/bin/docker|build|--file|/src/ctx dir/web/Dockerfile.prod"
                      "|--tag|reg.example/team/web:latest"
                      "|--tag|reg.example/team/web:1.4.2"
                      "|--tag|reg.example/team/web:with space"
                      /* build args exactly as given, in the plan's order (the
                       * command line's first): never sorted or merged */
                      "|--build-arg|B=2|--build-arg|A=1|--build-arg|EMPTY=|--build-arg|NAME_ONLY"
                      "|--target|prod|--platform|linux/arm64|--network|none|--no-cache"
                      "|--iidfile|/tmp/iid file"
                      "|/src/ctx dir/web");
  /* The context is the last argument, whatever comes before it. */
  assert_string_equal(argv[argc_of(argv) - 1], "/src/ctx dir/web");
}

static void test_each_option_alone(void **state)
{
  dray_image_t *img = image("r/web", dray_test_list("v1", NULL), NULL, NULL);
  dray_build_options_t opts;
  const char **argv;
  int i;
  (void)state;

  memset(&opts, 0, sizeof(opts));
  opts.engine_cmd = "podman";
  opts.network = "host";
  argv = dray_build_argv(img, &opts, NULL, pool);
  assert_string_equal(argv[0], "podman");
  assert_string_equal(argv[1], "build");
  i = index_of(argv, "--network");
  assert_true(i > 0);
  assert_string_equal(argv[i + 1], "host");
  assert_int_equal(index_of(argv, "--platform"), -1);
  assert_int_equal(argc_of(argv), 9);
  assert_string_equal(argv[8], "/src/ctx dir/web");

  memset(&opts, 0, sizeof(opts));
  opts.engine_cmd = "docker";
  opts.platform = "linux/amd64";
  argv = dray_build_argv(img, &opts, "iid", pool);
  i = index_of(argv, "--platform");
  assert_true(i > 0);
  assert_string_equal(argv[i + 1], "linux/amd64");
  i = index_of(argv, "--iidfile");
  assert_true(i > 0);
  assert_string_equal(argv[i + 1], "iid");
  assert_int_equal(index_of(argv, "--network"), -1);
  assert_int_equal(index_of(argv, "--no-cache"), -1);
  assert_string_equal(argv[argc_of(argv) - 1], "/src/ctx dir/web");

  /* An empty build-arg list is the same as none. */
  img->build_args = apr_array_make(pool, 1, sizeof(const char *));
  img->target = "base";
  argv = dray_build_argv(img, &opts, NULL, pool);
  assert_int_equal(index_of(argv, "--build-arg"), -1);
  i = index_of(argv, "--target");
  assert_true(i > 0);
  assert_string_equal(argv[i + 1], "base");
  assert_true(i > index_of(argv, "--tag"));
}

/* Several platforms: podman builds one manifest list named as the first
 * reference (--manifest, no --tag); buildx tags the list it loads. */
static void test_manifest_list(void **state)
{
  dray_image_t *img = image("r.test/web", dray_test_list("1", "r.test/more:2", NULL), NULL,
                            NULL);
  dray_build_options_t opts;
  (void)state;
  img->platforms = dray_test_list("linux/amd64", "linux/arm64", NULL);
  memset(&opts, 0, sizeof(opts));
  opts.engine_cmd = "podman";
  opts.builder = DRAY_BUILDER_PODMAN;
  opts.platform = "linux/s390x"; /* the image's own win */
  assert_string_equal(joined(dray_build_argv(img, &opts, "iid", pool)),
                      "podman|build|--file|/src/ctx dir/web/Dockerfile.prod"
                      "|--manifest|r.test/web:1|--platform|linux/amd64,linux/arm64"
                      "|--iidfile|iid|/src/ctx dir/web");
  opts.engine_cmd = "docker";
  opts.builder = DRAY_BUILDER_BUILDX;
  assert_string_equal(joined(dray_build_argv(img, &opts, NULL, pool)),
                      "docker|buildx|build|--load|--file|/src/ctx dir/web/Dockerfile.prod"
                      "|--tag|r.test/web:1|--tag|r.test/more:2"
                      "|--platform|linux/amd64,linux/arm64|/src/ctx dir/web");
  /* the plan's empty list: the engine's platform, whatever the options say */
  img->platforms = dray_test_list(NULL);
  assert_int_equal(index_of(dray_build_argv(img, &opts, NULL, pool), "--platform"), -1);
}

/* What "podman manifest inspect" says of the list, against what was asked. */
static void test_list_mismatch(void **state)
{
  apr_array_header_t *two = dray_test_list("linux/amd64", "linux/arm64", NULL);
  const char *both = "{\"schemaVersion\": 2, \"manifests\": ["
                     "{\"digest\": \"sha256:a\", \"platform\": {\"architecture\": \"amd64\", "
                     "\"os\": \"linux\"}},"
                     "{\"digest\": \"sha256:b\", \"platform\": {\"architecture\": \"arm64\", "
                     "\"os\": \"linux\", \"variant\": \"v8\"}}]}";
  const char *one = "WARN[0000] something\n{\"manifests\": [{\"platform\": "
                    "{\"architecture\": \"arm64\", \"os\": \"linux\"}}]}";
  (void)state;
  assert_null(dray_build_list_mismatch(both, two, pool));
  assert_null(dray_build_list_mismatch(
      both, dray_test_list("linux/arm64/v8", "linux/amd64", NULL), pool));
  /* podman's cache gave one image for two platforms */
  assert_string_equal(dray_build_list_mismatch(one, two, pool),
                      "it lists linux/arm64 (1 image) for linux/amd64,linux/arm64");
  /* a list of an earlier run, added to */
  assert_string_equal(dray_build_list_mismatch(both, dray_test_list("linux/amd64", NULL), pool),
                      "it lists linux/amd64,linux/arm64/v8 (2 images) for linux/amd64");
  assert_string_equal(
      dray_build_list_mismatch(both, dray_test_list("linux/arm64/v7", "linux/amd64", NULL), pool),
      "it lists linux/amd64,linux/arm64/v8 (2 images) for linux/arm64/v7,linux/amd64");
  assert_string_equal(dray_build_list_mismatch("Error: not found", two, pool),
                      "no manifest list");
}

static int is_podman(const char *cmd)
{
  return dray_engine_cmd_kind(cmd) == DRAY_ENGINE_CMD_PODMAN;
}

static void test_is_podman(void **state)
{
  (void)state;
  assert_true(is_podman("podman"));
  assert_true(is_podman("/usr/bin/podman"));
  assert_true(is_podman("podman.exe"));
  assert_true(is_podman("C:\\Program Files\\RedHat\\Podman\\podman.exe"));
  assert_true(is_podman("C:/tools/podman.exe"));
  assert_true(is_podman("./podman"));
  assert_true(is_podman("/usr/bin/podman-remote"));

  assert_false(is_podman("docker"));
  assert_false(is_podman("/usr/bin/docker"));
  assert_false(is_podman("docker.exe"));
  /* Only the program's own name counts, not a folder on its path. */
  assert_false(is_podman("/opt/podman/bin/docker"));
  assert_false(is_podman("C:\\podman\\docker.exe"));
  assert_false(is_podman("/usr/local/bin/mypodman"));
  assert_false(is_podman("podman/"));
  assert_false(is_podman(""));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_minimal),
    cmocka_unit_test(test_everything_in_order),
    cmocka_unit_test(test_each_option_alone),
    cmocka_unit_test(test_manifest_list),
    cmocka_unit_test(test_list_mismatch),
    cmocka_unit_test(test_is_podman),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
