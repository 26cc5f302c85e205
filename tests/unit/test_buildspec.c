/* test_buildspec.c — every compose build key, read from a small compose
 * file, to the build's argv for each builder (docker build, docker buildx
 * build, podman build), or to its refusal; the refusal's message, x-dray
 * ignore and --ignore-unsupported through the plan. No process is started. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "dray/build.h"
#include "dray/buildspec.h"
#include "dray/compose.h"
#include "dray/plan.h"

#include "testutil.h"

DRAY_TEST_ROOT_FIXTURE("dray-test-buildspec")
DRAY_TEST_ROOT_FILES



/* The service "web" of a compose file whose build has the lines BUILD
 * (indented six) and whose service has the lines SERVICE (indented four). */
static dray_compose_service_t *service(const char *build, const char *service_lines)
{
  dray_compose_t *c = NULL;
  const char *text = apr_pstrcat(pool,
                                 "secrets:\n"
                                 "  s1: {file: ./s1.txt}\n"
                                 "  s2: {environment: DRAY_T_SECRET}\n"
                                 "services:\n"
                                 "  web:\n", service_lines,
                                 "    build:\n"
                                 "      context: .\n", build, NULL);
  const char *path = put("compose.yaml", text);
  dray_error_t *err = dray_compose_load(&c, path, pool, pool);
  if (err) {
    print_error("unexpected error: %s\n", dray_error_format(err, pool));
    dray_error_clear(err);
    fail();
  }
  assert_int_equal(c->services->nelts, 1);
  return APR_ARRAY_IDX(c->services, 0, dray_compose_service_t *);
}

/* What BUILDER does with the build lines BUILD: the argv between the
 * Dockerfile's tag and the context ("|" between arguments, ROOT as "@"),
 * or "refused: KEY ..." naming the keys it refuses. */
static const char *argv_of(dray_builder_t builder, const char *build, const char *service_lines)
{
  dray_compose_service_t *s = service(build, service_lines ? service_lines : "");
  dray_image_t *img = apr_pcalloc(pool, sizeof(*img));
  dray_build_options_t opts;
  apr_array_header_t *needs, *refused;
  const char **argv, *out = "";
  int i, from;

  refused = dray_buildspec_refusals(&needs, s->spec, builder, pool);
  if (refused->nelts) {
    out = "refused:";
    for (i = 0; i < refused->nelts; i++)
      out = apr_pstrcat(pool, out, " ",
                        dray_build_key_word((dray_build_key_t)APR_ARRAY_IDX(refused, i, int)),
                        NULL);
    return out;
  }
  img->name = "web";
  img->repository = "r/web";
  img->tags = dray_test_list("latest", NULL);
  img->context_dir = s->context_dir;
  img->dockerfile = s->dockerfile;
  img->target = s->target;
  img->build_args = s->build_args;
  img->spec = s->spec;
  img->platforms = s->spec->platforms; /* as the plan resolves them */
  memset(&opts, 0, sizeof(opts));
  opts.engine_cmd = builder == DRAY_BUILDER_PODMAN ? "podman" : "docker";
  opts.builder = builder;
  argv = dray_build_argv(img, &opts, "IID", pool);
  /* after "--tag r/web:latest", before "--iidfile IID CONTEXT" */
  for (from = 0; argv[from] && strcmp(argv[from], "r/web:latest") != 0; from++)
    ;
  assert_non_null(argv[from]);
  for (i = from + 1; argv[i] && strcmp(argv[i], "--iidfile") != 0; i++)
    out = apr_pstrcat(pool, out, *out ? "|" : "", argv[i], NULL);
  return at(out);
}

#define DOCKER DRAY_BUILDER_DOCKER
#define BUILDX DRAY_BUILDER_BUILDX
#define PODMAN DRAY_BUILDER_PODMAN

/* ---- the 25 keys, one by one --------------------------------------------- */

static void test_additional_contexts(void **state)
{
  const char *b = "      additional_contexts:\n"
                  "        base: ./b\n"
                  "        img: docker-image://alpine:3\n"
                  "        up: target:stage\n";
  (void)state;
  assert_string_equal(argv_of(DOCKER, b, NULL), "refused: additional_contexts");
  assert_string_equal(argv_of(BUILDX, b, NULL),
                      "--build-context|base=@/b|--build-context|img=docker-image://alpine:3"
                      "|--build-context|up=target:stage");
  assert_string_equal(argv_of(PODMAN, "      additional_contexts: [\"x=docker-image://y\"]\n",
                              NULL),
                      "--build-context|x=docker-image://y");
}

static void test_args(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      args: {A: 1, B: two}\n", NULL),
                      "--build-arg|A=1|--build-arg|B=two");
  assert_string_equal(argv_of(PODMAN, "      args: [A=1]\n", NULL), "--build-arg|A=1");
}

static void test_cache_from_and_to(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      cache_from: [r/web:cache, \"type=local,src=c\"]\n",
                              NULL),
                      "--cache-from|r/web:cache|--cache-from|type=local,src=c");
  assert_string_equal(argv_of(DOCKER, "      cache_to: [type=inline]\n", NULL),
                      "refused: cache_to");
  assert_string_equal(argv_of(BUILDX, "      cache_to: [type=inline]\n", NULL),
                      "--cache-to|type=inline");
  assert_string_equal(argv_of(PODMAN, "      cache_to: [r/web-cache]\n", NULL),
                      "--cache-to|r/web-cache");
}

static void test_context_dockerfile_target(void **state)
{
  dray_compose_service_t *s;
  (void)state;
  put("sub/x.Dockerfile", "FROM scratch\n");
  s = service("      dockerfile: sub/x.Dockerfile\n      target: prod\n", "");
  assert_string_equal(at(s->dockerfile), "@/sub/x.Dockerfile");
  assert_string_equal(argv_of(DOCKER, "      target: prod\n", NULL), "--target|prod");
  /* context is the last argument, dockerfile the --file: test_build_argv */
  assert_string_equal(argv_of(DOCKER, "      dockerfile: sub/x.Dockerfile\n", NULL), "");
}

static void test_dockerfile_inline(void **state)
{
  dray_compose_service_t *s;
  dray_image_t img;
  dray_build_options_t opts;
  const char **argv;
  (void)state;
  s = service("      dockerfile_inline: |\n        FROM scratch\n        COPY a /a\n", "");
  assert_string_equal(s->spec->dockerfile_inline, "FROM scratch\nCOPY a /a\n");
  memset(&img, 0, sizeof(img));
  img.repository = "r/web";
  img.tags = dray_test_list("latest", NULL);
  img.context_dir = s->context_dir;
  img.dockerfile = s->dockerfile;
  img.spec = s->spec;
  memset(&opts, 0, sizeof(opts));
  opts.engine_cmd = "docker";
  argv = dray_build_argv(&img, &opts, "/logs/web.log.iid", pool);
  /* build.c writes the text there before the build */
  assert_string_equal(argv[2], "--file");
  assert_string_equal(argv[3], "/logs/web.log.iid.Dockerfile");
  assert_string_equal(dray_build_inline_path("/logs/web.log.iid", pool), argv[3]);
}

static void test_entitlements_and_privileged(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      entitlements: [network.host]\n", NULL),
                      "refused: entitlements");
  assert_string_equal(argv_of(PODMAN, "      entitlements: [network.host]\n", NULL),
                      "refused: entitlements");
  assert_string_equal(argv_of(BUILDX, "      entitlements: [network.host]\n", NULL),
                      "--allow|network.host");
  assert_string_equal(argv_of(DOCKER, "      privileged: true\n", NULL), "refused: privileged");
  assert_string_equal(argv_of(BUILDX, "      privileged: true\n", NULL),
                      "--allow|security.insecure");
  assert_string_equal(argv_of(DOCKER, "      privileged: false\n", NULL), ""); /* nothing asked */
}

static void test_extra_hosts(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      extra_hosts: [\"a:10.0.0.1\", \"b=10.0.0.2\"]\n",
                              NULL),
                      "--add-host|a:10.0.0.1|--add-host|b:10.0.0.2");
  assert_string_equal(argv_of(PODMAN, "      extra_hosts: {a: 10.0.0.1, c: [\"::1\", 10.0.0.3]}\n",
                              NULL),
                      "--add-host|a:10.0.0.1|--add-host|c:::1|--add-host|c:10.0.0.3");
}

static void test_isolation(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      isolation: process\n", NULL),
                      "--isolation|process");
  assert_string_equal(argv_of(PODMAN, "      isolation: chroot\n", NULL), "--isolation|chroot");
  assert_string_equal(argv_of(BUILDX, "      isolation: process\n", NULL), "--isolation|process");
}

static void test_labels(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      labels: {org.a: \"1\", b: two words}\n", NULL),
                      "--label|org.a=1|--label|b=two words");
  assert_string_equal(argv_of(PODMAN, "      labels: [\"c=3\"]\n", NULL), "--label|c=3");
}

static void test_network_no_cache_pull(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      network: none\n", NULL), "--network|none");
  assert_string_equal(argv_of(DOCKER, "      no_cache: true\n", NULL), "--no-cache");
  assert_string_equal(argv_of(DOCKER, "      no_cache: false\n", NULL), "");
  assert_string_equal(argv_of(PODMAN, "      pull: true\n", NULL), "--pull");
  assert_string_equal(argv_of(BUILDX, "      pull: false\n", NULL), "");
}

static void test_no_cache_filter(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      no_cache_filter: [deps]\n", NULL),
                      "refused: no_cache_filter");
  assert_string_equal(argv_of(BUILDX, "      no_cache_filter: deps\n", NULL),
                      "--no-cache-filter|deps");
}

static void test_platforms_and_platform(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      platforms: [linux/arm64]\n", NULL),
                      "--platform|linux/arm64");
  assert_string_equal(argv_of(DOCKER, "", "    platform: linux/amd64\n"),
                      "--platform|linux/amd64");
  /* build.platforms is the list when both are given */
  assert_string_equal(argv_of(PODMAN, "      platforms: [linux/arm64]\n",
                              "    platform: linux/arm64\n"),
                      "--platform|linux/arm64");
  /* several: one manifest list, by podman (--manifest, test_build_argv) or
   * buildx; docker build cannot */
  assert_string_equal(argv_of(PODMAN, "      platforms: [linux/amd64, linux/arm64]\n", NULL),
                      "--platform|linux/amd64,linux/arm64");
  assert_string_equal(argv_of(BUILDX, "      platforms: [linux/amd64, linux/arm64]\n", NULL),
                      "--platform|linux/amd64,linux/arm64");
  assert_string_equal(argv_of(DOCKER, "      platforms: [linux/amd64, linux/arm64]\n", NULL),
                      "refused: platforms");
  assert_null(dray_build_key_needs(DRAY_BK_PLATFORMS, PODMAN));
  assert_null(dray_build_key_needs(DRAY_BK_PLATFORMS, BUILDX));
  assert_non_null(dray_build_key_needs(DRAY_BK_PLATFORMS, DOCKER));
}

static void test_split_platforms(void **state)
{
  (void)state;
  assert_string_equal(dray_test_joined(dray_buildspec_split_platforms(
                          " linux/amd64 ,linux/arm64/v8,, ", pool)),
                      "linux/amd64 linux/arm64/v8");
  assert_int_equal(dray_buildspec_split_platforms(NULL, pool)->nelts, 0);
  assert_int_equal(dray_buildspec_split_platforms("", pool)->nelts, 0);
}

static void test_provenance_and_sbom(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      provenance: mode=max\n", NULL),
                      "refused: provenance");
  assert_string_equal(argv_of(BUILDX, "      provenance: mode=max\n", NULL),
                      "--provenance=mode=max");
  assert_string_equal(argv_of(DOCKER, "      provenance: false\n", NULL), ""); /* none made */
  assert_string_equal(argv_of(PODMAN, "      sbom: true\n", NULL), "refused: sbom");
  assert_string_equal(argv_of(BUILDX, "      sbom: true\n", NULL), "--sbom=true");
  assert_string_equal(argv_of(DOCKER, "      sbom: false\n", NULL), "");
}

static void test_secrets(void **state)
{
  (void)state;
  apr_env_set("DRAY_T_SECRET", "hush", pool);
  assert_string_equal(argv_of(DOCKER, "      secrets: [s1, {source: s2, target: tok}]\n", NULL),
                      "--secret|id=s1,src=@/s1.txt|--secret|id=tok,env=DRAY_T_SECRET");
  assert_string_equal(argv_of(PODMAN, "      secrets: [s2]\n", NULL),
                      "--secret|id=s2,env=DRAY_T_SECRET");
}

static void test_secret_problems(void **state)
{
  dray_compose_t *c = NULL;
  dray_error_t *err;
  const char *path;
  (void)state;
  apr_env_delete("DRAY_T_NOPE", pool);
  path = put("compose.yaml", "secrets:\n"
                             "  ext: {external: true}\n"
                             "  unset: {environment: DRAY_T_NOPE}\n"
                             "services:\n"
                             "  a:\n"
                             "    build: {context: ., secrets: [missing]}\n"
                             "  b:\n"
                             "    build: {context: ., secrets: [ext]}\n"
                             "  c:\n"
                             "    build: {context: ., secrets: [unset]}\n");
  err = dray_compose_load(&c, path, pool, pool);
  assert_non_null(err);
  assert_string_equal(
      at(dray_error_format(err, pool)),
      "@/compose.yaml:6: service \"a\": build.secrets: secret \"missing\" is not defined in the "
      "top-level secrets: "
      "@/compose.yaml:2: secrets.ext: a build can use only a secret with file: or environment: "
      "(external and content secrets live in a swarm or a running service): "
      "@/compose.yaml:3: secrets.unset: environment variable DRAY_T_NOPE is not set (nor in "
      ".env)");
  dray_error_clear(err);
  path = put("compose.yaml", "secrets:\n"
                             "  ext: {external: true}\n"
                             "services:\n"
                             "  d:\n"
                             "    build: {context: ., secrets: [{source: ext, mode: 0400}]}\n");
  err = dray_compose_load(&c, path, pool, pool);
  assert_non_null(err);
  assert_string_equal(at(dray_error_format(err, pool)),
                      "@/compose.yaml:5: service \"d\": build.secrets: \"mode\" does not apply to "
                      "a build secret (only source and target do)");
  dray_error_clear(err);
}

static void test_shm_size_ssh_ulimits(void **state)
{
  (void)state;
  assert_string_equal(argv_of(DOCKER, "      shm_size: 2gb\n", NULL), "--shm-size|2gb");
  assert_string_equal(argv_of(PODMAN, "      shm_size: 10000000\n", NULL), "--shm-size|10000000");
  assert_string_equal(argv_of(DOCKER, "      ssh: [default, \"key=/k/id\"]\n", NULL),
                      "--ssh|default|--ssh|key=/k/id");
  assert_string_equal(argv_of(BUILDX, "      ssh: {default: null, key: /k/id}\n", NULL),
                      "--ssh|default|--ssh|key=/k/id");
  assert_string_equal(argv_of(DOCKER, "      ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 99}\n",
                              NULL),
                      "--ulimit|nofile=1024:2048|--ulimit|nproc=99");
}

static void test_tags_key(void **state)
{
  dray_compose_service_t *s;
  (void)state;
  s = service("      tags: [\"other/app:1\", \"r/web:v2\"]\n", "");
  assert_int_equal(s->spec->tags->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(s->spec->tags, 0, const char *), "other/app:1");
  /* tags are references of the image, not options: the plan's (test below) */
  assert_string_equal(argv_of(DOCKER, "      tags: [\"other/app:1\"]\n", NULL), "");
}

/* Every key of the table is covered by one test above: the table and the
 * specification's list agree. */
static void test_table_is_the_specification(void **state)
{
  static const char *const spec_keys[] = {
      "additional_contexts", "args", "cache_from", "cache_to", "context", "dockerfile",
      "dockerfile_inline", "entitlements", "extra_hosts", "isolation", "labels", "network",
      "no_cache", "no_cache_filter", "platforms", "privileged", "provenance", "pull", "sbom",
      "secrets", "shm_size", "ssh", "tags", "target", "ulimits"};
  int i;
  (void)state;
  assert_int_equal(DRAY_BK_PLATFORM, 25);
  for (i = 0; i < 25; i++) {
    assert_int_equal(dray_build_key_find(spec_keys[i]), i);
    assert_string_equal(dray_build_key_word((dray_build_key_t)i), spec_keys[i]);
  }
  assert_int_equal(dray_build_key_find("platform"), -1); /* the service's, not build's */
  assert_int_equal(dray_build_key_find("nope"), -1);
}

static void test_unknown_key_refused(void **state)
{
  dray_compose_t *c = NULL;
  dray_error_t *err;
  const char *path;
  (void)state;
  path = put("compose.yaml", "services:\n  a:\n    build:\n      contxt: .\n      x-mine: 1\n");
  err = dray_compose_load(&c, path, pool, pool);
  assert_non_null(err);
  assert_string_equal(at(err->message), "@/compose.yaml:4: service \"a\": build.contxt is not a "
                                        "build key of the Compose Specification");
  dray_error_clear(err);
}

/* ---- through the plan: the refusal's words, ignore, builders ----------------- */

/* The plan of COMPOSE with PLATFORM as --platform (or NULL). */
static dray_error_t *plan_platform(dray_plan_t **plan, dray_builder_t builder, int ignore,
                                   const char *compose, const char *platform)
{
  dray_plan_options_t o;
  dray_settings_t *cli = apr_palloc(pool, sizeof(*cli));
  memset(&o, 0, sizeof(o));
  dray_settings_init(cli);
  if (platform)
    dray_test_no_error(dray_settings_set(cli, DRAY_SETTING_PLATFORM, platform, DRAY_SOURCE_FLAG,
                                         "--platform", pool));
  put("Dockerfile", "FROM scratch\n");
  o.compose_file = put("compose.yaml", compose);
  o.paths = dray_test_list(NULL);
  o.settings = cli;
  o.builder = builder;
  o.ignore_unsupported = ignore;
  return dray_plan_load(plan, &o, pool, pool);
}

static dray_error_t *plan_of(dray_plan_t **plan, dray_builder_t builder, int ignore,
                             const char *compose)
{
  return plan_platform(plan, builder, ignore, compose, NULL);
}

/* Several platforms: one manifest list per image with podman or buildx;
 * refused for docker build, from the file (its line) or --platform. */
static void test_several_platforms_through_the_plan(void **state)
{
  const char *compose = "services:\n"
                        "  web:\n"
                        "    image: localhost:5000/web\n"
                        "    build:\n"
                        "      context: .\n"
                        "      platforms: [linux/amd64, linux/arm64]\n"
                        "  api:\n"
                        "    image: localhost:5000/api\n"
                        "    build: .\n";
  dray_plan_t *plan = NULL;
  dray_error_t *err;
  const dray_image_t *web, *api;
  (void)state;

  dray_test_no_error(plan_of(&plan, PODMAN, 0, compose));
  web = APR_ARRAY_IDX(plan->images, 0, const dray_image_t *);
  api = APR_ARRAY_IDX(plan->images, 1, const dray_image_t *);
  assert_string_equal(web->name, "web");
  assert_string_equal(dray_test_joined(web->platforms), "linux/amd64 linux/arm64");
  assert_true(dray_image_is_list(web));
  assert_int_equal(api->platforms->nelts, 0); /* the engine's */
  assert_false(dray_image_is_list(api));

  err = plan_of(&plan, DOCKER, 0, compose);
  assert_non_null(err);
  assert_null(err->child);
  assert_string_equal(at(err->message),
                      "@/compose.yaml:6: service \"web\": build.platforms cannot be done by "
                      "docker build: it needs --engine-cmd podman (podman build --manifest, then "
                      "podman manifest push --all) or docker buildx with the engine's containerd "
                      "image store (a manifest list cannot be loaded into the classic image "
                      "store); or build without it: x-dray: {ignore: [platforms]} in the compose "
                      "file, or --ignore-unsupported");
  dray_error_clear(err);

  /* --platform a,b: every image without its own is a list */
  dray_test_no_error(plan_platform(&plan, BUILDX, 0, compose, "linux/arm64 , linux/s390x"));
  api = APR_ARRAY_IDX(plan->images, 1, const dray_image_t *);
  assert_string_equal(dray_test_joined(api->platforms), "linux/arm64 linux/s390x");
  web = APR_ARRAY_IDX(plan->images, 0, const dray_image_t *);
  assert_string_equal(dray_test_joined(web->platforms), "linux/amd64 linux/arm64");
  err = plan_platform(&plan, DOCKER, 1, compose, "linux/arm64,linux/s390x");
  assert_non_null(err);
  assert_string_equal(err->message,
                      "--platform linux/arm64,linux/s390x: several platforms (one manifest list "
                      "per image) cannot be built by docker build: it needs --engine-cmd podman "
                      "(podman build --manifest, then podman manifest push --all) or docker "
                      "buildx with the engine's containerd image store (a manifest list cannot "
                      "be loaded into the classic image store); or give one platform");
  dray_error_clear(err);
  /* one from --platform: any builder (web's list ignored, with a warning:
   * then web and api are the same build, built once) */
  dray_test_no_error(plan_platform(&plan, DOCKER, 1, compose, "linux/arm64"));
  assert_int_equal(plan->images->nelts, 1);
  assert_int_equal(plan->warnings->nelts, 1);
  api = APR_ARRAY_IDX(plan->images, 0, const dray_image_t *);
  assert_string_equal(dray_test_joined(api->platforms), "linux/arm64");
  assert_false(dray_image_is_list(api));
}

static void test_refusal_message_and_ignore(void **state)
{
  const char *compose = "services:\n"
                        "  web:\n"
                        "    image: localhost:5000/web\n"
                        "    build:\n"
                        "      context: .\n"
                        "      cache_to: [type=inline]\n"
                        "      labels: {a: b}\n";
  dray_plan_t *plan = NULL;
  dray_error_t *err;
  const dray_image_t *img;
  (void)state;

  err = plan_of(&plan, DOCKER, 0, compose);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  assert_null(err->child);
  assert_string_equal(at(err->message),
                      "@/compose.yaml:6: service \"web\": build.cache_to cannot be done by docker "
                      "build: it needs docker buildx (install the buildx plugin: dray then builds "
                      "with \"docker buildx build --load\") or --engine-cmd podman; or build "
                      "without it: x-dray: {ignore: [cache_to]} in the compose file, or "
                      "--ignore-unsupported");
  dray_error_clear(err);

  /* buildx does it */
  dray_test_no_error(plan_of(&plan, BUILDX, 0, compose));
  assert_int_equal(plan->warnings->nelts, 0);
  assert_int_equal(plan->builder, BUILDX);

  /* --ignore-unsupported: built without it, a warning says so */
  dray_test_no_error(plan_of(&plan, DOCKER, 1, compose));
  img = APR_ARRAY_IDX(plan->images, 0, const dray_image_t *);
  assert_null(img->spec->cache_to);
  assert_int_equal(img->spec->labels->nelts, 1);
  assert_int_equal(plan->warnings->nelts, 1);
  assert_string_equal(at(APR_ARRAY_IDX(plan->warnings, 0, const char *)),
                      "@/compose.yaml:6: service \"web\": build.cache_to ignored: docker build "
                      "cannot do it (it needs docker buildx (install the buildx plugin: dray then "
                      "builds with \"docker buildx build --load\") or --engine-cmd podman)");

  /* x-dray: {ignore: [...]}: the same for the keys named */
  dray_test_no_error(plan_of(&plan, DOCKER, 0,
                              apr_pstrcat(pool, "x-dray:\n  ignore: [cache_to]\n", compose, NULL)));
  assert_int_equal(plan->warnings->nelts, 1);
  err = plan_of(&plan, DOCKER, 0,
                apr_pstrcat(pool, "x-dray:\n  ignore: [sbom]\n", compose, NULL));
  assert_non_null(err);
  dray_error_clear(err);
  err = plan_of(&plan, DOCKER, 0,
                apr_pstrcat(pool, "x-dray:\n  ignore: [cash_to]\n", compose, NULL));
  assert_non_null(err);
  assert_string_equal(at(err->message),
                      "@/compose.yaml:2: x-dray.ignore: \"cash_to\" is not a build key");
  dray_error_clear(err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_additional_contexts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_args, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cache_from_and_to, setup, teardown),
    cmocka_unit_test_setup_teardown(test_context_dockerfile_target, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dockerfile_inline, setup, teardown),
    cmocka_unit_test_setup_teardown(test_entitlements_and_privileged, setup, teardown),
    cmocka_unit_test_setup_teardown(test_extra_hosts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_isolation, setup, teardown),
    cmocka_unit_test_setup_teardown(test_labels, setup, teardown),
    cmocka_unit_test_setup_teardown(test_network_no_cache_pull, setup, teardown),
    cmocka_unit_test_setup_teardown(test_no_cache_filter, setup, teardown),
    cmocka_unit_test_setup_teardown(test_platforms_and_platform, setup, teardown),
    cmocka_unit_test_setup_teardown(test_split_platforms, setup, teardown),
    cmocka_unit_test_setup_teardown(test_several_platforms_through_the_plan, setup, teardown),
    cmocka_unit_test_setup_teardown(test_provenance_and_sbom, setup, teardown),
    cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
    cmocka_unit_test_setup_teardown(test_secret_problems, setup, teardown),
    cmocka_unit_test_setup_teardown(test_shm_size_ssh_ulimits, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tags_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_table_is_the_specification, setup, teardown),
    cmocka_unit_test_setup_teardown(test_unknown_key_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refusal_message_and_ignore, setup, teardown),
  };
  DRAY_TEST_RUN(tests);
}
