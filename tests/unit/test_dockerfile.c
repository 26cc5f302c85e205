/* test_dockerfile.c — FROM / COPY --from extraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "dray/dockerfile.h"
#include "dray/file.h"

#include "testutil.h"



static dray_dockerfile_t *parse_ok(const char *text, const apr_array_header_t *build_args)
{
  dray_dockerfile_t *df = NULL;
  dray_error_t *err =
      dray_dockerfile_parse_string(&df, text, strlen(text), "Dockerfile", build_args, pool, pool);
  if (err) {
    print_error("unexpected error: %s\n", dray_error_format(err, pool));
    dray_error_clear(err);
    fail();
  }
  return df;
}

/* The whole error chain for TEXT, which must fail; *LINKS gets its length. */
static const char *parse_bad(const char *text, const apr_array_header_t *build_args, int *links)
{
  dray_dockerfile_t *df = NULL;
  dray_error_t *err, *e;
  const char *msg;
  int n = 0;

  err = dray_dockerfile_parse_string(&df, text, strlen(text), "Dockerfile", build_args, pool,
                                     pool);
  assert_non_null(err);
  assert_null(df); /* nothing half-returned */
  for (e = err; e; e = e->child) {
    assert_int_equal(e->apr_err, DRAY_ERR_INPUT);
    assert_true(strncmp(e->message, "Dockerfile:", 11) == 0);
    n++;
  }
  msg = apr_pstrdup(pool, dray_error_format(err, pool));
  dray_error_clear(err);
  if (links)
    *links = n;
  return msg;
}

static void check_ref(const dray_dockerfile_t *df, int i, const char *ref, int line, int stage,
                      const char *instruction)
{
  const dray_dockerfile_ref_t *r;
  assert_true(i < df->refs->nelts);
  r = APR_ARRAY_IDX(df->refs, i, dray_dockerfile_ref_t *);
  assert_string_equal(r->ref, ref);
  assert_int_equal(r->line, line);
  assert_int_equal(r->stage, stage);
  assert_string_equal(r->instruction, instruction);
}

static void test_simple(void **state)
{
  dray_dockerfile_t *df;
  (void)state;

  df = parse_ok("FROM busybox\nRUN true\n", NULL);
  assert_int_equal(df->refs->nelts, 1);
  assert_int_equal(df->stages->nelts, 1);
  check_ref(df, 0, "busybox", 1, 0, "FROM");
  assert_null(APR_ARRAY_IDX(df->stages, 0, dray_dockerfile_stage_t *)->name);

  /* No trailing newline, CRLF, a BOM, lower-case keyword. */
  df = parse_ok("\xEF\xBB\xBF# comment\r\n\r\nfrom localhost:5000/base:1", NULL);
  assert_int_equal(df->refs->nelts, 1);
  check_ref(df, 0, "localhost:5000/base:1", 3, 0, "FROM");

  /* scratch is no image. */
  df = parse_ok("FROM scratch\nCOPY x /\n", NULL);
  assert_int_equal(df->refs->nelts, 0);
}

static const char *multi =
    "# syntax=docker/dockerfile:1\n"                  /* 1 */
    "ARG BASE=alpine\n"                               /* 2 */
    "ARG VERSION=3.19\n"                              /* 3 */
    "FROM ${BASE}:${VERSION} AS build\n"              /* 4 */
    "RUN make\n"                                      /* 5 */
    "from --platform=$BUILDPLATFORM golang:1.22 as Tools\n" /* 6 */
    "COPY --from=build /a /b\n"                       /* 7 */
    "COPY --from=BUILD /a /b\n"                       /* 8 */
    "COPY --from=0 /x /y\n"                           /* 9 */
    "COPY --from=nginx:latest /etc/nginx /etc/nginx\n" /* 10 */
    "FROM build\n"                                    /* 11 */
    "COPY --from=later /x /y\n"                       /* 12 */
    "FROM scratch AS later\n";                        /* 13 */

static void test_stages(void **state)
{
  dray_dockerfile_t *df;
  const dray_dockerfile_stage_t *st;
  (void)state;

  df = parse_ok(multi, NULL);
  assert_int_equal(df->stages->nelts, 4);
  assert_int_equal(df->refs->nelts, 3);
  check_ref(df, 0, "alpine:3.19", 4, 0, "FROM");
  check_ref(df, 1, "golang:1.22", 6, 1, "FROM");
  check_ref(df, 2, "nginx:latest", 10, 1, "COPY --from");

  st = APR_ARRAY_IDX(df->stages, 1, dray_dockerfile_stage_t *);
  assert_string_equal(st->name, "tools"); /* stage names are case-insensitive */
  assert_int_equal(st->line, 6);
  assert_int_equal(st->uses->nelts, 3); /* build, BUILD, 0 */
  st = APR_ARRAY_IDX(df->stages, 2, dray_dockerfile_stage_t *);
  assert_null(st->name);
  assert_int_equal(st->uses->nelts, 2); /* FROM build, COPY --from=later (a later stage) */
  assert_int_equal(APR_ARRAY_IDX(st->uses, 0, int), 0);
  assert_int_equal(APR_ARRAY_IDX(st->uses, 1, int), 3);

  /* Build args override ARG defaults. */
  df = parse_ok(multi, dray_test_list("BASE=debian", "UNUSED=1", NULL));
  check_ref(df, 0, "debian:3.19", 4, 0, "FROM");
  df = parse_ok(multi, dray_test_list("VERSION=edge", NULL));
  check_ref(df, 0, "alpine:edge", 4, 0, "FROM");
}

static void test_substitution(void **state)
{
  dray_dockerfile_t *df;
  const char *text = "ARG TAG\n"
                     "ARG REG=\"localhost:5000\"\n"
                     "ARG NS=${REG}/team\n"
                     "FROM ${NS}/busybox:${TAG:-1.36}\n"
                     "FROM busybox${TAG:+-}${TAG}\n"
                     "FROM $REG/plain\n"
                     "FROM 'quoted':x\n";
  (void)state;

  df = parse_ok(text, NULL);
  assert_int_equal(df->refs->nelts, 4);
  check_ref(df, 0, "localhost:5000/team/busybox:1.36", 4, 0, "FROM");
  check_ref(df, 1, "busybox", 5, 1, "FROM");
  check_ref(df, 2, "localhost:5000/plain", 6, 2, "FROM");
  check_ref(df, 3, "quoted:x", 7, 3, "FROM");

  df = parse_ok(text, dray_test_list("TAG=musl", "REG=r.example.com", NULL));
  check_ref(df, 0, "r.example.com/team/busybox:musl", 4, 0, "FROM");
  check_ref(df, 1, "busybox-musl", 5, 1, "FROM");

  /* "-" without ":" keeps an empty value; ":-" does not. */
  df = parse_ok("ARG T=\nFROM a:${T:-x}\nFROM b${T-:y}\n", NULL);
  check_ref(df, 0, "a:x", 2, 0, "FROM");
  check_ref(df, 1, "b", 3, 1, "FROM");
  df = parse_ok("ARG T\nFROM b${T-:y}\n", NULL);
  check_ref(df, 0, "b:y", 2, 0, "FROM");
  /* An escaped "$" is literal; a nested default is expanded. */
  df = parse_ok("ARG A\nFROM x${A:-${B:-:nested}}\n", dray_test_list("B=", NULL));
  check_ref(df, 0, "x:nested", 2, 0, "FROM");

  /* BuildKit's lexer: quotes inside a default are removed, and a "}" in
   * them does not end it. */
  df = parse_ok("ARG A\nFROM x${A:-'-y'}:${A:-\"t\"}\n", NULL);
  check_ref(df, 0, "x-y:t", 2, 0, "FROM");

  /* ARG after FROM does not reach later FROM lines; an undeclared build arg
   * does not either. */
  df = parse_ok("FROM busybox\nARG LATE=zzz\nFROM img${LATE}${NOTDECLARED}\n",
                dray_test_list("NOTDECLARED=q", NULL));
  check_ref(df, 1, "img", 3, 1, "FROM");
}

static void test_env_build_arg(void **state)
{
  dray_dockerfile_t *df;
  (void)state;

  assert_int_equal(apr_env_set("DRAY_TEST_DF_BASE", "fromenv", pool), APR_SUCCESS);
  df = parse_ok("ARG DRAY_TEST_DF_BASE=dflt\nFROM ${DRAY_TEST_DF_BASE}\n",
                dray_test_list("DRAY_TEST_DF_BASE", NULL));
  check_ref(df, 0, "fromenv", 2, 0, "FROM");
  apr_env_delete("DRAY_TEST_DF_BASE", pool);
  /* Unset in the environment: the default stays. */
  df = parse_ok("ARG DRAY_TEST_DF_BASE=dflt\nFROM ${DRAY_TEST_DF_BASE}\n",
                dray_test_list("DRAY_TEST_DF_BASE", NULL));
  check_ref(df, 0, "dflt", 2, 0, "FROM");
}

static void test_copy_from_and_mounts(void **state)
{
  dray_dockerfile_t *df;
  (void)state;

  df = parse_ok("ARG SRC=img1\n"
                "FROM busybox\n"
                "ARG SRC\n"
                "COPY --from=${SRC} /a /b\n"
                "ENV OTHER=img2 X=1\n"
                "copy --chown=1:1 --from=$OTHER /a /b\n"
                "RUN --mount=type=bind,from=img3,target=/x true\n"
                "COPY --link /a --from=notaflag\n"
                "ADD --chmod=644 x /y\n",
                NULL);
  assert_int_equal(df->refs->nelts, 4);
  check_ref(df, 0, "busybox", 2, 0, "FROM");
  check_ref(df, 1, "img1", 4, 0, "COPY --from");
  check_ref(df, 2, "img2", 6, 0, "COPY --from");
  check_ref(df, 3, "img3", 7, 0, "RUN --mount");

  /* A stage's own ARG default; the legacy "ENV K V" form. */
  df = parse_ok("FROM a\nARG S=own\nENV LEG legacy-img\nCOPY --from=$S x y\n"
                "COPY --from=${LEG} x y\n", NULL);
  check_ref(df, 1, "own", 4, 0, "COPY --from");
  check_ref(df, 2, "legacy-img", 5, 0, "COPY --from");
}

static void test_escape_and_continuations(void **state)
{
  dray_dockerfile_t *df;
  (void)state;

  df = parse_ok("# escape=`\n"
                "FROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n"
                "  AS base\n"
                "RUN dir c:\\\n"
                "FROM base\n"
                "COPY --from=base c:\\ c:\\\n",
                NULL);
  assert_int_equal(df->stages->nelts, 2);
  assert_int_equal(df->refs->nelts, 1);
  check_ref(df, 0, "mcr.microsoft.com/windows/servercore:ltsc2022", 2, 0, "FROM");
  assert_string_equal(APR_ARRAY_IDX(df->stages, 0, dray_dockerfile_stage_t *)->name, "base");

  /* With the default escape a trailing "\" continues; comment and blank
   * lines inside are dropped; the instruction keeps its first line. */
  df = parse_ok("\n"
                "FROM \\\n"
                "# inside\n"
                "\n"
                "   busybox:1 \\  \n"
                "   AS one\n"
                "RUN echo hi \\\n"
                "  && echo FROM there\n"
                "FROM one\n"
                "FROM two\n",
                NULL);
  assert_int_equal(df->refs->nelts, 2);
  check_ref(df, 0, "busybox:1", 2, 0, "FROM");
  check_ref(df, 1, "two", 10, 2, "FROM");

  /* A directive after a comment is just a comment. */
  df = parse_ok("# hello\n# escape=`\nFROM a \\\n  AS b\n", NULL);
  check_ref(df, 0, "a", 3, 0, "FROM");
}

static void test_heredocs(void **state)
{
  dray_dockerfile_t *df;
  (void)state;

  df = parse_ok("FROM alpine\n"
                "RUN <<EOF\n"
                "FROM evil\n"
                "EOF\n"
                "COPY <<-\"END\" <<OTHER /x\n"
                "\tFROM evil2\n"
                "\tEND\n"
                "FROM evil3\n"
                "OTHER\n"
                "RUN echo \"a<<b\"\n"
                "FROM busybox\n",
                NULL);
  assert_int_equal(df->refs->nelts, 2);
  check_ref(df, 0, "alpine", 1, 0, "FROM");
  check_ref(df, 1, "busybox", 11, 1, "FROM");
}

static void test_errors(void **state)
{
  const char *m;
  int links;
  (void)state;

  m = parse_bad("", NULL, &links);
  assert_string_equal(m, "Dockerfile:1: no FROM instruction");
  m = parse_bad("# just a comment\nARG A=1\n\n", NULL, &links);
  assert_string_equal(m, "Dockerfile:2: no FROM instruction");
  m = parse_bad("RUN true\nFROM x\n", NULL, &links);
  assert_string_equal(m, "Dockerfile:1: RUN before the first FROM (only ARG may come before it)");
  m = parse_bad("ARG X\nFROM ${X}\n", NULL, &links);
  assert_string_equal(m, "Dockerfile:2: FROM: base name (${X}) should not be blank");
  m = parse_bad("FROM Busybox\n", NULL, &links);
  assert_string_equal(m, "Dockerfile:1: FROM: invalid reference \"Busybox\": "
                         "repository name must be lowercase");
  m = parse_bad("# escape=x\nFROM a\n", NULL, &links);
  assert_non_null(strstr(m, "Dockerfile:1: invalid escape directive"));
  m = parse_bad("FROM a b\n", NULL, &links);
  assert_non_null(strstr(m, "Dockerfile:1: FROM requires"));
  m = parse_bad("FROM a AS 1bad\n", NULL, &links);
  assert_non_null(strstr(m, "invalid stage name"));
  m = parse_bad("FROM a\nCOPY --from=3 x y\n", NULL, &links);
  assert_string_equal(m, "Dockerfile:2: COPY --from=3: no such stage");
  m = parse_bad("FROM a AS me\nCOPY --from=me x y\n", NULL, &links);
  assert_string_equal(m, "Dockerfile:2: COPY --from=me: a stage cannot use itself");
  m = parse_bad("FROM a:${X\n", NULL, &links);
  assert_non_null(strstr(m, "missing \"}\""));
  m = parse_bad("ARG A\nFROM x${A:-\"}\"}\n", NULL, &links);
  assert_non_null(strstr(m, "invalid reference \"x}\""));
  m = parse_bad("FROM a:${X:-${Y\n", NULL, &links);
  assert_non_null(strstr(m, "Dockerfile:1: FROM a:${X:-${Y: bad substitution: missing \"}\""));
  m = parse_bad("FROM a:${X%y}\n", NULL, &links);
  assert_non_null(strstr(m, "unsupported substitution \"${X…}\""));
  m = parse_bad("ARG X\nFROM a:${X:?needs_X}\n", NULL, &links);
  assert_non_null(strstr(m, "Dockerfile:2: FROM a:${X:?needs_X}: X: needs_X"));

  /* All problems together, in file order. */
  m = parse_bad("FROM Bad\nFROM ok\nFROM also:bad:tag\nCOPY --from=upper/X a b\n", NULL, &links);
  assert_int_equal(links, 3);
  assert_non_null(strstr(m, "Dockerfile:1: "));
  assert_non_null(strstr(m, "Dockerfile:3: "));
  assert_non_null(strstr(m, "Dockerfile:4: COPY --from: invalid reference \"upper/X\""));
}

/* Hostile input: every one parses to a result or an input error, never a
 * crash (run under ASan in the sanitizer build). An instruction with no
 * words (a lone escape character at the end of the file) used to be indexed
 * anyway. */
static void test_hostile(void **state)
{
  static const char *const inputs[] = {
    "FROM a\n\\", "\\", "FROM a\n\\\n", "FROM a\n  \\  \n", "\\\n\\\n\\",
    "# escape=`\nFROM a\n`", "FROM a\nENV\n", "FROM a\nENV =\n", "FROM a\nENV a\n",
    "ARG =\nFROM a\n", "ARG\nFROM a\n", "FROM a\nCOPY --from= x y\n",
    "FROM a\nRUN --mount=from= x\n", "FROM a\nRUN --mount=,,, x\n", "FROM\n", "FROM \"\"\n",
    "FROM a\nRUN <<\n", "FROM a\nRUN <<''\n", "FROM a\nRUN <<-\n", "FROM a\nRUN <<EOF\n",
    "FROM a\nCOPY <<\"\" x\n", "FROM a AS\n", "FROM a AS \"\"\n", "\xEF\xBB\xBF", "\r\n\r\n",
    "FROM a\nRUN \"\\", "FROM a\nRUN '", "FROM ${\n", "FROM $\n", "FROM ${:-}\n",
  };
  size_t i;
  (void)state;

  for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
    dray_dockerfile_t *df = NULL;
    dray_error_t *err = dray_dockerfile_parse_string(&df, inputs[i], strlen(inputs[i]),
                                                     "Dockerfile", NULL, pool, pool);
    assert_true((err == NULL) != (df == NULL));
    dray_error_clear(err);
  }
  /* The stray escape is no instruction: the file before it still counts. */
  {
    dray_dockerfile_t *df = parse_ok("FROM alpine\n\\", NULL);
    assert_int_equal(df->refs->nelts, 1);
    check_ref(df, 0, "alpine", 1, 0, "FROM");
  }
}

static void test_target(void **state)
{
  dray_dockerfile_t *df;
  apr_array_header_t *refs;
  dray_error_t *err;
  (void)state;

  df = parse_ok("FROM golang AS build\n"
                "FROM node AS test\n"
                "COPY --from=build x y\n"
                "FROM alpine AS final\n"
                "COPY --from=build /x /y\n"
                "COPY --from=redis /x /y\n",
                NULL);
  assert_null(dray_dockerfile_target_refs(&refs, df, NULL, pool));
  assert_int_equal(refs->nelts, 3);
  assert_string_equal(APR_ARRAY_IDX(refs, 0, dray_dockerfile_ref_t *)->ref, "golang");
  assert_string_equal(APR_ARRAY_IDX(refs, 1, dray_dockerfile_ref_t *)->ref, "alpine");
  assert_string_equal(APR_ARRAY_IDX(refs, 2, dray_dockerfile_ref_t *)->ref, "redis");

  assert_null(dray_dockerfile_target_refs(&refs, df, "TEST", pool));
  assert_int_equal(refs->nelts, 2);
  assert_string_equal(APR_ARRAY_IDX(refs, 0, dray_dockerfile_ref_t *)->ref, "golang");
  assert_string_equal(APR_ARRAY_IDX(refs, 1, dray_dockerfile_ref_t *)->ref, "node");

  err = dray_dockerfile_target_refs(&refs, df, "nope", pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  assert_string_equal(err->message, "Dockerfile: target stage \"nope\" not found");
  dray_error_clear(err);
}

static void test_file(void **state)
{
  const char *tmp, *path;
  apr_file_t *f;
  dray_dockerfile_t *df = NULL;
  dray_error_t *err;
  (void)state;

  assert_int_equal(apr_temp_dir_get(&tmp, pool), APR_SUCCESS);
  path = apr_psprintf(pool, "%s/dray-test-df-XXXXXX", tmp); /* mktemp rewrites it */
  assert_int_equal(apr_file_mktemp(&f, (char *)path,
                                   APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE
                                       | APR_FOPEN_EXCL, pool), APR_SUCCESS);
  assert_int_equal(apr_file_puts("ARG V=2\nFROM base:$V\n", f), APR_SUCCESS);
  apr_file_close(f);

  err = dray_dockerfile_parse(&df, path, NULL, pool, pool);
  assert_null(err);
  assert_string_equal(df->path, path);
  check_ref(df, 0, "base:2", 2, 0, "FROM");
  assert_int_equal(apr_file_remove(path, pool), APR_SUCCESS);

  df = NULL;
  err = dray_dockerfile_parse(&df, path, NULL, pool, pool);
  assert_non_null(err);
  assert_null(df);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  assert_true(strncmp(err->message, apr_pstrcat(pool, path, ": cannot read", NULL),
                      strlen(path) + 13) == 0);
  dray_error_clear(err);

  /* A huge (sparse) file is refused with its name, before any allocation. */
  assert_int_equal(apr_file_open(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE, APR_FPROT_OS_DEFAULT,
                                 pool), APR_SUCCESS);
  assert_int_equal(apr_file_trunc(f, (apr_off_t)DRAY_FILE_MAX_SIZE + 1), APR_SUCCESS);
  apr_file_close(f);
  err = dray_dockerfile_parse(&df, path, NULL, pool, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  assert_non_null(strstr(err->message, "too large"));
  assert_true(strncmp(err->message, path, strlen(path)) == 0);
  dray_error_clear(err);
  assert_int_equal(apr_file_remove(path, pool), APR_SUCCESS);

  err = dray_dockerfile_parse(&df, tmp, NULL, pool, pool); /* a folder */
  assert_non_null(err);
  assert_non_null(strstr(err->message, "not a regular file"));
  dray_error_clear(err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_simple),
    cmocka_unit_test(test_stages),
    cmocka_unit_test(test_substitution),
    cmocka_unit_test(test_env_build_arg),
    cmocka_unit_test(test_copy_from_and_mounts),
    cmocka_unit_test(test_escape_and_continuations),
    cmocka_unit_test(test_heredocs),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_hostile),
    cmocka_unit_test(test_target),
    cmocka_unit_test(test_file),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
