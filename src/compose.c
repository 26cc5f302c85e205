/* compose.c — compose files through libyaml's document API.
 *
 * Only the parts dray uses are read and interpolated, so a problem in a
 * service that is not built (or in a key we ignore) does not stop the run.
 */
#include "dray/compose.h"

#include "dray/engines.h"

#include "dray/file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_env.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <yaml.h>

#include "dray/ref.h"
#include "dray/subst.h"
#include "dray/text.h"

typedef struct loader_t {
  const char *path;
  const char *dir;          /* the file's folder */
  const char *base_dir;     /* what its services' relative paths are relative to */
  yaml_document_t *doc;
  apr_hash_t *dotenv;   /* name -> value from .env */
  apr_pool_t *rpool;
  apr_pool_t *spool;
  dray_error_t *err;
  apr_int64_t merged;       /* entries brought in by "<<" so far, all mappings */
  int merge_overflow;       /* the merge budget or depth was exceeded (said once) */
} loader_t;

typedef struct pair_t {
  const char *key;
  yaml_node_t *key_node;
  yaml_node_t *value;
} pair_t;

static int line_of(const yaml_node_t *node)
{
  return (int)node->start_mark.line + 1;
}

static void problem(loader_t *ld, const yaml_node_t *node, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void problem(loader_t *ld, const yaml_node_t *node, const char *fmt, ...)
{
  va_list ap;
  const char *msg;
  va_start(ap, fmt);
  msg = apr_pvsprintf(ld->spool, fmt, ap);
  va_end(ap);
  ld->err = dray_error_compose(
      ld->err, dray_error_createf(DRAY_ERR_INPUT, NULL, "%s:%d: %s", ld->path, line_of(node), msg));
}

/* ---- .env and interpolation ---------------------------------------------- */

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* KEY=VALUE lines; "#" comments; optional "export "; quotes stripped. */
static void parse_dotenv(apr_hash_t *env, const char *text, apr_pool_t *pool)
{
  char *copy = apr_pstrdup(pool, text), *last, *line;

  for (line = apr_strtok(copy, "\n", &last); line; line = apr_strtok(NULL, "\n", &last)) {
    char *eq, *key, *value, *end;
    while (is_space(*line))
      line++;
    if (!*line || *line == '#')
      continue;
    if (strncmp(line, "export ", 7) == 0)
      for (line += 7; is_space(*line); line++)
        ;
    eq = strchr(line, '=');
    if (!eq)
      continue;
    for (end = eq; end > line && is_space(end[-1]); end--)
      ;
    key = apr_pstrmemdup(pool, line, (apr_size_t)(end - line));
    for (value = eq + 1; *value == ' ' || *value == '\t'; value++)
      ;
    if (*value == '"' || *value == '\'') {
      char *close = strchr(value + 1, *value);
      if (close)
        *close = '\0';
      value++;
    } else {
      char *hash = strstr(value, " #");
      if (hash)
        *hash = '\0';
      end = value + strlen(value);
      while (end > value && is_space(end[-1]))
        *--end = '\0';
    }
    apr_hash_set(env, key, APR_HASH_KEY_STRING, value);
  }
}

dray_error_t *dray_compose_read_env_file(apr_hash_t *env, const char *path, int may_be_missing,
                                         apr_pool_t *pool)
{
  char *text;
  apr_size_t len;
  int missing;
  DRAY_ERR(dray_file_read(&text, &len, &missing, path, NULL, pool));
  if (missing && !may_be_missing)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: no such env file", path);
  if (!missing)
    parse_dotenv(env, text, apr_hash_pool_get(env));
  return DRAY_NO_ERROR;
}

/* The environment first, then .env; NULL when unset. */
static const char *lookup(loader_t *ld, const char *name)
{
  char *value;
  if (apr_env_get(&value, name, ld->spool) == APR_SUCCESS)
    return value;
  return apr_hash_get(ld->dotenv, name, APR_HASH_KEY_STRING);
}

static const char *lookup_var(void *baton, const char *name, apr_pool_t *scratch_pool)
{
  (void)scratch_pool;
  return lookup(baton, name);
}

/* Compose's interpolation of S[0..LEN); returns the problem in compose's
 * words (as docker compose says them) or NULL. */
static const char *interpolate(const char **out, loader_t *ld, const char *s, apr_size_t len)
{
  dray_subst_options_t opts;
  dray_subst_failure_t failure;
  dray_error_t *err;

  memset(&opts, 0, sizeof(opts));
  opts.flags = DRAY_SUBST_DOLLAR_DOLLAR;
  opts.lookup = lookup_var;
  opts.baton = ld;
  err = dray_subst_expand(out, &failure, s, len, &opts, ld->spool, ld->spool);
  if (!err)
    return NULL;
  dray_error_clear(err);
  if (failure.problem == DRAY_SUBST_REQUIRED)
    return apr_psprintf(ld->spool, "required variable %s is missing a value%s%s", failure.name,
                        *failure.word ? ": " : "", failure.word);
  return apr_psprintf(ld->spool, "invalid interpolation format for \"%s\"%s",
                      dray_text_excerpt(s, len, DRAY_TEXT_EXCERPT_MAX, ld->spool),
                      failure.problem == DRAY_SUBST_UNTERMINATED && failure.op
                          ? ": missing \"}\""
                          : failure.problem == DRAY_SUBST_TOO_DEEP
                                ? apr_psprintf(ld->spool, ": nested more than %d deep",
                                               DRAY_SUBST_MAX_DEPTH)
                                : "");
}

/* ---- YAML helpers -------------------------------------------------------- */

static yaml_node_t *node_at(loader_t *ld, int index)
{
  return yaml_document_get_node(ld->doc, index);
}

static int is_null(const yaml_node_t *node)
{
  const char *v;
  if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return 0;
  v = (const char *)node->data.scalar.value;
  return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0
         || strcmp(v, "NULL") == 0;
}

static const char *raw_scalar(const yaml_node_t *node)
{
  return (const char *)node->data.scalar.value;
}

/* NODE as an interpolated string in the result pool, or NULL after a
 * problem naming WHAT. */
static const char *string_value(loader_t *ld, const yaml_node_t *node, const char *what)
{
  const char *out, *err;
  if (node->type != YAML_SCALAR_NODE || is_null(node)) {
    problem(ld, node, "%s must be a string", what);
    return NULL;
  }
  err = interpolate(&out, ld, raw_scalar(node), node->data.scalar.length);
  if (err) {
    problem(ld, node, "%s: %s", what, err);
    return NULL;
  }
  return apr_pstrdup(ld->rpool, out);
}

/* Append the pairs of mapping NODE to PAIRS: explicit keys first, then keys
 * from "<<" merges that are not already there (YAML merge keys, which
 * compose files use with x- anchors and libyaml leaves to us). VISITED holds
 * the mappings merged so far for this NODE: a mapping merged twice (a
 * diamond, a list naming one alias many times, an alias loop) adds nothing
 * the second time, so the work is linear in the distinct mappings, and
 * LD->merged counts every merged entry of the file against
 * DRAY_COMPOSE_MAX_MERGED. */
static void collect_pairs(loader_t *ld, apr_array_header_t *pairs, apr_hash_t *seen,
                          apr_hash_t *visited, yaml_node_t *node, int depth, int report_dups)
{
  yaml_node_pair_t *p;
  apr_array_header_t *merges = apr_array_make(ld->spool, 1, sizeof(yaml_node_t *));
  int i;

  if (ld->merge_overflow)
    return;
  if (depth > DRAY_COMPOSE_MAX_MERGE_DEPTH) {
    ld->merge_overflow = 1;
    problem(ld, node, "\"<<\" merges nested more than %d deep", DRAY_COMPOSE_MAX_MERGE_DEPTH);
    return;
  }
  if (depth > 0) {
    if (apr_hash_get(visited, &node, sizeof(node)))
      return;
    apr_hash_set(visited, apr_pmemdup(ld->spool, &node, sizeof(node)), sizeof(node), node);
    ld->merged += node->data.mapping.pairs.top - node->data.mapping.pairs.start;
    if (ld->merged > DRAY_COMPOSE_MAX_MERGED) {
      ld->merge_overflow = 1;
      problem(ld, node, "\"<<\" merges bring in more than %d entries in all "
              "(a merge bomb?)", DRAY_COMPOSE_MAX_MERGED);
      return;
    }
  }
  for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);
    const char *key;
    if (!k || !v)
      continue;
    if (k->type != YAML_SCALAR_NODE) {
      problem(ld, k, "keys must be strings");
      continue;
    }
    key = raw_scalar(k);
    if (strcmp(key, "<<") == 0 && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
      if (v->type == YAML_MAPPING_NODE) {
        APR_ARRAY_PUSH(merges, yaml_node_t *) = v;
      } else if (v->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *it;
        for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
          yaml_node_t *m = node_at(ld, *it);
          if (m && m->type == YAML_MAPPING_NODE)
            APR_ARRAY_PUSH(merges, yaml_node_t *) = m;
          else if (m)
            problem(ld, m, "\"<<\" merges mappings only");
        }
      } else {
        problem(ld, v, "\"<<\" merges mappings only");
      }
      continue;
    }
    if (apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
      if (report_dups)
        problem(ld, k, "duplicate key \"%s\"", key);
      continue;
    }
    apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);
    {
      pair_t *pair = &APR_ARRAY_PUSH(pairs, pair_t);
      pair->key = key;
      pair->key_node = k;
      pair->value = v;
    }
  }
  for (i = 0; i < merges->nelts; i++)
    collect_pairs(ld, pairs, seen, visited, APR_ARRAY_IDX(merges, i, yaml_node_t *), depth + 1,
                  0);
}

static apr_array_header_t *pairs_of(loader_t *ld, yaml_node_t *node)
{
  apr_array_header_t *pairs = apr_array_make(ld->spool, 8, sizeof(pair_t));
  collect_pairs(ld, pairs, apr_hash_make(ld->spool), apr_hash_make(ld->spool), node, 0, 1);
  return pairs;
}

static yaml_node_t *get(const apr_array_header_t *pairs, const char *key)
{
  int i;
  for (i = 0; i < pairs->nelts; i++)
    if (strcmp(APR_ARRAY_IDX(pairs, i, pair_t).key, key) == 0)
      return APR_ARRAY_IDX(pairs, i, pair_t).value;
  return NULL;
}

/* ---- services ------------------------------------------------------------ */

static void add_arg(loader_t *ld, apr_array_header_t *args, const char *key, const char *value)
{
  /* A name without value comes from the environment, or is dropped. */
  if (!value)
    value = lookup(ld, key);
  if (value)
    APR_ARRAY_PUSH(args, const char *) = apr_pstrcat(ld->rpool, key, "=", value, NULL);
}

static void load_args(loader_t *ld, dray_compose_service_t *svc, yaml_node_t *node)
{
  if (is_null(node))
    return;
  if (node->type == YAML_MAPPING_NODE) {
    apr_array_header_t *pairs = pairs_of(ld, node);
    int i;
    for (i = 0; i < pairs->nelts; i++) {
      pair_t *p = &APR_ARRAY_IDX(pairs, i, pair_t);
      const char *value = NULL;
      if (!is_null(p->value)) {
        value = string_value(ld, p->value,
                             apr_psprintf(ld->spool, "service \"%s\": build.args.%s", svc->name,
                                          p->key));
        if (!value)
          continue;
      }
      add_arg(ld, svc->build_args, p->key, value);
    }
  } else if (node->type == YAML_SEQUENCE_NODE) {
    yaml_node_item_t *it;
    for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
      yaml_node_t *item = node_at(ld, *it);
      const char *kv, *eq;
      if (!item)
        continue;
      kv = string_value(ld, item,
                        apr_psprintf(ld->spool, "service \"%s\": build.args item", svc->name));
      if (!kv)
        continue;
      eq = strchr(kv, '=');
      if (eq == kv || !*kv) {
        problem(ld, item, "service \"%s\": build.args item \"%s\" has no name", svc->name, kv);
        continue;
      }
      if (eq)
        add_arg(ld, svc->build_args, apr_pstrmemdup(ld->spool, kv, (apr_size_t)(eq - kv)),
                eq + 1);
      else
        add_arg(ld, svc->build_args, kv, NULL);
    }
  } else {
    problem(ld, node, "service \"%s\": build.args must be a map or a list", svc->name);
  }
}

/* ---- build keys: each read by its shape (buildspec.h's table) ------------ */

/* 1 for true, 0 for false, -1 for neither (YAML 1.2's words, as compose). */
static int bool_word(const char *v)
{
  if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0)
    return 1;
  if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
    return 0;
  return -1;
}

static apr_array_header_t *new_list(loader_t *ld)
{
  return apr_array_make(ld->rpool, 4, sizeof(const char *));
}

/* NODE as a list of strings: a sequence of them, or one. NULL after a
 * problem. */
static apr_array_header_t *string_list(loader_t *ld, yaml_node_t *node, const char *what)
{
  apr_array_header_t *out = new_list(ld);
  yaml_node_item_t *it;
  if (node->type == YAML_SCALAR_NODE) {
    const char *v = string_value(ld, node, what);
    if (!v)
      return NULL;
    APR_ARRAY_PUSH(out, const char *) = v;
    return out;
  }
  if (node->type != YAML_SEQUENCE_NODE) {
    problem(ld, node, "%s must be a list of strings", what);
    return NULL;
  }
  for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
    yaml_node_t *item = node_at(ld, *it);
    const char *v = item ? string_value(ld, item, apr_pstrcat(ld->spool, what, " item", NULL))
                         : NULL;
    if (!v)
      return NULL;
    APR_ARRAY_PUSH(out, const char *) = v;
  }
  return out;
}

/* A map (K: V, "K" alone when V is null, SEP between) or a list of strings
 * taken as they are: labels, additional_contexts, ssh, extra_hosts. */
static apr_array_header_t *pair_list(loader_t *ld, yaml_node_t *node, const char *sep,
                                     const char *what)
{
  apr_array_header_t *out, *pairs;
  int i;
  if (node->type != YAML_MAPPING_NODE)
    return string_list(ld, node, what);
  out = new_list(ld);
  pairs = pairs_of(ld, node);
  for (i = 0; i < pairs->nelts; i++) {
    pair_t *p = &APR_ARRAY_IDX(pairs, i, pair_t);
    const char *item_what = apr_pstrcat(ld->spool, what, ".", p->key, NULL);
    apr_array_header_t *values;
    int j;
    if (is_null(p->value)) {
      APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(ld->rpool, p->key);
      continue;
    }
    /* extra_hosts may give a host several addresses */
    values = string_list(ld, p->value, item_what);
    if (!values)
      return NULL;
    for (j = 0; j < values->nelts; j++)
      APR_ARRAY_PUSH(out, const char *) =
          apr_pstrcat(ld->rpool, p->key, sep, APR_ARRAY_IDX(values, j, const char *), NULL);
  }
  return out;
}

/* extra_hosts: "host:ip" whichever way it was written ("host=ip" too). */
static apr_array_header_t *host_list(loader_t *ld, yaml_node_t *node, const char *what)
{
  apr_array_header_t *out = pair_list(ld, node, ":", what);
  int i;
  for (i = 0; out && node->type != YAML_MAPPING_NODE && i < out->nelts; i++) {
    char *h = apr_pstrdup(ld->rpool, APR_ARRAY_IDX(out, i, const char *)), *eq = strchr(h, '=');
    if (eq)
      *eq = ':';
    APR_ARRAY_IDX(out, i, const char *) = h;
  }
  for (i = 0; out && i < out->nelts; i++)
    if (!strchr(APR_ARRAY_IDX(out, i, const char *), ':')) {
      problem(ld, node, "%s: \"%s\" needs an address (host:ip or host=ip)", what,
              APR_ARRAY_IDX(out, i, const char *));
      return NULL;
    }
  return out;
}

/* ulimits: name: N, or name: {soft: N, hard: M} -> "name=N" / "name=N:M". */
static apr_array_header_t *ulimit_list(loader_t *ld, yaml_node_t *node, const char *what)
{
  apr_array_header_t *out = new_list(ld), *pairs;
  int i;
  if (node->type != YAML_MAPPING_NODE) {
    problem(ld, node, "%s must be a mapping", what);
    return NULL;
  }
  pairs = pairs_of(ld, node);
  for (i = 0; i < pairs->nelts; i++) {
    pair_t *p = &APR_ARRAY_IDX(pairs, i, pair_t);
    const char *item_what = apr_pstrcat(ld->spool, what, ".", p->key, NULL), *v;
    if (p->value->type == YAML_MAPPING_NODE) {
      apr_array_header_t *lim = pairs_of(ld, p->value);
      yaml_node_t *soft = get(lim, "soft"), *hard = get(lim, "hard");
      const char *sv, *hv;
      if (!soft || !hard) {
        problem(ld, p->value, "%s needs soft and hard", item_what);
        return NULL;
      }
      sv = string_value(ld, soft, apr_pstrcat(ld->spool, item_what, ".soft", NULL));
      hv = string_value(ld, hard, apr_pstrcat(ld->spool, item_what, ".hard", NULL));
      if (!sv || !hv)
        return NULL;
      v = apr_pstrcat(ld->rpool, p->key, "=", sv, ":", hv, NULL);
    } else {
      const char *n = string_value(ld, p->value, item_what);
      if (!n)
        return NULL;
      v = apr_pstrcat(ld->rpool, p->key, "=", n, NULL);
    }
    APR_ARRAY_PUSH(out, const char *) = v;
  }
  return out;
}

/* A top-level secret, for the builds that name it (dray_compose_resolve_
 * service): a problem is kept, said only if a build uses the secret. */
static dray_compose_secret_t *load_secret(loader_t *ld, const char *name, yaml_node_t *def)
{
  dray_compose_secret_t *s = apr_pcalloc(ld->rpool, sizeof(*s));
  apr_array_header_t *pairs;
  yaml_node_t *v;
  dray_error_t *saved = ld->err;

  s->where = apr_psprintf(ld->rpool, "%s:%d", ld->path, line_of(def));
  if (def->type != YAML_MAPPING_NODE) {
    s->problem = apr_psprintf(ld->rpool, "%s: secrets.%s must be a mapping", s->where, name);
    return s;
  }
  pairs = pairs_of(ld, def);
  ld->err = NULL; /* the problems of a secret no build uses are none */
  if ((v = get(pairs, "file")) != NULL) {
    const char *file = string_value(ld, v, apr_psprintf(ld->spool, "secrets.%s.file", name));
    char *abs;
    if (file && apr_filepath_merge(&abs, ld->base_dir, file, 0, ld->rpool) == APR_SUCCESS)
      s->file = abs;
  } else if ((v = get(pairs, "environment")) != NULL) {
    s->env = string_value(ld, v, apr_psprintf(ld->spool, "secrets.%s.environment", name));
    s->value = s->env ? lookup(ld, s->env) : NULL;
    s->value = s->value ? apr_pstrdup(ld->rpool, s->value) : NULL;
    if (s->env && !s->value)
      s->problem = apr_psprintf(ld->rpool, "%s: secrets.%s: environment variable %s is not "
                                "set (nor in .env)", s->where, name, s->env);
  } else {
    s->problem = apr_psprintf(ld->rpool, "%s: secrets.%s: a build can use only a secret with "
                              "file: or environment: (external and content secrets live in a "
                              "swarm or a running service)", s->where, name);
  }
  if (ld->err) {
    s->problem = apr_pstrdup(ld->rpool, ld->err->message);
    dray_error_clear(ld->err);
  }
  ld->err = saved;
  return s;
}

/* build.secrets: names of top-level secrets, or {source, target}; looked
 * up in the project's secrets when the service is resolved. */
static apr_array_header_t *secret_list(loader_t *ld, yaml_node_t *node, const char *what)
{
  apr_array_header_t *out = apr_array_make(ld->rpool, 2, sizeof(dray_build_secret_t *));
  yaml_node_item_t *it;
  if (node->type != YAML_SEQUENCE_NODE) {
    problem(ld, node, "%s must be a list", what);
    return NULL;
  }
  for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
    yaml_node_t *item = node_at(ld, *it), *v;
    const char *source, *target = NULL;
    dray_build_secret_t *s;
    if (!item)
      continue;
    if (item->type == YAML_MAPPING_NODE) {
      apr_array_header_t *pairs = pairs_of(ld, item);
      int i;
      for (i = 0; i < pairs->nelts; i++) {
        const char *k = APR_ARRAY_IDX(pairs, i, pair_t).key;
        if (strcmp(k, "source") && strcmp(k, "target") && strncmp(k, "x-", 2)) {
          problem(ld, APR_ARRAY_IDX(pairs, i, pair_t).key_node,
                  "%s: \"%s\" does not apply to a build secret (only source and target do)",
                  what, k);
          return NULL;
        }
      }
      if (!(v = get(pairs, "source"))) {
        problem(ld, item, "%s item needs a source", what);
        return NULL;
      }
      source = string_value(ld, v, apr_pstrcat(ld->spool, what, ".source", NULL));
      if ((v = get(pairs, "target")) != NULL)
        target = string_value(ld, v, apr_pstrcat(ld->spool, what, ".target", NULL));
    } else {
      source = string_value(ld, item, apr_pstrcat(ld->spool, what, " item", NULL));
    }
    if (!source)
      return NULL;
    s = apr_pcalloc(ld->rpool, sizeof(*s));
    s->source = source;
    s->id = target ? target : source;
    s->where = apr_psprintf(ld->rpool, "%s:%d", ld->path, line_of(item));
    APR_ARRAY_PUSH(out, dray_build_secret_t *) = s;
  }
  return out;
}

/* A build location that is a path (not a URL, an image or a target) is
 * relative to the compose file's folder. */
static void resolve_contexts(loader_t *ld, apr_array_header_t *contexts)
{
  int i;
  for (i = 0; contexts && i < contexts->nelts; i++) {
    const char *kv = APR_ARRAY_IDX(contexts, i, const char *), *eq = strchr(kv, '=');
    char *abs;
    /* "docker-image://", "target:", "oci-layout://" or a URL: a word and a
     * ":" before any "/" */
    if (!eq || eq[1 + strcspn(eq + 1, ":/")] == ':'
        || apr_filepath_merge(&abs, ld->base_dir, eq + 1, 0, ld->rpool) != APR_SUCCESS)
      continue;
    APR_ARRAY_IDX(contexts, i, const char *) =
        apr_pstrcat(ld->rpool, apr_pstrmemdup(ld->spool, kv, (apr_size_t)(eq - kv)), "=", abs,
                    NULL);
  }
}

/* Read KEY's value NODE into SVC's spec by the key's shape. */
static int load_build_key(loader_t *ld, dray_compose_service_t *svc, dray_build_key_t key,
                          const yaml_node_t *key_node, yaml_node_t *node)
{
  const char *what = apr_psprintf(ld->spool, "service \"%s\": %s%s", svc->name,
                                  key == DRAY_BK_PLATFORM ? "" : "build.",
                                  dray_build_key_word(key));
  dray_buildspec_t *spec = svc->spec;
  apr_array_header_t *list = NULL;
  const char *v;
  int b;

  spec->line[key] = line_of(key_node);
  spec->path[key] = ld->path;
  if (is_null(node))
    return 1;
  switch (dray_build_key_shape(key)) {
  case DRAY_SHAPE_STRING:
  case DRAY_SHAPE_SIZE:
    v = string_value(ld, node, what);
    dray_buildspec_set_string(spec, key, v);
    return v != NULL;
  case DRAY_SHAPE_BOOL:
  case DRAY_SHAPE_BOOL_OR_STRING:
    v = string_value(ld, node, what);
    if (!v)
      return 0;
    b = bool_word(v);
    if (dray_build_key_shape(key) == DRAY_SHAPE_BOOL_OR_STRING) {
      dray_buildspec_set_string(spec, key, b < 0 ? v : b ? "true" : "false");
      return 1;
    }
    if (b < 0) {
      problem(ld, node, "%s must be true or false, not \"%s\"", what, v);
      return 0;
    }
    dray_buildspec_set_bool(spec, key, b);
    return 1;
  case DRAY_SHAPE_LIST:
    list = string_list(ld, node, what);
    break;
  case DRAY_SHAPE_MAPPING:
    list = pair_list(ld, node, "=", what);
    if (key == DRAY_BK_ADDITIONAL_CONTEXTS)
      resolve_contexts(ld, list);
    break;
  case DRAY_SHAPE_HOSTS:
    list = host_list(ld, node, what);
    break;
  case DRAY_SHAPE_ULIMITS:
    list = ulimit_list(ld, node, what);
    break;
  case DRAY_SHAPE_SECRETS:
    list = secret_list(ld, node, what);
    break;
  case DRAY_SHAPE_SPECIAL:
    return 1; /* load_service's */
  }
  if (!list)
    return 0;
  if (key == DRAY_BK_PLATFORM && spec->platforms)
    return 1; /* build.platforms is the list; platform is among them */
  dray_buildspec_set_list(spec, key, list);
  return 1;
}

/* A string NODE of service SVC's KEY; NULL after a problem (BAD set). */
static const char *service_string(loader_t *ld, const dray_compose_service_t *svc,
                                  const yaml_node_t *node, const char *key, int *bad)
{
  const char *v = string_value(ld, node, apr_psprintf(ld->spool, "service \"%s\": %s",
                                                      svc->name, key));
  *bad |= !v;
  return v;
}

/* extends: "service", or {service, file}. */
static void load_extends(loader_t *ld, dray_compose_service_t *svc, yaml_node_t *node, int *bad)
{
  svc->extends_line = line_of(node);
  if (node->type == YAML_MAPPING_NODE) {
    apr_array_header_t *pairs = pairs_of(ld, node);
    yaml_node_t *v = get(pairs, "service");
    if (!v) {
      problem(ld, node, "service \"%s\": extends needs a service", svc->name);
      *bad = 1;
      return;
    }
    svc->extends_service = service_string(ld, svc, v, "extends.service", bad);
    if ((v = get(pairs, "file")) != NULL)
      svc->extends_file = service_string(ld, svc, v, "extends.file", bad);
  } else {
    svc->extends_service = service_string(ld, svc, node, "extends", bad);
  }
}

/* The build: section of SVC. */
static void load_build(loader_t *ld, dray_compose_service_t *svc, yaml_node_t *build, int *bad)
{
  apr_array_header_t *bpairs;
  yaml_node_t *node;
  int i;

  svc->has_build = 1;
  if (is_null(build))
    return;
  if (build->type == YAML_SCALAR_NODE) {
    svc->context = service_string(ld, svc, build, "build", bad);
    svc->spec->line[DRAY_BK_CONTEXT] = line_of(build);
    svc->spec->path[DRAY_BK_CONTEXT] = ld->path;
    return;
  }
  if (build->type != YAML_MAPPING_NODE) {
    problem(ld, build, "service \"%s\": build must be a string (the context) or a mapping",
            svc->name);
    *bad = 1;
    return;
  }
  bpairs = pairs_of(ld, build);
  if ((node = get(bpairs, "context")) != NULL)
    svc->context = service_string(ld, svc, node, "build.context", bad);
  if ((node = get(bpairs, "dockerfile")) != NULL)
    svc->dockerfile_written = service_string(ld, svc, node, "build.dockerfile", bad);
  if ((node = get(bpairs, "target")) != NULL && !is_null(node)) {
    svc->target = service_string(ld, svc, node, "build.target", bad);
    if (svc->target && !*svc->target)
      svc->target = NULL; /* "" is the default: the last stage */
  }
  /* Every other key by the table; one it does not know is refused, as
   * compose's schema refuses it, rather than dropped. */
  for (i = 0; i < bpairs->nelts; i++) {
    pair_t *p = &APR_ARRAY_IDX(bpairs, i, pair_t);
    int key = dray_build_key_find(p->key);
    if (key < 0) {
      if (strncmp(p->key, "x-", 2) != 0) {
        problem(ld, p->key_node, "service \"%s\": build.%s is not a build key of the "
                "Compose Specification", svc->name, p->key);
        *bad = 1;
      }
      continue;
    }
    if (dray_build_key_shape((dray_build_key_t)key) != DRAY_SHAPE_SPECIAL) {
      *bad |= !load_build_key(ld, svc, (dray_build_key_t)key, p->key_node, p->value);
    } else {
      svc->spec->line[key] = line_of(p->key_node);
      svc->spec->path[key] = ld->path;
    }
  }
  if (svc->spec->dockerfile_inline && svc->dockerfile_written) {
    problem(ld, build, "service \"%s\": build.dockerfile and build.dockerfile_inline "
            "exclude each other", svc->name);
    *bad = 1;
  }
  if ((node = get(bpairs, "args")) != NULL)
    load_args(ld, svc, node);
}

/* Every service, as written: what a merge, extends and profiles need, and
 * the build. Nothing is resolved here (dray_compose_resolve_service). */
static void load_service(loader_t *ld, dray_compose_t *compose, const pair_t *sp)
{
  dray_compose_service_t *svc;
  apr_array_header_t *pairs;
  yaml_node_t *node;
  int bad = 0;

  if (sp->value->type != YAML_MAPPING_NODE) {
    problem(ld, sp->value, "service \"%s\" must be a mapping", sp->key);
    return;
  }
  pairs = pairs_of(ld, sp->value);
  svc = apr_pcalloc(ld->rpool, sizeof(*svc));
  svc->name = apr_pstrdup(ld->rpool, sp->key);
  svc->line = line_of(sp->key_node);
  svc->path = ld->path;
  svc->base_dir = ld->base_dir;
  svc->origin = apr_psprintf(ld->rpool, "%s:%d", ld->path, svc->line);
  svc->build_args = apr_array_make(ld->rpool, 4, sizeof(const char *));
  svc->spec = dray_buildspec_create(ld->rpool);

  node = get(pairs, "image");
  if (node && !is_null(node)) {
    svc->image = service_string(ld, svc, node, "image", &bad);
    svc->image_line = line_of(node);
    svc->image_path = ld->path;
  }
  if ((node = get(pairs, "build")) != NULL)
    load_build(ld, svc, node, &bad);
  if ((node = get(pairs, "platform")) != NULL)
    bad |= !load_build_key(ld, svc, DRAY_BK_PLATFORM, node, node);
  if ((node = get(pairs, "profiles")) != NULL && !is_null(node)) {
    svc->profiles = string_list(ld, node, apr_psprintf(ld->spool, "service \"%s\": profiles",
                                                       svc->name));
    bad |= !svc->profiles;
  }
  if ((node = get(pairs, "extends")) != NULL)
    load_extends(ld, svc, node, &bad);
  if (!bad)
    APR_ARRAY_PUSH(compose->all, dray_compose_service_t *) = svc;
}

/* ROOT/PATH, absolute; "dir/." as "dir". */
static dray_error_t *join_path(const char **out, const char *root, const char *path,
                               apr_pool_t *pool)
{
  char *abs;
  apr_size_t len;
  apr_status_t status = apr_filepath_merge(&abs, root, path, 0, pool);
  if (status != APR_SUCCESS)
    return dray_error_wrap_apr(status, "\"%s\"", path);
  len = strlen(abs);
  if (len > 1 && abs[len - 1] == '/' && abs[len - 2] != ':')
    abs[len - 1] = '\0'; /* keep the "/" of a root ("/", "C:/") */
  *out = abs;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_compose_resolve_service(dray_compose_service_t *svc, apr_hash_t *secrets,
                                           apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  const dray_buildspec_t *spec = svc->spec;
  const char *context = svc->context ? svc->context : ".";
  const char *where = spec->line[DRAY_BK_CONTEXT]
                          ? dray_buildspec_where(spec, DRAY_BK_CONTEXT, scratch_pool)
                          : svc->origin;
  dray_error_t *err = NULL;
  int i;

  if (strstr(context, "://") || strncmp(context, "git@", 4) == 0)
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "%s: service \"%s\": remote build context \"%s\" is not supported",
                              where, svc->name, context);
  err = join_path(&svc->context_dir, svc->base_dir, context, result_pool);
  if (!err)
    err = join_path(&svc->dockerfile, svc->context_dir,
                    svc->dockerfile_written ? svc->dockerfile_written : "Dockerfile",
                    result_pool);
  if (err)
    return dray_error_createf(DRAY_ERR_INPUT, err, "%s: service \"%s\": build context", where,
                              svc->name);
  svc->dockerfile_given = svc->dockerfile_written != NULL;
  if (spec->dockerfile_inline) { /* named for messages; build.c writes the file */
    svc->dockerfile = apr_psprintf(result_pool, "%s (dockerfile_inline)",
                                   dray_buildspec_where(spec, DRAY_BK_DOCKERFILE_INLINE,
                                                        result_pool));
  } else if (!svc->dockerfile_given && !dray_file_is_regular(svc->dockerfile, scratch_pool)) {
    /* Like podman: no Dockerfile but a Containerfile, when none was named. */
    const char *alt = apr_pstrcat(scratch_pool, svc->context_dir, "/Containerfile", NULL);
    if (dray_file_is_regular(alt, scratch_pool))
      svc->dockerfile = apr_pstrdup(result_pool, alt);
  }
  for (i = 0; spec->secrets && i < spec->secrets->nelts; i++) {
    dray_build_secret_t *b = APR_ARRAY_IDX(spec->secrets, i, dray_build_secret_t *);
    const dray_compose_secret_t *def =
        secrets ? apr_hash_get(secrets, b->source, APR_HASH_KEY_STRING) : NULL;
    if (b->file || b->env)
      continue; /* said where the build names it (bake) */
    if (!def)
      err = dray_error_compose(err, dray_error_createf(
          DRAY_ERR_INPUT, NULL, "%s: service \"%s\": build.secrets: secret \"%s\" is not "
          "defined in the top-level secrets", b->where, svc->name, b->source));
    else if (def->problem)
      err = dray_error_compose(err, dray_error_create(DRAY_ERR_INPUT, NULL, def->problem));
    else {
      b->file = def->file;
      b->env = def->env;
      b->value = def->value;
    }
  }
  return err;
}

/* PATH relative to the file's folder, onto OUT. */
static void include_path(loader_t *ld, apr_array_header_t *out, const char *path,
                         const yaml_node_t *node)
{
  const char *abs = NULL;
  dray_error_t *err = join_path(&abs, ld->dir, path, ld->rpool);
  if (err) {
    problem(ld, node, "include: %s", err->message);
    dray_error_clear(err);
    return;
  }
  APR_ARRAY_PUSH(out, const char *) = abs;
}

/* include: paths, or {path, project_directory, env_file}; relative to
 * this file's folder. */
static void load_includes(loader_t *ld, dray_compose_t *compose, yaml_node_t *node)
{
  yaml_node_item_t *it;
  if (node->type != YAML_SEQUENCE_NODE) {
    problem(ld, node, "include must be a list");
    return;
  }
  for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
    yaml_node_t *item = node_at(ld, *it), *v;
    dray_compose_include_t *inc;
    apr_array_header_t *paths = NULL, *env_files = NULL;
    const char *project_dir = NULL;
    int i;
    if (!item)
      continue;
    if (item->type == YAML_MAPPING_NODE) {
      apr_array_header_t *pairs = pairs_of(ld, item);
      if (!(v = get(pairs, "path"))) {
        problem(ld, item, "include item needs a path");
        continue;
      }
      paths = string_list(ld, v, "include.path");
      if ((v = get(pairs, "project_directory")) != NULL)
        project_dir = string_value(ld, v, "include.project_directory");
      if ((v = get(pairs, "env_file")) != NULL)
        env_files = string_list(ld, v, "include.env_file");
    } else {
      paths = string_list(ld, item, "include item");
    }
    if (!paths)
      continue;
    inc = apr_pcalloc(ld->rpool, sizeof(*inc));
    inc->where = apr_psprintf(ld->rpool, "%s:%d", ld->path, line_of(item));
    inc->paths = apr_array_make(ld->rpool, paths->nelts, sizeof(const char *));
    for (i = 0; i < paths->nelts; i++)
      include_path(ld, inc->paths, APR_ARRAY_IDX(paths, i, const char *), item);
    if (project_dir) {
      apr_array_header_t *one = apr_array_make(ld->spool, 1, sizeof(const char *));
      include_path(ld, one, project_dir, item);
      inc->project_directory = one->nelts ? APR_ARRAY_IDX(one, 0, const char *) : NULL;
    }
    if (env_files) {
      inc->env_files = apr_array_make(ld->rpool, env_files->nelts, sizeof(const char *));
      for (i = 0; i < env_files->nelts; i++)
        include_path(ld, inc->env_files, APR_ARRAY_IDX(env_files, i, const char *), item);
    }
    APR_ARRAY_PUSH(compose->includes, dray_compose_include_t *) = inc;
  }
}

/* An item of x-dray engines: a word ("tcp://b1:2376#builders=4", "ctx"),
 * or a mapping {host: URL | context: NAME, builders: N, pushers: M}, as
 * the word engines.h reads. NULL after a problem. */
static const char *engine_word(loader_t *ld, yaml_node_t *item, const char *what)
{
  apr_array_header_t *pairs;
  const char *name = NULL, *limits = "";
  int i;

  if (item->type != YAML_MAPPING_NODE)
    return string_value(ld, item, what);
  pairs = pairs_of(ld, item);
  for (i = 0; i < pairs->nelts; i++) {
    const pair_t *pr = &APR_ARRAY_IDX(pairs, i, pair_t);
    const char *v = string_value(ld, pr->value, apr_pstrcat(ld->spool, what, ".", pr->key, NULL));
    if (!v)
      return NULL;
    if (strcmp(pr->key, "host") == 0 || strcmp(pr->key, "context") == 0) {
      if (name) {
        problem(ld, pr->key_node, "%s: one of host or context", what);
        return NULL;
      }
      if (dray_engine_word_is_host(v) != (strcmp(pr->key, "host") == 0)) {
        problem(ld, pr->value, "%s.%s: %s", what, pr->key,
                strcmp(pr->key, "host") == 0 ? "needs a URL (unix://, tcp://, npipe://, ssh://)"
                                             : "takes a context name; a URL goes to host");
        return NULL;
      }
      name = v;
    } else if (strcmp(pr->key, "builders") == 0 || strcmp(pr->key, "pushers") == 0) {
      limits = apr_pstrcat(ld->spool, limits, *limits ? "," : "", pr->key, "=", v, NULL);
    } else {
      problem(ld, pr->key_node, "%s: unknown key \"%s\" (known: host, context, builders, "
              "pushers)", what, pr->key);
      return NULL;
    }
  }
  if (!name) {
    problem(ld, item, "%s needs host or context", what);
    return NULL;
  }
  return apr_pstrcat(ld->rpool, name, *limits ? "#" : "", limits, NULL);
}

/* ---- x-dray and the config file ----------------------------------------- */

/* A mapping of settings: the keys and their values are settings.c's; here
 * only the YAML's shape. PREFIX names the mapping in messages ("x-dray.");
 * each value is recorded with SOURCE and its file and line. */
/* x-dray.ignore: build keys to drop, with a warning, where the builder
 * cannot do them. */
static void load_ignore(loader_t *ld, dray_compose_t *compose, const pair_t *p)
{
  apr_array_header_t *words = string_list(ld, p->value, "x-dray.ignore");
  int i;
  compose->ignore_where = apr_psprintf(ld->rpool, "%s:%d", ld->path, line_of(p->key_node));
  for (i = 0; words && i < words->nelts; i++) {
    const char *w = APR_ARRAY_IDX(words, i, const char *);
    int key = strcmp(w, "platform") == 0 ? (int)DRAY_BK_PLATFORMS : dray_build_key_find(w);
    if (key < 0)
      problem(ld, p->value, "x-dray.ignore: \"%s\" is not a build key", w);
    else
      APR_ARRAY_PUSH(compose->ignore, int) = key;
  }
}

static void load_settings(loader_t *ld, dray_settings_t *st, yaml_node_t *node,
                          const char *prefix, dray_setting_source_t source,
                          dray_compose_t *compose)
{
  apr_array_header_t *pairs;
  int i;

  if (is_null(node))
    return;
  if (node->type != YAML_MAPPING_NODE) {
    problem(ld, node, "%s must be a mapping", *prefix ? apr_pstrndup(ld->spool, prefix, strlen(prefix) - 1)
                                                      : "the top level");
    return;
  }
  pairs = pairs_of(ld, node);
  for (i = 0; i < pairs->nelts; i++) {
    pair_t *p = &APR_ARRAY_IDX(pairs, i, pair_t);
    const char *what = apr_pstrcat(ld->spool, prefix, p->key, NULL);
    int id = dray_setting_find(p->key);
    dray_error_t *err = NULL;
    if (compose && strcmp(p->key, "ignore") == 0) {
      load_ignore(ld, compose, p);
      continue;
    }
    if (id < 0) {
      /* A misspelt setting silently ignored would be worse than an error. */
      problem(ld, p->key_node, "%sunknown setting \"%s\" (known: %s)",
              *prefix ? apr_pstrcat(ld->spool, apr_pstrndup(ld->spool, prefix, strlen(prefix) - 1),
                                    ": ", NULL) : "",
              p->key, dray_setting_keys(ld->spool));
      continue;
    }
    if ((id == DRAY_SETTING_TAGS || id == DRAY_SETTING_ENGINES)
        && p->value->type == YAML_SEQUENCE_NODE) {
      yaml_node_item_t *it;
      const char *item_what = apr_pstrcat(ld->spool, what, " item", NULL);
      for (it = p->value->data.sequence.items.start; it < p->value->data.sequence.items.top; it++) {
        yaml_node_t *item = node_at(ld, *it);
        const char *word = !item ? NULL
                           : id == DRAY_SETTING_ENGINES ? engine_word(ld, item, item_what)
                                                        : string_value(ld, item, item_what);
        if (word && (err = dray_settings_set(st, (dray_setting_id_t)id, word, source, what,
                                             ld->rpool)))
          break;
      }
      if (!err && id == DRAY_SETTING_TAGS && !st->tags)
        err = dray_error_createf(DRAY_ERR_USAGE, NULL, "%s: no tag given", what);
      if (!err && id == DRAY_SETTING_ENGINES && !st->engines)
        err = dray_error_createf(DRAY_ERR_USAGE, NULL, "%s: no engine given", what);
    } else {
      const char *value = string_value(ld, p->value, what);
      if (!value)
        continue;
      err = dray_settings_set(st, (dray_setting_id_t)id, value, source, what, ld->rpool);
    }
    if (err) {
      problem(ld, p->value, "%s", err->message);
      dray_error_clear(err);
      continue;
    }
    st->where[id] = apr_psprintf(ld->rpool, "%s:%d", ld->path, line_of(p->key_node));
  }
}

/* ---- entry points -------------------------------------------------------- */

static dray_error_t *syntax_error(const yaml_parser_t *parser, const char *path)
{
  const char *problem_text = parser->problem ? parser->problem : "unknown problem";
  if (parser->error == YAML_READER_ERROR)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: invalid YAML input at byte %lu: %s",
                              path, (unsigned long)parser->problem_offset, problem_text);
  if (parser->context)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s:%lu:%lu: YAML syntax error: %s "
                              "(%s at line %lu, column %lu)",
                              path, (unsigned long)parser->problem_mark.line + 1,
                              (unsigned long)parser->problem_mark.column + 1, problem_text,
                              parser->context, (unsigned long)parser->context_mark.line + 1,
                              (unsigned long)parser->context_mark.column + 1);
  return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s:%lu:%lu: YAML syntax error: %s", path,
                            (unsigned long)parser->problem_mark.line + 1,
                            (unsigned long)parser->problem_mark.column + 1, problem_text);
}

/* One pass over the events before the document is built: libyaml's loader
 * is quadratic in the nesting depth and in anchors times aliases (it looks
 * each one up in a list), so both are bounded here first, in linear time. */
static dray_error_t *check_shape(const char *text, apr_size_t len, const char *path)
{
  yaml_parser_t parser;
  yaml_event_t event;
  dray_error_t *err = DRAY_NO_ERROR;
  int depth = 0, done = 0;
  apr_int64_t anchors = 0, lookups = 0;

  if (!yaml_parser_initialize(&parser))
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: cannot start the YAML parser", path);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  while (!done && !err) {
    const yaml_char_t *name = NULL;
    if (!yaml_parser_parse(&parser, &event)) {
      err = syntax_error(&parser, path);
      break;
    }
    switch (event.type) {
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
      name = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor
                                                     : event.data.mapping_start.anchor;
      if (++depth > DRAY_COMPOSE_MAX_DEPTH)
        err = dray_error_createf(DRAY_ERR_INPUT, NULL,
                                 "%s:%lu: YAML nested more than %d deep", path,
                                 (unsigned long)event.start_mark.line + 1,
                                 DRAY_COMPOSE_MAX_DEPTH);
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      depth--;
      break;
    case YAML_SCALAR_EVENT:
      name = event.data.scalar.anchor;
      break;
    case YAML_ALIAS_EVENT:
      name = event.data.alias.anchor;
      break;
    default:
      break;
    }
    if (name) {
      /* The loader compares NAME with every anchor before it. */
      lookups += anchors * (apr_int64_t)(strlen((const char *)name) + 1);
      anchors += event.type != YAML_ALIAS_EVENT;
      if (!err && lookups > DRAY_COMPOSE_MAX_ANCHOR_WORK)
        err = dray_error_createf(DRAY_ERR_INPUT, NULL,
                                 "%s:%lu: too many YAML anchors and aliases (%" APR_INT64_T_FMT
                                 " anchors so far): more than a compose file needs",
                                 path, (unsigned long)event.start_mark.line + 1, anchors);
    }
    yaml_event_delete(&event);
  }
  yaml_parser_delete(&parser);
  return err;
}

/* TEXT as one YAML document, after the shape check that bounds the work
 * (nesting, anchors): every YAML file dray reads goes through here. */
static dray_error_t *load_document(yaml_document_t *doc, const char *text, apr_size_t len,
                                   const char *path)
{
  yaml_parser_t parser;
  DRAY_ERR(check_shape(text, len, path));
  if (!yaml_parser_initialize(&parser))
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: cannot start the YAML parser", path);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, doc)) {
    dray_error_t *err = syntax_error(&parser, path);
    yaml_parser_delete(&parser);
    return err;
  }
  yaml_parser_delete(&parser);
  return DRAY_NO_ERROR;
}


dray_error_t *dray_compose_read_file(dray_compose_t **compose_p, const char *text,
                                     apr_size_t len, const char *path, const char *base_dir,
                                     apr_hash_t *dotenv, apr_pool_t *result_pool,
                                     apr_pool_t *scratch_pool)
{
  loader_t ld;
  yaml_document_t doc;
  yaml_node_t *root, *services = NULL;
  dray_compose_t *compose;
  char *abs, *slash;
  int i;
  apr_status_t status;

  memset(&ld, 0, sizeof(ld));
  ld.path = path;
  ld.rpool = result_pool;
  ld.spool = scratch_pool;
  ld.dotenv = dotenv ? dotenv : apr_hash_make(scratch_pool);

  compose = apr_pcalloc(result_pool, sizeof(*compose));
  compose->path = apr_pstrdup(result_pool, path);
  compose->services = apr_array_make(result_pool, 8, sizeof(dray_compose_service_t *));
  compose->all = apr_array_make(result_pool, 8, sizeof(dray_compose_service_t *));
  compose->includes = apr_array_make(result_pool, 1, sizeof(dray_compose_include_t *));
  compose->secrets = apr_hash_make(result_pool);
  compose->ignore = apr_array_make(result_pool, 2, sizeof(int));
  dray_settings_init(&compose->settings);

  status = apr_filepath_merge(&abs, NULL, path, 0, result_pool);
  if (status != APR_SUCCESS)
    return dray_error_wrap_apr(status, "%s", path);
  slash = strrchr(abs, '/');
  if (slash) {
    /* Keep the "/" of a root ("/", "C:/"). */
    if (slash == abs || slash[-1] == ':')
      slash[1] = '\0';
    else
      *slash = '\0';
  }
  compose->dir = ld.dir = abs;
  ld.base_dir = base_dir ? base_dir : ld.dir;

  DRAY_ERR(load_document(&doc, text, len, path));
  ld.doc = &doc;

  root = yaml_document_get_root_node(&doc);
  if (!root || is_null(root)) {
    ld.err = dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: empty compose file", path);
  } else if (root->type != YAML_MAPPING_NODE) {
    problem(&ld, root, "the top level must be a mapping");
  } else {
    apr_array_header_t *pairs = pairs_of(&ld, root);
    yaml_node_t *xdray = get(pairs, "x-dray"), *secrets = get(pairs, "secrets");
    yaml_node_t *name = get(pairs, "name"), *include = get(pairs, "include");
    services = get(pairs, "services");
    if (name && !is_null(name))
      compose->name = string_value(&ld, name, "name");
    if (include && !is_null(include))
      load_includes(&ld, compose, include);
    if (secrets && secrets->type == YAML_MAPPING_NODE) {
      apr_array_header_t *spairs = pairs_of(&ld, secrets);
      for (i = 0; i < spairs->nelts; i++) {
        pair_t *p = &APR_ARRAY_IDX(spairs, i, pair_t);
        apr_hash_set(compose->secrets, apr_pstrdup(result_pool, p->key), APR_HASH_KEY_STRING,
                     load_secret(&ld, p->key, p->value));
      }
    } else if (secrets && !is_null(secrets)) {
      problem(&ld, secrets, "secrets must be a mapping");
    }
    if (xdray)
      load_settings(&ld, &compose->settings, xdray, "x-dray.", DRAY_SOURCE_COMPOSE, compose);
    if (!services) {
      /* an include-only file, or one that only changes settings */
      if (!include)
        problem(&ld, root, "no \"services\" section");
    } else if (is_null(services)) {
      /* no services: nothing to build from this file */
    } else if (services->type != YAML_MAPPING_NODE) {
      problem(&ld, services, "services must be a mapping");
    } else {
      apr_array_header_t *svcs = pairs_of(&ld, services);
      for (i = 0; i < svcs->nelts; i++)
        load_service(&ld, compose, &APR_ARRAY_IDX(svcs, i, pair_t));
    }
  }
  yaml_document_delete(&doc);

  if (ld.err)
    return ld.err;
  *compose_p = compose;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_compose_load_config(dray_settings_t *settings, const char *path,
                                       apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  loader_t ld;
  yaml_document_t doc;
  yaml_node_t *root;
  char *text;
  apr_size_t len;
  int missing;

  dray_settings_init(settings);
  DRAY_ERR(dray_file_read(&text, &len, &missing, path, NULL, scratch_pool));
  if (missing)
    return DRAY_NO_ERROR;
  memset(&ld, 0, sizeof(ld));
  ld.path = path;
  ld.rpool = result_pool;
  ld.spool = scratch_pool;
  ld.dotenv = apr_hash_make(scratch_pool);
  DRAY_ERR(load_document(&doc, text, len, path));
  ld.doc = &doc;
  root = yaml_document_get_root_node(&doc);
  if (root)
    load_settings(&ld, settings, root, "", DRAY_SOURCE_CONFIG, NULL);
  yaml_document_delete(&doc);
  return ld.err;
}
