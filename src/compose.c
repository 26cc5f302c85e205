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
  const char *dir;
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

static const char *merge_path(loader_t *ld, const char *root, const char *path,
                              const yaml_node_t *node, const char *what)
{
  char *out;
  apr_status_t status = apr_filepath_merge(&out, root, path, 0, ld->rpool);
  char errbuf[256];
  if (status != APR_SUCCESS) {
    problem(ld, node, "%s \"%s\": %s", what, path, apr_strerror(status, errbuf, sizeof(errbuf)));
    return NULL;
  }
  /* "dir/." merges to "dir/": drop the "/" unless it is the root's. */
  {
    apr_size_t len = strlen(out);
    if (len > 1 && out[len - 1] == '/' && out[len - 2] != ':')
      out[len - 1] = '\0';
  }
  return out;
}

static void load_service(loader_t *ld, dray_compose_t *compose, const pair_t *sp)
{
  dray_compose_service_t *svc;
  apr_array_header_t *pairs;
  yaml_node_t *build, *node;
  const char *context = ".", *dockerfile = "Dockerfile";
  const yaml_node_t *context_node;
  int bad = 0;

  if (sp->value->type != YAML_MAPPING_NODE) {
    problem(ld, sp->value, "service \"%s\" must be a mapping", sp->key);
    return;
  }
  pairs = pairs_of(ld, sp->value);
  build = get(pairs, "build");
  if (!build)
    return; /* pulled, not built */

  svc = apr_pcalloc(ld->rpool, sizeof(*svc));
  svc->name = apr_pstrdup(ld->rpool, sp->key);
  svc->line = line_of(sp->key_node);
  svc->origin = apr_psprintf(ld->rpool, "%s:%d", ld->path, svc->line);
  svc->build_args = apr_array_make(ld->rpool, 4, sizeof(const char *));
  context_node = build;

  node = get(pairs, "image");
  if (node && !is_null(node)) {
    svc->image = string_value(ld, node, apr_psprintf(ld->spool, "service \"%s\": image",
                                                     svc->name));
    svc->image_line = line_of(node);
    bad |= !svc->image;
  }

  if (build->type == YAML_SCALAR_NODE && !is_null(build)) {
    context = string_value(ld, build, apr_psprintf(ld->spool, "service \"%s\": build",
                                                   svc->name));
    bad |= !context;
  } else if (build->type == YAML_MAPPING_NODE) {
    apr_array_header_t *bpairs = pairs_of(ld, build);
    if ((node = get(bpairs, "context")) != NULL) {
      context = string_value(ld, node, apr_psprintf(ld->spool, "service \"%s\": build.context",
                                                    svc->name));
      context_node = node;
      bad |= !context;
    }
    if ((node = get(bpairs, "dockerfile")) != NULL) {
      dockerfile = string_value(
          ld, node, apr_psprintf(ld->spool, "service \"%s\": build.dockerfile", svc->name));
      svc->dockerfile_given = 1;
      bad |= !dockerfile;
    }
    if ((node = get(bpairs, "dockerfile_inline")) != NULL) {
      problem(ld, node, "service \"%s\": build.dockerfile_inline is not supported; "
                        "write the Dockerfile to a file", svc->name);
      bad = 1;
    }
    if ((node = get(bpairs, "target")) != NULL && !is_null(node)) {
      svc->target = string_value(ld, node, apr_psprintf(ld->spool, "service \"%s\": build.target",
                                                        svc->name));
      bad |= !svc->target;
      if (svc->target && !*svc->target)
        svc->target = NULL; /* "" is the default: the last stage */
    }
    if ((node = get(bpairs, "args")) != NULL)
      load_args(ld, svc, node);
  } else {
    problem(ld, build, "service \"%s\": build must be a string (the context) or a mapping",
            svc->name);
    return;
  }
  if (bad)
    return;

  if (strstr(context, "://") || strncmp(context, "git@", 4) == 0) {
    problem(ld, context_node, "service \"%s\": remote build context \"%s\" is not supported",
            svc->name, context);
    return;
  }
  svc->context_dir = merge_path(ld, ld->dir, context, context_node, "build context");
  if (!svc->context_dir)
    return;
  svc->dockerfile = merge_path(ld, svc->context_dir, dockerfile, context_node, "dockerfile");
  if (!svc->dockerfile)
    return;
  /* Like podman: no Dockerfile but a Containerfile, when none was named. */
  if (!svc->dockerfile_given && !dray_file_is_regular(svc->dockerfile, ld->spool)) {
    const char *alt = merge_path(ld, svc->context_dir, "Containerfile", context_node, "dockerfile");
    if (alt && dray_file_is_regular(alt, ld->spool))
      svc->dockerfile = alt;
  }
  APR_ARRAY_PUSH(compose->services, dray_compose_service_t *) = svc;
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
static void load_settings(loader_t *ld, dray_settings_t *st, yaml_node_t *node,
                          const char *prefix, dray_setting_source_t source)
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


dray_error_t *dray_compose_parse(dray_compose_t **compose_p, const char *text, apr_size_t len,
                                 const char *path, apr_pool_t *result_pool,
                                 apr_pool_t *scratch_pool)
{
  loader_t ld;
  yaml_document_t doc;
  yaml_node_t *root, *services = NULL;
  dray_compose_t *compose;
  char *abs, *slash, *envtext;
  apr_size_t envlen;
  int missing, i;
  apr_status_t status;

  memset(&ld, 0, sizeof(ld));
  ld.path = path;
  ld.rpool = result_pool;
  ld.spool = scratch_pool;
  ld.dotenv = apr_hash_make(scratch_pool);

  compose = apr_pcalloc(result_pool, sizeof(*compose));
  compose->path = apr_pstrdup(result_pool, path);
  compose->services = apr_array_make(result_pool, 8, sizeof(dray_compose_service_t *));
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

  {
    const char *envpath;
    dray_error_t *err;
    status = apr_filepath_merge((char **)&envpath, ld.dir, ".env", 0, scratch_pool);
    if (status == APR_SUCCESS) {
      err = dray_file_read(&envtext, &envlen, &missing, envpath, NULL, scratch_pool);
      if (err)
        return err;
      if (!missing)
        parse_dotenv(ld.dotenv, envtext, scratch_pool);
    }
  }

  DRAY_ERR(load_document(&doc, text, len, path));
  ld.doc = &doc;

  root = yaml_document_get_root_node(&doc);
  if (!root || is_null(root)) {
    ld.err = dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: empty compose file", path);
  } else if (root->type != YAML_MAPPING_NODE) {
    problem(&ld, root, "the top level must be a mapping");
  } else {
    apr_array_header_t *pairs = pairs_of(&ld, root);
    yaml_node_t *xdray = get(pairs, "x-dray");
    services = get(pairs, "services");
    if (xdray)
      load_settings(&ld, &compose->settings, xdray, "x-dray.", DRAY_SOURCE_COMPOSE);
    if (!services) {
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

dray_error_t *dray_compose_load(dray_compose_t **compose, const char *path,
                                apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  char *text;
  apr_size_t len;
  DRAY_ERR(dray_file_read(&text, &len, NULL, path, NULL, scratch_pool));
  return dray_compose_parse(compose, text, len, path, result_pool, scratch_pool);
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
    load_settings(&ld, settings, root, "", DRAY_SOURCE_CONFIG);
  yaml_document_delete(&doc);
  return ld.err;
}
