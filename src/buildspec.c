/* buildspec.c — the table of compose build keys: shape, option, builders. */
#include "dray/buildspec.h"

#include <string.h>

#include <apr_strings.h>

#include "dray/enginecmd.h"

#define D (1 << DRAY_BUILDER_DOCKER)
#define X (1 << DRAY_BUILDER_BUILDX)
#define P (1 << DRAY_BUILDER_PODMAN)

static const char NEED_BUILDX_OR_PODMAN[] =
    "docker buildx (install the buildx plugin: dray then builds with \"docker buildx build "
    "--load\") or --engine-cmd podman";
static const char NEED_BUILDX[] =
    "docker buildx (install the buildx plugin: dray then builds with \"docker buildx build "
    "--load\")";

static const char NEED_MULTI_PLATFORM[] =
    "--engine-cmd podman (podman build --manifest, then podman manifest push --all) or docker "
    "buildx with the engine's containerd image store (a manifest list cannot be loaded into "
    "the classic image store)";

typedef struct key_info_t {
  const char *word;
  dray_build_shape_t shape;
  const char *option;        /* the build option, or NULL: placed elsewhere */
  int builders;              /* D | X | P: who can do it */
  const char *needs;         /* what would make it work elsewhere */
} key_info_t;

/* Indexed by dray_build_key_t. */
static const key_info_t keys[DRAY_BK_COUNT] = {
  {"additional_contexts", DRAY_SHAPE_MAPPING, "--build-context", X | P, NEED_BUILDX_OR_PODMAN},
  {"args", DRAY_SHAPE_SPECIAL, NULL, D | X | P, NULL},
  {"cache_from", DRAY_SHAPE_LIST, "--cache-from", D | X | P, NULL},
  {"cache_to", DRAY_SHAPE_LIST, "--cache-to", X | P, NEED_BUILDX_OR_PODMAN},
  {"context", DRAY_SHAPE_SPECIAL, NULL, D | X | P, NULL},
  {"dockerfile", DRAY_SHAPE_SPECIAL, NULL, D | X | P, NULL},
  {"dockerfile_inline", DRAY_SHAPE_STRING, NULL, D | X | P, NULL},
  {"entitlements", DRAY_SHAPE_LIST, "--allow", X, NEED_BUILDX},
  {"extra_hosts", DRAY_SHAPE_HOSTS, "--add-host", D | X | P, NULL},
  {"isolation", DRAY_SHAPE_STRING, "--isolation", D | X | P, NULL},
  {"labels", DRAY_SHAPE_MAPPING, "--label", D | X | P, NULL},
  {"network", DRAY_SHAPE_STRING, "--network", D | X | P, NULL},
  {"no_cache", DRAY_SHAPE_BOOL, "--no-cache", D | X | P, NULL},
  {"no_cache_filter", DRAY_SHAPE_LIST, "--no-cache-filter", X, NEED_BUILDX},
  /* One platform anyone builds; several make a manifest list (an OCI
   * index): podman builds it with --manifest and pushes it with "podman
   * manifest push --all"; buildx loads it into an engine with the containerd
   * image store, whose push sends the whole index. */
  {"platforms", DRAY_SHAPE_LIST, "--platform", X | P, NEED_MULTI_PLATFORM},
  {"privileged", DRAY_SHAPE_BOOL, "--allow", X, NEED_BUILDX},
  {"provenance", DRAY_SHAPE_BOOL_OR_STRING, "--provenance", X, NEED_BUILDX},
  {"pull", DRAY_SHAPE_BOOL, "--pull", D | X | P, NULL},
  {"sbom", DRAY_SHAPE_BOOL_OR_STRING, "--sbom", X, NEED_BUILDX},
  {"secrets", DRAY_SHAPE_SECRETS, "--secret", D | X | P, NULL},
  {"shm_size", DRAY_SHAPE_SIZE, "--shm-size", D | X | P, NULL},
  {"ssh", DRAY_SHAPE_MAPPING, "--ssh", D | X | P, NULL},
  {"tags", DRAY_SHAPE_LIST, NULL, D | X | P, NULL},
  {"target", DRAY_SHAPE_SPECIAL, NULL, D | X | P, NULL},
  {"ulimits", DRAY_SHAPE_ULIMITS, "--ulimit", D | X | P, NULL},
  {"platform", DRAY_SHAPE_LIST, NULL, D | X | P, NULL},
};

const char *dray_build_key_word(dray_build_key_t key)
{
  return keys[key].word;
}

dray_build_shape_t dray_build_key_shape(dray_build_key_t key)
{
  return keys[key].shape;
}

int dray_build_key_find(const char *word)
{
  int i;
  for (i = 0; i < DRAY_BK_PLATFORM; i++)
    if (strcmp(keys[i].word, word) == 0)
      return i;
  return -1;
}

const char *dray_builder_word(dray_builder_t builder)
{
  static const char *const words[DRAY_BUILDER_COUNT] = {"docker build", "docker buildx build",
                                                        "podman build"};
  return words[builder];
}

dray_builder_t dray_builder_for(const char *engine_cmd, int has_buildx)
{
  if (dray_engine_cmd_kind(engine_cmd) == DRAY_ENGINE_CMD_PODMAN)
    return DRAY_BUILDER_PODMAN;
  return has_buildx ? DRAY_BUILDER_BUILDX : DRAY_BUILDER_DOCKER;
}

const char *dray_buildspec_where(const dray_buildspec_t *spec, dray_build_key_t key,
                                 apr_pool_t *result_pool)
{
  if (spec->line[key] > 0)
    return apr_psprintf(result_pool, "%s:%d", spec->path[key], spec->line[key]);
  return spec->path[key];
}

apr_array_header_t *dray_buildspec_split_platforms(const char *value, apr_pool_t *result_pool)
{
  apr_array_header_t *out = apr_array_make(result_pool, 2, sizeof(const char *));
  const char *p = value ? value : "";
  while (*p) {
    const char *end = strchr(p, ','), *b = p, *e;
    if (!end)
      end = p + strlen(p);
    while (b < end && (*b == ' ' || *b == '\t'))
      b++;
    for (e = end; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
      ;
    if (e > b)
      APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(result_pool, b, (apr_size_t)(e - b));
    p = *end ? end + 1 : end;
  }
  return out;
}

dray_buildspec_t *dray_buildspec_create(apr_pool_t *result_pool)
{
  return apr_pcalloc(result_pool, sizeof(dray_buildspec_t));
}

static int nelts(const apr_array_header_t *a)
{
  return a ? a->nelts : 0;
}

/* The list field of KEY in SPEC, or NULL for a key that is no list. */
static apr_array_header_t **list_field(dray_buildspec_t *spec, dray_build_key_t key)
{
  switch (key) {
  case DRAY_BK_ADDITIONAL_CONTEXTS: return &spec->additional_contexts;
  case DRAY_BK_CACHE_FROM: return &spec->cache_from;
  case DRAY_BK_CACHE_TO: return &spec->cache_to;
  case DRAY_BK_ENTITLEMENTS: return &spec->entitlements;
  case DRAY_BK_EXTRA_HOSTS: return &spec->extra_hosts;
  case DRAY_BK_LABELS: return &spec->labels;
  case DRAY_BK_NO_CACHE_FILTER: return &spec->no_cache_filter;
  case DRAY_BK_PLATFORMS: return &spec->platforms;
  case DRAY_BK_PLATFORM: return &spec->platforms;
  case DRAY_BK_SECRETS: return &spec->secrets;
  case DRAY_BK_SSH: return &spec->ssh;
  case DRAY_BK_TAGS: return &spec->tags;
  case DRAY_BK_ULIMITS: return &spec->ulimits;
  default: return NULL;
  }
}

/* The string field of KEY in SPEC, or NULL. */
static const char **string_field(dray_buildspec_t *spec, dray_build_key_t key)
{
  switch (key) {
  case DRAY_BK_DOCKERFILE_INLINE: return &spec->dockerfile_inline;
  case DRAY_BK_ISOLATION: return &spec->isolation;
  case DRAY_BK_NETWORK: return &spec->network;
  case DRAY_BK_SHM_SIZE: return &spec->shm_size;
  case DRAY_BK_PROVENANCE: return &spec->provenance;
  case DRAY_BK_SBOM: return &spec->sbom;
  default: return NULL;
  }
}

static int *bool_field(dray_buildspec_t *spec, dray_build_key_t key)
{
  switch (key) {
  case DRAY_BK_NO_CACHE: return &spec->no_cache;
  case DRAY_BK_PRIVILEGED: return &spec->privileged;
  case DRAY_BK_PULL: return &spec->pull;
  default: return NULL;
  }
}

void dray_buildspec_set_string(dray_buildspec_t *spec, dray_build_key_t key, const char *value)
{
  const char **str = string_field(spec, key);
  if (str)
    *str = value;
}

void dray_buildspec_set_bool(dray_buildspec_t *spec, dray_build_key_t key, int value)
{
  int *flag = bool_field(spec, key);
  if (flag)
    *flag = value;
}

void dray_buildspec_set_list(dray_buildspec_t *spec, dray_build_key_t key,
                             apr_array_header_t *values)
{
  apr_array_header_t **list = list_field(spec, key);
  if (list)
    *list = values;
}

int dray_buildspec_uses(const dray_buildspec_t *spec, dray_build_key_t key)
{
  dray_buildspec_t *s = (dray_buildspec_t *)spec; /* the accessors only read here */
  apr_array_header_t **list = list_field(s, key);
  const char **str = string_field(s, key);
  int *flag = bool_field(s, key);

  if (key == DRAY_BK_PLATFORMS || key == DRAY_BK_PLATFORM)
    return nelts(spec->platforms) > 1; /* one platform: every builder */
  if (key == DRAY_BK_PROVENANCE || key == DRAY_BK_SBOM)
    return *str && strcmp(*str, "false") != 0; /* no attestation: nothing to do */
  if (list)
    return nelts(*list) > 0;
  if (str)
    return *str != NULL;
  if (flag)
    return *flag;
  return spec->line[key] != 0;
}

void dray_buildspec_drop(dray_buildspec_t *spec, dray_build_key_t key)
{
  apr_array_header_t **list = list_field(spec, key);
  const char **str = string_field(spec, key);
  int *flag = bool_field(spec, key);
  if (list)
    *list = NULL;
  if (str)
    *str = NULL;
  if (flag)
    *flag = 0;
  spec->line[key] = 0;
}

const char *dray_build_key_needs(dray_build_key_t key, dray_builder_t builder)
{
  return keys[key].builders & (1 << builder) ? NULL : keys[key].needs;
}

apr_array_header_t *dray_buildspec_refusals(apr_array_header_t **needs,
                                            const dray_buildspec_t *spec,
                                            dray_builder_t builder, apr_pool_t *result_pool)
{
  apr_array_header_t *out = apr_array_make(result_pool, 2, sizeof(int));
  int key;
  *needs = apr_array_make(result_pool, 2, sizeof(const char *));
  for (key = 0; key < DRAY_BK_COUNT; key++) {
    if (key == DRAY_BK_PLATFORM || !dray_build_key_needs((dray_build_key_t)key, builder))
      continue; /* "platform" is judged with platforms */
    if (!dray_buildspec_uses(spec, (dray_build_key_t)key))
      continue;
    APR_ARRAY_PUSH(out, int) = key;
    APR_ARRAY_PUSH(*needs, const char *) = keys[key].needs;
  }
  return out;
}

/* The name an entry of a mapping-shaped KEY is merged by: "K" of "K=V",
 * "host" of "host:ip"; a secret's id. */
static const char *merge_name(dray_build_key_t key, const void *item, apr_pool_t *pool)
{
  const char *s, *end;
  if (key == DRAY_BK_SECRETS)
    return ((const dray_build_secret_t *)item)->id;
  s = item;
  switch (keys[key].shape) {
  case DRAY_SHAPE_MAPPING:
  case DRAY_SHAPE_ULIMITS:
    end = strchr(s, '=');
    break;
  case DRAY_SHAPE_HOSTS:
    return s; /* a host may have several addresses: whole entries */
  default:
    return s; /* a list: the value itself */
  }
  return end ? apr_pstrmemdup(pool, s, (apr_size_t)(end - s)) : s;
}

/* A list of KEY: BASE's then OVER's. A mapping's (and secrets') entries of
 * one name: OVER's replaces BASE's; a list's: kept once, where it came first. */
static apr_array_header_t *merge_list(dray_build_key_t key, const apr_array_header_t *base,
                                      const apr_array_header_t *over, apr_pool_t *pool)
{
  apr_array_header_t *out = apr_array_make(pool, nelts(base) + nelts(over), sizeof(void *));
  int by_name = keys[key].shape == DRAY_SHAPE_MAPPING || keys[key].shape == DRAY_SHAPE_ULIMITS
                || key == DRAY_BK_SECRETS;
  int i, j;
  if (!over)
    return base ? apr_array_copy(pool, base) : NULL;
  for (i = 0; i < nelts(base); i++) {
    const void *b = APR_ARRAY_IDX(base, i, const void *);
    const char *name = merge_name(key, b, pool);
    int replaced = 0;
    for (j = 0; by_name && j < over->nelts && !replaced; j++)
      replaced = strcmp(name, merge_name(key, APR_ARRAY_IDX(over, j, const void *), pool)) == 0;
    if (!replaced)
      APR_ARRAY_PUSH(out, const void *) = b;
  }
  for (j = 0; j < over->nelts; j++) {
    const void *o = APR_ARRAY_IDX(over, j, const void *);
    int seen = 0;
    for (i = 0; !by_name && i < nelts(base) && !seen; i++)
      seen = strcmp(merge_name(key, o, pool),
                    merge_name(key, APR_ARRAY_IDX(base, i, const void *), pool)) == 0;
    if (!seen)
      APR_ARRAY_PUSH(out, const void *) = o;
  }
  return out;
}

dray_buildspec_t *dray_buildspec_merge(const dray_buildspec_t *base, const dray_buildspec_t *over,
                                       apr_pool_t *result_pool)
{
  dray_buildspec_t *out = apr_pmemdup(result_pool, base, sizeof(*base));
  dray_buildspec_t *o = (dray_buildspec_t *)over; /* the accessors only read it */
  int key;
  for (key = 0; key < DRAY_BK_COUNT; key++) {
    apr_array_header_t **list = list_field(out, (dray_build_key_t)key);
    const char **str = string_field(out, (dray_build_key_t)key);
    int *flag = bool_field(out, (dray_build_key_t)key);
    if (!over->line[key])
      continue;
    out->line[key] = over->line[key];
    out->path[key] = over->path[key];
    if (key == DRAY_BK_PLATFORM)
      continue; /* its list is platforms' */
    if (list)
      *list = merge_list((dray_build_key_t)key, *list, *list_field(o, (dray_build_key_t)key),
                         result_pool);
    else if (str)
      *str = *string_field(o, (dray_build_key_t)key);
    else if (flag)
      *flag = *bool_field(o, (dray_build_key_t)key);
  }
  /* the service's platform over the base's build.platforms: compose's
   * platform then picks among them; dray builds the one it names */
  if (over->line[DRAY_BK_PLATFORM] && !over->line[DRAY_BK_PLATFORMS])
    out->platforms = over->platforms;
  return out;
}

#define ARG(s) (APR_ARRAY_PUSH(argv, const char *) = (s))

static void append_secret(apr_array_header_t *argv, apr_array_header_t *env,
                          const dray_build_secret_t *s, apr_pool_t *pool)
{
  ARG("--secret");
  if (s->file) {
    ARG(apr_pstrcat(pool, "id=", s->id, ",src=", s->file, NULL));
    return;
  }
  ARG(apr_pstrcat(pool, "id=", s->id, ",env=", s->env, NULL));
  if (env)
    APR_ARRAY_PUSH(env, const char *) = apr_pstrcat(pool, s->env, "=", s->value, NULL);
}

void dray_buildspec_append_argv(apr_array_header_t *argv, apr_array_header_t *env,
                                const dray_buildspec_t *spec, dray_builder_t builder,
                                apr_pool_t *result_pool)
{
  dray_buildspec_t *s = (dray_buildspec_t *)spec; /* the accessors only read here */
  int key, i;
  (void)builder;
  for (key = 0; key < DRAY_BK_COUNT; key++) {
    const char *opt = keys[key].option;
    apr_array_header_t **list = list_field(s, (dray_build_key_t)key);
    const char **str = string_field(s, (dray_build_key_t)key);
    int *flag = bool_field(s, (dray_build_key_t)key);

    if (!opt || key == DRAY_BK_PLATFORMS || !dray_buildspec_uses(spec, (dray_build_key_t)key))
      continue;
    if (key == DRAY_BK_SECRETS) {
      for (i = 0; i < spec->secrets->nelts; i++)
        append_secret(argv, env, APR_ARRAY_IDX(spec->secrets, i, dray_build_secret_t *),
                      result_pool);
    } else if (key == DRAY_BK_PRIVILEGED) {
      ARG(opt);
      ARG("security.insecure");
    } else if (key == DRAY_BK_PROVENANCE || key == DRAY_BK_SBOM) {
      ARG(apr_pstrcat(result_pool, opt, "=", *str, NULL)); /* an optional value */
    } else if (list) {
      for (i = 0; i < (*list)->nelts; i++) {
        ARG(opt);
        ARG(APR_ARRAY_IDX(*list, i, const char *));
      }
    } else if (str) {
      ARG(opt);
      ARG(*str);
    } else if (flag) {
      ARG(opt);
    }
  }
}

#undef ARG

const char *dray_buildspec_fingerprint(const dray_buildspec_t *spec, apr_pool_t *result_pool)
{
  dray_buildspec_t *s = (dray_buildspec_t *)spec;
  apr_array_header_t *parts = apr_array_make(result_pool, 32, sizeof(const char *));
  int key, i;
  for (key = 0; key < DRAY_BK_COUNT; key++) {
    apr_array_header_t **list = list_field(s, (dray_build_key_t)key);
    const char **str = string_field(s, (dray_build_key_t)key);
    int *flag = bool_field(s, (dray_build_key_t)key);
    const char *v = "";
    if (key == DRAY_BK_TAGS || key == DRAY_BK_PLATFORM)
      continue;
    if (key == DRAY_BK_SECRETS) {
      for (i = 0; i < nelts(spec->secrets); i++) {
        const dray_build_secret_t *sec = APR_ARRAY_IDX(spec->secrets, i, dray_build_secret_t *);
        v = apr_pstrcat(result_pool, v, sec->id, "=", sec->file ? sec->file : "$",
                        sec->env ? sec->env : "", ";", NULL);
      }
    } else if (list && *list) {
      for (i = 0; i < (*list)->nelts; i++)
        v = apr_pstrcat(result_pool, v, APR_ARRAY_IDX(*list, i, const char *), "\n", NULL);
    } else if (str && *str) {
      v = *str;
    } else if (flag) {
      v = *flag ? "1" : "0";
    }
    /* length-prefixed: no value can look like another's end */
    APR_ARRAY_PUSH(parts, const char *) =
        apr_psprintf(result_pool, "%s:%lu:%s", keys[key].word, (unsigned long)strlen(v), v);
  }
  return apr_array_pstrcat(result_pool, parts, '|');
}
