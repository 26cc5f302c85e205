/* bake.c — bake JSON (jansson) into compose services. */
#include "dray/bake.h"

#include <stdarg.h>
#include <string.h>

#include <apr_env.h>
#include <apr_file_info.h>
#include <apr_strings.h>
#include <jansson.h>

#include "dray/compose_merge.h"
#include "dray/file.h"
#include "dray/subst.h"

/* Target keys that are not build keys. */
enum {
  BAKE_INHERITS = -2,
  BAKE_QUIET = -3,           /* changes nothing in the image: description */
  BAKE_OUTPUT = -4,
  BAKE_ATTEST = -5
};

/* The target keys and the compose build key each one is. */
static const struct {
  const char *word;
  int key;
} bake_keys[] = {
  {"args", DRAY_BK_ARGS},
  {"attest", BAKE_ATTEST},
  {"cache-from", DRAY_BK_CACHE_FROM},
  {"cache-to", DRAY_BK_CACHE_TO},
  {"context", DRAY_BK_CONTEXT},
  {"contexts", DRAY_BK_ADDITIONAL_CONTEXTS},
  {"description", BAKE_QUIET},
  {"dockerfile", DRAY_BK_DOCKERFILE},
  {"dockerfile-inline", DRAY_BK_DOCKERFILE_INLINE},
  {"entitlements", DRAY_BK_ENTITLEMENTS},
  {"extra-hosts", DRAY_BK_EXTRA_HOSTS},
  {"inherits", BAKE_INHERITS},
  {"labels", DRAY_BK_LABELS},
  {"network", DRAY_BK_NETWORK},
  {"no-cache", DRAY_BK_NO_CACHE},
  {"no-cache-filter", DRAY_BK_NO_CACHE_FILTER},
  {"output", BAKE_OUTPUT},
  {"platforms", DRAY_BK_PLATFORMS},
  {"pull", DRAY_BK_PULL},
  {"secret", DRAY_BK_SECRETS},
  {"shm-size", DRAY_BK_SHM_SIZE},
  {"ssh", DRAY_BK_SSH},
  {"tags", DRAY_BK_TAGS},
  {"target", DRAY_BK_TARGET},
  {"ulimits", DRAY_BK_ULIMITS},
  {NULL, 0}
};

const char *dray_bake_key_word(dray_build_key_t key)
{
  int i;
  if (key == DRAY_BK_PROVENANCE || key == DRAY_BK_SBOM)
    return "attest";
  if (key == DRAY_BK_PLATFORM)
    key = DRAY_BK_PLATFORMS;
  for (i = 0; bake_keys[i].word; i++)
    if (bake_keys[i].key == (int)key)
      return bake_keys[i].word;
  return dray_build_key_word(key); /* none in bake: the compose word */
}

typedef struct bake_t {
  const char *path;
  const char *dir;
  json_t *variables;         /* "variable": NAME -> {default} */
  json_t *targets;           /* "target" */
  apr_hash_t *done;          /* target name -> dray_compose_service_t *, inherits resolved */
  apr_pool_t *rpool, *spool;
  dray_error_t *err;
} bake_t;

static void problem(bake_t *bk, const char *target, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void problem(bake_t *bk, const char *target, const char *fmt, ...)
{
  va_list ap;
  const char *msg;
  va_start(ap, fmt);
  msg = apr_pvsprintf(bk->spool, fmt, ap);
  va_end(ap);
  bk->err = dray_error_compose(
      bk->err, target ? dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: target \"%s\": %s",
                                           bk->path, target, msg)
                      : dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: %s", bk->path, msg));
}

/* ${NAME}: the environment, else the variable's default. */
static const char *variable(void *baton, const char *name, apr_pool_t *pool)
{
  bake_t *bk = baton;
  json_t *def = json_object_get(json_object_get(bk->variables, name), "default");
  char *value;
  if (apr_env_get(&value, name, pool) == APR_SUCCESS)
    return value;
  if (json_is_string(def))
    return json_string_value(def);
  if (json_is_integer(def))
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(def));
  if (json_is_boolean(def))
    return json_is_true(def) ? "true" : "false";
  return NULL;
}

/* V as a string (numbers and booleans in words), interpolated; NULL after
 * a problem. */
static const char *string_of(bake_t *bk, const char *target, const char *what, json_t *v)
{
  dray_subst_options_t opts;
  dray_subst_failure_t failure;
  const char *s, *out;
  dray_error_t *err;
  if (json_is_string(v))
    s = json_string_value(v);
  else if (json_is_integer(v))
    return apr_psprintf(bk->rpool, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
  else if (json_is_boolean(v))
    return json_is_true(v) ? "true" : "false";
  else {
    problem(bk, target, "%s must be a string", what);
    return NULL;
  }
  memset(&opts, 0, sizeof(opts));
  opts.flags = DRAY_SUBST_DOLLAR_DOLLAR;
  opts.lookup = variable;
  opts.baton = bk;
  err = dray_subst_expand(&out, &failure, s, strlen(s), &opts, bk->rpool, bk->spool);
  if (err) {
    problem(bk, target, "%s: cannot interpolate \"%s\"", what, s);
    dray_error_clear(err);
    return NULL;
  }
  return out;
}

/* V as strings: an array of them, one, or an object of K: V ("K<SEP>V"). */
static apr_array_header_t *strings_of(bake_t *bk, const char *target, const char *what,
                                      json_t *v, const char *sep)
{
  apr_array_header_t *out = apr_array_make(bk->rpool, 4, sizeof(const char *));
  const char *s, *k;
  json_t *item;
  size_t i;
  if (json_is_array(v)) {
    json_array_foreach(v, i, item) {
      if (!(s = string_of(bk, target, what, item)))
        return NULL;
      APR_ARRAY_PUSH(out, const char *) = s;
    }
  } else if (json_is_object(v)) {
    json_object_foreach(v, k, item) {
      if (json_is_null(item)) {
        APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(bk->rpool, k);
        continue;
      }
      if (!(s = string_of(bk, target, what, item)))
        return NULL;
      APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(bk->rpool, k, sep, s, NULL);
    }
  } else if (!json_is_null(v)) {
    if (!(s = string_of(bk, target, what, v)))
      return NULL;
    APR_ARRAY_PUSH(out, const char *) = s;
  }
  return out;
}

/* "id=x,src=path" / "type=env,id=X[,env=VAR]" as build secrets. */
static apr_array_header_t *secrets_of(bake_t *bk, const char *target, json_t *v)
{
  apr_array_header_t *words = strings_of(bk, target, "secret", v, "=");
  apr_array_header_t *out = apr_array_make(bk->rpool, 2, sizeof(dray_build_secret_t *));
  int i;
  for (i = 0; words && i < words->nelts; i++) {
    char *copy = apr_pstrdup(bk->spool, APR_ARRAY_IDX(words, i, const char *)), *last, *f;
    dray_build_secret_t *s = apr_pcalloc(bk->rpool, sizeof(*s));
    int is_env = 0;
    for (f = apr_strtok(copy, ",", &last); f; f = apr_strtok(NULL, ",", &last)) {
      char *eq = strchr(f, '=');
      const char *val = eq ? eq + 1 : "";
      if (eq)
        *eq = '\0';
      if (strcmp(f, "id") == 0)
        s->id = apr_pstrdup(bk->rpool, val);
      else if (strcmp(f, "src") == 0 || strcmp(f, "source") == 0) {
        char *abs;
        if (apr_filepath_merge(&abs, bk->dir, val, 0, bk->rpool) == APR_SUCCESS)
          s->file = abs;
      } else if (strcmp(f, "env") == 0)
        s->env = apr_pstrdup(bk->rpool, val);
      else if (strcmp(f, "type") == 0)
        is_env = strcmp(val, "env") == 0;
    }
    if (is_env && !s->env)
      s->env = s->id;
    if (!s->id || (!s->file && !s->env)) {
      problem(bk, target, "secret \"%s\" needs id= and src= or env=",
              APR_ARRAY_IDX(words, i, const char *));
      return NULL;
    }
    if (s->env && !s->file) {
      char *value;
      if (apr_env_get(&value, s->env, bk->spool) != APR_SUCCESS) {
        problem(bk, target, "secret \"%s\": environment variable %s is not set", s->id, s->env);
        return NULL;
      }
      s->value = apr_pstrdup(bk->rpool, value);
    } else {
      s->env = NULL;
    }
    s->source = s->id;
    s->where = apr_psprintf(bk->rpool, "%s (target \"%s\")", bk->path, target);
    APR_ARRAY_PUSH(out, dray_build_secret_t *) = s;
  }
  return words ? out : NULL;
}

/* attest: "type=provenance,mode=max" / "type=sbom" as provenance and sbom. */
static void attest(bake_t *bk, const char *target, dray_compose_service_t *svc, json_t *v)
{
  apr_array_header_t *words = strings_of(bk, target, "attest", v, "=");
  int i;
  for (i = 0; words && i < words->nelts; i++) {
    const char *w = APR_ARRAY_IDX(words, i, const char *);
    dray_build_key_t key;
    const char *rest;
    if (strncmp(w, "type=provenance", 15) == 0)
      key = DRAY_BK_PROVENANCE, rest = w + 15;
    else if (strncmp(w, "type=sbom", 9) == 0)
      key = DRAY_BK_SBOM, rest = w + 9;
    else {
      problem(bk, target, "attest \"%s\": only type=provenance and type=sbom exist", w);
      continue;
    }
    rest += *rest == ',';
    dray_buildspec_set_string(svc->spec, key,
                              *rest ? apr_pstrdup(bk->rpool, rest)
                                    : strstr(w, "disabled=true") ? "false" : "true");
    svc->spec->line[key] = DRAY_BK_NO_LINE;
    svc->spec->path[key] = bk->path;
  }
}

/* The image store is where dray builds to; any other output is not. */
static void output(bake_t *bk, const char *target, json_t *v)
{
  apr_array_header_t *words = strings_of(bk, target, "output", v, "=");
  int i;
  for (i = 0; words && i < words->nelts; i++) {
    const char *w = APR_ARRAY_IDX(words, i, const char *);
    if (strncmp(w, "type=docker", 11) && strncmp(w, "type=image", 10)
        && strncmp(w, "type=registry", 13))
      problem(bk, target, "output \"%s\": dray builds into the engine's images and pushes the "
              "tags; build this target with docker buildx bake", w);
  }
}

/* One target's own keys as a service (inherits not yet applied). */
static dray_compose_service_t *target_service(bake_t *bk, const char *name, json_t *t)
{
  dray_compose_service_t *svc = apr_pcalloc(bk->rpool, sizeof(*svc));
  const char *k;
  json_t *v;

  svc->name = apr_pstrdup(bk->rpool, name);
  svc->path = bk->path;
  svc->base_dir = bk->dir;
  svc->origin = apr_psprintf(bk->rpool, "%s (target \"%s\")", bk->path, name);
  svc->has_build = 1;
  svc->build_args = apr_array_make(bk->rpool, 4, sizeof(const char *));
  svc->spec = dray_buildspec_create(bk->rpool);
  if (!json_is_object(t)) {
    problem(bk, name, "must be an object");
    return NULL;
  }
  json_object_foreach(t, k, v) {
    int i, key = 0, found = 0;
    const char *what = k;
    for (i = 0; bake_keys[i].word && !found; i++)
      if (strcmp(bake_keys[i].word, k) == 0)
        key = bake_keys[i].key, found = 1;
    if (!found) {
      problem(bk, name, "\"%s\" has no compose build key dray could pass it as; build this "
              "target with docker buildx bake", k);
      continue;
    }
    if (key == BAKE_INHERITS || key == BAKE_QUIET)
      continue;
    if (key == BAKE_OUTPUT) {
      output(bk, name, v);
      continue;
    }
    if (key == BAKE_ATTEST) {
      attest(bk, name, svc, v);
      continue;
    }
    svc->spec->line[key] = DRAY_BK_NO_LINE;
    svc->spec->path[key] = bk->path;
    switch (key) {
    case DRAY_BK_ARGS: {
      apr_array_header_t *args = strings_of(bk, name, what, v, "=");
      for (i = 0; args && i < args->nelts; i++) {
        const char *a = APR_ARRAY_IDX(args, i, const char *);
        char *value;
        if (!strchr(a, '=')) /* a name alone: from the environment, else dropped */
          a = apr_env_get(&value, a, bk->spool) == APR_SUCCESS
                  ? apr_pstrcat(bk->rpool, a, "=", value, NULL)
                  : NULL;
        if (a)
          APR_ARRAY_PUSH(svc->build_args, const char *) = a;
      }
      break;
    }
    case DRAY_BK_CONTEXT:
      svc->context = string_of(bk, name, what, v);
      break;
    case DRAY_BK_DOCKERFILE:
      svc->dockerfile_written = string_of(bk, name, what, v);
      break;
    case DRAY_BK_TARGET:
      svc->target = string_of(bk, name, what, v);
      break;
    case DRAY_BK_SECRETS:
      svc->spec->secrets = secrets_of(bk, name, v);
      break;
    default:
      switch (dray_build_key_shape((dray_build_key_t)key)) {
      case DRAY_SHAPE_BOOL:
        dray_buildspec_set_bool(svc->spec, (dray_build_key_t)key,
                                json_is_true(v) || (json_is_string(v)
                                                    && strcmp(json_string_value(v), "true") == 0));
        break;
      case DRAY_SHAPE_STRING:
      case DRAY_SHAPE_SIZE:
      case DRAY_SHAPE_BOOL_OR_STRING:
        dray_buildspec_set_string(svc->spec, (dray_build_key_t)key, string_of(bk, name, what, v));
        break;
      default:
        dray_buildspec_set_list(svc->spec, (dray_build_key_t)key,
                                strings_of(bk, name, what, v,
                                           key == DRAY_BK_EXTRA_HOSTS ? ":" : "="));
      }
    }
  }
  if (svc->spec->tags && svc->spec->tags->nelts) {
    /* the first tag names the image; the others are more references */
    svc->image = APR_ARRAY_IDX(svc->spec->tags, 0, const char *);
    svc->image_path = bk->path;
  }
  return svc;
}

/* NAME with what it inherits under it. */
static dray_compose_service_t *resolve(bake_t *bk, const char *name, int depth)
{
  dray_compose_service_t *svc = apr_hash_get(bk->done, name, APR_HASH_KEY_STRING), *merged;
  json_t *t = json_object_get(bk->targets, name), *parents, *p;
  size_t i;
  if (svc)
    return svc;
  if (!t) {
    problem(bk, NULL, "no target \"%s\"", name);
    return NULL;
  }
  if (depth > 32) {
    problem(bk, name, "inherits more than 32 deep (a cycle?)");
    return NULL;
  }
  if (!(svc = target_service(bk, name, t)))
    return NULL;
  merged = NULL;
  parents = json_object_get(t, "inherits");
  json_array_foreach(parents, i, p) {
    dray_compose_service_t *parent = json_is_string(p) ? resolve(bk, json_string_value(p),
                                                                 depth + 1)
                                                       : NULL;
    if (!parent)
      return NULL;
    merged = merged ? dray_compose_service_merge(merged, parent, bk->rpool) : parent;
  }
  if (merged) {
    merged = dray_compose_service_merge(merged, svc, bk->rpool);
    merged->name = svc->name;
    merged->origin = svc->origin;
    /* tags are overridden, not merged, in bake */
    if (svc->spec->tags) {
      merged->spec->tags = svc->spec->tags;
      merged->image = svc->image;
    }
    svc = merged;
  }
  apr_hash_set(bk->done, svc->name, APR_HASH_KEY_STRING, svc);
  return svc;
}

/* NAME's targets, a group's or itself, onto OUT in order, once each. */
static void select_name(bake_t *bk, json_t *groups, const char *name, apr_array_header_t *out,
                        apr_hash_t *seen, int depth)
{
  json_t *group = json_object_get(groups, name), *t;
  size_t i;
  if (group && depth < 32) {
    json_array_foreach(json_object_get(group, "targets"), i, t)
      if (json_is_string(t))
        select_name(bk, groups, json_string_value(t), out, seen, depth + 1);
    return;
  }
  if (apr_hash_get(seen, name, APR_HASH_KEY_STRING))
    return;
  apr_hash_set(seen, name, APR_HASH_KEY_STRING, name);
  APR_ARRAY_PUSH(out, const char *) = name;
}

dray_bake_kind_t dray_bake_sniff(const char *path, const char *text, apr_size_t len)
{
  json_t *doc;
  dray_bake_kind_t kind = DRAY_BAKE_NONE;
  apr_size_t n = strlen(path);
  if (n >= 4 && strcmp(path + n - 4, ".hcl") == 0)
    return DRAY_BAKE_HCL;
  doc = json_loadb(text, len, 0, NULL);
  if (json_is_object(doc) && json_object_get(doc, "target")
      && !json_object_get(doc, "services"))
    kind = DRAY_BAKE_JSON;
  else if (!doc && (strstr(text, "target \"") || strstr(text, "group \"")))
    kind = DRAY_BAKE_HCL; /* HCL blocks, whatever the name */
  json_decref(doc);
  return kind;
}

dray_error_t *dray_bake_load(dray_compose_t **compose_p, const char *path,
                             const apr_array_header_t *names, apr_pool_t *result_pool,
                             apr_pool_t *scratch_pool)
{
  bake_t bk;
  dray_compose_t *compose;
  json_error_t jerr;
  json_t *doc, *groups;
  apr_array_header_t *picked = apr_array_make(scratch_pool, 8, sizeof(const char *));
  apr_hash_t *seen = apr_hash_make(scratch_pool);
  char *text, *abs, *slash;
  apr_size_t len;
  int i;

  DRAY_ERR(dray_file_read(&text, &len, NULL, path, NULL, scratch_pool));
  if (dray_bake_sniff(path, text, len) == DRAY_BAKE_HCL)
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "%s: an HCL bake file; dray reads bake JSON: convert it with "
                              "\"docker buildx bake -f %s --print > bake.json\", then "
                              "\"dray plan -f bake.json\"",
                              path, path);
  doc = json_loadb(text, len, 0, &jerr);
  if (!doc)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s:%d: not JSON: %s", path, jerr.line,
                              jerr.text);
  memset(&bk, 0, sizeof(bk));
  bk.path = apr_pstrdup(result_pool, path);
  if (apr_filepath_merge(&abs, NULL, path, 0, result_pool) != APR_SUCCESS)
    abs = apr_pstrdup(result_pool, ".");
  slash = strrchr(abs, '/');
  if (slash)
    *(slash == abs || slash[-1] == ':' ? slash + 1 : slash) = '\0';
  bk.dir = abs;
  bk.variables = json_object_get(doc, "variable");
  bk.targets = json_object_get(doc, "target");
  bk.done = apr_hash_make(scratch_pool);
  bk.rpool = result_pool;
  bk.spool = scratch_pool;
  groups = json_object_get(doc, "group");

  if (names && names->nelts) {
    for (i = 0; i < names->nelts; i++)
      select_name(&bk, groups, APR_ARRAY_IDX(names, i, const char *), picked, seen, 0);
  } else if (json_object_get(groups, "default")) {
    select_name(&bk, groups, "default", picked, seen, 0);
  } else {
    const char *k;
    json_t *v;
    json_object_foreach(bk.targets, k, v)
      select_name(&bk, groups, k, picked, seen, 0);
  }

  compose = apr_pcalloc(result_pool, sizeof(*compose));
  compose->path = bk.path;
  compose->dir = bk.dir;
  compose->services = apr_array_make(result_pool, picked->nelts, sizeof(dray_compose_service_t *));
  compose->all = apr_array_make(result_pool, 1, sizeof(dray_compose_service_t *));
  compose->includes = apr_array_make(result_pool, 1, sizeof(dray_compose_include_t *));
  compose->secrets = apr_hash_make(result_pool);
  compose->ignore = apr_array_make(result_pool, 1, sizeof(int));
  dray_settings_init(&compose->settings);
  for (i = 0; i < picked->nelts; i++) {
    dray_compose_service_t *svc = resolve(&bk, APR_ARRAY_IDX(picked, i, const char *), 0);
    dray_error_t *err;
    if (!svc)
      continue;
    svc->default_image = svc->name; /* no tags: named after the target */
    /* its secrets are resolved already: none to look up */
    err = dray_compose_resolve_service(svc, NULL, result_pool, scratch_pool);
    if (err)
      bk.err = dray_error_compose(bk.err, err);
    else
      APR_ARRAY_PUSH(compose->services, dray_compose_service_t *) = svc;
  }
  json_decref(doc);
  if (bk.err)
    return bk.err;
  *compose_p = compose;
  return DRAY_NO_ERROR;
}
