/* compose_project.c — a compose project from its files: several -f merged,
 * include: followed, extends: resolved, profiles, the project's name.
 *
 * Each file is read as written (compose.c), then put together here by the
 * specification's rules (compose_merge.c), and only then are paths and
 * secrets resolved: a later file may change the context an earlier one's
 * dockerfile is relative to.
 */
#include "dray/compose.h"
#include "dray/ref.h"

#include <string.h>

#include <apr_env.h>
#include <apr_file_info.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "dray/compose_merge.h"
#include "dray/file.h"

/* extends chains deeper than this are a cycle (or no real file). */
#define MAX_EXTENDS_DEPTH 32

typedef struct project_t {
  apr_pool_t *rpool, *spool;
  apr_hash_t *dotenv;          /* the project's env files */
  apr_array_header_t *stack;   /* const char *: files being included, outermost first */
  apr_hash_t *read;            /* absolute path -> dray_compose_t *: files read for extends */
} project_t;

/* The environment, then the project's env files; NULL when unset. */
static const char *project_var(const project_t *pr, const char *name)
{
  char *value;
  if (apr_env_get(&value, name, pr->spool) == APR_SUCCESS && *value)
    return value;
  return apr_hash_get(pr->dotenv, name, APR_HASH_KEY_STRING);
}

static const char *folder_of(const char *path, apr_pool_t *pool)
{
  char *abs, *slash;
  if (apr_filepath_merge(&abs, NULL, path, 0, pool) != APR_SUCCESS)
    return ".";
  slash = strrchr(abs, '/');
  if (slash)
    *(slash == abs || slash[-1] == ':' ? slash + 1 : slash) = '\0';
  return abs;
}

static dray_compose_service_t *find_service(const dray_compose_t *file, const char *name)
{
  int i;
  for (i = 0; i < file->all->nelts; i++) {
    dray_compose_service_t *svc = APR_ARRAY_IDX(file->all, i, dray_compose_service_t *);
    if (strcmp(svc->name, name) == 0)
      return svc;
  }
  return NULL;
}

static dray_error_t *load_file(dray_compose_t **file, project_t *pr, const char *path,
                               const char *base_dir, const char *text, apr_size_t len);

/* FROM's top-level secrets into TO: all of them with OVERRIDE (a later -f
 * file), else those TO does not define (an included or extended file's). */
static void add_secrets(apr_hash_t *to, apr_hash_t *from, int override, apr_pool_t *pool)
{
  apr_hash_index_t *hi;
  for (hi = apr_hash_first(pool, from); hi; hi = apr_hash_next(hi)) {
    const void *k;
    void *v;
    apr_hash_this(hi, &k, NULL, &v);
    if (override || !apr_hash_get(to, k, APR_HASH_KEY_STRING))
      apr_hash_set(to, k, APR_HASH_KEY_STRING, v);
  }
}

/* The file that extends: names, read once (its paths relative to itself). */
static dray_error_t *extended_file(dray_compose_t **out, project_t *pr, const dray_compose_t *file,
                                   const char *name)
{
  char *abs;
  apr_status_t status = apr_filepath_merge(&abs, file->dir, name, 0, pr->spool);
  if (status != APR_SUCCESS)
    return dray_error_wrap_apr(status, "%s", name);
  *out = apr_hash_get(pr->read, abs, APR_HASH_KEY_STRING);
  if (*out)
    return DRAY_NO_ERROR;
  DRAY_ERR(load_file(out, pr, abs, NULL, NULL, 0));
  apr_hash_set(pr->read, abs, APR_HASH_KEY_STRING, *out);
  return DRAY_NO_ERROR;
}

/* SVC of FILE with what it extends under it, nested. */
static dray_error_t *resolve_extends(dray_compose_service_t **out, project_t *pr,
                                     dray_compose_t *file, dray_compose_service_t *svc,
                                     int depth)
{
  dray_compose_t *from = file;
  dray_compose_service_t *base, *merged;
  const char *where = apr_psprintf(pr->spool, "%s:%d: service \"%s\": extends", svc->path,
                                   svc->extends_line, svc->name);

  *out = svc;
  if (!svc->extends_service)
    return DRAY_NO_ERROR;
  if (depth > MAX_EXTENDS_DEPTH)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: more than %d deep (a cycle?)", where,
                              MAX_EXTENDS_DEPTH);
  if (svc->extends_file) {
    dray_error_t *err = extended_file(&from, pr, file, svc->extends_file);
    if (err)
      return dray_error_createf(DRAY_ERR_INPUT, err, "%s", where);
    /* what its services' build secrets name comes along */
    add_secrets(file->secrets, from->secrets, 0, pr->spool);
  }
  base = find_service(from, svc->extends_service);
  if (!base)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: no service \"%s\" in %s", where,
                              svc->extends_service, from->path);
  if (base == svc)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: a service cannot extend itself", where);
  DRAY_ERR(resolve_extends(&base, pr, from, base, depth + 1));
  merged = dray_compose_service_merge(base, svc, pr->rpool);
  /* it is SVC, with BASE below it */
  merged->name = svc->name;
  merged->line = svc->line;
  merged->origin = svc->origin;
  merged->path = svc->path;
  merged->extends_service = merged->extends_file = NULL;
  *out = merged;
  return DRAY_NO_ERROR;
}

static dray_error_t *load_project(dray_compose_t **out, project_t *pr,
                                  const apr_array_header_t *files, const char *project_dir,
                                  const char *first_text, apr_size_t first_len);

/* The services of INC, a project of its own, before FILE's own. */
static dray_error_t *follow_include(project_t *pr, dray_compose_t *file,
                                    const dray_compose_include_t *inc,
                                    apr_array_header_t *services)
{
  project_t sub = *pr;
  dray_compose_t *included;
  const char *dir;
  int i;

  if (inc->paths->nelts == 0)
    return DRAY_NO_ERROR;
  dir = inc->project_directory ? inc->project_directory
                               : folder_of(APR_ARRAY_IDX(inc->paths, 0, const char *), pr->spool);
  sub.dotenv = apr_hash_make(pr->spool);
  if (inc->env_files)
    for (i = 0; i < inc->env_files->nelts; i++)
      DRAY_ERR(dray_compose_read_env_file(sub.dotenv, APR_ARRAY_IDX(inc->env_files, i,
                                                                    const char *), 0, pr->spool));
  else
    DRAY_ERR(dray_compose_read_env_file(sub.dotenv, apr_pstrcat(pr->spool, dir, "/.env", NULL),
                                        1, pr->spool));
  DRAY_ERR(load_project(&included, &sub, inc->paths, dir, NULL, 0));
  for (i = 0; i < included->all->nelts; i++) {
    dray_compose_service_t *svc = APR_ARRAY_IDX(included->all, i, dray_compose_service_t *);
    dray_compose_service_t *mine = find_service(file, svc->name);
    if (mine)
      return dray_error_createf(DRAY_ERR_INPUT, NULL,
                                "%s: service \"%s\" is also defined by %s (included at %s)",
                                mine->origin, svc->name, svc->origin, inc->where);
    APR_ARRAY_PUSH(services, dray_compose_service_t *) = svc;
  }
  add_secrets(file->secrets, included->secrets, 0, pr->spool);
  return DRAY_NO_ERROR;
}

/* One file at PATH (TEXT when not NULL): read, its includes followed, its
 * services' extends resolved. */
static dray_error_t *load_file(dray_compose_t **file_p, project_t *pr, const char *path,
                               const char *base_dir, const char *text, apr_size_t len)
{
  dray_compose_t *file;
  apr_array_header_t *services;
  char *abs;
  dray_error_t *err = NULL;
  int i;

  if (apr_filepath_merge(&abs, NULL, path, 0, pr->spool) != APR_SUCCESS)
    abs = (char *)path;
  for (i = 0; i < pr->stack->nelts; i++)
    if (strcmp(APR_ARRAY_IDX(pr->stack, i, const char *), abs) == 0) {
      const char *chain = "";
      int k;
      for (k = i; k < pr->stack->nelts; k++)
        chain = apr_pstrcat(pr->spool, chain, APR_ARRAY_IDX(pr->stack, k, const char *), " -> ",
                            NULL);
      return dray_error_createf(DRAY_ERR_INPUT, NULL, "include cycle: %s%s", chain, abs);
    }
  if (!text) {
    char *t;
    DRAY_ERR(dray_file_read(&t, &len, NULL, path, NULL, pr->spool));
    text = t;
  }
  DRAY_ERR(dray_compose_read_file(&file, text, len, path, base_dir, pr->dotenv, pr->rpool,
                                  pr->spool));
  APR_ARRAY_PUSH(pr->stack, const char *) = abs;
  services = apr_array_make(pr->rpool, file->all->nelts, sizeof(dray_compose_service_t *));
  for (i = 0; i < file->includes->nelts; i++)
    err = dray_error_compose(
        err, follow_include(pr, file, APR_ARRAY_IDX(file->includes, i, dray_compose_include_t *),
                            services));
  pr->stack->nelts--;
  for (i = 0; i < file->all->nelts; i++) {
    dray_compose_service_t *svc;
    dray_error_t *e = resolve_extends(&svc, pr, file, APR_ARRAY_IDX(file->all, i,
                                                                     dray_compose_service_t *),
                                      0);
    if (e)
      err = dray_error_compose(err, e);
    else
      APR_ARRAY_PUSH(services, dray_compose_service_t *) = svc;
  }
  if (err)
    return err;
  file->all = services;
  *file_p = file;
  return DRAY_NO_ERROR;
}

/* FILES merged in order, relative paths of each relative to PROJECT_DIR. */
static dray_error_t *load_project(dray_compose_t **out, project_t *pr,
                                  const apr_array_header_t *files, const char *project_dir,
                                  const char *first_text, apr_size_t first_len)
{
  dray_compose_t *merged = NULL;
  dray_error_t *err = NULL;
  int f, i;

  for (f = 0; f < files->nelts; f++) {
    dray_compose_t *file;
    dray_error_t *e = load_file(&file, pr, APR_ARRAY_IDX(files, f, const char *), project_dir,
                                f == 0 ? first_text : NULL, f == 0 ? first_len : 0);
    if (e) {
      err = dray_error_compose(err, e);
      continue;
    }
    if (!merged) {
      merged = file;
      continue;
    }
    /* later files override, service by service */
    for (i = 0; i < file->all->nelts; i++) {
      dray_compose_service_t *svc = APR_ARRAY_IDX(file->all, i, dray_compose_service_t *);
      int k;
      for (k = 0; k < merged->all->nelts; k++)
        if (strcmp(APR_ARRAY_IDX(merged->all, k, dray_compose_service_t *)->name, svc->name)
            == 0)
          break;
      if (k < merged->all->nelts)
        APR_ARRAY_IDX(merged->all, k, dray_compose_service_t *) = dray_compose_service_merge(
            APR_ARRAY_IDX(merged->all, k, dray_compose_service_t *), svc, pr->rpool);
      else
        APR_ARRAY_PUSH(merged->all, dray_compose_service_t *) = svc;
    }
    add_secrets(merged->secrets, file->secrets, 1, pr->spool);
    dray_settings_merge(&merged->settings, &file->settings, &merged->settings);
    for (i = 0; i < file->ignore->nelts; i++)
      APR_ARRAY_PUSH(merged->ignore, int) = APR_ARRAY_IDX(file->ignore, i, int);
    if (file->ignore_where)
      merged->ignore_where = file->ignore_where;
    if (file->name)
      merged->name = file->name;
  }
  if (err)
    return err;
  *out = merged;
  return DRAY_NO_ERROR;
}

/* Compose's project name: lower case, a-z 0-9 _ -, starting with a letter
 * or digit. */
static const char *normalize_name(const char *name, apr_pool_t *pool)
{
  char *out = apr_palloc(pool, strlen(name) + 1), *o = out;
  const char *p;
  for (p = name; *p; p++) {
    char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || ((c == '_' || c == '-') && o > out))
      *o++ = c;
  }
  *o = '\0';
  return out;
}

/* Whether SVC is built with the profiles ACTIVE ("*": every one). */
static int profile_active(const dray_compose_service_t *svc, const apr_array_header_t *active)
{
  int i, k;
  if (!svc->profiles || svc->profiles->nelts == 0)
    return 1;
  for (i = 0; i < active->nelts; i++) {
    const char *a = APR_ARRAY_IDX(active, i, const char *);
    if (strcmp(a, "*") == 0)
      return 1;
    for (k = 0; k < svc->profiles->nelts; k++)
      if (strcmp(a, APR_ARRAY_IDX(svc->profiles, k, const char *)) == 0)
        return 1;
  }
  return 0;
}

/* "a,b , c" as words. */
static apr_array_header_t *split_words(const char *s, const char *seps, apr_pool_t *pool)
{
  apr_array_header_t *out = apr_array_make(pool, 2, sizeof(const char *));
  char *copy = apr_pstrdup(pool, s ? s : ""), *last, *w;
  for (w = apr_strtok(copy, seps, &last); w; w = apr_strtok(NULL, seps, &last))
    APR_ARRAY_PUSH(out, const char *) = w;
  return out;
}

dray_error_t *dray_compose_load_project(dray_compose_t **compose_p,
                                       const dray_compose_options_t *opts,
                                       apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  project_t pr;
  dray_compose_t *compose;
  const char *project_dir = folder_of(APR_ARRAY_IDX(opts->files, 0, const char *), result_pool);
  const apr_array_header_t *active;
  const char *name;
  dray_error_t *err = NULL;
  int i;

  memset(&pr, 0, sizeof(pr));
  pr.rpool = result_pool;
  pr.spool = scratch_pool;
  pr.dotenv = apr_hash_make(scratch_pool);
  pr.stack = apr_array_make(scratch_pool, 4, sizeof(const char *));
  pr.read = apr_hash_make(scratch_pool);
  if (opts->env_files && opts->env_files->nelts)
    for (i = 0; i < opts->env_files->nelts; i++)
      DRAY_ERR(dray_compose_read_env_file(pr.dotenv, APR_ARRAY_IDX(opts->env_files, i,
                                                                   const char *),
                                          0, scratch_pool));
  else
    DRAY_ERR(dray_compose_read_env_file(pr.dotenv,
                                        apr_pstrcat(scratch_pool, project_dir, "/.env", NULL), 1,
                                        scratch_pool));
  DRAY_ERR(load_project(&compose, &pr, opts->files, project_dir, opts->first_text,
                        opts->first_len));

  /* the project's name: -p, COMPOSE_PROJECT_NAME, name:, the folder */
  name = opts->project_name ? opts->project_name : project_var(&pr, "COMPOSE_PROJECT_NAME");
  if (!name)
    name = compose->name;
  if (!name) {
    const char *slash = strrchr(project_dir, '/');
    name = slash ? slash + 1 : project_dir;
  }
  compose->name = normalize_name(name, result_pool);

  active = opts->profiles && opts->profiles->nelts
               ? opts->profiles
               : split_words(project_var(&pr, "COMPOSE_PROFILES"), ", ", scratch_pool);
  for (i = 0; i < compose->all->nelts; i++) {
    dray_compose_service_t *svc = APR_ARRAY_IDX(compose->all, i, dray_compose_service_t *);
    dray_error_t *e;
    if (!svc->has_build)
      continue;
    if (!profile_active(svc, active)) {
      compose->inactive++;
      continue;
    }
    e = dray_compose_resolve_service(svc, compose->secrets, result_pool, scratch_pool);
    if (e) {
      err = dray_error_compose(err, e);
      continue;
    }
    svc->default_image = dray_ref_path_component(
        apr_pstrcat(result_pool, compose->name, "-", svc->name, NULL), result_pool);
    APR_ARRAY_PUSH(compose->services, dray_compose_service_t *) = svc;
  }
  if (err)
    return err;
  *compose_p = compose;
  return DRAY_NO_ERROR;
}

static dray_compose_options_t one_file(const char *path, apr_pool_t *pool)
{
  dray_compose_options_t opts;
  memset(&opts, 0, sizeof(opts));
  opts.files = apr_array_make(pool, 1, sizeof(const char *));
  APR_ARRAY_PUSH(opts.files, const char *) = path;
  return opts;
}

dray_error_t *dray_compose_load(dray_compose_t **compose, const char *path,
                                apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  dray_compose_options_t opts = one_file(path, scratch_pool);
  return dray_compose_load_project(compose, &opts, result_pool, scratch_pool);
}

dray_error_t *dray_compose_parse(dray_compose_t **compose, const char *text, apr_size_t len,
                                 const char *path, apr_pool_t *result_pool,
                                 apr_pool_t *scratch_pool)
{
  dray_compose_options_t opts = one_file(path, scratch_pool);
  opts.first_text = text;
  opts.first_len = len;
  return dray_compose_load_project(compose, &opts, result_pool, scratch_pool);
}
