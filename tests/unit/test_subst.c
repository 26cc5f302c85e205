/* test_subst.c — "${VAR}" substitution: operators, nesting, "$$", shell
 * words, every failure, the depth cap and linear time on long input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_hash.h>

#include "dray/compose.h"
#include "dray/dockerfile.h"
#include "dray/subst.h"

/* Bytes the C heap holds (glibc): how much an expansion allocated, so that
 * memory is measured, not time. Elsewhere (and under ASan, whose mallinfo2
 * says 0) the checks that use it pass trivially. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
#include <malloc.h>
static long long heap_in_use(void)
{
  struct mallinfo2 m = mallinfo2();
  return (long long)m.uordblks + (long long)m.hblkhd;
}
#else
static long long heap_in_use(void)
{
  return 0;
}
#endif

#include "testutil.h"

static apr_hash_t *vars;
static int lookups;

static const char *lookup(void *baton, const char *name, apr_pool_t *scratch_pool)
{
  (void)scratch_pool;
  lookups++;
  return apr_hash_get(baton, name, APR_HASH_KEY_STRING);
}

static int setup(void **state)
{
  if (dray_test_setup(state) != 0)
    return -1;
  vars = apr_hash_make(pool);
  apr_hash_set(vars, "A", APR_HASH_KEY_STRING, "a");
  apr_hash_set(vars, "EMPTY", APR_HASH_KEY_STRING, "");
  apr_hash_set(vars, "_x1", APR_HASH_KEY_STRING, "under");
  return 0;
}

static dray_subst_options_t options(unsigned flags)
{
  dray_subst_options_t o;
  memset(&o, 0, sizeof(o));
  o.flags = flags;
  o.escape = '\\';
  o.lookup = lookup;
  o.baton = vars;
  return o;
}

static const char *ok(const char *s, unsigned flags)
{
  dray_subst_options_t o = options(flags);
  const char *out = NULL;
  dray_test_no_error(dray_subst_expand(&out, NULL, s, strlen(s), &o, pool, pool));
  return out;
}

/* The error's message; *F gets the details. */
static const char *bad(const char *s, unsigned flags, dray_subst_failure_t *f)
{
  dray_subst_options_t o = options(flags);
  const char *out = "untouched", *msg;
  dray_error_t *err = dray_subst_expand(&out, f, s, strlen(s), &o, pool, pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  assert_null(out);
  msg = apr_pstrdup(pool, err->message);
  dray_error_clear(err);
  return msg;
}

static void test_operators(void **state)
{
  (void)state;
  assert_string_equal(ok("", 0), "");
  assert_string_equal(ok("plain text", 0), "plain text");
  assert_string_equal(ok("$A ${A} $_x1.${_x1}", 0), "a a under.under");
  assert_string_equal(ok("[$NOPE][${NOPE}]", 0), "[][]");
  assert_string_equal(ok("$Ab", 0), ""); /* the name is "Ab" */
  assert_string_equal(ok("${A:-d}${NOPE:-d}${EMPTY:-d}", 0), "add");
  assert_string_equal(ok("${A-d}${NOPE-d}[${EMPTY-d}]", 0), "ad[]");
  assert_string_equal(ok("${A:+w}[${NOPE:+w}][${EMPTY:+w}]", 0), "w[][]");
  assert_string_equal(ok("${A+w}[${NOPE+w}]${EMPTY+w}", 0), "w[]w");
  assert_string_equal(ok("${A:?m}${A?m}[${EMPTY?m}]", 0), "aa[]");
  assert_string_equal(ok("${NOPE:-}x", 0), "x");
  /* A lone "$", "$" before a non-name, "$" at the end: kept. */
  assert_string_equal(ok("$ $1 $- cost$", 0), "$ $1 $- cost$");
  /* Braces that are not "${" are text, also inside a word. */
  assert_string_equal(ok("{A} ${NOPE:-{x}", 0), "{A} {x");
}

static void test_nesting(void **state)
{
  (void)state;
  assert_string_equal(ok("${NOPE:-${A}}", 0), "a");
  assert_string_equal(ok("${NOPE:-x${NOPE2:-${A}y}z}!", 0), "xayz!");
  assert_string_equal(ok("${A:-${NOPE:-unused}}", 0), "a");
  assert_string_equal(ok("${A:+[${A}${A}]}", 0), "[aa]");
  assert_string_equal(ok("${NOPE:+${A}}end", 0), "end");
  assert_string_equal(ok("${EMPTY:-${EMPTY:-${EMPTY:-deep}}}", 0), "deep");
}

static void test_dollar_dollar(void **state)
{
  (void)state;
  assert_string_equal(ok("$$A $${A} $$$A", DRAY_SUBST_DOLLAR_DOLLAR), "$A ${A} $a");
  assert_string_equal(ok("${NOPE:-$$}", DRAY_SUBST_DOLLAR_DOLLAR), "$");
  /* Without the flag "$$" is two literal dollars, the second may start a name. */
  assert_string_equal(ok("$$ $$A", 0), "$$ $a");
}

static void test_shell_words(void **state)
{
  dray_subst_options_t o = options(DRAY_SUBST_SHELL_WORDS);
  const char *out;
  (void)state;
  assert_string_equal(ok("'$A' \"$A\" \\$A", DRAY_SUBST_SHELL_WORDS), "$A a $A");
  assert_string_equal(ok("\"'$A'\"", DRAY_SUBST_SHELL_WORDS), "'a'");
  assert_string_equal(ok("${NOPE:-'}'}", DRAY_SUBST_SHELL_WORDS), "}");
  assert_string_equal(ok("${NOPE:-a\\}b}", DRAY_SUBST_SHELL_WORDS), "a}b");
  assert_string_equal(ok("${NOPE:-\"x y\"}", DRAY_SUBST_SHELL_WORDS), "x y");
  assert_string_equal(ok("'open", DRAY_SUBST_SHELL_WORDS), "open");
  assert_string_equal(ok("end\\", DRAY_SUBST_SHELL_WORDS), "end\\");
  /* Without the flag quotes and backslashes are text. */
  assert_string_equal(ok("'$A' \\x", 0), "'a' \\x");
  /* Another escape character (Dockerfile "# escape=`"). */
  o.escape = '`';
  dray_test_no_error(dray_subst_expand(&out, NULL, "`$A\\", 4, &o, pool, pool));
  assert_string_equal(out, "$A\\");
}

static void test_failures(void **state)
{
  dray_subst_failure_t f;
  (void)state;

  assert_string_equal(bad("x${", 0, &f), "bad substitution: missing variable name after \"${\"");
  assert_int_equal(f.problem, DRAY_SUBST_NO_NAME);
  assert_null(f.name);
  bad("${}", 0, &f);
  assert_int_equal(f.problem, DRAY_SUBST_NO_NAME);
  bad("${1A}", 0, &f);
  assert_int_equal(f.problem, DRAY_SUBST_NO_NAME);

  assert_string_equal(bad("${A", 0, &f), "bad substitution: missing \"}\"");
  assert_int_equal(f.problem, DRAY_SUBST_UNTERMINATED);
  assert_string_equal(f.name, "A");
  assert_int_equal(f.op, 0);
  bad("${A:-word", 0, &f);
  assert_int_equal(f.problem, DRAY_SUBST_UNTERMINATED);
  assert_int_equal(f.op, '-');
  assert_true(f.colon);
  /* A complete inner "${B}" does not hide the outer one's missing "}". */
  bad("${A:+x${B}y", 0, &f);
  assert_int_equal(f.problem, DRAY_SUBST_UNTERMINATED);
  assert_string_equal(f.name, "A");
  assert_int_equal(f.op, '+');
  /* An unterminated inner one is the one reported. */
  bad("${A:-${B", 0, &f);
  assert_string_equal(f.name, "B");
  assert_int_equal(f.op, 0);
  /* A quote left open in a word hides its "}". */
  bad("${A:-\"}", DRAY_SUBST_SHELL_WORDS, &f);
  assert_int_equal(f.problem, DRAY_SUBST_UNTERMINATED);

  assert_string_equal(bad("${A%x}", 0, &f), "unsupported substitution \"${A…}\"");
  assert_int_equal(f.problem, DRAY_SUBST_BAD_OPERATOR);
  assert_string_equal(bad("${A:}", 0, &f), "unsupported substitution \"${A:…}\"");
  assert_true(f.colon);
  bad("${A:", 0, &f);
  assert_int_equal(f.problem, DRAY_SUBST_BAD_OPERATOR);

  assert_string_equal(bad("x${NOPE:?must be set}", 0, &f), "NOPE: must be set");
  assert_int_equal(f.problem, DRAY_SUBST_REQUIRED);
  assert_string_equal(f.name, "NOPE");
  assert_string_equal(f.word, "must be set");
  assert_string_equal(bad("${EMPTY:?}", 0, &f), "EMPTY: is not set");
  assert_string_equal(f.word, "");
  /* The message itself is expanded. */
  bad("${NOPE?need ${A}}", 0, &f);
  assert_string_equal(f.word, "need a");
  /* Inside an unused word the error still counts (as BuildKit). */
  bad("${A:-${NOPE:?x}}", 0, &f);
  assert_string_equal(f.name, "NOPE");

  /* FAILURE may be NULL. */
  {
    dray_subst_options_t o = options(0);
    const char *out;
    dray_error_t *err = dray_subst_expand(&out, NULL, "${", 2, &o, pool, pool);
    assert_non_null(err);
    dray_error_clear(err);
  }
}

static const char *nested(int depth)
{
  apr_size_t n = (apr_size_t)depth;
  char *s = apr_palloc(pool, n * 8 + 2), *p = s;
  for (apr_size_t i = 0; i < n; i++, p += 7)
    memcpy(p, "${N:-x ", 7);
  *p++ = 'z';
  for (apr_size_t i = 0; i < n; i++)
    *p++ = '}';
  *p = '\0';
  return s;
}

static void test_depth(void **state)
{
  dray_subst_failure_t f;
  const char *out;
  (void)state;

  out = ok(nested(DRAY_SUBST_MAX_DEPTH), 0);
  assert_int_equal(strlen(out), (apr_size_t)DRAY_SUBST_MAX_DEPTH * 2 + 1);
  assert_string_equal(bad(nested(DRAY_SUBST_MAX_DEPTH + 1), 0, &f),
                      "bad substitution: \"${\" nested more than 32 deep");
  assert_int_equal(f.problem, DRAY_SUBST_TOO_DEEP);
  bad(nested(100000), 0, &f); /* no stack overflow */
  assert_int_equal(f.problem, DRAY_SUBST_TOO_DEEP);
}

/* A long input with many variables and defaults: each looked up once, and
 * the output as expected (a quadratic copy would time the test out). */
static void test_long_input(void **state)
{
  const int n = 200000;
  char *s = apr_palloc(pool, (apr_size_t)n * 11 + 1), *p = s;
  const char *out;
  (void)state;
  for (int i = 0; i < n; i++, p += 11)
    memcpy(p, "${NOPE:-ab}", 11);
  *p = '\0';
  lookups = 0;
  out = ok(s, 0);
  assert_int_equal(strlen(out), (apr_size_t)n * 2);
  assert_int_equal(lookups, n);
  assert_int_equal(memcmp(out, "ababab", 6), 0);
}

/* TEXT N times, then TAIL. */
static const char *repeat(const char *text, int n, const char *tail)
{
  apr_size_t len = strlen(text), tlen = strlen(tail);
  char *out = apr_palloc(pool, len * (apr_size_t)n + tlen + 1), *o = out;
  for (int i = 0; i < n; i++, o += len)
    memcpy(o, text, len);
  memcpy(o, tail, tlen + 1);
  return out;
}

/* 240 KB of "${A:-${A:-…" (the issue's case: 4.8 GB and 22 s when each
 * level copied the rest of the text): work and memory linear, in lookups
 * counted and heap bytes measured, through subst, a Dockerfile FROM and a
 * compose value. */
static void test_nested_240k(void **state)
{
  enum { LEVELS = 48000 };
  const char *deep = apr_pstrcat(pool, repeat("${A:-", LEVELS, "x"), repeat("}", LEVELS, ""),
                                 NULL);
  const char *block = apr_pstrcat(pool, repeat("${A:-", DRAY_SUBST_MAX_DEPTH, "x"),
                                  repeat("}", DRAY_SUBST_MAX_DEPTH, ""), NULL);
  int blocks = 240 * 1024 / (int)strlen(block) + 1;
  const char *wide = repeat(block, blocks, ""), *out;
  apr_size_t len = strlen(deep);
  dray_subst_failure_t f;
  apr_pool_t *sub;
  long long before;
  (void)state;

  assert_true(len >= 240000);
  apr_pool_create(&sub, pool);
  before = heap_in_use();
  {
    dray_subst_options_t o = options(0);
    dray_error_t *err = dray_subst_expand(&out, &f, deep, len, &o, sub, sub);
    assert_non_null(err);
    assert_int_equal(f.problem, DRAY_SUBST_TOO_DEEP);
    dray_error_clear(err);
  }
  assert_true(heap_in_use() - before < 16 * (long long)len);
  apr_pool_destroy(sub);

  /* As deep as allowed, side by side, to 240 KB: 32 lookups per block. */
  lookups = 0;
  before = heap_in_use();
  out = ok(wide, 0);
  assert_int_equal(lookups, DRAY_SUBST_MAX_DEPTH * blocks);
  assert_int_equal(strlen(out), (apr_size_t)blocks);
  assert_true(heap_in_use() - before < 16 * (long long)strlen(wide));
  /* Unset: each default kept, cut back and replaced at every level. */
  block = apr_pstrcat(pool, repeat("${NOPE:-", DRAY_SUBST_MAX_DEPTH, "x"),
                      repeat("}", DRAY_SUBST_MAX_DEPTH, ""), NULL);
  out = ok(repeat(block, blocks, ""), 0);
  assert_int_equal(strlen(out), (apr_size_t)blocks);

  /* A Dockerfile FROM and a compose value: an error, in bounded memory. */
  apr_pool_create(&sub, pool);
  before = heap_in_use();
  {
    const char *text = apr_pstrcat(sub, "FROM ", deep, "\n", NULL);
    dray_dockerfile_t *df = NULL;
    dray_error_t *err = dray_dockerfile_parse_string(&df, text, strlen(text), "Dockerfile",
                                                     NULL, sub, sub);
    assert_non_null(err);
    assert_non_null(strstr(dray_error_format(err, sub), "nested more than 32 deep"));
    dray_error_clear(err);
  }
  {
    const char *text = apr_pstrcat(sub, "services:\n  a:\n    build: .\n    image: \"", deep,
                                   "\"\n", NULL);
    dray_compose_t *c = NULL;
    dray_error_t *err = dray_compose_parse(&c, text, strlen(text), "compose.yaml", sub, sub);
    assert_non_null(err);
    assert_non_null(strstr(dray_error_format(err, sub), "nested more than 32 deep"));
    dray_error_clear(err);
  }
  assert_true(heap_in_use() - before < 64 * (long long)len);
  apr_pool_destroy(sub);
}

static void test_name_len(void **state)
{
  (void)state;
  assert_int_equal(dray_subst_name_len("ABC_1-x", 7), 5);
  assert_int_equal(dray_subst_name_len("_", 1), 1);
  assert_int_equal(dray_subst_name_len("ABC", 2), 2);
  assert_int_equal(dray_subst_name_len("1A", 2), 0);
  assert_int_equal(dray_subst_name_len("", 0), 0);
  assert_int_equal(dray_subst_name_len("-", 1), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_operators),
    cmocka_unit_test(test_nesting),
    cmocka_unit_test(test_dollar_dollar),
    cmocka_unit_test(test_shell_words),
    cmocka_unit_test(test_failures),
    cmocka_unit_test(test_depth),
    cmocka_unit_test(test_long_input),
    cmocka_unit_test(test_nested_240k),
    cmocka_unit_test(test_name_len),
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, setup, dray_test_teardown);
}
