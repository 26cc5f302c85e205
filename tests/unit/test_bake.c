/* test_bake.c — bake JSON as compose services: targets, groups, inherits,
 * variables, the keys' mapping, refusals, HCL; through the plan too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <apr_env.h>
#include <apr_strings.h>

#include "dray/bake.h"
#include "dray/plan.h"

#include "testutil.h"

DRAY_TEST_ROOT_FIXTURE("dray-test-bake")
DRAY_TEST_ROOT_FILES

static const char BAKE[] =
    "{\n"
    "  \"variable\": {\"TAG\": {\"default\": \"dev\"}, \"REG\": {\"default\": \"localhost:5000\"}},\n"
    "  \"group\": {\n"
    "    \"default\": {\"targets\": [\"app\", \"tools\"]},\n"
    "    \"tools\": {\"targets\": [\"cli\", \"app\"]}\n"
    "  },\n"
    "  \"target\": {\n"
    "    \"_common\": {\"args\": {\"GO\": \"1.22\", \"WHO\": \"common\"}, \"labels\": {\"team\": \"core\"},\n"
    "                 \"platforms\": [\"linux/amd64\"]},\n"
    "    \"app\": {\"inherits\": [\"_common\"], \"context\": \"app\", \"dockerfile\": \"app.Dockerfile\",\n"
    "             \"args\": {\"WHO\": \"app\"}, \"target\": \"prod\", \"description\": \"the app\",\n"
    "             \"tags\": [\"${REG}/app:${TAG}\", \"${REG}/app:latest\"],\n"
    "             \"secret\": [\"id=tok,src=tok.txt\"], \"no-cache\": true,\n"
    "             \"output\": [\"type=docker\"]},\n"
    "    \"cli\": {\"inherits\": [\"app\"], \"target\": \"cli\", \"tags\": [\"${REG}/cli:${TAG}\"]},\n"
    "    \"other\": {\"context\": \"other\"}\n"
    "  }\n"
    "}\n";

static dray_compose_t *load(const char *rel, apr_array_header_t *names)
{
  dray_compose_t *c = NULL;
  dray_test_no_error(dray_bake_load(&c, apr_pstrcat(pool, root, "/", rel, NULL), names, pool,
                                    pool));
  return c;
}

static dray_compose_service_t *svc(const dray_compose_t *c, int i)
{
  assert_true(i < c->services->nelts);
  return APR_ARRAY_IDX(c->services, i, dray_compose_service_t *);
}


static void test_sniff(void **state)
{
  (void)state;
  assert_int_equal(dray_bake_sniff("x.json", BAKE, strlen(BAKE)), DRAY_BAKE_JSON);
  assert_int_equal(dray_bake_sniff("docker-bake.hcl", "", 0), DRAY_BAKE_HCL);
  assert_int_equal(dray_bake_sniff("bake", "target \"a\" {\n}\n", 16), DRAY_BAKE_HCL);
  assert_int_equal(dray_bake_sniff("compose.yaml", "services: {}\n", 13), DRAY_BAKE_NONE);
  /* a compose file written as JSON is compose */
  assert_int_equal(dray_bake_sniff("c.json", "{\"services\": {}, \"target\": 1}", 30),
                   DRAY_BAKE_NONE);
}

static void test_targets_groups_inherits_variables(void **state)
{
  dray_compose_t *c;
  dray_compose_service_t *s;
  dray_build_secret_t *sec;
  (void)state;
  apr_env_delete("TAG", pool);
  apr_env_delete("REG", pool);
  put("docker-bake.json", BAKE);
  c = load("docker-bake.json", NULL);
  /* the default group: app, then the tools group's cli (app once) */
  assert_int_equal(c->services->nelts, 2);
  s = svc(c, 0);
  assert_string_equal(s->name, "app");
  assert_string_equal(at(s->context_dir), "@/app");
  assert_string_equal(at(s->dockerfile), "@/app/app.Dockerfile");
  assert_string_equal(s->target, "prod");
  assert_string_equal(dray_test_joined(s->build_args), "GO=1.22 WHO=app"); /* its own over inherited */
  assert_string_equal(dray_test_joined(s->spec->labels), "team=core");
  assert_string_equal(dray_test_joined(s->spec->platforms), "linux/amd64");
  assert_string_equal(s->image, "localhost:5000/app:dev"); /* variables' defaults */
  assert_string_equal(dray_test_joined(s->spec->tags), "localhost:5000/app:dev localhost:5000/app:latest");
  assert_true(s->spec->no_cache);
  sec = APR_ARRAY_IDX(s->spec->secrets, 0, dray_build_secret_t *);
  assert_string_equal(sec->id, "tok");
  assert_string_equal(at(sec->file), "@/tok.txt");
  s = svc(c, 1);
  assert_string_equal(s->name, "cli");
  assert_string_equal(s->target, "cli");          /* nested: cli -> app -> _common */
  assert_string_equal(dray_test_joined(s->build_args), "GO=1.22 WHO=app");
  assert_string_equal(dray_test_joined(s->spec->tags), "localhost:5000/cli:dev"); /* tags: its own */

  /* the environment over a variable's default; names from the command line */
  apr_env_set("TAG", "1.0", pool);
  c = load("docker-bake.json", dray_test_list("other", "tools", NULL));
  assert_string_equal(svc(c, 0)->name, "other");
  assert_string_equal(svc(c, 0)->default_image, "other"); /* no tags: the target's name */
  assert_string_equal(svc(c, 1)->name, "cli");
  assert_string_equal(svc(c, 1)->image, "localhost:5000/cli:1.0");
  assert_string_equal(svc(c, 2)->name, "app");
  apr_env_delete("TAG", pool);
}

static void test_refusals(void **state)
{
  dray_compose_t *c = NULL;
  dray_error_t *err;
  const char *path;
  (void)state;
  path = put("bad.json", "{\"target\": {\"a\": {\"matrix\": {\"x\": [1]}, \"output\": [\"type=local,dest=out\"],"
                         " \"attest\": [\"type=nope\"]}}}");
  err = dray_bake_load(&c, path, NULL, pool, pool);
  assert_non_null(err);
  assert_string_equal(at(dray_error_format(err, pool)),
                      "@/bad.json: target \"a\": \"matrix\" has no compose build key dray could "
                      "pass it as; build this target with docker buildx bake: "
                      "@/bad.json: target \"a\": output \"type=local,dest=out\": dray builds into "
                      "the engine's images and pushes the tags; build this target with docker "
                      "buildx bake: "
                      "@/bad.json: target \"a\": attest \"type=nope\": only type=provenance and "
                      "type=sbom exist");
  dray_error_clear(err);
  path = put("docker-bake.hcl", "target \"a\" {}\n");
  err = dray_bake_load(&c, path, NULL, pool, pool);
  assert_non_null(err);
  assert_string_equal(at(err->message),
                      "@/docker-bake.hcl: an HCL bake file; dray reads bake JSON: convert it with "
                      "\"docker buildx bake -f @/docker-bake.hcl --print > bake.json\", then "
                      "\"dray plan -f bake.json\"");
  dray_error_clear(err);
}

/* Through the plan: PATHs name targets; the honour-or-refuse rule holds. */
static void test_plan(void **state)
{
  dray_plan_options_t o;
  dray_settings_t cli;
  dray_plan_t *plan = NULL;
  dray_error_t *err;
  (void)state;
  put("p/a/Dockerfile", "FROM scratch\n");
  put("p/bake.json", "{\"target\": {\"a\": {\"context\": \"a\", \"tags\": [\"localhost:5000/a:1\"],"
                     " \"cache-to\": [\"type=inline\"]}, \"b\": {\"context\": \"a\"}}}");
  memset(&o, 0, sizeof(o));
  dray_settings_init(&cli);
  o.settings = &cli;
  o.compose_file = apr_pstrcat(pool, root, "/p/bake.json", NULL);
  o.paths = dray_test_list("a", NULL);
  o.builder = DRAY_BUILDER_BUILDX;
  dray_test_no_error(dray_plan_load(&plan, &o, pool, pool));
  assert_int_equal(plan->images->nelts, 1);
  assert_string_equal(APR_ARRAY_IDX(plan->images, 0, dray_image_t *)->repository,
                      "localhost:5000/a");
  o.builder = DRAY_BUILDER_DOCKER;
  err = dray_plan_load(&plan, &o, pool, pool);
  assert_non_null(err);
  /* bake's words: a target, its key as bake spells it, and the flag (a
   * bake file has no place for dray's x-dray) */
  assert_string_equal(at(err->message),
                      "@/p/bake.json: target \"a\": cache-to cannot be done by docker build: it "
                      "needs docker buildx (install the buildx plugin: dray then builds with "
                      "\"docker buildx build --load\") or --engine-cmd podman; or build without "
                      "it: --ignore-unsupported");
  assert_null(strstr(err->message, "service"));
  assert_null(strstr(err->message, "x-dray"));
  dray_error_clear(err);
  /* the flag: a warning in the same words */
  o.ignore_unsupported = 1;
  dray_test_no_error(dray_plan_load(&plan, &o, pool, pool));
  assert_int_equal(plan->warnings->nelts, 1);
  assert_string_equal(at(APR_ARRAY_IDX(plan->warnings, 0, const char *)),
                      "@/p/bake.json: target \"a\": cache-to ignored: docker build cannot do it "
                      "(it needs docker buildx (install the buildx plugin: dray then builds with "
                      "\"docker buildx build --load\") or --engine-cmd podman)");
  o.ignore_unsupported = 0;
  /* attest as bake writes it; several platforms are one manifest list,
   * which docker build cannot make */
  put("p/bake.json", "{\"target\": {\"a\": {\"context\": \"a\", \"attest\": "
                     "[\"type=sbom\"], \"platforms\": [\"linux/amd64\", \"linux/arm64\"]}}}");
  err = dray_plan_load(&plan, &o, pool, pool);
  assert_non_null(err);
  assert_non_null(strstr(dray_error_format(err, pool), "target \"a\": platforms cannot be done by "
                                                         "docker build: it needs --engine-cmd podman"));
  assert_non_null(strstr(dray_error_format(err, pool), "target \"a\": attest cannot be done by "
                                                         "docker build: it needs docker buildx"));
  dray_error_clear(err);
  o.builder = DRAY_BUILDER_PODMAN;
  err = dray_plan_load(&plan, &o, pool, pool);
  assert_non_null(err); /* podman: no attestations */
  assert_null(strstr(dray_error_format(err, pool), "platforms"));
  dray_error_clear(err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_sniff, setup, teardown),
    cmocka_unit_test_setup_teardown(test_targets_groups_inherits_variables, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
  };
  DRAY_TEST_RUN(tests);
}
