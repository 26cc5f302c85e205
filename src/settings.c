/* settings.c — the one precedence rule for run-wide settings, and the one
 * parser of their values, whichever source gives them. */
#include "dray/settings.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <apr_env.h>
#include <apr_file_info.h>
#include <apr_strings.h>

#include "dray/engines.h"
#include "dray/platform.h"
#include "dray/ref.h"
#include "dray/slots.h"

typedef enum kind_t {
  K_STRING,    /* const char *, any non-empty word */
  K_REGISTRY,  /* const char *, HOST[:PORT][/NAMESPACE] */
  K_CHOICE,    /* const char *, one of CHOICES */
  K_TAGS,      /* apr_array_header_t * of tags */
  K_ENGINES,   /* apr_array_header_t * of engine words (engines.h) */
  K_INT,       /* int from MIN to MAX */
  K_LIMIT,     /* int from MIN to MAX, or "auto" (DRAY_SETTING_AUTO) */
  K_SLOTS,     /* NAME[:N]: global_slots and global_slot_count */
  K_SECONDS    /* double from MIN to MAX */
} kind_t;

typedef struct setting_info_t {
  dray_setting_id_t id;
  const char *key;
  const char *flag;
  const char *env;
  kind_t kind;
  size_t offset;
  int min, max;
  const char *choices;  /* "auto|engine|cli" */
  int not_in_compose;   /* a repository's compose file may not set it */
} setting_info_t;

#define AT(field) offsetof(dray_settings_t, field)

static const setting_info_t table[DRAY_SETTING_COUNT] = {
  {DRAY_SETTING_REGISTRY, "registry", "--registry", "DRAY_REGISTRY", K_REGISTRY, AT(registry), 0, 0, NULL, 0},
  {DRAY_SETTING_TAGS, "tags", "--tag", "DRAY_TAGS", K_TAGS, AT(tags), 0, 0, NULL, 0},
  {DRAY_SETTING_BUILDERS, "builders", "--builders", "DRAY_BUILDERS", K_LIMIT, AT(builders), 1, 1024, NULL, 0},
  {DRAY_SETTING_PUSHERS, "pushers", "--pushers", "DRAY_PUSHERS", K_LIMIT, AT(pushers), 1, 256, NULL, 0},
  {DRAY_SETTING_BUILDERS_MAX, "builders-max", "--builders-max", "DRAY_BUILDERS_MAX", K_INT,
   AT(builders_max), 1, 1024, NULL, 0},
  {DRAY_SETTING_PUSHERS_MAX, "pushers-max", "--pushers-max", "DRAY_PUSHERS_MAX", K_INT,
   AT(pushers_max), 1, 256, NULL, 0},
  {DRAY_SETTING_RETRIES, "retries", "--retries", "DRAY_RETRIES", K_INT, AT(retries), 0, 100, NULL, 0},
  {DRAY_SETTING_BUILD_RETRIES, "build-retries", "--build-retries", "DRAY_BUILD_RETRIES", K_INT,
   AT(build_retries), 0, 100, NULL, 0},
  {DRAY_SETTING_RETRY_DELAY, "retry-delay", "--retry-delay", "DRAY_RETRY_DELAY", K_SECONDS,
   AT(retry_delay), 0, 3600, NULL, 0},
  {DRAY_SETTING_STALL_TIMEOUT, "stall-timeout", "--stall-timeout", "DRAY_STALL_TIMEOUT", K_INT,
   AT(stall_timeout), 0, 86400, NULL, 0},
  {DRAY_SETTING_GLOBAL_SLOTS, "global-slots", "--global-slots", "DRAY_GLOBAL_SLOTS", K_SLOTS,
   AT(global_slots), 0, 0, NULL, 0},
  {DRAY_SETTING_NETWORK, "network", "--network", "DRAY_NETWORK", K_STRING, AT(network), 0, 0, NULL, 0},
  {DRAY_SETTING_PLATFORM, "platform", "--platform", "DRAY_PLATFORM", K_STRING, AT(platform), 0, 0, NULL, 0},
  /* The program dray runs on this machine: the user's choice, never a
   * cloned repository's (x-dray). */
  {DRAY_SETTING_ENGINE_CMD, "engine-cmd", "--engine-cmd", "DRAY_ENGINE_CMD", K_STRING, AT(engine_cmd),
   0, 0, NULL, 1},
  {DRAY_SETTING_PUSH_DRIVER, "push-driver", "--push-driver", "DRAY_PUSH_DRIVER", K_CHOICE,
   AT(push_driver), 0, 0, "auto|engine|cli|registry", 0},
  {DRAY_SETTING_PROGRESS, "progress", "--progress", "DRAY_PROGRESS", K_CHOICE, AT(progress), 0, 0,
   "auto|live|plain|quiet", 0},
  {DRAY_SETTING_LOG_DIR, "log-dir", "--log-dir", "DRAY_LOG_DIR", K_STRING, AT(log_dir), 0, 0, NULL, 0},
  {DRAY_SETTING_ENGINES, "engines", "--engine-host", "DRAY_ENGINES", K_ENGINES, AT(engines), 0, 0,
   NULL, 0},
};

static const char *const source_words[] = {"unset", "default", "config file", "compose x-dray",
                                           "environment", "command line"};

#define FIELD(s, info, type) ((type *)(void *)((char *)(s) + (info)->offset))
#define CFIELD(s, info, type) ((const type *)(const void *)((const char *)(s) + (info)->offset))

void dray_settings_init(dray_settings_t *s)
{
  memset(s, 0, sizeof(*s));
  s->builders = s->pushers = s->retries = s->build_retries = DRAY_SETTING_UNSET;
  s->builders_max = s->pushers_max = DRAY_SETTING_UNSET;
  s->stall_timeout = DRAY_SETTING_UNSET;
  s->retry_delay = -1;
}

const char *dray_setting_key(dray_setting_id_t id)
{
  return table[id].key;
}

const char *dray_setting_flag(dray_setting_id_t id)
{
  return table[id].flag;
}

const char *dray_setting_env(dray_setting_id_t id)
{
  return table[id].env;
}

int dray_setting_find(const char *key)
{
  int i;
  for (i = 0; i < DRAY_SETTING_COUNT; i++)
    if (strcmp(table[i].key, key) == 0)
      return i;
  return -1;
}

const char *dray_setting_keys(apr_pool_t *result_pool)
{
  const char *out = table[0].key;
  int i;
  for (i = 1; i < DRAY_SETTING_COUNT; i++)
    out = apr_pstrcat(result_pool, out, ", ", table[i].key, NULL);
  return out;
}

const char *dray_setting_source_word(dray_setting_source_t source)
{
  return source_words[source];
}

static int is_set(const dray_settings_t *s, const setting_info_t *info)
{
  switch (info->kind) {
  case K_TAGS:
  case K_ENGINES: {
    const apr_array_header_t *list = *CFIELD(s, info, apr_array_header_t *);
    return list && list->nelts > 0;
  }
  case K_INT:
  case K_LIMIT: return *CFIELD(s, info, int) != DRAY_SETTING_UNSET;
  case K_SECONDS: return *CFIELD(s, info, double) >= 0;
  default: return *CFIELD(s, info, char *) != NULL;
  }
}

static void copy_value(dray_settings_t *to, const dray_settings_t *from,
                       const setting_info_t *info)
{
  switch (info->kind) {
  case K_TAGS:
  case K_ENGINES:
    *FIELD(to, info, apr_array_header_t *) = *(apr_array_header_t *const *)(const void *)(
        (const char *)from + info->offset);
    break;
  case K_INT:
  case K_LIMIT: *FIELD(to, info, int) = *CFIELD(from, info, int); break;
  case K_SECONDS: *FIELD(to, info, double) = *CFIELD(from, info, double); break;
  case K_SLOTS:
    to->global_slots = from->global_slots;
    to->global_slot_count = from->global_slot_count;
    break;
  default: *FIELD(to, info, const char *) = *CFIELD(from, info, char *); break;
  }
  to->source[info->id] = from->source[info->id];
  to->where[info->id] = from->where[info->id];
}

/* "auto, engine or cli" */
static const char *choice_list(const char *choices, apr_pool_t *pool)
{
  char *copy = apr_pstrdup(pool, choices), *bar;
  while ((bar = strchr(copy, '|')) != NULL) {
    *bar = '\0';
    copy = strchr(bar + 1, '|') ? apr_pstrcat(pool, copy, ", ", bar + 1, NULL)
                                : apr_pstrcat(pool, copy, " or ", bar + 1, NULL);
  }
  return copy;
}

static int is_choice(const char *choices, const char *value)
{
  size_t n = strlen(value);
  const char *p = choices;
  while (p) {
    if (strncmp(p, value, n) == 0 && (p[n] == '|' || p[n] == '\0'))
      return 1;
    p = strchr(p, '|');
    p = p ? p + 1 : NULL;
  }
  return 0;
}

dray_error_t *dray_settings_set(dray_settings_t *s, dray_setting_id_t id, const char *value,
                                dray_setting_source_t source, const char *where,
                                apr_pool_t *result_pool)
{
  const setting_info_t *info = &table[id];

  if (source == DRAY_SOURCE_COMPOSE && info->not_in_compose)
    return dray_error_createf(DRAY_ERR_USAGE, NULL,
                              "%s: a compose file cannot choose the program dray runs here; use "
                              "%s, %s or the config file", where, info->flag, info->env);
  switch (info->kind) {
  case K_STRING:
    if (!*value)
      return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s needs a value", where);
    *FIELD(s, info, const char *) = apr_pstrdup(result_pool, value);
    break;
  case K_REGISTRY: {
    const char *normalized;
    dray_error_t *err;
    if (source == DRAY_SOURCE_FLAG) {
      /* Checked by the plan with the other input problems (plan.c). */
      *FIELD(s, info, const char *) = apr_pstrdup(result_pool, value);
      break;
    }
    err = dray_ref_check_registry(&normalized, value, result_pool);
    if (err) {
      dray_error_t *out = dray_error_createf(DRAY_ERR_USAGE, NULL, "%s: %s", where, err->message);
      dray_error_clear(err);
      return out;
    }
    *FIELD(s, info, const char *) = normalized;
    break;
  }
  case K_CHOICE:
    if (!is_choice(info->choices, value))
      return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s takes %s, not '%s'", where,
                                choice_list(info->choices, result_pool), value);
    *FIELD(s, info, const char *) = apr_pstrdup(result_pool, value);
    break;
  case K_TAGS: {
    apr_array_header_t **tags = FIELD(s, info, apr_array_header_t *);
    char *copy = apr_pstrdup(result_pool, value), *last, *tag;
    int added = 0;
    if (!*tags)
      *tags = apr_array_make(result_pool, 2, sizeof(const char *));
    if (source == DRAY_SOURCE_FLAG) {
      /* -t is repeatable: one tag each, checked by the plan with the
       * other input problems, all reported together. */
      if (!*value)
        return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s needs a tag", where);
      APR_ARRAY_PUSH(*tags, const char *) = copy;
      break;
    }
    for (tag = apr_strtok(copy, ", \t", &last); tag; tag = apr_strtok(NULL, ", \t", &last)) {
      if (!dray_ref_is_valid_tag(tag))
        return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                  "%s: invalid tag '%s' (allowed: up to %d of A-Z a-z 0-9 _ . -, "
                                  "not starting with . or -)", where, tag, DRAY_REF_TAG_MAX);
      APR_ARRAY_PUSH(*tags, const char *) = tag;
      added++;
    }
    if (!added)
      return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s: no tag given", where);
    break;
  }
  case K_ENGINES: {
    /* One engine per flag (--engine-host, --context), a list elsewhere;
     * each word checked where it was given. */
    apr_array_header_t **list = FIELD(s, info, apr_array_header_t *);
    char *copy = apr_pstrdup(result_pool, value), *last, *word;
    int added = 0;
    if (!*list)
      *list = apr_array_make(result_pool, 2, sizeof(const char *));
    /* Engines are separated by blanks: a comma belongs to an engine's limits. */
    for (word = source == DRAY_SOURCE_FLAG ? copy : apr_strtok(copy, " \t;", &last); word;
         word = source == DRAY_SOURCE_FLAG ? NULL : apr_strtok(NULL, " \t;", &last)) {
      dray_engine_target_t *t;
      /* A cloned repository may pick among the engines this machine's user
       * defined (contexts), never send builds and registry credentials to
       * an address of its choosing. */
      if (source == DRAY_SOURCE_COMPOSE && dray_engine_word_is_host(word))
        return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                  "%s: %s: a compose file names engines by docker context "
                                  "(defined on this machine); a URL goes to --engine-host, "
                                  "DRAY_ENGINES or the config file", where, word);
      DRAY_ERR(dray_engine_target_parse(&t, word, where, result_pool));
      APR_ARRAY_PUSH(*list, const char *) = word;
      added++;
    }
    if (!added)
      return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s: no engine given", where);
    break;
  }
  case K_SLOTS: {
    const char *name;
    int count;
    dray_error_t *err = dray_slots_parse(&name, &count, value, result_pool);
    if (err) {
      /* slots.c names the option: elsewhere, the variable or key instead. */
      const char *msg = err->message;
      dray_error_t *out;
      if (source == DRAY_SOURCE_FLAG)
        return err;
      if (strncmp(msg, "--global-slots ", 15) == 0)
        msg += 15;
      out = dray_error_createf(DRAY_ERR_USAGE, NULL, "%s: %s", where, msg);
      dray_error_clear(err);
      return out;
    }
    s->global_slots = name;
    s->global_slot_count = count;
    break;
  }
  case K_LIMIT:
    if (strcmp(value, "auto") == 0) {
      *FIELD(s, info, int) = DRAY_SETTING_AUTO;
      break;
    }
    /* fall through */
  case K_INT: {
    char *end;
    long v;
    errno = 0;
    v = strtol(value, &end, 10);
    if (!*value || *end || errno || v < info->min || v > info->max)
      return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                "%s needs %sa whole number from %d to %d, not '%s'", where,
                                info->kind == K_LIMIT ? "auto or " : "", info->min, info->max,
                                value);
    *FIELD(s, info, int) = (int)v;
    break;
  }
  case K_SECONDS: {
    char *end;
    double d = strtod(value, &end);
    if (!*value || *end || d < info->min || d > info->max)
      return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s needs seconds from %d to %d, not '%s'",
                                where, info->min, info->max, value);
    *FIELD(s, info, double) = d;
    break;
  }
  }
  s->source[id] = source;
  s->where[id] = apr_pstrdup(result_pool, where);
  return DRAY_NO_ERROR;
}

const char *dray_settings_getenv(void *baton, const char *name, apr_pool_t *pool)
{
  char *value;
  (void)baton;
  return apr_env_get(&value, name, pool) == APR_SUCCESS ? value : NULL;
}

dray_error_t *dray_settings_from_env(dray_settings_t *s, dray_settings_lookup_fn lookup,
                                     void *baton, apr_pool_t *result_pool)
{
  dray_error_t *errs = NULL;
  int i;
  for (i = 0; i < DRAY_SETTING_COUNT; i++) {
    const char *v = lookup(baton, table[i].env, result_pool);
    if (v && *v)
      errs = dray_error_compose(errs, dray_settings_set(s, table[i].id, v, DRAY_SOURCE_ENV,
                                                        table[i].env, result_pool));
  }
  return errs;
}

const char *dray_settings_config_path(apr_pool_t *result_pool)
{
  const char *dir = dray_platform_user_config_dir(result_pool);
  char *path;
  if (!dir)
    return NULL;
  if (apr_filepath_merge(&path, dir, "dray/config.yaml", APR_FILEPATH_NATIVE, result_pool)
      != APR_SUCCESS)
    return NULL;
  return path;
}

void dray_settings_merge(dray_settings_t *out, const dray_settings_t *over,
                         const dray_settings_t *under)
{
  dray_settings_t r;
  int i;
  dray_settings_init(&r);
  for (i = 0; i < DRAY_SETTING_COUNT; i++) {
    if (is_set(over, &table[i]))
      copy_value(&r, over, &table[i]);
    else if (is_set(under, &table[i]))
      copy_value(&r, under, &table[i]);
  }
  *out = r;
}

void dray_settings_default(dray_settings_t *s, apr_pool_t *result_pool)
{
  dray_settings_t d;
  int i;
  dray_settings_init(&d);
  d.builders = DRAY_SETTING_AUTO;
  d.pushers = DRAY_SETTING_AUTO;
  d.builders_max = 4 * dray_platform_cpu_count();
  d.pushers_max = 8;
  d.retries = 2;
  d.build_retries = 0;
  d.retry_delay = 2.0;
  d.stall_timeout = 60;
  d.tags = apr_array_make(result_pool, 1, sizeof(const char *));
  APR_ARRAY_PUSH(d.tags, const char *) = "latest";
  d.engine_cmd = "docker";
  d.push_driver = "auto";
  d.progress = "auto";
  d.log_dir = ".dray/logs";
  for (i = 0; i < DRAY_SETTING_COUNT; i++) {
    d.source[i] = DRAY_SOURCE_DEFAULT;
    d.where[i] = "default";
  }
  dray_settings_merge(s, s, &d);
}

void dray_settings_resolve(dray_settings_t *out, const dray_settings_t *flags,
                           const dray_settings_t *env, const dray_settings_t *compose,
                           const dray_settings_t *config, apr_pool_t *result_pool)
{
  /* Strongest first: each merge keeps what is set and fills in from below. */
  static const dray_setting_source_t sources[4] = {DRAY_SOURCE_FLAG, DRAY_SOURCE_ENV,
                                                   DRAY_SOURCE_COMPOSE, DRAY_SOURCE_CONFIG};
  const dray_settings_t *order[4];
  dray_settings_t r, layer;
  int i, j;
  order[0] = flags;
  order[1] = env;
  order[2] = compose;
  order[3] = config;
  dray_settings_init(&r);
  for (i = 0; i < 4; i++) {
    if (!order[i])
      continue;
    /* A value set without dray_settings_set still says where it is from. */
    layer = *order[i];
    for (j = 0; j < DRAY_SETTING_COUNT; j++)
      if (is_set(&layer, &table[j]) && layer.source[j] == DRAY_SOURCE_NONE) {
        layer.source[j] = sources[i];
        layer.where[j] = sources[i] == DRAY_SOURCE_ENV ? table[j].env : table[j].flag;
      }
    dray_settings_merge(&r, &r, &layer);
  }
  dray_settings_default(&r, result_pool);
  *out = r;
}

const char *dray_settings_value_word(const dray_settings_t *s, dray_setting_id_t id,
                                     apr_pool_t *result_pool)
{
  const setting_info_t *info = &table[id];
  if (!is_set(s, info))
    return "-";
  switch (info->kind) {
  case K_TAGS:
  case K_ENGINES:
    return apr_array_pstrcat(result_pool, *CFIELD(s, info, apr_array_header_t *), ',');
  case K_INT: return apr_itoa(result_pool, *CFIELD(s, info, int));
  case K_LIMIT:
    return *CFIELD(s, info, int) == DRAY_SETTING_AUTO ? "auto"
                                                      : apr_itoa(result_pool, *CFIELD(s, info, int));
  case K_SLOTS: return apr_psprintf(result_pool, "%s:%d", s->global_slots, s->global_slot_count);
  case K_SECONDS: return apr_psprintf(result_pool, "%g", *CFIELD(s, info, double));
  default: return *CFIELD(s, info, char *);
  }
}

int dray_settings_print(FILE *out, const dray_settings_t *s, apr_pool_t *scratch_pool)
{
  int i, n = 0;
  for (i = 0; i < DRAY_SETTING_COUNT; i++) {
    if (s->source[i] <= DRAY_SOURCE_DEFAULT)
      continue;
    n++;
    fprintf(out, "  %-14s %-24s %s (%s)\n", table[i].key,
            dray_settings_value_word(s, (dray_setting_id_t)i, scratch_pool),
            dray_setting_source_word(s->source[i]), s->where[i] ? s->where[i] : "?");
  }
  return n;
}
