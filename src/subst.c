/* subst.c — "${VAR}" substitution in one pass.
 *
 * A nested word ("${A:-${B}}") is expanded straight into the output; once
 * the "}" is found, the word is either kept or cut off again and replaced by
 * the value. So every input byte is read once, whatever the nesting.
 */
#include "dray/subst.h"

#include <string.h>

#include <apr_strings.h>

#include "dray/strbuf.h"

typedef struct subst_t {
  const char *s;
  apr_size_t len, i;
  const dray_subst_options_t *o;
  dray_strbuf_t out;           /* in POOL */
  int depth;
  apr_pool_t *pool;
  dray_subst_failure_t *f;     /* never NULL here */
} subst_t;

static int is_name_start(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(char c)
{
  return is_name_start(c) || (c >= '0' && c <= '9');
}

apr_size_t dray_subst_name_len(const char *s, apr_size_t len)
{
  apr_size_t i = 0;
  if (len == 0 || !is_name_start(s[0]))
    return 0;
  while (i < len && is_name_char(s[i]))
    i++;
  return i;
}

static void add(subst_t *st, const char *p, apr_size_t n)
{
  dray_strbuf_append(&st->out, p, n);
}

static void add_value(subst_t *st, const char *value)
{
  if (value)
    add(st, value, strlen(value));
}

static const char *lookup(subst_t *st, apr_size_t start, apr_size_t end)
{
  const char *name = apr_pstrmemdup(st->pool, st->s + start, end - start);
  return st->o->lookup ? st->o->lookup(st->o->baton, name, st->pool) : NULL;
}

/* Record PROBLEM at the innermost "${" that has it: the first call wins. */
static dray_subst_problem_t fail(subst_t *st, dray_subst_problem_t problem, apr_size_t name_start,
                                 apr_size_t name_end, char op, int colon)
{
  if (st->f->problem == DRAY_SUBST_OK) {
    st->f->problem = problem;
    st->f->name = name_end > name_start
                      ? apr_pstrmemdup(st->pool, st->s + name_start, name_end - name_start)
                      : NULL;
    st->f->op = op;
    st->f->colon = colon;
  }
  return problem;
}

static dray_subst_problem_t run(subst_t *st, int in_word);

/* "${…}" with S[I] at the "{". */
static dray_subst_problem_t braced(subst_t *st)
{
  const char *s = st->s, *value;
  apr_size_t name_start = ++st->i, name_end, mark;
  dray_subst_problem_t problem;
  int colon = 0;
  char op = 0;

  st->i += dray_subst_name_len(s + st->i, st->len - st->i);
  name_end = st->i;
  if (name_end == name_start)
    return fail(st, DRAY_SUBST_NO_NAME, 0, 0, 0, 0);
  if (st->i >= st->len)
    return fail(st, DRAY_SUBST_UNTERMINATED, name_start, name_end, 0, 0);
  if (s[st->i] == '}') {
    st->i++;
    add_value(st, lookup(st, name_start, name_end));
    return DRAY_SUBST_OK;
  }
  if (s[st->i] == ':') {
    colon = 1;
    st->i++;
  }
  if (st->i >= st->len || (s[st->i] != '-' && s[st->i] != '+' && s[st->i] != '?'))
    return fail(st, DRAY_SUBST_BAD_OPERATOR, name_start, name_end, 0, colon);
  op = s[st->i++];
  if (st->depth >= DRAY_SUBST_MAX_DEPTH)
    return fail(st, DRAY_SUBST_TOO_DEEP, name_start, name_end, op, colon);

  /* The word goes straight to the output; cut off below if unused. */
  mark = st->out.len;
  st->depth++;
  problem = run(st, 1);
  st->depth--;
  if (problem) /* run() leaves an unterminated word to us to describe */
    return fail(st, problem, name_start, name_end, op, colon);
  value = lookup(st, name_start, name_end);
  if (colon && value && !*value)
    value = NULL; /* with ":" an empty value counts as unset */
  if (op == '?' && !value) {
    fail(st, DRAY_SUBST_REQUIRED, name_start, name_end, op, colon);
    st->f->word = apr_pstrmemdup(st->pool, st->out.data + mark, st->out.len - mark);
    return DRAY_SUBST_REQUIRED;
  }
  if (op == '+' ? !value : value != NULL) {
    dray_strbuf_truncate(&st->out, mark); /* cut back: the default was not used */
    add_value(st, value);
  }
  return DRAY_SUBST_OK;
}

/* Copy and expand up to the end, or (IN_WORD) up to and past the "}" that
 * closes the current "${". */
static dray_subst_problem_t run(subst_t *st, int in_word)
{
  const char *s = st->s;
  int shell = (st->o->flags & DRAY_SUBST_SHELL_WORDS) != 0;
  int dquote = 0;

  while (st->i < st->len) {
    char c = s[st->i];
    if (in_word && c == '}' && !dquote) {
      st->i++;
      return DRAY_SUBST_OK;
    }
    if (shell && c == st->o->escape && st->i + 1 < st->len) {
      add(st, s + st->i + 1, 1);
      st->i += 2;
    } else if (shell && c == '\'' && !dquote) {
      /* Literal up to the closing quote (or the end). */
      const char *end = memchr(s + st->i + 1, '\'', st->len - st->i - 1);
      apr_size_t stop = end ? (apr_size_t)(end - s) : st->len;
      add(st, s + st->i + 1, stop - st->i - 1);
      st->i = end ? stop + 1 : stop;
    } else if (shell && c == '"') {
      dquote = !dquote;
      st->i++;
    } else if (c == '$' && st->i + 1 < st->len && s[st->i + 1] == '$'
               && (st->o->flags & DRAY_SUBST_DOLLAR_DOLLAR)) {
      add(st, "$", 1);
      st->i += 2;
    } else if (c == '$' && st->i + 1 < st->len && s[st->i + 1] == '{') {
      dray_subst_problem_t problem;
      st->i++;
      problem = braced(st);
      if (problem)
        return problem;
    } else if (c == '$' && st->i + 1 < st->len && is_name_start(s[st->i + 1])) {
      apr_size_t start = ++st->i;
      st->i += dray_subst_name_len(s + start, st->len - start);
      add_value(st, lookup(st, start, st->i));
    } else {
      add(st, &c, 1);
      st->i++;
    }
  }
  return in_word ? DRAY_SUBST_UNTERMINATED : DRAY_SUBST_OK;
}

dray_error_t *dray_subst_expand(const char **result, dray_subst_failure_t *failure,
                                const char *s, apr_size_t len,
                                const dray_subst_options_t *opts, apr_pool_t *result_pool,
                                apr_pool_t *scratch_pool)
{
  dray_subst_failure_t local;
  dray_subst_problem_t problem;
  const char *reason;
  subst_t st;

  memset(&st, 0, sizeof(st));
  memset(&local, 0, sizeof(local));
  st.s = s;
  st.len = len;
  st.o = opts;
  st.pool = scratch_pool;
  dray_strbuf_init(&st.out, len + 16, scratch_pool);
  st.f = &local;
  *result = NULL;

  problem = run(&st, 0);
  if (!problem) {
    *result = apr_pstrmemdup(result_pool, st.out.data, st.out.len);
    if (failure)
      memset(failure, 0, sizeof(*failure));
    return DRAY_NO_ERROR;
  }

  switch (problem) {
  case DRAY_SUBST_NO_NAME:
    reason = "bad substitution: missing variable name after \"${\"";
    break;
  case DRAY_SUBST_UNTERMINATED:
    reason = "bad substitution: missing \"}\"";
    break;
  case DRAY_SUBST_BAD_OPERATOR:
    reason = apr_psprintf(scratch_pool, "unsupported substitution \"${%s%s…}\"", local.name,
                          local.colon ? ":" : "");
    break;
  case DRAY_SUBST_REQUIRED:
    reason = apr_psprintf(scratch_pool, "%s: %s", local.name,
                          *local.word ? local.word : "is not set");
    break;
  default:
    reason = apr_psprintf(scratch_pool, "bad substitution: \"${\" nested more than %d deep",
                          DRAY_SUBST_MAX_DEPTH);
    break;
  }
  if (failure) {
    failure->problem = problem;
    failure->name = local.name ? apr_pstrdup(result_pool, local.name) : NULL;
    failure->op = local.op;
    failure->colon = local.colon;
    failure->word = local.word ? apr_pstrdup(result_pool, local.word) : NULL;
  }
  return dray_error_create(DRAY_ERR_INPUT, NULL, reason);
}
