/* test_plan.c — discovery, compose input, registry and tags, dependency
 * order, cycles, --only/--skip and collected errors, on temp trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <apr_env.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "dray/file.h"
#include "dray/plan.h"
#include "dray/plan_json.h"

#include "testutil.h"

DRAY_TEST_ROOT_FIXTURE("dray-test-plan") /* this test's temp folder: root */
DRAY_TEST_ROOT_FILES

static const char *abs_path(const char *rel)
{
  return apr_pstrcat(pool, root, "/", rel, NULL);
}


static void mkdir_p(const char *rel)
{
  assert_int_equal(apr_dir_make_recursive(abs_path(rel), APR_FPROT_OS_DEFAULT, pool),
                   APR_SUCCESS);
}

/* ---- options and results ------------------------------------------------- */


/* The command line's settings of the current test (opts_for resets them). */
static dray_settings_t cli;

static dray_plan_options_t opts_for(const char *path)
{
  dray_plan_options_t o;
  memset(&o, 0, sizeof(o));
  dray_settings_init(&cli);
  o.settings = &cli;
  o.paths = path ? dray_test_list(path, NULL) : dray_test_list(NULL);
  o.build_args = dray_test_list(NULL);
  o.only = dray_test_list(NULL);
  o.skip = dray_test_list(NULL);
  return o;
}

static dray_plan_t *load_ok(const dray_plan_options_t *o)
{
  dray_plan_t *plan = NULL;
  dray_error_t *err = dray_plan_load(&plan, o, pool, pool);
  int i;
  if (err) {
    dray_error_print(err, "unexpected: ");
    dray_error_clear(err);
    fail();
  }
  for (i = 0; i < plan->images->nelts; i++)
    assert_int_equal(APR_ARRAY_IDX(plan->images, i, dray_image_t *)->index, i);
  return plan;
}

/* All links, one per line, ROOT shown as "@"; *LINKS gets their number. */
static const char *load_bad(const dray_plan_options_t *o, int *links)
{
  dray_plan_t *plan = NULL;
  dray_error_t *err = dray_plan_load(&plan, o, pool, pool), *e;
  const char *out = "";
  int n = 0;

  assert_non_null(err);
  assert_null(plan); /* nothing half-returned */
  for (e = err; e; e = e->child, n++) {
    const char *m = e->message, *hit;
    assert_int_equal(e->apr_err, DRAY_ERR_INPUT);
    while ((hit = strstr(m, root)) != NULL) {
      out = apr_pstrcat(pool, out, apr_pstrmemdup(pool, m, (apr_size_t)(hit - m)), "@", NULL);
      m = hit + strlen(root);
    }
    out = apr_pstrcat(pool, out, m, "\n", NULL);
  }
  dray_error_clear(err);
  if (links)
    *links = n;
  return out;
}

static dray_image_t *img(const dray_plan_t *plan, int i)
{
  assert_true(i < plan->images->nelts);
  return APR_ARRAY_IDX(plan->images, i, dray_image_t *);
}

/* "name[deps] name[deps] …" for the whole plan. */
static const char *summary(const dray_plan_t *plan)
{
  const char *out = "";
  int i, k;
  for (i = 0; i < plan->images->nelts; i++) {
    const dray_image_t *im = img(plan, i);
    out = apr_pstrcat(pool, out, i ? " " : "", im->name, "[", NULL);
    for (k = 0; k < im->deps->nelts; k++)
      out = apr_psprintf(pool, "%s%s%d", out, k ? "," : "", APR_ARRAY_IDX(im->deps, k, int));
    out = apr_pstrcat(pool, out, "]", NULL);
  }
  return out;
}

static const char *joined(const apr_array_header_t *a)
{
  const char *out = "";
  int i;
  for (i = 0; i < a->nelts; i++)
    out = apr_pstrcat(pool, out, i ? " " : "", APR_ARRAY_IDX(a, i, const char *), NULL);
  return out;
}

/* ---- discovery ----------------------------------------------------------- */

static void test_discovery(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  dray_plan_t *plan;
  dray_image_t *im;
  (void)state;

  put("tree/Web/Dockerfile", "FROM busybox\n");
  put("tree/services/api/Dockerfile", "FROM busybox\n");
  put("tree/services/api/sub/Containerfile", "FROM busybox\n");
  put("tree/services/api/.git/x/Dockerfile", "FROM busybox\n");
  put("tree/.hidden/Dockerfile", "FROM busybox\n");
  put("tree/worker/Containerfile", "FROM busybox\n");
  put("tree/both/Dockerfile", "FROM busybox\n");
  put("tree/both/Containerfile", "FROM busybox\n");
  put("tree/notes/README", "no image here\n");
  put("tree/file-named-dir/Dockerfile/x", "a folder called Dockerfile is no Dockerfile\n");
  mkdir_p("tree/empty");

  o.paths = dray_test_list(abs_path("tree"), NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "both[] services/api[] services/api/sub[] web[] worker[]");
  /* Nothing set anywhere: the defaults are in force. */
  assert_int_equal(plan->settings.retries, 2);
  assert_int_equal(plan->settings.pushers, DRAY_SETTING_AUTO);
  assert_int_equal(plan->settings.pushers_max, 8);
  assert_null(plan->settings.registry);

  im = img(plan, 0);
  assert_string_equal(im->dockerfile, abs_path("tree/both/Dockerfile"));
  im = img(plan, 2);
  assert_string_equal(im->repository, "services/api/sub");
  assert_string_equal(im->context_dir, abs_path("tree/services/api/sub"));
  assert_string_equal(im->dockerfile, abs_path("tree/services/api/sub/Containerfile"));
  assert_string_equal(im->origin, abs_path("tree/services/api/sub"));
  assert_null(im->target);
  assert_string_equal(joined(im->tags), "latest");
  assert_int_equal(im->build_args->nelts, 0);
  im = img(plan, 3);
  assert_string_equal(im->name, "web"); /* lower-cased */
  assert_string_equal(im->context_dir, abs_path("tree/Web"));
  assert_string_equal(im->origin, abs_path("tree/Web"));
  assert_string_equal(dray_image_ref(im, "latest", pool), "web:latest");

  /* A PATH that is an image itself is named after its folder; its
   * subfolders are searched too. A trailing "/" changes nothing. */
  put("App/Dockerfile", "FROM busybox\n");
  put("App/Sub/Dockerfile", "FROM busybox\n");
  o.paths = dray_test_list(apr_pstrcat(pool, abs_path("App"), "/", NULL), NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "app[] app/sub[]");
  assert_string_equal(img(plan, 1)->origin, abs_path("App/Sub"));

  /* Several PATHs, in the order given. */
  o.paths = dray_test_list(abs_path("App"), abs_path("tree/services"), NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "app[] app/sub[] api[] api/sub[]");
}

static void test_discovery_errors(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  const char *m;
  int links;
  (void)state;

  put("bad/my app/Dockerfile", "FROM busybox\n");
  put("bad/a..b/Dockerfile", "FROM busybox\n");
  put("bad/my.registry/x/Dockerfile", "FROM busybox\n");
  put("bad/ok/Dockerfile", "FROM busybox\n");
  put("bad/nofrom/Dockerfile", "# nothing\nRUN true\n");
  mkdir_p("nothing/here");
  put("afile", "x");

  o.paths = dray_test_list(abs_path("bad"), abs_path("missing"), abs_path("nothing"), abs_path("afile"),
                 NULL);
  m = load_bad(&o, &links);
  assert_string_equal(
      m,
      "@/bad/a..b: image name \"a..b\" is not a valid repository path: invalid path component "
      "\"a..b\" (allowed: a-z, 0-9, separated by \".\", \"_\", \"__\" or \"-\")\n"
      "@/bad/my app: image name \"my app\" is not a valid repository path: invalid path "
      "component \"my app\" (allowed: a-z, 0-9, separated by \".\", \"_\", \"__\" or \"-\")\n"
      "@/missing: no such folder\n"
      "@/nothing: no Dockerfile or Containerfile in or below it\n"
      "@/afile: not a folder\n"
      "@/bad/my.registry/x: \"my.registry/x\" would be read as registry \"my.registry\"; rename "
      "the folder or use --registry\n"
      "@/bad/nofrom/Dockerfile:2: RUN before the first FROM (only ARG may come before it)\n");
  assert_int_equal(links, 7);

  /* With a registry the same folder is fine. */
  put("reg/my.registry/x/Dockerfile", "FROM busybox\n");
  o.paths = dray_test_list(abs_path("reg"), NULL);
  cli.registry = "localhost:5000";
  assert_string_equal(img(load_ok(&o), 0)->repository, "localhost:5000/my.registry/x");
}

/* ---- registry, tags, compose --------------------------------------------- */

static void test_registry_and_tags(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  dray_plan_t *plan;
  const char *m;
  int links;
  (void)state;

  put("r/web/Dockerfile", "FROM busybox\n");
  o.paths = dray_test_list(abs_path("r"), NULL);
  cli.registry = "localhost:5000/ns/";
  cli.tags = dray_test_list("v1", "latest", "v1", NULL);
  o.build_args = dray_test_list("A=1", "B", NULL);
  plan = load_ok(&o);
  assert_string_equal(img(plan, 0)->repository, "localhost:5000/ns/web");
  assert_string_equal(joined(img(plan, 0)->tags), "v1 latest"); /* duplicates dropped */
  assert_string_equal(dray_image_ref(img(plan, 0), "v1", pool), "localhost:5000/ns/web:v1");
  assert_string_equal(joined(img(plan, 0)->build_args), "A=1 B");

  cli.registry = "localhost:5000/NS";
  cli.tags = dray_test_list("ok", ".bad", "a:b", NULL);
  o.build_args = dray_test_list("=x", NULL);
  m = load_bad(&o, &links);
  assert_string_equal(
      m,
      "--registry localhost:5000/NS: invalid registry \"localhost:5000/NS\": repository name "
      "must be lowercase\n"
      "--tag .bad: invalid tag (allowed: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or "
      "-)\n"
      "--tag a:b: invalid tag (allowed: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or "
      "-)\n"
      "--build-arg \"=x\": want NAME=VALUE or NAME\n");
  assert_int_equal(links, 4);
}

static void test_compose(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  dray_plan_t *plan;
  dray_image_t *im;
  (void)state;

  put("c/web/Dockerfile", "FROM busybox\n");
  put("c/api/Dockerfile", "FROM busybox\n");
  put("c/tool/build.Dockerfile", "ARG A\nFROM tool-base-${A}\n");
  put("c/compose.yaml", "x-dray:\n"
                        "  registry: reg.example.com:5000\n"
                        "  tags: [x1, x2]\n"
                        "  builders: 3\n"
                        "services:\n"
                        "  web:\n"
                        "    build: ./web\n"
                        "    image: web:1.2\n"
                        "  api:\n"
                        "    build: {context: api}\n"
                        "    image: docker.io/me/api\n"
                        "  db:\n"
                        "    image: postgres:16\n"
                        "  tool:\n"
                        "    build:\n"
                        "      context: tool\n"
                        "      dockerfile: build.Dockerfile\n"
                        "      target: ''\n"
                        "      args: {A: file, B: file}\n");
  o.paths = dray_test_list(NULL);
  o.compose_file = abs_path("c/compose.yaml");
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "web[] api[] tool[]");
  assert_int_equal(plan->settings.builders, 3);
  assert_string_equal(plan->settings.registry, "reg.example.com:5000");

  im = img(plan, 0);
  assert_string_equal(im->repository, "reg.example.com:5000/web"); /* no domain: prefixed */
  assert_string_equal(joined(im->tags), "1.2 x1 x2"); /* image: tag, then the tags given */
  assert_string_equal(im->origin, apr_pstrcat(pool, abs_path("c/compose.yaml"), ":6", NULL));
  im = img(plan, 1);
  assert_string_equal(im->repository, "docker.io/me/api"); /* has a domain: kept */
  assert_string_equal(joined(im->tags), "x1 x2");          /* x-dray tags */
  im = img(plan, 2);
  assert_string_equal(im->repository, "reg.example.com:5000/c-tool"); /* <project>-<service> */
  assert_string_equal(im->dockerfile, abs_path("c/tool/build.Dockerfile"));
  assert_string_equal(joined(im->build_args), "A=file B=file");

  /* The command line wins: registry, tags, build args by name. */
  cli.registry = "localhost:5000";
  cli.tags = dray_test_list("cli", NULL);
  o.build_args = dray_test_list("A=cli", NULL);
  plan = load_ok(&o);
  assert_string_equal(img(plan, 0)->repository, "localhost:5000/web");
  assert_string_equal(joined(img(plan, 0)->tags), "1.2 cli"); /* -t adds to image:'s tag */
  assert_string_equal(joined(img(plan, 1)->tags), "cli");
  assert_string_equal(joined(img(plan, 2)->build_args), "A=cli B=file");

  /* Folders and a compose file together: folders first. */
  put("f/zeta/Dockerfile", "FROM busybox\n");
  o.paths = dray_test_list(abs_path("f"), NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "zeta[] web[] api[] tool[]");
}

/* ---- order --------------------------------------------------------------- */

/* Tags and repositories: -t adds to every image, image:'s tag included;
 * build.tags add whole references; services may share a repository; two
 * identical services are built once under all their references; two
 * different ones claiming one reference are refused, naming both. */
static void test_tags_and_repositories(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  dray_plan_t *plan;
  const char *m;
  int links;
  (void)state;

  put("t/app/Dockerfile", "FROM busybox\n");
  put("t/base/Dockerfile", "FROM scratch\n");
  put("t/child/Dockerfile", "FROM localhost:5000/base:v1\n");
  put("t/compose.yaml", "services:\n"
                        "  app:\n"
                        "    image: localhost:5000/app:1.0\n"
                        "    build:\n"
                        "      context: app\n"
                        "      tags: [\"localhost:5000/mirror/app:m1\", \"localhost:5000/app:extra\"]\n"
                        "  app-debug:\n"
                        "    image: localhost:5000/app:debug\n"
                        "    build: {context: app, args: {DEBUG: 1}}\n"
                        "  same:\n"
                        "    image: localhost:5000/same:s\n"
                        "    build: {context: app, tags: [\"localhost:5000/app:extra\"]}\n"
                        "  base1:\n"
                        "    image: localhost:5000/base:v1\n"
                        "    build: base\n"
                        "  base2:\n"
                        "    image: localhost:5000/base:v2\n"
                        "    build: {context: base, args: {V: 2}}\n"
                        "  child:\n"
                        "    image: localhost:5000/child\n"
                        "    build: child\n");
  o.compose_file = abs_path("t/compose.yaml");
  plan = load_ok(&o);
  /* "same" builds what "app" builds: one image, pushed under both */
  assert_string_equal(summary(plan), "app[] app-debug[] base1[] base2[] child[2]");
  assert_string_equal(joined(img(plan, 0)->tags),
                      "1.0 localhost:5000/mirror/app:m1 extra localhost:5000/same:s");
  assert_string_equal(dray_image_ref(img(plan, 0), "localhost:5000/same:s", pool),
                      "localhost:5000/same:s");
  assert_string_equal(dray_image_ref(img(plan, 0), "extra", pool), "localhost:5000/app:extra");
  assert_string_equal(joined(img(plan, 1)->tags), "debug"); /* same repository, own tag */
  assert_string_equal(joined(img(plan, 4)->tags), "latest"); /* none: the default */
  assert_string_equal(img(plan, 4)->base_image->name, "base1"); /* FROM base:v1, not v2 */
  assert_int_equal(plan->warnings->nelts, 0);
  assert_null(plan->nothing_to_build);

  /* -t adds to every image, image:'s tag or not */
  put("t/two.yaml", "services:\n"
                    "  app:\n"
                    "    image: localhost:5000/app:1.0\n"
                    "    build: {context: app, tags: [\"localhost:5000/app:1.0\"]}\n"
                    "  child:\n"
                    "    image: localhost:5000/child\n"
                    "    build: child\n");
  o.compose_file = abs_path("t/two.yaml");
  cli.tags = dray_test_list("ci", NULL);
  cli.source[DRAY_SETTING_TAGS] = DRAY_SOURCE_FLAG;
  plan = load_ok(&o);
  assert_string_equal(joined(img(plan, 0)->tags), "1.0 ci"); /* build.tags' repeat: once */
  assert_string_equal(joined(img(plan, 1)->tags), "ci");

  /* ... so two images of one repository cannot both take -t's tag */
  o.compose_file = abs_path("t/compose.yaml");
  m = load_bad(&o, &links);
  assert_int_equal(links, 2);
  assert_string_equal(m, "@/t/compose.yaml:7: app-debug and app (@/t/compose.yaml:2, "
                         "@/t/compose.yaml:10 (service \"same\", built the same)) build "
                         "different images under one reference, \"localhost:5000/app:ci\"\n"
                         "@/t/compose.yaml:16: base2 and base1 (@/t/compose.yaml:13) build "
                         "different images under one reference, \"localhost:5000/base:ci\"\n");
  o = opts_for(NULL);

  /* One reference, two different builds: refused, naming both */
  put("t/conflict.yaml", "services:\n"
                         "  a:\n"
                         "    image: localhost:5000/x:1\n"
                         "    build: app\n"
                         "  b:\n"
                         "    build: {context: base, tags: [\"localhost:5000/x:1\"]}\n");
  o.compose_file = abs_path("t/conflict.yaml");
  m = load_bad(&o, &links);
  assert_int_equal(links, 1);
  assert_string_equal(m, "@/t/conflict.yaml:5: b and a (@/t/conflict.yaml:2) build different "
                         "images under one reference, \"localhost:5000/x:1\"\n");

  /* No registry anywhere: pushed to Docker Hub, which the plan says */
  put("t/hub.yaml", "services:\n  a:\n    build: app\n  b:\n    image: me/b:1\n    build: base\n"
                    "  c:\n    image: quay.io/me/c\n    build: base\n");
  o.compose_file = abs_path("t/hub.yaml");
  plan = load_ok(&o);
  assert_int_equal(plan->warnings->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(plan->warnings, 0, const char *),
                      "image a has no registry: it will be pushed to docker.io");
  assert_string_equal(APR_ARRAY_IDX(plan->warnings, 1, const char *),
                      "image b has no registry: it will be pushed to docker.io");

  /* Nothing to build: no error, and the plan says why */
  put("t/pull-only.yaml", "services:\n  db:\n    image: postgres:16\n");
  o.compose_file = abs_path("t/pull-only.yaml");
  plan = load_ok(&o);
  assert_int_equal(plan->images->nelts, 0);
  assert_string_equal(plan->nothing_to_build, "no service has build:");
}

/* plan --format json: the documented fields, in build order. */
static void test_plan_json(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  dray_build_options_t bo;
  dray_plan_t *plan;
  json_t *doc, *im, *cmds;
  char *text;
  (void)state;

  put("j/base/Dockerfile", "FROM scratch\n");
  put("j/app/Dockerfile", "FROM localhost:5000/base AS build\nFROM build AS prod\n");
  put("j/compose.yaml", "services:\n"
                        "  app:\n"
                        "    image: localhost:5000/app:1\n"
                        "    build:\n"
                        "      context: app\n"
                        "      target: prod\n"
                        "      args: {A: 1}\n"
                        "      platforms: [linux/arm64]\n"
                        "      cache_to: [type=inline]\n"
                        "  base:\n"
                        "    image: localhost:5000/base\n"
                        "    build: base\n");
  o.compose_file = abs_path("j/compose.yaml");
  o.builder = DRAY_BUILDER_BUILDX;
  plan = load_ok(&o);
  memset(&bo, 0, sizeof(bo));
  bo.engine_cmd = "docker";
  bo.builder = plan->builder;
  doc = dray_plan_json(plan, &bo, pool);
  assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
  assert_string_equal(json_string_value(json_object_get(doc, "builder")), "docker buildx build");
  assert_int_equal(json_array_size(json_object_get(doc, "images")), 2);
  im = json_array_get(json_object_get(doc, "images"), 1);
  assert_string_equal(json_string_value(json_object_get(im, "name")), "app");
  assert_string_equal(json_string_value(json_array_get(json_object_get(im, "references"), 0)),
                      "localhost:5000/app:1");
  assert_string_equal(json_string_value(json_object_get(im, "target")), "prod");
  assert_string_equal(json_string_value(json_array_get(json_object_get(im, "args"), 0)), "A=1");
  assert_string_equal(json_string_value(json_array_get(json_object_get(im, "platforms"), 0)),
                      "linux/arm64");
  assert_string_equal(json_string_value(json_array_get(json_object_get(im, "after"), 0)), "base");
  assert_string_equal(dray_test_shown(json_string_value(json_object_get(im, "context")), root),
                      "@/j/app");
  text = json_dumps(json_object_get(im, "build_command"), JSON_COMPACT);
  assert_non_null(strstr(text, "\"docker\",\"buildx\",\"build\",\"--load\""));
  assert_non_null(strstr(text, "\"--cache-to\",\"type=inline\""));
  free(text);
  cmds = json_object_get(im, "build_commands");
  assert_true(json_is_null(json_object_get(cmds, "docker build"))); /* it refuses cache_to */
  assert_true(json_is_array(json_object_get(cmds, "podman build")));
  assert_string_equal(json_string_value(json_array_get(json_object_get(cmds, "podman build"), 0)),
                      "podman");
  json_decref(doc);
}

/* --platform with several: every image a manifest list; the JSON says which
 * builders can make one. */
static void test_plan_json_several_platforms(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  dray_build_options_t bo;
  json_t *doc, *im, *cmds;
  char *text;
  (void)state;

  put("m/app/Dockerfile", "FROM scratch\n");
  o.paths = dray_test_list(abs_path("m"), NULL);
  dray_test_no_error(dray_settings_set(&cli, DRAY_SETTING_PLATFORM, "linux/amd64,linux/arm64",
                                       DRAY_SOURCE_FLAG, "--platform", pool));
  o.builder = DRAY_BUILDER_PODMAN;
  memset(&bo, 0, sizeof(bo));
  bo.engine_cmd = "podman";
  bo.builder = DRAY_BUILDER_PODMAN;
  bo.platform = "linux/amd64,linux/arm64";
  doc = dray_plan_json(load_ok(&o), &bo, pool);
  im = json_array_get(json_object_get(doc, "images"), 0);
  assert_int_equal(json_array_size(json_object_get(im, "platforms")), 2);
  text = json_dumps(json_object_get(im, "build_command"), JSON_COMPACT);
  assert_non_null(strstr(text, "\"--manifest\",\"app:latest\""));
  assert_non_null(strstr(text, "\"--platform\",\"linux/amd64,linux/arm64\""));
  assert_null(strstr(text, "--tag"));
  free(text);
  cmds = json_object_get(im, "build_commands");
  assert_true(json_is_null(json_object_get(cmds, "docker build")));
  assert_true(json_is_array(json_object_get(cmds, "docker buildx build")));
  json_decref(doc);
}

static void test_chain_order(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  dray_plan_t *plan;
  (void)state;

  /* a <- b <- c (a is built FROM b, …); d is independent. */
  put("o/a/Dockerfile", "FROM b AS build\nFROM busybox\nCOPY --from=build / /\n");
  put("o/b/Dockerfile", "ARG BASE=c\nFROM ${BASE}:latest\n");
  put("o/c/Dockerfile", "FROM docker.io/library/busybox@sha256:"
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n");
  put("o/d/Dockerfile", "FROM docker.io/library/c:v9\n"); /* a tag this run does not build */
  o.paths = dray_test_list(abs_path("o"), NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "c[] b[0] a[1] d[]");
  /* Each image's base: the last FROM of what is built. a ends FROM busybox
   * (b only lends it files), b starts FROM c, an image of this run. */
  assert_string_equal(img(plan, 2)->base, "docker.io/library/busybox");
  assert_null(img(plan, 2)->base_image);
  assert_string_equal(img(plan, 1)->base, "docker.io/library/c");
  assert_ptr_equal(img(plan, 1)->base_image, img(plan, 0));
  assert_string_equal(img(plan, 0)->base, "docker.io/library/busybox");
  assert_string_equal(img(plan, 3)->base, "docker.io/library/c");
  assert_null(img(plan, 3)->base_image); /* c:v9 is not built here, but same family */

  /* A build arg changes what b is built from: now d, and c is free. */
  o.build_args = dray_test_list("BASE=d", NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "c[] d[] b[1] a[2]");
  o.build_args = dray_test_list(NULL);

  /* The familiar form matches; with a registry only the full name does. */
  put("o/d/Dockerfile", "FROM docker.io/library/c:latest\n");
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "c[] b[0] a[1] d[0]");
  cli.registry = "localhost:5000";
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "a[] b[] c[] d[]");
  put("o/a/Dockerfile", "FROM localhost:5000/b:latest\n");
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "b[] a[0] c[] d[]");

  /* An image FROM its own name means the published one. */
  put("self/node/Dockerfile", "FROM node\n");
  cli.registry = NULL;
  o.paths = dray_test_list(abs_path("self"), NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "node[]");
}

static void test_diamond_and_target(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  dray_plan_t *plan;
  (void)state;

  put("dm/a-top/Dockerfile", "FROM b-left\nCOPY --from=c-right:latest /x /y\n");
  put("dm/b-left/Dockerfile", "FROM d-base\n");
  put("dm/c-right/Dockerfile", "FROM d-base AS one\nFROM one\n");
  put("dm/d-base/Dockerfile", "FROM scratch\nCOPY x /\n");
  put("dm/e-free/Dockerfile", "FROM busybox\n");
  o.paths = dray_test_list(abs_path("dm"), NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "d-base[] b-left[0] c-right[0] a-top[1,2] e-free[]");

  /* Only the stages a target needs count (BuildKit skips the others). */
  put("t/compose.yaml", "services:\n"
                        "  app:\n"
                        "    build: {context: app, target: dev}\n"
                        "  x: {build: x}\n"
                        "  y: {build: y}\n");
  /* without image:, compose names them "<project>-<service>": t-x, t-y */
  put("t/app/Dockerfile", "FROM t-x AS dev\nFROM t-y AS prod\n");
  put("t/x/Dockerfile", "FROM busybox\n");
  put("t/y/Dockerfile", "FROM busybox\n");
  o.paths = dray_test_list(NULL);
  o.compose_file = abs_path("t/compose.yaml");
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "x[] app[0] y[]");
  assert_string_equal(img(plan, 1)->target, "dev");
}

static void test_cycles(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  const char *m;
  int links;
  (void)state;

  put("cy/a/Dockerfile", "FROM b\n");
  put("cy/b/Dockerfile", "# comment\nFROM busybox\nCOPY --from=a / /\n");
  put("cy/c/Dockerfile", "FROM a\n"); /* depends on the cycle, is not in it */
  put("cy/d/Dockerfile", "FROM f\n");
  put("cy/e/Dockerfile", "FROM d\n");
  put("cy/f/Dockerfile", "FROM e\n");
  o.paths = dray_test_list(abs_path("cy"), NULL);
  m = load_bad(&o, &links);
  assert_string_equal(m,
                      "@/cy/a: cycle: a -> b -> a (@/cy/a/Dockerfile:1: FROM b; "
                      "@/cy/b/Dockerfile:3: COPY --from a)\n"
                      "@/cy/d: cycle: d -> f -> e -> d (@/cy/d/Dockerfile:1: FROM f; "
                      "@/cy/f/Dockerfile:1: FROM e; @/cy/e/Dockerfile:1: FROM d)\n");
  assert_int_equal(links, 2);

  /* Skipping one image of a cycle breaks it. */
  o.skip = dray_test_list("b", "f", NULL);
  assert_string_equal(summary(load_ok(&o)), "a[] c[0] d[] e[2]");
}

static void test_only_skip(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  dray_plan_t *plan;
  const char *m;
  (void)state;

  put("os/a/Dockerfile", "FROM b\n");
  put("os/b/Dockerfile", "FROM c\n");
  put("os/c/Dockerfile", "FROM busybox\n");
  put("os/lib/x/Dockerfile", "FROM busybox\n");
  put("os/lib/y/Dockerfile", "FROM busybox\n");
  o.paths = dray_test_list(abs_path("os"), NULL);

  o.only = dray_test_list("a", NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "a[]"); /* the edge to b is dropped */

  o.only = dray_test_list("lib/*", "b", NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "b[] lib/x[] lib/y[]");

  o.only = dray_test_list(NULL);
  o.skip = dray_test_list("c", "*/y", NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "b[] a[0] lib/x[]");

  /* Patterns match the repository too. */
  o.skip = dray_test_list(NULL);
  cli.registry = "localhost:5000/team";
  o.only = dray_test_list("localhost:5000/team/lib/?", NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "lib/x[] lib/y[]");

  /* A filtered-out image's broken Dockerfile does not matter. */
  put("os/c/Dockerfile", "RUN nothing\n");
  o.only = dray_test_list("a", "b", NULL);
  plan = load_ok(&o);
  assert_string_equal(summary(plan), "a[] b[]");

  o.only = dray_test_list("a", "nomatch*", NULL);
  m = load_bad(&o, NULL);
  assert_string_equal(m, "--only nomatch*: matches no image\n");
}

/* ---- everything wrong at once -------------------------------------------- */

static void test_problems_together(void **state)
{
  dray_plan_options_t o = opts_for(NULL);
  const char *m;
  int links;
  (void)state;

  put("p/web/Dockerfile", "FROM busybox\n");
  put("p/bad/Dockerfile", "FROM Busybox\nFROM ${NOPE}\n");
  put("p/compose.yaml", "services:\n"                        /* 1 */
                        "  web:\n"                           /* 2 */
                        "    build: web\n"                   /* 3 */
                        "  nocontext:\n"                     /* 4 */
                        "    build: ./missing\n"             /* 5 */
                        "  nodockerfile:\n"                  /* 6 */
                        "    build: {context: ., dockerfile: Nope.Dockerfile}\n"
                        "  Upper:\n"                         /* 8 */
                        "    build: web\n"                   /* 9 */
                        "  digest:\n"                        /* 10 */
                        "    build: web\n"                   /* 11 */
                        "    image: x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0"
                        "123456789abcdef\n"                  /* 12 */
                        "  other:\n"                         /* 13 */
                        "    build: web\n"                   /* 14 */
                        "    image: web\n"                   /* 15 */
                        "  target:\n"                        /* 16 */
                        "    build: {context: web, target: nope}\n");
  o.paths = dray_test_list(abs_path("p"), NULL);
  o.compose_file = abs_path("p/compose.yaml");
  cli.tags = dray_test_list("-bad", NULL);
  m = load_bad(&o, &links);
  assert_string_equal(
      m,
      "--tag -bad: invalid tag (allowed: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or "
      "-)\n"
      "@/p/compose.yaml:8: service \"Upper\": image: invalid reference \"p-Upper\": repository "
      "name must be lowercase\n"
      "@/p/compose.yaml:12: service \"digest\": image: \"x@sha256:0123456789abcdef0123456789abcdef"
      "0123456789abcdef0123456789abcdef\" has a digest; an image to build needs a tag\n"
      "@/p/compose.yaml:2: image name \"web\" is also used by @/p/web\n"
      "@/p/bad/Dockerfile:1: FROM: invalid reference \"Busybox\": repository name must be "
      "lowercase\n"
      "@/p/bad/Dockerfile:2: FROM: base name (${NOPE}) should not be blank\n"
      "@/p/compose.yaml:4: service \"nocontext\": build context @/p/missing is not a folder or "
      "does not exist\n"
      "@/p/compose.yaml:6: service \"nodockerfile\": Dockerfile @/p/Nope.Dockerfile does not "
      "exist\n"
      "@/p/web/Dockerfile: target stage \"nope\" not found\n");
  /* "other" (image: web) with no valid tag claims no reference of p/web's */
  assert_int_equal(links, 9);

  /* A compose syntax error comes with everything else too. */
  put("p/broken.yaml", "services:\n  a: [\n");
  o.compose_file = abs_path("p/broken.yaml");
  cli.tags = dray_test_list(NULL);
  m = load_bad(&o, &links);
  assert_string_equal(m, "@/p/broken.yaml:3:1: YAML syntax error: did not find expected node "
                         "content (while parsing a flow node at line 3, column 1)\n"
                         "@/p/bad/Dockerfile:1: FROM: invalid reference \"Busybox\": repository "
                         "name must be lowercase\n"
                         "@/p/bad/Dockerfile:2: FROM: base name (${NOPE}) should not be blank\n");
}

/* The path predicates the plan and the compose loader use. */
static void test_file_predicates(void **state)
{
  const char *file = put("pred/Dockerfile", "FROM x\n");
  const char *dir = abs_path("pred");
  (void)state;

  assert_true(dray_file_is_regular(file, pool));
  assert_false(dray_file_is_regular(dir, pool));
  assert_false(dray_file_is_regular(abs_path("pred/missing"), pool));
  assert_false(dray_file_is_regular(abs_path("pred/Dockerfile/below"), pool)); /* not a folder */
  assert_true(dray_file_is_dir(dir, pool));
  assert_false(dray_file_is_dir(file, pool));
  assert_false(dray_file_is_dir(abs_path("pred/missing"), pool));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
    cmocka_unit_test_setup_teardown(test_discovery_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_registry_and_tags, setup, teardown),
    cmocka_unit_test_setup_teardown(test_compose, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tags_and_repositories, setup, teardown),
    cmocka_unit_test_setup_teardown(test_plan_json, setup, teardown),
    cmocka_unit_test_setup_teardown(test_plan_json_several_platforms, setup, teardown),
    cmocka_unit_test_setup_teardown(test_chain_order, setup, teardown),
    cmocka_unit_test_setup_teardown(test_diamond_and_target, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cycles, setup, teardown),
    cmocka_unit_test_setup_teardown(test_only_skip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_problems_together, setup, teardown),
    cmocka_unit_test_setup_teardown(test_file_predicates, setup, teardown),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  apr_terminate();
  return rc;
}
