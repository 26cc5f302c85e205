/* test_compose_project.c — compose projects on small files: several files
 * merged, include:, extends:, profiles, env files, the project name and the
 * default image name. Files live in a temp folder made per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "dray/compose.h"

#include "testutil.h"

DRAY_TEST_ROOT_FIXTURE("dray-test-compose-project")
DRAY_TEST_ROOT_FILES




static dray_compose_options_t options(const char *first, ...)
{
  dray_compose_options_t o;
  va_list ap;
  const char *f;
  memset(&o, 0, sizeof(o));
  o.files = apr_array_make(pool, 2, sizeof(const char *));
  va_start(ap, first);
  for (f = first; f; f = va_arg(ap, const char *))
    APR_ARRAY_PUSH(o.files, const char *) = apr_pstrcat(pool, root, "/", f, NULL);
  va_end(ap);
  return o;
}

static dray_compose_t *load_ok(const dray_compose_options_t *o)
{
  dray_compose_t *c = NULL;
  dray_error_t *err = dray_compose_load_project(&c, o, pool, pool);
  if (err) {
    print_error("unexpected error: %s\n", dray_error_format(err, pool));
    dray_error_clear(err);
    fail();
  }
  return c;
}

static const char *load_bad(const dray_compose_options_t *o)
{
  dray_compose_t *c = NULL;
  dray_error_t *err = dray_compose_load_project(&c, o, pool, pool);
  const char *m;
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  m = at(dray_error_format(err, pool));
  dray_error_clear(err);
  return m;
}

/* The built services: "name name …". */
static const char *names(const dray_compose_t *c)
{
  const char *out = "";
  int i;
  for (i = 0; i < c->services->nelts; i++)
    out = apr_pstrcat(pool, out, i ? " " : "",
                      APR_ARRAY_IDX(c->services, i, dray_compose_service_t *)->name, NULL);
  return out;
}

static dray_compose_service_t *svc(const dray_compose_t *c, const char *name)
{
  int i;
  for (i = 0; i < c->services->nelts; i++)
    if (strcmp(APR_ARRAY_IDX(c->services, i, dray_compose_service_t *)->name, name) == 0)
      return APR_ARRAY_IDX(c->services, i, dray_compose_service_t *);
  fail_msg("no service %s", name);
  return NULL;
}

/* ---- several files ------------------------------------------------------- */

static void test_override_merge(void **state)
{
  dray_compose_options_t o = options("p/compose.yaml", "p/over/compose.override.yaml", NULL);
  dray_compose_t *c;
  dray_compose_service_t *s;
  (void)state;

  put("p/compose.yaml", "services:\n"
                        "  web:\n"
                        "    image: web:1\n"
                        "    build:\n"
                        "      context: web\n"
                        "      dockerfile: Dockerfile.dev\n"
                        "      args: {A: base, B: base}\n"
                        "      labels: {x: base, y: base}\n"
                        "      cache_from: [c1]\n"
                        "      target: dev\n"
                        "  db:\n"
                        "    image: postgres\n"
                        "  later:\n"
                        "    image: later\n");
  /* relative paths of every -f file are relative to the project's folder
   * (the first file's), not their own */
  put("p/over/compose.override.yaml", "services:\n"
                                      "  web:\n"
                                      "    image: web:2\n"
                                      "    build:\n"
                                      "      dockerfile: Dockerfile.prod\n"
                                      "      args: [B=over, C=over]\n"
                                      "      labels: {y: over}\n"
                                      "      cache_from: [c2, c1]\n"
                                      "  later:\n"
                                      "    build: later\n"
                                      "  new:\n"
                                      "    build: {context: new}\n");
  c = load_ok(&o);
  assert_string_equal(names(c), "web later new");
  s = svc(c, "web");
  assert_string_equal(s->image, "web:2");
  assert_string_equal(at(s->context_dir), "@/p/web");
  assert_string_equal(at(s->dockerfile), "@/p/web/Dockerfile.prod");
  assert_string_equal(s->target, "dev");
  assert_string_equal(dray_test_joined(s->build_args), "A=base B=over C=over");
  assert_string_equal(dray_test_joined(s->spec->labels), "x=base y=over");
  assert_string_equal(dray_test_joined(s->spec->cache_from), "c1 c2");
  assert_string_equal(at(s->origin), "@/p/compose.yaml:2");
  /* a build added by the later file, to a service the first one pulls */
  s = svc(c, "later");
  assert_string_equal(s->image, "later");
  assert_string_equal(at(s->context_dir), "@/p/later");
  assert_string_equal(at(s->origin), "@/p/over/compose.override.yaml:9");
  assert_string_equal(at(svc(c, "new")->context_dir), "@/p/new");
}

static void test_dockerfile_and_inline_replace_each_other(void **state)
{
  dray_compose_options_t o = options("compose.yaml", "inline.yaml", NULL);
  dray_compose_t *c;
  (void)state;
  put("compose.yaml", "services:\n  a:\n    build: {context: ., dockerfile: A.Dockerfile}\n");
  put("inline.yaml", "services:\n  a:\n    build: {dockerfile_inline: \"FROM scratch\"}\n");
  c = load_ok(&o);
  assert_false(svc(c, "a")->dockerfile_given);
  assert_string_equal(svc(c, "a")->spec->dockerfile_inline, "FROM scratch");
  o = options("inline.yaml", "compose.yaml", NULL);
  c = load_ok(&o);
  assert_null(svc(c, "a")->spec->dockerfile_inline);
  assert_string_equal(at(svc(c, "a")->dockerfile), "@/A.Dockerfile");
}

/* ---- extends ------------------------------------------------------------- */

static void test_extends(void **state)
{
  dray_compose_options_t o = options("app/compose.yaml", NULL);
  dray_compose_t *c;
  dray_compose_service_t *s;
  (void)state;

  put("common/base.yaml", "services:\n"
                          "  builder:\n"
                          "    build:\n"
                          "      context: ctx\n"
                          "      args: {FROM_BASE: 1, WHO: base}\n"
                          "      labels: {team: core}\n"
                          "  mid:\n"
                          "    extends: builder\n"
                          "    build:\n"
                          "      args: {WHO: mid}\n");
  put("app/compose.yaml", "services:\n"
                          "  base:\n"
                          "    build: {context: ., target: base, args: {X: 1}}\n"
                          "  same-file:\n"
                          "    extends: base\n"
                          "    build: {target: prod}\n"
                          "  other-file:\n"
                          "    extends: {service: mid, file: ../common/base.yaml}\n"
                          "    image: me/other\n"
                          "    build: {args: {WHO: app}}\n"
                          "  chain:\n"
                          "    extends: same-file\n");
  c = load_ok(&o);
  assert_string_equal(names(c), "base same-file other-file chain");
  s = svc(c, "same-file");
  assert_string_equal(s->target, "prod");
  assert_string_equal(dray_test_joined(s->build_args), "X=1");
  assert_string_equal(at(s->context_dir), "@/app");
  assert_string_equal(at(s->origin), "@/app/compose.yaml:4");
  /* paths of a service extended from another file: relative to that file */
  s = svc(c, "other-file");
  assert_string_equal(at(s->context_dir), "@/common/ctx");
  assert_string_equal(dray_test_joined(s->build_args), "FROM_BASE=1 WHO=app");
  assert_string_equal(dray_test_joined(s->spec->labels), "team=core");
  assert_string_equal(s->image, "me/other");
  s = svc(c, "chain"); /* nested: chain -> same-file -> base */
  assert_string_equal(s->target, "prod");
  assert_string_equal(dray_test_joined(s->build_args), "X=1");

  put("bad.yaml", "services:\n"
                  "  a: {extends: b, build: .}\n"
                  "  b: {extends: a}\n"
                  "  c: {extends: nope}\n"
                  "  d: {extends: {service: x, file: missing.yaml}}\n");
  o = options("bad.yaml", NULL);
  {
    const char *m = load_bad(&o);
    assert_non_null(strstr(m, "@/bad.yaml:2: service \"a\": extends: more than 32 deep (a cycle?)"));
    assert_non_null(strstr(m, "@/bad.yaml:4: service \"c\": extends: no service \"nope\" in "));
    assert_non_null(strstr(m, "@/bad.yaml:5: service \"d\": extends: "));
    assert_non_null(strstr(m, "missing.yaml"));
  }
}

/* ---- include ------------------------------------------------------------- */

static void test_include(void **state)
{
  dray_compose_options_t o = options("compose.yaml", NULL);
  dray_compose_t *c;
  (void)state;

  put("compose.yaml", "include:\n"
                      "  - lib/compose.yaml\n"
                      "  - path: [tools/compose.yaml, tools/more.yaml]\n"
                      "services:\n"
                      "  app:\n"
                      "    build: .\n");
  /* paths in an included file are relative to it */
  put("lib/compose.yaml", "services:\n  lib:\n    build: src\n");
  put("tools/compose.yaml", "services:\n  tool:\n    build: {context: t, args: {A: 1}}\n");
  put("tools/more.yaml", "services:\n  tool:\n    build: {args: {A: 2}}\n");
  c = load_ok(&o);
  assert_string_equal(names(c), "lib tool app");
  assert_string_equal(at(svc(c, "lib")->context_dir), "@/lib/src");
  assert_string_equal(at(svc(c, "tool")->context_dir), "@/tools/t");
  assert_string_equal(dray_test_joined(svc(c, "tool")->build_args), "A=2");

  /* a service both here and in an included file; a cycle */
  put("dup.yaml", "include: [lib/compose.yaml]\nservices:\n  lib:\n    build: .\n");
  o = options("dup.yaml", NULL);
  assert_string_equal(load_bad(&o), "@/dup.yaml:3: service \"lib\" is also defined by "
                                    "@/lib/compose.yaml:2 (included at @/dup.yaml:1)");
  put("loop/a.yaml", "include: [b.yaml]\nservices: {}\n");
  put("loop/b.yaml", "include: [a.yaml]\nservices: {}\n");
  o = options("loop/a.yaml", NULL);
  assert_string_equal(load_bad(&o), "include cycle: @/loop/a.yaml -> @/loop/b.yaml -> "
                                    "@/loop/a.yaml");
}

/* The shape of compose-go's loader/testdata "combined" and
 * "extends/withdir" cases, with build:: an include whose service extends a
 * service of a file beside it; extends across folders, nested. Paths are
 * relative to the file that says them. */
static void test_include_of_extends_across_folders(void **state)
{
  dray_compose_options_t o = options("combined/compose.yaml", NULL);
  dray_compose_t *c;
  (void)state;
  put("combined/compose.yaml", "include:\n  - path:\n      - dir/included.yaml\n");
  put("combined/dir/included.yaml", "services:\n"
                                    "  service:\n"
                                    "    extends:\n"
                                    "      file: extended.yaml\n"
                                    "      service: service\n");
  put("combined/dir/extended.yaml", "services:\n  service:\n    build: .\n");
  c = load_ok(&o);
  assert_string_equal(names(c), "service");
  assert_string_equal(at(svc(c, "service")->context_dir), "@/combined/dir");

  put("withdir/compose.yaml", "services:\n"
                              "  test:\n"
                              "    extends: {file: dir/compose.yaml, service: test}\n");
  put("withdir/dir/compose.yaml", "services:\n"
                                  "  test:\n"
                                  "    extends: {file: base.yaml, service: test}\n"
                                  "    build: {args: [LEVEL=dir]}\n");
  put("withdir/dir/base.yaml", "services:\n"
                               "  test:\n"
                               "    image: hello-world\n"
                               "    build: {context: ctx, args: [LEVEL=base, BASE=1]}\n");
  o = options("withdir/compose.yaml", NULL);
  c = load_ok(&o);
  assert_string_equal(svc(c, "test")->image, "hello-world");
  assert_string_equal(at(svc(c, "test")->context_dir), "@/withdir/dir/ctx");
  assert_string_equal(dray_test_joined(svc(c, "test")->build_args), "BASE=1 LEVEL=dir");
}

/* ---- profiles, names, env files ------------------------------------------ */

static void test_profiles(void **state)
{
  dray_compose_options_t o = options("compose.yaml", NULL);
  (void)state;
  put("compose.yaml", "services:\n"
                      "  always: {build: .}\n"
                      "  debug: {build: ., profiles: [debug]}\n"
                      "  tools: {build: ., profiles: [tools, debug]}\n"
                      "  pulled: {image: x, profiles: [debug]}\n");
  apr_env_delete("COMPOSE_PROFILES", pool);
  assert_string_equal(names(load_ok(&o)), "always");
  o.profiles = apr_array_make(pool, 1, sizeof(const char *));
  APR_ARRAY_PUSH(o.profiles, const char *) = "tools";
  assert_string_equal(names(load_ok(&o)), "always tools");
  APR_ARRAY_IDX(o.profiles, 0, const char *) = "*";
  assert_string_equal(names(load_ok(&o)), "always debug tools");
  o.profiles = NULL;
  apr_env_set("COMPOSE_PROFILES", "debug", pool);
  assert_string_equal(names(load_ok(&o)), "always debug tools");
  apr_env_delete("COMPOSE_PROFILES", pool);
}

static void test_project_name_and_default_image(void **state)
{
  dray_compose_options_t o = options("My Project/compose.yaml", NULL);
  dray_compose_t *c;
  (void)state;
  apr_env_delete("COMPOSE_PROJECT_NAME", pool);
  put("My Project/compose.yaml", "services:\n  web: {build: .}\n  api: {build: ., image: a/api}\n");
  c = load_ok(&o);
  assert_string_equal(c->name, "myproject"); /* the folder, as compose names it */
  assert_string_equal(svc(c, "web")->default_image, "myproject-web");
  assert_null(svc(c, "web")->image);
  assert_string_equal(svc(c, "api")->image, "a/api");

  put("My Project/named.yaml", "name: Shop_1\nservices:\n  web: {build: .}\n");
  o = options("My Project/named.yaml", NULL);
  assert_string_equal(load_ok(&o)->name, "shop_1");
  apr_env_set("COMPOSE_PROJECT_NAME", "fromenv", pool);
  assert_string_equal(load_ok(&o)->name, "fromenv");
  o.project_name = "flag";
  assert_string_equal(svc(load_ok(&o), "web")->default_image, "flag-web");
  apr_env_delete("COMPOSE_PROJECT_NAME", pool);
}

static void test_env_files(void **state)
{
  dray_compose_options_t o = options("e/compose.yaml", NULL);
  (void)state;
  apr_env_delete("DRAY_T_CTX", pool);
  put("e/compose.yaml", "services:\n  a:\n    build: ${DRAY_T_CTX:-default}\n");
  put("e/.env", "DRAY_T_CTX=from-dotenv\n");
  put("e/other.env", "DRAY_T_CTX=from-env-file\n");
  assert_string_equal(at(svc(load_ok(&o), "a")->context_dir), "@/e/from-dotenv");
  o.env_files = apr_array_make(pool, 1, sizeof(const char *));
  APR_ARRAY_PUSH(o.env_files, const char *) = apr_pstrcat(pool, root, "/e/other.env", NULL);
  assert_string_equal(at(svc(load_ok(&o), "a")->context_dir), "@/e/from-env-file");
  APR_ARRAY_IDX(o.env_files, 0, const char *) = apr_pstrcat(pool, root, "/e/none.env", NULL);
  assert_string_equal(load_bad(&o), "@/e/none.env: no such env file");
}

/* A build secret named in one file, defined in another. */
static void test_secrets_across_files(void **state)
{
  dray_compose_options_t o = options("compose.yaml", "secrets.yaml", NULL);
  dray_compose_t *c;
  dray_build_secret_t *s;
  (void)state;
  put("compose.yaml", "services:\n  a:\n    build: {context: ., secrets: [tok]}\n");
  put("secrets.yaml", "secrets:\n  tok: {file: ./sub/tok.txt}\nservices: {}\n");
  c = load_ok(&o);
  s = APR_ARRAY_IDX(svc(c, "a")->spec->secrets, 0, dray_build_secret_t *);
  assert_string_equal(s->id, "tok");
  assert_string_equal(at(s->file), "@/sub/tok.txt");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_override_merge, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dockerfile_and_inline_replace_each_other, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_extends, setup, teardown),
    cmocka_unit_test_setup_teardown(test_include, setup, teardown),
    cmocka_unit_test_setup_teardown(test_include_of_extends_across_folders, setup, teardown),
    cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),
    cmocka_unit_test_setup_teardown(test_project_name_and_default_image, setup, teardown),
    cmocka_unit_test_setup_teardown(test_env_files, setup, teardown),
    cmocka_unit_test_setup_teardown(test_secrets_across_files, setup, teardown),
  };
  DRAY_TEST_RUN(tests);
}
