/* ignore.c — gitignore-style rules for folder discovery. */
#include "dray/ignore.h"

#include <string.h>

#include <apr_fnmatch.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "dray/file.h"

typedef struct rule_t {
  apr_array_header_t *parts;  /* const char *: the pattern's names; "**" any folders */
  int negate;                 /* "!": re-include */
  int dir_only;               /* trailing "/" */
  int anchored;               /* relative to the root, else at any depth */
} rule_t;

struct dray_ignore_t {
  apr_array_header_t *rules;  /* rule_t */
};

/* Folders of dependencies: a monorepo's many vendored Dockerfiles are not
 * its images. */
static const char DEFAULTS[] = "node_modules/\nvendor/\n";

static void add_rule(dray_ignore_t *ig, const char *line, apr_pool_t *pool)
{
  char *p = apr_pstrdup(pool, line), *end, *last, *part;
  rule_t *r;
  apr_size_t len;

  /* trailing blanks go unless escaped */
  for (len = strlen(p); len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r')
                        && !(len > 1 && p[len - 2] == '\\');
       len--)
    p[len - 1] = '\0';
  if (!*p || *p == '#')
    return;
  r = &APR_ARRAY_PUSH(ig->rules, rule_t);
  memset(r, 0, sizeof(*r));
  if (*p == '!') {
    r->negate = 1;
    p++;
  } else if (*p == '\\' && (p[1] == '!' || p[1] == '#')) {
    p++;
  }
  end = p + strlen(p);
  if (end > p && end[-1] == '/') {
    r->dir_only = 1;
    *--end = '\0';
  }
  r->anchored = strchr(p, '/') != NULL;
  r->parts = apr_array_make(pool, 4, sizeof(const char *));
  for (part = apr_strtok(p, "/", &last); part; part = apr_strtok(NULL, "/", &last))
    APR_ARRAY_PUSH(r->parts, const char *) = part;
  if (r->parts->nelts == 0)
    ig->rules->nelts--; /* "/" alone names nothing */
}

dray_ignore_t *dray_ignore_parse(const char *text, apr_pool_t *result_pool)
{
  dray_ignore_t *ig = apr_pcalloc(result_pool, sizeof(*ig));
  const char *texts[2];
  int t;
  texts[0] = DEFAULTS;
  texts[1] = text ? text : "";
  ig->rules = apr_array_make(result_pool, 8, sizeof(rule_t));
  for (t = 0; t < 2; t++) {
    char *copy = apr_pstrdup(result_pool, texts[t]), *last, *line;
    for (line = apr_strtok(copy, "\n", &last); line; line = apr_strtok(NULL, "\n", &last))
      add_rule(ig, line, result_pool);
  }
  return ig;
}

dray_error_t *dray_ignore_load(dray_ignore_t **ignore, const char *root,
                               apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  char *text = NULL;
  apr_size_t len;
  int missing;
  DRAY_ERR(dray_file_read(&text, &len, &missing, apr_pstrcat(scratch_pool, root,
                                                            "/.drayignore", NULL),
                          NULL, scratch_pool));
  *ignore = dray_ignore_parse(missing ? NULL : text, result_pool);
  return DRAY_NO_ERROR;
}

/* Whether PARTS[p..] match NAMES[n..] whole; "**" takes any number. */
static int match_parts(const apr_array_header_t *parts, int p, const apr_array_header_t *names,
                       int n)
{
  for (; p < parts->nelts; p++, n++) {
    const char *pat = APR_ARRAY_IDX(parts, p, const char *);
    if (strcmp(pat, "**") == 0) {
      int k;
      for (k = n; k <= names->nelts; k++)
        if (match_parts(parts, p + 1, names, k))
          return 1;
      return 0;
    }
    if (n >= names->nelts
        || apr_fnmatch(pat, APR_ARRAY_IDX(names, n, const char *), 0) != APR_SUCCESS)
      return 0;
  }
  return n == names->nelts;
}

static int rule_matches(const rule_t *r, const apr_array_header_t *names, int is_dir)
{
  int start;
  if (r->dir_only && !is_dir)
    return 0;
  if (r->anchored)
    return match_parts(r->parts, 0, names, 0);
  /* a name alone: the last name of REL (its folders were tried as they
   * were walked) */
  start = names->nelts - r->parts->nelts;
  return start >= 0 && match_parts(r->parts, 0, names, start);
}

int dray_ignore_match(const dray_ignore_t *ignore, const char *rel, int is_dir,
                      apr_pool_t *scratch_pool)
{
  apr_array_header_t *names = apr_array_make(scratch_pool, 4, sizeof(const char *));
  char *copy = apr_pstrdup(scratch_pool, rel), *last, *name;
  int i, ignored = 0;
  for (name = apr_strtok(copy, "/", &last); name; name = apr_strtok(NULL, "/", &last))
    APR_ARRAY_PUSH(names, const char *) = name;
  for (i = 0; i < ignore->rules->nelts; i++) {
    const rule_t *r = &APR_ARRAY_IDX(ignore->rules, i, rule_t);
    if (rule_matches(r, names, is_dir))
      ignored = !r->negate;
  }
  return ignored;
}
