/* dockerfile.c — FROM / COPY --from extraction, following BuildKit's parser
 * (frontend/dockerfile/parser) closely enough for references: directives,
 * comments, continuations, heredocs, quoting and ARG/ENV substitution.
 */
#include "dray/dockerfile.h"
#include "dray/file.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "dray/ref.h"
#include "dray/subst.h"

/* Marks a variable that is declared but has no value: "${X-d}" tells unset
 * from empty, so absence and "" are not enough. */
static const char unset_value[] = "";
#define UNSET ((const char *)unset_value)

typedef struct line_t {
  const char *s;
  apr_size_t len;
} line_t;

/* A reference as found, resolved against stage names at the end: COPY
 * --from may name a stage defined further down. */
typedef struct candidate_t {
  const char *value;
  const char *instruction;
  int line;
  int stage;
  int is_from;
} candidate_t;

typedef struct problem_t {
  int line;
  const char *message;
} problem_t;

typedef struct parser_t {
  const char *path;
  char esc;
  apr_pool_t *rpool;
  apr_pool_t *spool;
  apr_hash_t *build_args; /* name -> value */
  apr_hash_t *global;     /* ARGs before the first FROM */
  apr_hash_t *vars;       /* ARG and ENV of the current stage */
  dray_dockerfile_t *df;
  apr_array_header_t *candidates; /* candidate_t */
  apr_array_header_t *problems;   /* problem_t, reported in line order */
  int misplaced_reported;
} parser_t;

static void problem(parser_t *p, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void problem(parser_t *p, int line, const char *fmt, ...)
{
  va_list ap;
  const char *msg;
  va_start(ap, fmt);
  msg = apr_pvsprintf(p->spool, fmt, ap);
  va_end(ap);
  {
    problem_t *pr = &APR_ARRAY_PUSH(p->problems, problem_t);
    pr->line = line;
    pr->message = msg;
  }
}

/* One chain, in line order (some problems are only found at the end). */
static dray_error_t *problems_error(parser_t *p)
{
  dray_error_t *err = NULL;
  problem_t *pr = (problem_t *)p->problems->elts;
  int i, j;

  for (i = 1; i < p->problems->nelts; i++) {
    problem_t v = pr[i];
    for (j = i; j > 0 && pr[j - 1].line > v.line; j--)
      pr[j] = pr[j - 1];
    pr[j] = v;
  }
  for (i = 0; i < p->problems->nelts; i++)
    err = dray_error_compose(err, dray_error_createf(DRAY_ERR_INPUT, NULL, "%s:%d: %s", p->path,
                                                     pr[i].line, pr[i].message));
  return err;
}

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static char ascii_lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int ascii_casecmp(const char *a, const char *b)
{
  for (; *a && ascii_lower(*a) == ascii_lower(*b); a++, b++)
    ;
  return (unsigned char)ascii_lower(*a) - (unsigned char)ascii_lower(*b);
}

static char *lower_dup(const char *s, apr_pool_t *pool)
{
  char *r = apr_pstrdup(pool, s), *c;
  for (c = r; *c; c++)
    *c = ascii_lower(*c);
  return r;
}

/* ---- variable substitution ---------------------------------------------- */

static void buf_add(apr_array_header_t *buf, const char *s, apr_size_t len)
{
  apr_size_t i;
  for (i = 0; i < len; i++)
    APR_ARRAY_PUSH(buf, char) = s[i];
}

/* dray_subst_lookup_fn over a name -> value hash (ARG / ENV). */
static const char *lookup_var(void *baton, const char *name, apr_pool_t *scratch_pool)
{
  const char *v = apr_hash_get(baton, name, APR_HASH_KEY_STRING);
  (void)scratch_pool;
  return (v == UNSET) ? NULL : v;
}

/* Expand S as a shell word after BuildKit: quotes removed, escapes honoured,
 * variables of VARS replaced (unknown ones by nothing). Returns a problem or
 * NULL. */
static const char *expand(const char **out, const char *s, char esc, apr_hash_t *vars,
                          apr_pool_t *pool)
{
  dray_subst_options_t opts;
  dray_error_t *err;
  const char *reason;

  memset(&opts, 0, sizeof(opts));
  opts.flags = DRAY_SUBST_SHELL_WORDS;
  opts.escape = esc;
  opts.lookup = lookup_var;
  opts.baton = vars;
  err = dray_subst_expand(out, NULL, s, strlen(s), &opts, pool, pool);
  if (!err)
    return NULL;
  reason = apr_pstrdup(pool, err->message);
  dray_error_clear(err);
  return reason;
}

/* ---- lines and words ----------------------------------------------------- */

static apr_array_header_t *split_lines(const char *text, apr_size_t len, apr_pool_t *pool)
{
  apr_array_header_t *lines = apr_array_make(pool, 64, sizeof(line_t));
  apr_size_t start = 0, i;

  /* A UTF-8 byte order mark is not part of the first instruction. */
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    start = 3;
  for (i = start; i <= len; i++) {
    if (i == len || text[i] == '\n') {
      line_t *l;
      apr_size_t end = i;
      if (i == len && start == len)
        break;
      if (end > start && text[end - 1] == '\r')
        end--;
      l = &APR_ARRAY_PUSH(lines, line_t);
      l->s = text + start;
      l->len = end - start;
      start = i + 1;
    }
  }
  return lines;
}

static int blank_or_comment(const line_t *l)
{
  apr_size_t i = 0;
  while (i < l->len && is_space(l->s[i]))
    i++;
  return i == l->len || l->s[i] == '#';
}

/* "# key=value" at the top of the file. */
static int directive(const line_t *l, const char **key, apr_size_t *klen, const char **val,
                     apr_size_t *vlen)
{
  apr_size_t i = 0, end = l->len;
  const char *s = l->s;

  while (i < end && is_space(s[i]))
    i++;
  if (i == end || s[i++] != '#')
    return 0;
  while (i < end && is_space(s[i]))
    i++;
  if (i == end || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
    return 0;
  *key = s + i;
  while (i < end && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
                     || (s[i] >= '0' && s[i] <= '9')))
    i++;
  *klen = (apr_size_t)(s + i - *key);
  while (i < end && is_space(s[i]))
    i++;
  if (i == end || s[i++] != '=')
    return 0;
  while (i < end && is_space(s[i]))
    i++;
  while (end > i && is_space(s[end - 1]))
    end--;
  if (i == end)
    return 0;
  *val = s + i;
  *vlen = end - i;
  return 1;
}

/* Words separated by blanks; quotes and escapes keep blanks inside a word.
 * The words keep their quotes: expand() removes them. */
static apr_array_header_t *split_words(const char *s, char esc, apr_pool_t *pool)
{
  apr_array_header_t *words = apr_array_make(pool, 8, sizeof(const char *));
  apr_size_t i = 0;

  for (;;) {
    apr_size_t start;
    while (s[i] && is_space(s[i]))
      i++;
    if (!s[i])
      break;
    start = i;
    while (s[i] && !is_space(s[i])) {
      if (s[i] == esc && s[i + 1]) {
        i += 2;
      } else if (s[i] == '\'' || s[i] == '"') {
        char q = s[i++];
        while (s[i] && s[i] != q) {
          if (q == '"' && s[i] == esc && s[i + 1])
            i++;
          i++;
        }
        if (s[i])
          i++;
      } else {
        i++;
      }
    }
    APR_ARRAY_PUSH(words, const char *) = apr_pstrmemdup(pool, s + start, i - start);
  }
  return words;
}

/* Heredoc delimiters opened by WORDS ("<<EOF", "<<-'EOF'", "3<<EOF"). */
static void heredocs(apr_array_header_t *delims, apr_array_header_t *strip,
                     const apr_array_header_t *words, apr_pool_t *pool)
{
  int i;
  for (i = 1; i < words->nelts; i++) {
    const char *w = APR_ARRAY_IDX(words, i, const char *);
    const char *d;
    apr_size_t len;
    int dash = 0;

    while (*w >= '0' && *w <= '9')
      w++;
    if (strncmp(w, "<<", 2) != 0)
      continue;
    w += 2;
    if (*w == '-') {
      dash = 1;
      w++;
    }
    len = strlen(w);
    if (len >= 2 && (w[0] == '"' || w[0] == '\'') && w[len - 1] == w[0]) {
      w++;
      len -= 2;
    }
    d = apr_pstrmemdup(pool, w, len);
    if (!*d || strchr(d, '<'))
      continue;
    APR_ARRAY_PUSH(delims, const char *) = d;
    APR_ARRAY_PUSH(strip, int) = dash;
  }
}

/* ---- instructions -------------------------------------------------------- */

static const char *build_arg(parser_t *p, const char *name)
{
  return apr_hash_get(p->build_args, name, APR_HASH_KEY_STRING);
}

static void add_candidate(parser_t *p, const char *value, const char *instruction, int line,
                          int is_from)
{
  candidate_t *c = &APR_ARRAY_PUSH(p->candidates, candidate_t);
  c->value = value;
  c->instruction = instruction;
  c->line = line;
  c->stage = p->df->stages->nelts - 1;
  c->is_from = is_from;
}

/* BuildKit's rule for stage names. */
static int stage_name_ok(const char *s)
{
  if (!(*s >= 'a' && *s <= 'z'))
    return 0;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'
          || *s == '.'))
      return 0;
  return 1;
}

static void do_from(parser_t *p, const apr_array_header_t *words, int line)
{
  const char *args[3];
  const char *image, *err;
  dray_dockerfile_stage_t *stage;
  int i, n = 0;

  for (i = 1; i < words->nelts; i++) {
    const char *w = APR_ARRAY_IDX(words, i, const char *);
    if (n == 0 && strncmp(w, "--", 2) == 0)
      continue; /* --platform=…: not part of the reference */
    if (n == 3) {
      n++;
      break;
    }
    args[n++] = w;
  }
  if (n != 1 && !(n == 3 && ascii_casecmp(args[1], "as") == 0)) {
    problem(p, line, "FROM requires either one argument, or three: FROM <image> [AS <name>]");
    return;
  }

  stage = apr_pcalloc(p->rpool, sizeof(*stage));
  stage->line = line;
  stage->uses = apr_array_make(p->rpool, 2, sizeof(int));
  if (n == 3) {
    stage->name = lower_dup(args[2], p->rpool);
    if (!stage_name_ok(stage->name))
      problem(p, line, "invalid stage name \"%s\" (want [a-z][a-z0-9-_.]*)", args[2]);
  }
  APR_ARRAY_PUSH(p->df->stages, dray_dockerfile_stage_t *) = stage;
  p->vars = apr_hash_make(p->spool);

  /* Only ARGs declared before the first FROM reach FROM lines. */
  err = expand(&image, args[0], p->esc, p->global, p->spool);
  if (err) {
    problem(p, line, "FROM %s: %s", args[0], err);
    return;
  }
  if (!*image) {
    problem(p, line, "FROM: base name (%s) should not be blank", args[0]);
    return;
  }
  add_candidate(p, apr_pstrdup(p->rpool, image), "FROM", line, 1);
}

/* ARG a=1 b "c=x y": declare, with build args winning over defaults. */
static void do_arg(parser_t *p, const apr_array_header_t *words, int line, int global)
{
  apr_hash_t *scope = global ? p->global : p->vars;
  int i;

  for (i = 1; i < words->nelts; i++) {
    const char *w = APR_ARRAY_IDX(words, i, const char *);
    const char *eq = strchr(w, '=');
    const char *name = eq ? apr_pstrmemdup(p->spool, w, (apr_size_t)(eq - w)) : w;
    const char *value = build_arg(p, name), *err;

    if (dray_subst_name_len(name, strlen(name)) == 0) {
      problem(p, line, "ARG: invalid name \"%s\"", name);
      continue;
    }
    if (!value && eq) {
      err = expand(&value, eq + 1, p->esc, scope, p->spool);
      if (err) {
        problem(p, line, "ARG %s: %s", name, err);
        continue;
      }
    }
    if (!value && !global)
      value = apr_hash_get(p->global, name, APR_HASH_KEY_STRING); /* redeclared global */
    apr_hash_set(scope, name, APR_HASH_KEY_STRING, value ? value : UNSET);
  }
}

/* ENV k=v … or the old ENV k v; only the values matter for later --from. */
static void do_env(parser_t *p, const char *rest, const apr_array_header_t *words, int line)
{
  const char *first = words->nelts > 1 ? APR_ARRAY_IDX(words, 1, const char *) : "";
  const char *value, *err;
  int i;

  if (!strchr(first, '=')) {
    const char *v = strstr(rest, first) + strlen(first);
    while (is_space(*v))
      v++;
    err = expand(&value, v, p->esc, p->vars, p->spool);
    if (!err)
      apr_hash_set(p->vars, first, APR_HASH_KEY_STRING, value);
    return;
  }
  for (i = 1; i < words->nelts; i++) {
    const char *w = APR_ARRAY_IDX(words, i, const char *);
    const char *eq = strchr(w, '=');
    if (!eq)
      continue;
    err = expand(&value, eq + 1, p->esc, p->vars, p->spool);
    if (!err)
      apr_hash_set(p->vars, apr_pstrmemdup(p->spool, w, (apr_size_t)(eq - w)),
                   APR_HASH_KEY_STRING, value);
  }
}

static void add_from_flag(parser_t *p, const char *raw, const char *instruction, int line)
{
  const char *value, *err = expand(&value, raw, p->esc, p->vars, p->spool);
  if (err)
    problem(p, line, "%s=%s: %s", instruction, raw, err);
  else if (!*value)
    problem(p, line, "%s: empty value (%s)", instruction, raw);
  else
    add_candidate(p, apr_pstrdup(p->rpool, value), instruction, line, 0);
}

/* COPY --from=X … and RUN --mount=type=bind,from=X,… */
static void do_flags(parser_t *p, const char *keyword, const apr_array_header_t *words,
                     int line)
{
  int i;
  for (i = 1; i < words->nelts; i++) {
    const char *w = APR_ARRAY_IDX(words, i, const char *);
    if (strncmp(w, "--", 2) != 0)
      break; /* flags come first */
    if (ascii_casecmp(keyword, "copy") == 0 && strncmp(w, "--from=", 7) == 0) {
      add_from_flag(p, w + 7, "COPY --from", line);
    } else if (ascii_casecmp(keyword, "run") == 0 && strncmp(w, "--mount=", 8) == 0) {
      char *opts = apr_pstrdup(p->spool, w + 8), *last, *kv;
      for (kv = apr_strtok(opts, ",", &last); kv; kv = apr_strtok(NULL, ",", &last))
        if (strncmp(kv, "from=", 5) == 0)
          add_from_flag(p, kv + 5, "RUN --mount", line);
    }
  }
}

/* WORDS are TEXT's words, at least one. */
static void instruction(parser_t *p, const char *text, const apr_array_header_t *words, int line)
{
  const char *keyword = APR_ARRAY_IDX(words, 0, const char *);
  int in_stage = p->df->stages->nelts > 0;

  if (ascii_casecmp(keyword, "from") == 0) {
    do_from(p, words, line);
  } else if (ascii_casecmp(keyword, "arg") == 0) {
    do_arg(p, words, line, !in_stage);
  } else if (!in_stage) {
    if (!p->misplaced_reported)
      problem(p, line, "%s before the first FROM (only ARG may come before it)", keyword);
    p->misplaced_reported = 1;
  } else if (ascii_casecmp(keyword, "env") == 0) {
    const char *rest = text;
    while (is_space(*rest))
      rest++;
    do_env(p, rest + strlen(keyword), words, line);
  } else if (ascii_casecmp(keyword, "copy") == 0 || ascii_casecmp(keyword, "run") == 0) {
    do_flags(p, keyword, words, line);
  }
}

static int find_stage(const dray_dockerfile_t *df, const char *name, int before)
{
  int i;
  for (i = 0; i < before && i < df->stages->nelts; i++) {
    const dray_dockerfile_stage_t *st = APR_ARRAY_IDX(df->stages, i, dray_dockerfile_stage_t *);
    if (st->name && ascii_casecmp(st->name, name) == 0)
      return i;
  }
  return -1;
}

static int all_digits(const char *s)
{
  if (!*s)
    return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

/* Stage names and indices are not images; the rest are. */
static void resolve(parser_t *p)
{
  int i;
  for (i = 0; i < p->candidates->nelts; i++) {
    candidate_t *c = &APR_ARRAY_IDX(p->candidates, i, candidate_t);
    dray_dockerfile_stage_t *st = APR_ARRAY_IDX(p->df->stages, c->stage, dray_dockerfile_stage_t *);
    dray_dockerfile_ref_t *r;
    dray_ref_t *ref;
    dray_error_t *err;
    int used;

    /* FROM sees earlier stages only; --from sees all (BuildKit orders them). */
    used = find_stage(p->df, c->value, c->is_from ? c->stage : p->df->stages->nelts);
    if (used < 0 && !c->is_from && all_digits(c->value)) {
      used = atoi(c->value);
      if (used >= p->df->stages->nelts) {
        problem(p, c->line, "%s=%s: no such stage", c->instruction, c->value);
        continue;
      }
    }
    if (used == c->stage) {
      problem(p, c->line, "%s=%s: a stage cannot use itself", c->instruction, c->value);
      continue;
    }
    if (used >= 0) {
      APR_ARRAY_PUSH(st->uses, int) = used;
      continue;
    }
    if (c->is_from && ascii_casecmp(c->value, "scratch") == 0)
      continue;
    err = dray_ref_parse(&ref, c->value, p->spool);
    if (err) {
      problem(p, c->line, "%s: %s", c->instruction, err->message);
      dray_error_clear(err);
      continue;
    }
    r = apr_pcalloc(p->rpool, sizeof(*r));
    r->ref = c->value;
    r->line = c->line;
    r->stage = c->stage;
    r->instruction = c->instruction;
    APR_ARRAY_PUSH(p->df->refs, dray_dockerfile_ref_t *) = r;
  }
}

static void load_build_args(parser_t *p, const apr_array_header_t *build_args)
{
  int i;
  for (i = 0; build_args && i < build_args->nelts; i++) {
    const char *kv = APR_ARRAY_IDX(build_args, i, const char *);
    const char *eq = strchr(kv, '=');
    if (eq) {
      apr_hash_set(p->build_args, apr_pstrmemdup(p->spool, kv, (apr_size_t)(eq - kv)),
                   APR_HASH_KEY_STRING, eq + 1);
    } else {
      /* A bare name takes its value from the environment, as docker does. */
      char *value;
      if (apr_env_get(&value, kv, p->spool) == APR_SUCCESS)
        apr_hash_set(p->build_args, kv, APR_HASH_KEY_STRING, value);
    }
  }
}

dray_error_t *dray_dockerfile_parse_string(dray_dockerfile_t **dockerfile, const char *text,
                                           apr_size_t len, const char *path,
                                           const apr_array_header_t *build_args,
                                           apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  parser_t p;
  apr_array_header_t *lines = split_lines(text, len, scratch_pool);
  int i = 0, last_line = 1;

  memset(&p, 0, sizeof(p));
  p.path = path;
  p.esc = '\\';
  p.rpool = result_pool;
  p.spool = scratch_pool;
  p.build_args = apr_hash_make(scratch_pool);
  p.global = apr_hash_make(scratch_pool);
  p.vars = apr_hash_make(scratch_pool);
  p.candidates = apr_array_make(scratch_pool, 8, sizeof(candidate_t));
  p.problems = apr_array_make(scratch_pool, 2, sizeof(problem_t));
  p.df = apr_pcalloc(result_pool, sizeof(*p.df));
  p.df->path = apr_pstrdup(result_pool, path);
  p.df->stages = apr_array_make(result_pool, 4, sizeof(dray_dockerfile_stage_t *));
  p.df->refs = apr_array_make(result_pool, 4, sizeof(dray_dockerfile_ref_t *));
  load_build_args(&p, build_args);

  /* Parser directives: only before any comment, blank line or instruction. */
  for (; i < lines->nelts; i++) {
    const char *key, *val;
    apr_size_t klen, vlen;
    if (!directive(&APR_ARRAY_IDX(lines, i, line_t), &key, &klen, &val, &vlen))
      break;
    if (klen == 6 && ascii_casecmp(apr_pstrmemdup(scratch_pool, key, klen), "escape") == 0) {
      if (vlen == 1 && (val[0] == '\\' || val[0] == '`'))
        p.esc = val[0];
      else
        problem(&p, i + 1, "invalid escape directive \"%.*s\" (want \\ or `)", (int)vlen, val);
    }
  }

  while (i < lines->nelts) {
    apr_array_header_t *buf, *delims, *strip, *words;
    int start, d;

    if (blank_or_comment(&APR_ARRAY_IDX(lines, i, line_t))) {
      i++;
      continue;
    }
    start = i + 1;
    buf = apr_array_make(scratch_pool, 128, sizeof(char));
    while (i < lines->nelts) {
      const line_t *l = &APR_ARRAY_IDX(lines, i, line_t);
      apr_size_t end = l->len;
      i++;
      while (end > 0 && is_space(l->s[end - 1]))
        end--;
      if (end == 0 || l->s[end - 1] != p.esc) {
        buf_add(buf, l->s, l->len);
        break;
      }
      buf_add(buf, l->s, end - 1);
      /* Comments and blank lines inside a continuation are dropped. */
      while (i < lines->nelts && blank_or_comment(&APR_ARRAY_IDX(lines, i, line_t)))
        i++;
    }
    APR_ARRAY_PUSH(buf, char) = '\0';
    words = split_words(buf->elts, p.esc, scratch_pool);
    if (words->nelts == 0)
      continue; /* only escape characters and blanks (a stray "\" at the end) */
    last_line = start;
    instruction(&p, buf->elts, words, start);

    /* Heredoc bodies are content, not instructions. */
    delims = apr_array_make(scratch_pool, 1, sizeof(const char *));
    strip = apr_array_make(scratch_pool, 1, sizeof(int));
    {
      const char *kw = APR_ARRAY_IDX(words, 0, const char *);
      if (ascii_casecmp(kw, "run") == 0 || ascii_casecmp(kw, "copy") == 0
          || ascii_casecmp(kw, "add") == 0)
        heredocs(delims, strip, words, scratch_pool);
    }
    for (d = 0; d < delims->nelts; d++) {
      const char *delim = APR_ARRAY_IDX(delims, d, const char *);
      apr_size_t dlen = strlen(delim);
      while (i < lines->nelts) {
        const line_t *l = &APR_ARRAY_IDX(lines, i++, line_t);
        const char *s = l->s;
        apr_size_t n = l->len;
        if (APR_ARRAY_IDX(strip, d, int))
          while (n > 0 && *s == '\t')
            s++, n--;
        if (n == dlen && memcmp(s, delim, dlen) == 0)
          break;
      }
    }
  }

  if (p.df->stages->nelts == 0 && !p.misplaced_reported)
    problem(&p, last_line, "no FROM instruction");
  resolve(&p);

  if (p.problems->nelts > 0)
    return problems_error(&p);
  *dockerfile = p.df;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_dockerfile_parse(dray_dockerfile_t **dockerfile, const char *path,
                                    const apr_array_header_t *build_args,
                                    apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  apr_size_t len;
  char *text;

  DRAY_ERR(dray_file_read(&text, &len, NULL, path, "Dockerfile", scratch_pool));
  return dray_dockerfile_parse_string(dockerfile, text, len, path, build_args, result_pool,
                                      scratch_pool);
}

dray_error_t *dray_dockerfile_target_refs(apr_array_header_t **refs,
                                          const dray_dockerfile_t *df, const char *target,
                                          apr_pool_t *result_pool)
{
  int nstages = df->stages->nelts, i, top = 0;
  int start = nstages - 1;
  char *needed = apr_pcalloc(result_pool, (apr_size_t)nstages + 1);
  int *stack = apr_palloc(result_pool, sizeof(int) * ((apr_size_t)nstages + 1));

  if (target) {
    start = find_stage(df, target, nstages);
    if (start < 0)
      return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: target stage \"%s\" not found",
                                df->path, target);
  }
  *refs = apr_array_make(result_pool, df->refs->nelts, sizeof(dray_dockerfile_ref_t *));
  if (start < 0)
    return DRAY_NO_ERROR;

  needed[start] = 1;
  stack[top++] = start;
  while (top > 0) {
    const dray_dockerfile_stage_t *st =
        APR_ARRAY_IDX(df->stages, stack[--top], dray_dockerfile_stage_t *);
    for (i = 0; i < st->uses->nelts; i++) {
      int u = APR_ARRAY_IDX(st->uses, i, int);
      if (!needed[u]) {
        needed[u] = 1;
        stack[top++] = u;
      }
    }
  }
  for (i = 0; i < df->refs->nelts; i++) {
    dray_dockerfile_ref_t *r = APR_ARRAY_IDX(df->refs, i, dray_dockerfile_ref_t *);
    if (needed[r->stage])
      APR_ARRAY_PUSH(*refs, dray_dockerfile_ref_t *) = r;
  }
  return DRAY_NO_ERROR;
}
