/* test_compose.c — compose files: build forms, args, interpolation, x-dray,
 * syntax and structural errors. Files live in a temp folder made per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <apr_env.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "dray/compose.h"
#include "dray/subst.h"

#include "testutil.h"

DRAY_TEST_ROOT_FIXTURE("dray-test-compose") /* this test's temp folder: root */
DRAY_TEST_ROOT_FILES


static const char *abs_path(const char *rel)
{
  return apr_pstrcat(pool, root, "/", rel, NULL);
}

/* ABS ("/x/y") on the root of the test folder's file system: "/x/y" on Unix,
 * "C:/x/y" on Windows. */
static const char *on_root_drive(const char *abs)
{
  const char *rest = root, *top;
  assert_int_equal(apr_filepath_root(&top, &rest, 0, pool), APR_SUCCESS);
  return apr_pstrcat(pool, top, abs + 1, NULL);
}

/* ---- helpers ------------------------------------------------------------- */

static dray_compose_t *load_ok(const char *text)
{
  dray_compose_t *c = NULL;
  const char *path = put("compose.yaml", text);
  dray_error_t *err = dray_compose_load(&c, path, pool, pool);
  if (err) {
    print_error("unexpected error: %s\n", dray_error_format(err, pool));
    dray_error_clear(err);
    fail();
  }
  assert_string_equal(c->dir, root);
  return c;
}

/* Every link of the failing load, as "msg\n" lines with ROOT replaced by
 * "@"; *LINKS gets their number. */
static const char *load_bad(const char *text, int *links)
{
  dray_compose_t *c = NULL;
  const char *path = put("compose.yaml", text);
  dray_error_t *err = dray_compose_load(&c, path, pool, pool), *e;
  const char *out = "";
  int n = 0;

  assert_non_null(err);
  assert_null(c);
  for (e = err; e; e = e->child, n++) {
    const char *m = e->message;
    assert_int_equal(e->apr_err, DRAY_ERR_INPUT);
    assert_true(strncmp(m, path, strlen(path)) == 0); /* names the file first */
    out = apr_pstrcat(pool, out, "@", m + strlen(path), "\n", NULL);
  }
  dray_error_clear(err);
  if (links)
    *links = n;
  return out;
}

static dray_compose_service_t *svc(const dray_compose_t *c, int i)
{
  assert_true(i < c->services->nelts);
  return APR_ARRAY_IDX(c->services, i, dray_compose_service_t *);
}

static void assert_args(const dray_compose_service_t *s, const char *first, ...)
{
  va_list ap;
  const char *a;
  int i = 0;
  va_start(ap, first);
  for (a = first; a; a = va_arg(ap, const char *), i++) {
    assert_true(i < s->build_args->nelts);
    assert_string_equal(APR_ARRAY_IDX(s->build_args, i, const char *), a);
  }
  va_end(ap);
  assert_int_equal(s->build_args->nelts, i);
}

/* ---- tests --------------------------------------------------------------- */

static void test_build_forms(void **state)
{
  dray_compose_t *c;
  dray_compose_service_t *s;
  (void)state;

  apr_env_set("DRAY_T_B", "bee", pool);
  apr_env_delete("DRAY_T_C", pool);
  c = load_ok("name: demo\n"                        /* 1 */
              "version: '3.9'\n"                    /* 2 */
              "x-common: &common\n"                 /* 3 */
              "  args:\n"                           /* 4 */
              "    FROM_ANCHOR: yes\n"              /* 5 */
              "services:\n"                         /* 6 */
              "  web:\n"                            /* 7 */
              "    build: ./web\n"                  /* 8 */
              "    image: localhost:5000/web:1.0\n" /* 9 */
              "    ports: ['80:80']\n"              /* 10 */
              "  api:\n"                            /* 11 */
              "    image: api\n"                    /* 12 */
              "    build:\n"                        /* 13 */
              "      <<: *common\n"                 /* 14 */
              "      context: services/api\n"       /* 15 */
              "      dockerfile: docker/Api.Dockerfile\n"
              "      target: prod\n"
              "      x-note: whatever\n"
              "  worker:\n"                         /* 19 */
              "    build:\n"
              "      context: worker\n"
              "      args:\n"
              "        - A=1\n"
              "        - DRAY_T_B\n"
              "        - DRAY_T_C\n"
              "        - D=x=y\n"
              "        - E=\n"
              "  db:\n"
              "    image: postgres:16\n"
              "  cache:\n"                          /* 30 */
              "    build: {}\n"
              "  abs:\n"
              "    build:\n"
              "      context: /somewhere/else\n"
              "      dockerfile: /abs/Dockerfile\n");
  assert_int_equal(c->services->nelts, 5);

  s = svc(c, 0);
  assert_string_equal(s->name, "web");
  assert_int_equal(s->line, 7);
  assert_string_equal(s->origin, apr_pstrcat(pool, root, "/compose.yaml:7", NULL));
  assert_string_equal(s->image, "localhost:5000/web:1.0");
  assert_int_equal(s->image_line, 9);
  assert_string_equal(s->context_dir, abs_path("web"));
  assert_string_equal(s->dockerfile, abs_path("web/Dockerfile"));
  assert_null(s->target);
  assert_false(s->dockerfile_given);
  assert_args(s, NULL);

  s = svc(c, 1);
  assert_string_equal(s->name, "api");
  assert_int_equal(s->line, 11);
  assert_string_equal(s->image, "api");
  assert_string_equal(s->context_dir, abs_path("services/api"));
  assert_string_equal(s->dockerfile, abs_path("services/api/docker/Api.Dockerfile"));
  assert_true(s->dockerfile_given);
  assert_string_equal(s->target, "prod");
  assert_args(s, "FROM_ANCHOR=yes", NULL); /* through the merge key */

  s = svc(c, 2);
  assert_string_equal(s->name, "worker");
  assert_null(s->image);
  assert_args(s, "A=1", "DRAY_T_B=bee", "D=x=y", "E=", NULL); /* unset DRAY_T_C dropped */

  s = svc(c, 3);
  assert_string_equal(s->name, "cache");
  assert_int_equal(s->line, 30);
  assert_string_equal(s->context_dir, root);
  assert_string_equal(s->dockerfile, abs_path("Dockerfile"));

  s = svc(c, 4);
  /* Absolute paths are kept, not joined to the compose folder; on Windows a
   * rooted path without a drive takes the compose file's drive. */
  assert_string_equal(s->context_dir, on_root_drive("/somewhere/else"));
  assert_string_equal(s->dockerfile, on_root_drive("/abs/Dockerfile"));

  /* No x-dray: nothing set. */
  assert_null(c->settings.registry);
  assert_null(c->settings.tags);
  assert_int_equal(c->settings.builders, DRAY_SETTING_UNSET);
  assert_int_equal(c->settings.retries, -1);
}

static void test_args_map_and_interpolation(void **state)
{
  dray_compose_t *c;
  (void)state;

  apr_env_set("DRAY_T_V", "vv", pool);
  apr_env_set("DRAY_T_FROMENV", "fe", pool);
  apr_env_set("DRAY_T_EMPTY", "", pool);
  apr_env_delete("DRAY_T_UNSET", pool);
  apr_env_delete("DRAY_T_MISSING", pool);
  c = load_ok("services:\n"
              "  a:\n"
              "    build:\n"
              "      context: ${DRAY_T_V}dir\n"
              "      args:\n"
              "        PLAIN: value\n"
              "        NUM: 42\n"
              "        EMPTY: \"\"\n"
              "        DRAY_T_FROMENV:\n"
              "        DRAY_T_MISSING: ~\n"
              "        INTERP: \"${DRAY_T_V}-$${literal}-$$DRAY_T_V-${DRAY_T_UNSET:-def}-"
              "${DRAY_T_UNSET-d2}-${DRAY_T_EMPTY-keep}${DRAY_T_EMPTY:-colon}-"
              "${DRAY_T_V:+alt}${DRAY_T_UNSET+no}-${DRAY_T_UNSET:-${DRAY_T_V}}-$DRAY_T_V.x-$-$\"\n"
              "        'NOT_${DRAY_T_V}': keys are not interpolated\n");
  assert_string_equal(svc(c, 0)->context_dir, abs_path("vvdir"));
  assert_args(svc(c, 0), "PLAIN=value", "NUM=42", "EMPTY=", "DRAY_T_FROMENV=fe",
              "INTERP=vv-${literal}-$DRAY_T_V-def-d2-colon-alt-vv-vv.x-$-$",
              "NOT_${DRAY_T_V}=keys are not interpolated", NULL);
}

/* Compose's own wording for every substitution problem; quotes and
 * backslashes are plain text in compose (unlike a Dockerfile). */
static void test_interpolation_errors(void **state)
{
  dray_compose_t *c;
  const char *m, *deep = "";
  int i;
  (void)state;

  apr_env_set("DRAY_T_V", "vv", pool);
  apr_env_delete("DRAY_T_UNSET", pool);
  c = load_ok("services:\n  a:\n    build: .\n    image: \"r/a:${DRAY_T_UNSET:-'x'}\"\n");
  assert_string_equal(svc(c, 0)->image, "r/a:'x'");

  m = load_bad("services:\n  a:\n    build: .\n    image: \"${DRAY_T_UNSET:-x\"\n", NULL);
  assert_string_equal(m, "@:4: service \"a\": image: invalid interpolation format for "
                         "\"${DRAY_T_UNSET:-x\": missing \"}\"\n");
  m = load_bad("services:\n  a:\n    build: .\n    image: \"${}\"\n", NULL);
  assert_string_equal(m, "@:4: service \"a\": image: invalid interpolation format for \"${}\"\n");
  m = load_bad("services:\n  a:\n    build: .\n    image: \"${DRAY_T_V%x}\"\n", NULL);
  assert_string_equal(m, "@:4: service \"a\": image: invalid interpolation format for "
                         "\"${DRAY_T_V%x}\"\n");
  m = load_bad("services:\n  a:\n    build: .\n    image: \"${DRAY_T_UNSET?}\"\n", NULL);
  assert_string_equal(m, "@:4: service \"a\": image: required variable DRAY_T_UNSET is missing a "
                         "value\n");

  /* Nesting is capped with a clear message. */
  for (i = 0; i <= DRAY_SUBST_MAX_DEPTH; i++)
    deep = apr_pstrcat(pool, deep, "${DRAY_T_UNSET:-", NULL);
  deep = apr_pstrcat(pool, deep, "x", NULL);
  for (i = 0; i <= DRAY_SUBST_MAX_DEPTH; i++)
    deep = apr_pstrcat(pool, deep, "}", NULL);
  m = load_bad(apr_pstrcat(pool, "services:\n  a:\n    build: .\n    image: \"", deep, "\"\n",
                           NULL), NULL);
  assert_non_null(strstr(m, apr_psprintf(pool, ": nested more than %d deep\n",
                                         DRAY_SUBST_MAX_DEPTH)));
}

static void test_dotenv(void **state)
{
  dray_compose_t *c;
  (void)state;

  apr_env_set("DRAY_T_BOTH", "env", pool);
  apr_env_delete("DRAY_T_DOTENV", pool);
  apr_env_delete("DRAY_T_QUOTED", pool);
  put(".env", "# settings\n"
              "DRAY_T_DOTENV=fromfile\n"
              "export DRAY_T_QUOTED=\"quoted value\"\n"
              "DRAY_T_BOTH=file   # comment\n"
              "\n");
  c = load_ok("services:\n"
              "  a:\n"
              "    build: .\n"
              "    image: reg.example.com/${DRAY_T_DOTENV}:${DRAY_T_BOTH}\n"
              "  b:\n"
              "    build:\n"
              "      args: [\"Q=$DRAY_T_QUOTED\", DRAY_T_DOTENV]\n");
  assert_string_equal(svc(c, 0)->image, "reg.example.com/fromfile:env"); /* environment wins */
  assert_args(svc(c, 1), "Q=quoted value", "DRAY_T_DOTENV=fromfile", NULL);
}

static void test_x_dray(void **state)
{
  dray_compose_t *c;
  (void)state;

  c = load_ok("x-dray:\n"
              "  registry: localhost:5000/team/\n"
              "  tags: [latest, \"v1\"]\n"
              "  builders: 4\n"
              "  pushers: 2\n"
              "  retries: 0\n"
              "  network: host\n"
              "  platform: linux/amd64\n"
              "x-other: {ignored: true}\n"
              "services:\n"
              "  a: {build: .}\n");
  assert_string_equal(c->settings.registry, "localhost:5000/team");
  assert_int_equal(c->settings.tags->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(c->settings.tags, 0, const char *), "latest");
  assert_string_equal(APR_ARRAY_IDX(c->settings.tags, 1, const char *), "v1");
  assert_int_equal(c->settings.builders, 4);
  assert_int_equal(c->settings.pushers, 2);
  assert_int_equal(c->settings.retries, 0);
  assert_string_equal(c->settings.network, "host");
  assert_string_equal(c->settings.platform, "linux/amd64");

  c = load_ok("x-dray:\n  tags: \"a, b c\"\nservices: {}\n");
  assert_int_equal(c->services->nelts, 0);
  assert_int_equal(c->settings.tags->nelts, 3);
  assert_string_equal(APR_ARRAY_IDX(c->settings.tags, 2, const char *), "c");
  assert_int_equal(c->settings.retries, -1);
}

/* x-dray engines: context names, as words or mappings with limits; a URL
 * is refused (a repository does not choose where builds and credentials go). */
static void test_x_dray_engines(void **state)
{
  dray_compose_t *c;
  const char *m;
  int links;
  (void)state;

  c = load_ok("x-dray:\n"
              "  engines:\n"
              "    - build1#builders=4\n"
              "    - {context: build2, builders: 2, pushers: 1}\n"
              "services:\n"
              "  a: {build: .}\n");
  assert_int_equal(c->settings.engines->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(c->settings.engines, 0, const char *), "build1#builders=4");
  assert_string_equal(APR_ARRAY_IDX(c->settings.engines, 1, const char *),
                      "build2#builders=2,pushers=1");

  m = load_bad("x-dray:\n"
               "  engines:\n"
               "    - tcp://evil.example:2375\n"
               "services: {}\n",
               &links);
  assert_non_null(strstr(m, "x-dray.engines: tcp://evil.example:2375: a compose file names "
                            "engines by docker context"));
  m = load_bad("x-dray:\n"
               "  engines:\n"
               "    - {context: b, colour: red}\n"
               "    - {builders: 2}\n"
               "    - {host: ctx}\n"
               "services: {}\n",
               &links);
  assert_non_null(strstr(m, "@:3: x-dray.engines item: unknown key \"colour\""));
  assert_non_null(strstr(m, "@:4: x-dray.engines item needs host or context"));
  assert_non_null(strstr(m, "@:5: x-dray.engines item.host: needs a URL"));
}

static void test_syntax_errors(void **state)
{
  const char *m;
  int links;
  (void)state;

  m = load_bad("services:\n"
               "  web:\n"
               "    build: .\n"
               "   image: bad\n",
               &links);
  assert_int_equal(links, 1);
  assert_true(strncmp(m, "@:4:4: YAML syntax error: ", 26) == 0);
  assert_non_null(strstr(m, "did not find expected key"));

  m = load_bad("services:\n  web:\n\tbuild: .\n", &links);
  assert_true(strncmp(m, "@:3:1: YAML syntax error: found character that cannot start any token",
                      68) == 0);

  m = load_bad("services: [a\n", &links);
  assert_true(strncmp(m, "@:2:1: YAML syntax error: ", 26) == 0);

  m = load_bad("services:\n  a: &x\n  b: *y\n", &links);
  assert_non_null(strstr(m, "@:3:6: YAML syntax error: found undefined alias"));
}

static void test_structural_errors(void **state)
{
  const char *m;
  int links;
  (void)state;

  apr_env_delete("DRAY_T_REQ", pool);
  m = load_bad("x-dray:\n"                           /* 1 */
               "  builders: zero\n"                  /* 2 */
               "  tags: [\"ok\", \".bad\"]\n"        /* 3 */
               "  colour: blue\n"                    /* 4 */
               "  registry: Bad_Host:x\n"            /* 5 */
               "services:\n"                         /* 6 */
               "  a: 12\n"                           /* 7 */
               "  b:\n"                              /* 8 */
               "    build:\n"                        /* 9 */
               "      context: [x]\n"                /* 10 */
               "  c:\n"                              /* 11 */
               "    build:\n"                        /* 12 */
               "      args: 5\n"                     /* 13 */
               "  d:\n"                              /* 14 */
               "    build: .\n"                      /* 15 */
               "    image: ${DRAY_T_REQ:?must be set}\n" /* 16 */
               "  e:\n"                              /* 17 */
               "    build:\n"                        /* 18 */
               "      no_cache: maybe\n"             /* 19 */
               "  f:\n"                              /* 20 */
               "    build: [1]\n"                    /* 21 */
               "  g:\n"                              /* 22 */
               "    build: git@github.com:a/b.git\n" /* 23 */
               "  h:\n"                              /* 24 */
               "    build: {args: [\"=x\"]}\n"       /* 25 */
               "  i:\n"                              /* 26 */
               "    build: {context: \"${oops\"}\n"  /* 27 */
               "  b:\n"                              /* 28 */
               "    build: .\n",
               &links);
  assert_string_equal(
      m,
      "@:2: x-dray.builders needs auto or a whole number from 1 to 1024, not 'zero'\n"
      "@:3: x-dray.tags: invalid tag '.bad' (allowed: up to 128 of A-Z a-z 0-9 _ . -, not "
      "starting with . or -)\n"
      "@:4: x-dray: unknown setting \"colour\" (known: registry, tags, builders, pushers, "
      "builders-max, pushers-max, retries, build-retries, retry-delay, stall-timeout, "
      "global-slots, network, platform, engine-cmd, push-driver, progress, log-dir, engines)\n"
      "@:5: x-dray.registry: invalid registry \"Bad_Host:x\": want HOST[:PORT][/NAMESPACE]\n"
      "@:28: duplicate key \"b\"\n"
      "@:7: service \"a\" must be a mapping\n"
      "@:10: service \"b\": build.context must be a string\n"
      "@:13: service \"c\": build.args must be a map or a list\n"
      "@:16: service \"d\": image: required variable DRAY_T_REQ is missing a value: must be set\n"
      "@:19: service \"e\": build.no_cache must be true or false, not \"maybe\"\n"
      "@:21: service \"f\": build must be a string (the context) or a mapping\n"
      "@:25: service \"h\": build.args item \"=x\" has no name\n"
      "@:27: service \"i\": build.context: invalid interpolation format for \"${oops\"\n");
  assert_int_equal(links, 13);
  /* paths are resolved once the project is put together */
  m = load_bad("services:\n  g:\n    build: git@github.com:a/b.git\n", &links);
  assert_string_equal(m, "@:3: service \"g\": remote build context \"git@github.com:a/b.git\" is "
                         "not supported\n");

  m = load_bad("services: [a, b]\n", &links);
  assert_string_equal(m, "@:1: services must be a mapping\n");
  m = load_bad("- a\n", &links);
  assert_string_equal(m, "@:1: the top level must be a mapping\n");
  m = load_bad("", &links);
  assert_string_equal(m, "@: empty compose file\n");
  m = load_bad("# only a comment\n", &links);
  assert_string_equal(m, "@: empty compose file\n");
  m = load_bad("version: '3'\n", &links);
  assert_string_equal(m, "@:1: no \"services\" section\n");
}

static void test_missing_file_and_containerfile(void **state)
{
  dray_compose_t *c = NULL;
  dray_error_t *err;
  const char *path = abs_path("nope.yaml");
  (void)state;

  err = dray_compose_load(&c, path, pool, pool);
  assert_non_null(err);
  assert_null(c);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  assert_true(strncmp(err->message, apr_pstrcat(pool, path, ": cannot read", NULL),
                      strlen(path) + 13) == 0);
  dray_error_clear(err);

  /* A context with only a Containerfile uses it; a named dockerfile is kept. */
  put("pod/Containerfile", "FROM busybox\n");
  put("both/Dockerfile", "FROM busybox\n");
  put("both/Containerfile", "FROM busybox\n");
  c = load_ok("services:\n"
              "  pod: {build: pod}\n"
              "  both: {build: both}\n"
              "  named: {build: {context: pod, dockerfile: Dockerfile}}\n");
  assert_string_equal(svc(c, 0)->dockerfile, abs_path("pod/Containerfile"));
  assert_string_equal(svc(c, 1)->dockerfile, abs_path("both/Dockerfile"));
  assert_string_equal(svc(c, 2)->dockerfile, abs_path("pod/Dockerfile"));

  /* dray_compose_parse: the text need not be on disk, only its folder. */
  err = dray_compose_parse(&c, "services: {x: {build: sub}}", 27, abs_path("virtual.yml"), pool,
                           pool);
  assert_null(err);
  assert_string_equal(svc(c, 0)->context_dir, abs_path("sub"));
}

/* TEXT repeated N times. */
static const char *repeat(const char *text, int n)
{
  apr_size_t len = strlen(text);
  char *out = apr_palloc(pool, len * (apr_size_t)n + 1), *o = out;
  for (int i = 0; i < n; i++, o += len)
    memcpy(o, text, len);
  *o = '\0';
  return out;
}

/* Hostile shapes are refused (or read) in work linear in the file: each
 * case here is exponential or quadratic without the bounds, and must simply
 * finish (ctest's timeout is the only clock). */
static void test_hostile_yaml_bounded(void **state)
{
  apr_array_header_t *parts;
  dray_compose_t *c;
  const char *m;
  int links;
  (void)state;

  /* 200k "[": libyaml's document loader is quadratic in depth. */
  m = load_bad(apr_pstrcat(pool, "services: ", repeat("[", 200000), NULL), &links);
  assert_string_equal(m, "@:1: YAML nested more than 256 deep\n");
  /* Block nesting names the line where it went too deep. */
  parts = apr_array_make(pool, 300, sizeof(const char *));
  APR_ARRAY_PUSH(parts, const char *) = "services:\n";
  for (int i = 1; i < 300; i++)
    APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(pool, "%*sk%d:\n", i, "", i);
  m = load_bad(apr_array_pstrcat(pool, parts, 0), &links);
  assert_string_equal(m, "@:257: YAML nested more than 256 deep\n");
  /* 250 deep is a file dray reads. */
  c = load_ok(apr_pstrcat(pool, "x-deep: ", repeat("[", 250), repeat("]", 250),
                          "\nservices: {a: {build: .}}\n", NULL));
  assert_int_equal(c->services->nelts, 1);

  /* Merge keys, 3 aliases of the level below at each of 16 levels: 3^16
   * merges without a visited set; each mapping once with it. */
  parts = apr_array_make(pool, 20, sizeof(const char *));
  APR_ARRAY_PUSH(parts, const char *) = "x-l0: &l0 {a: 1, b: 2}\n";
  for (int i = 1; i <= 16; i++)
    APR_ARRAY_PUSH(parts, const char *) =
        apr_psprintf(pool, "x-l%d: &l%d {<<: [*l%d, *l%d, *l%d], k%d: %d}\n", i, i, i - 1, i - 1,
                     i - 1, i, i);
  APR_ARRAY_PUSH(parts, const char *) =
      "services:\n"
      "  s:\n"
      "    <<: *l16\n"
      "    build: {context: ., args: {<<: *l16}}\n";
  c = load_ok(apr_array_pstrcat(pool, parts, 0));
  assert_int_equal(c->services->nelts, 1);
  /* Every key of every level, once: a, b, k1 … k16. */
  assert_int_equal(APR_ARRAY_IDX(c->services, 0, dray_compose_service_t *)->build_args->nelts,
                   18);

  /* A mapping that merges itself: read, not looped. */
  c = load_ok("x-a: &a {<<: *a, k: 1}\nservices: {s: {<<: *a, build: .}}\n");
  assert_int_equal(c->services->nelts, 1);

  /* Merges nested deeper than any real file: refused, naming the place. */
  parts = apr_array_make(pool, 40, sizeof(const char *));
  APR_ARRAY_PUSH(parts, const char *) = "x-m0: &m0 {a: 1}\n";
  for (int i = 1; i <= 40; i++)
    APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(pool, "x-m%d: &m%d {<<: *m%d}\n", i, i,
                                                       i - 1);
  APR_ARRAY_PUSH(parts, const char *) = "services: {s: {<<: *m40, build: .}}\n";
  m = load_bad(apr_array_pstrcat(pool, parts, 0), &links);
  assert_string_equal(m, "@:9: \"<<\" merges nested more than 32 deep\n");

  /* Many distinct entries merged many times: a budget for the file. 400
   * services each merging 1000 keys (and again in build.args): 800k. */
  parts = apr_array_make(pool, 1500, sizeof(const char *));
  APR_ARRAY_PUSH(parts, const char *) = "x-big: &big {";
  for (int i = 0; i < 1000; i++)
    APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(pool, "%sk%d: 1", i ? ", " : "", i);
  APR_ARRAY_PUSH(parts, const char *) = "}\nservices:\n";
  for (int i = 0; i < 400; i++)
    APR_ARRAY_PUSH(parts, const char *) =
        apr_psprintf(pool, "  s%d: {<<: *big, build: {context: ., args: *big}}\n", i);
  m = load_bad(apr_array_pstrcat(pool, parts, 0), &links);
  assert_string_equal(m, "@:1: \"<<\" merges bring in more than 250000 entries in all "
                         "(a merge bomb?)\n");

  /* Anchors times aliases: libyaml looks each alias up in a list. */
  parts = apr_array_make(pool, 10, sizeof(const char *));
  APR_ARRAY_PUSH(parts, const char *) = "x-a: [";
  for (int i = 0; i < 5000; i++)
    APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(pool, "&a%d 1, ", i);
  APR_ARRAY_PUSH(parts, const char *) = "0]\nx-b: [";
  APR_ARRAY_PUSH(parts, const char *) = repeat("*a4999, ", 100000);
  APR_ARRAY_PUSH(parts, const char *) = "0]\nservices: {}\n";
  m = load_bad(apr_array_pstrcat(pool, parts, 0), &links);
  assert_non_null(strstr(m, "@:2: too many YAML anchors and aliases"));

  /* A 300 KB value that does not interpolate: quoted in part. */
  m = load_bad(apr_pstrcat(pool, "services: {a: {build: \"${", repeat("a", 300000), "\"}}\n",
                           NULL), &links);
  assert_true(strlen(m) < 2048);
  assert_non_null(strstr(m, "...\""));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_build_forms, setup, teardown),
    cmocka_unit_test_setup_teardown(test_args_map_and_interpolation, setup, teardown),
    cmocka_unit_test_setup_teardown(test_interpolation_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dotenv, setup, teardown),
    cmocka_unit_test_setup_teardown(test_x_dray, setup, teardown),
    cmocka_unit_test_setup_teardown(test_x_dray_engines, setup, teardown),
    cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_structural_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_missing_file_and_containerfile, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hostile_yaml_bounded, setup, teardown),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  apr_terminate();
  return rc;
}
