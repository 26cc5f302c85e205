/* plan.c — from folders and a compose file to an ordered list of images.
 *
 * Everything happens in a subpool of the result pool that is kept only on
 * success, so a failed load leaves nothing behind; problems are collected in
 * one error chain instead of stopping at the first.
 */
#include "dray/plan.h"
#include "dray/pools.h"

#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_fnmatch.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "dray/bake.h"
#include "dray/compose.h"
#include "dray/dockerfile.h"
#include "dray/file.h"
#include "dray/ignore.h"
#include "dray/ref.h"

/* An image while planning; its position in ctx->entries is its discovery
 * order. */
typedef struct entry_t {
  int id;                    /* discovery order */
  dray_image_t *img;
  const dray_compose_service_t *svc; /* or NULL for a folder */
  const char *norm;          /* normalised repository, for matching FROM */
  const char *fingerprint;   /* what it builds (compose services), or NULL */
  struct entry_t *merged_into; /* an identical service this one is built as */
  int bad;                   /* a problem was reported: no further checks */
  int selected;              /* kept by --only / --skip */
  apr_array_header_t *refs;  /* dray_dockerfile_ref_t *: what it is built from */
  apr_array_header_t *deps;  /* int: entries it needs */
  apr_array_header_t *why;   /* const char *: "file:line", parallel to deps */
} entry_t;

typedef struct ctx_t {
  const dray_plan_options_t *opts;
  dray_builder_t builder;    /* what builds */
  apr_pool_t *pool;          /* kept on success */
  apr_pool_t *scratch;
  const char *registry;      /* validated prefix, or NULL */
  apr_array_header_t *tags;  /* const char * */
  int tags_given;            /* the tags were set (not the default "latest") */
  apr_array_header_t *entries; /* entry_t * */
  apr_array_header_t *warnings; /* const char * */
  int bake;                  /* the services are bake targets */
  dray_error_t *err;
} ctx_t;

/* What a service of the input is called in messages: "service \"web\"",
 * or a bake file's "target \"web\"". */
static const char *svc_noun(const ctx_t *ctx, const char *name, apr_pool_t *pool)
{
  return apr_psprintf(pool, "%s \"%s\"", ctx->bake ? "target" : "service", name);
}

static void add_problem(ctx_t *ctx, dray_error_t *err)
{
  ctx->err = dray_error_compose(ctx->err, err);
}

static char *lower_dup(const char *s, apr_pool_t *pool)
{
  char *r = apr_pstrdup(pool, s), *c;
  for (c = r; *c; c++)
    if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c - 'A' + 'a');
  return r;
}

static int nelts(const apr_array_header_t *a)
{
  return a ? a->nelts : 0;
}

static entry_t *entry_at(const ctx_t *ctx, int i)
{
  return APR_ARRAY_IDX(ctx->entries, i, entry_t *);
}

static entry_t *new_entry(ctx_t *ctx, const char *name, const char *origin)
{
  entry_t *e = apr_pcalloc(ctx->scratch, sizeof(*e));
  e->id = ctx->entries->nelts;
  e->img = apr_pcalloc(ctx->pool, sizeof(*e->img));
  e->img->name = name;
  e->img->origin = origin;
  e->img->build_args = apr_array_make(ctx->pool, 4, sizeof(const char *));
  e->deps = apr_array_make(ctx->scratch, 2, sizeof(int));
  e->why = apr_array_make(ctx->scratch, 2, sizeof(const char *));
  APR_ARRAY_PUSH(ctx->entries, entry_t *) = e;
  return e;
}

/* ---- options ------------------------------------------------------------- */

/* The tags in force (settings.c chose them), checked and without repeats. */
static void resolve_tags(ctx_t *ctx, const apr_array_header_t *src)
{
  apr_hash_t *seen = apr_hash_make(ctx->scratch);
  int i;

  ctx->tags = apr_array_make(ctx->pool, 2, sizeof(const char *));
  for (i = 0; i < nelts(src); i++) {
    const char *tag = APR_ARRAY_IDX(src, i, const char *);
    if (!dray_ref_is_valid_tag(tag)) {
      add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                          "--tag %s: invalid tag (allowed: up to %d of A-Z a-z "
                                          "0-9 _ . -, not starting with . or -)",
                                          tag, DRAY_REF_TAG_MAX));
      continue;
    }
    if (apr_hash_get(seen, tag, APR_HASH_KEY_STRING))
      continue; /* the same tag twice is one push */
    apr_hash_set(seen, tag, APR_HASH_KEY_STRING, tag);
    APR_ARRAY_PUSH(ctx->tags, const char *) = apr_pstrdup(ctx->pool, tag);
  }
}

static void check_build_args(ctx_t *ctx)
{
  int i;
  for (i = 0; i < nelts(ctx->opts->build_args); i++) {
    const char *kv = APR_ARRAY_IDX(ctx->opts->build_args, i, const char *);
    if (!*kv || *kv == '=')
      add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                          "--build-arg \"%s\": want NAME=VALUE or NAME", kv));
  }
}

/* Command line args first, then the file's whose name the command line does
 * not set. */
static void merge_build_args(ctx_t *ctx, dray_image_t *img, const apr_array_header_t *file_args)
{
  apr_hash_t *given = apr_hash_make(ctx->scratch);
  int i;

  for (i = 0; i < nelts(ctx->opts->build_args); i++) {
    const char *kv = APR_ARRAY_IDX(ctx->opts->build_args, i, const char *);
    const char *eq = strchr(kv, '=');
    apr_size_t klen = eq ? (apr_size_t)(eq - kv) : strlen(kv);
    apr_hash_set(given, apr_pstrmemdup(ctx->scratch, kv, klen), APR_HASH_KEY_STRING, kv);
    APR_ARRAY_PUSH(img->build_args, const char *) = apr_pstrdup(ctx->pool, kv);
  }
  for (i = 0; i < nelts(file_args); i++) {
    const char *kv = APR_ARRAY_IDX(file_args, i, const char *);
    const char *eq = strchr(kv, '=');
    apr_size_t klen = eq ? (apr_size_t)(eq - kv) : strlen(kv);
    if (!apr_hash_get(given, kv, (apr_ssize_t)klen))
      APR_ARRAY_PUSH(img->build_args, const char *) = apr_pstrdup(ctx->pool, kv);
  }
}

/* ---- folders ------------------------------------------------------------- */

typedef struct dir_entry_t {
  const char *name;
  int is_dir;   /* a real folder: symbolic links to folders are not walked,
                   which keeps a link loop from walking forever */
  int is_file;  /* a file, or a link to one */
} dir_entry_t;

/* By lower-cased name, as the image names are; ties by the name itself. */
static int compare_entries(const void *a, const void *b)
{
  const char *x = ((const dir_entry_t *)a)->name, *y = ((const dir_entry_t *)b)->name;
  const char *p = x, *q = y;
  for (; *p && *q; p++, q++) {
    char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    char d = (*q >= 'A' && *q <= 'Z') ? (char)(*q - 'A' + 'a') : *q;
    if (c != d)
      return (unsigned char)c - (unsigned char)d;
  }
  if (*p || *q)
    return *p ? 1 : -1;
  return strcmp(x, y);
}

static apr_status_t list_dir(apr_array_header_t **out, const char *dir, apr_pool_t *pool)
{
  apr_array_header_t *list = apr_array_make(pool, 16, sizeof(dir_entry_t));
  apr_dir_t *d;
  apr_finfo_t fi;
  apr_status_t status = apr_dir_open(&d, dir, pool);

  if (status != APR_SUCCESS)
    return status;
  for (;;) {
    dir_entry_t *de;
    apr_filetype_e type;
    status = apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d);
    if (APR_STATUS_IS_ENOENT(status)) {
      status = APR_SUCCESS;
      break;
    }
    if (status != APR_SUCCESS && !APR_STATUS_IS_INCOMPLETE(status))
      break;
    if (!fi.name || strcmp(fi.name, ".") == 0 || strcmp(fi.name, "..") == 0)
      continue;
    type = (fi.valid & APR_FINFO_TYPE) ? fi.filetype : APR_UNKFILE;
    de = &APR_ARRAY_PUSH(list, dir_entry_t);
    de->name = apr_pstrdup(pool, fi.name);
    de->is_dir = type == APR_DIR;
    de->is_file = type == APR_REG;
    if (type == APR_LNK || type == APR_UNKFILE) {
      apr_finfo_t target;
      char *path;
      if (apr_filepath_merge(&path, dir, de->name, 0, pool) == APR_SUCCESS
          && apr_stat(&target, path, APR_FINFO_TYPE, pool) == APR_SUCCESS) {
        de->is_file = target.filetype == APR_REG;
        de->is_dir = type == APR_UNKFILE && target.filetype == APR_DIR;
      }
    }
  }
  apr_dir_close(d);
  if (status == APR_SUCCESS) {
    qsort(list->elts, (size_t)list->nelts, sizeof(dir_entry_t), compare_entries);
    *out = list;
  }
  return status;
}

static const char *dockerfile_in(const apr_array_header_t *list)
{
  static const char *const names[] = {"Dockerfile", "Containerfile"};
  int n, i;
  for (n = 0; n < 2; n++)
    for (i = 0; i < list->nelts; i++) {
      const dir_entry_t *de = &APR_ARRAY_IDX(list, i, dir_entry_t);
      if (de->is_file && strcmp(de->name, names[n]) == 0)
        return names[n];
    }
  return NULL;
}

/* Walk DIR (absolute; SHOWN in messages and origins), whose image name is
 * NAME; NAME is NULL for a PATH that holds no Dockerfile itself, so that its
 * subfolders are named from there. REL is DIR relative to the PATH ("" for
 * the PATH), for IGNORE, the PATH's rules. Returns whether any image was
 * found. */
static int walk(ctx_t *ctx, const char *dir, const char *shown, const char *name,
                const char *rel, const dray_ignore_t *ignore, apr_pool_t *pool)
{
  apr_array_header_t *list;
  apr_pool_t *iterpool;
  apr_status_t status = list_dir(&list, dir, pool);
  const char *df;
  char errbuf[256];
  int i, found = 0;

  if (status != APR_SUCCESS) {
    add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: cannot read folder: %s", shown,
                                        apr_strerror(status, errbuf, sizeof(errbuf))));
    return 0;
  }

  df = dockerfile_in(list);
  if (df && name) {
    const char *problem = dray_ref_path_problem(name, pool);
    entry_t *e = new_entry(ctx, apr_pstrdup(ctx->pool, name), apr_pstrdup(ctx->pool, shown));
    found = 1;
    e->img->context_dir = apr_pstrdup(ctx->pool, dir);
    e->img->dockerfile = apr_pstrcat(ctx->pool, dir, "/", df, NULL);
    merge_build_args(ctx, e->img, NULL);
    if (problem) {
      add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                          "%s: image name \"%s\" is not a valid repository "
                                          "path: %s",
                                          shown, name, problem));
      e->bad = 1;
    }
  }

  iterpool = dray_pool_create_sub(pool);
  for (i = 0; i < list->nelts; i++) {
    const dir_entry_t *de = &APR_ARRAY_IDX(list, i, dir_entry_t);
    const char *sub, *sub_name, *part, *sub_rel;
    char *c;
    if (!de->is_dir || de->name[0] == '.') /* .git and the like */
      continue;
    apr_pool_clear(iterpool);
    sub_rel = *rel ? apr_pstrcat(iterpool, rel, "/", de->name, NULL) : de->name;
    if (dray_ignore_match(ignore, sub_rel, 1, iterpool))
      continue;
    /* Names use "/" whatever the platform; a "\" in a folder name too. */
    part = lower_dup(de->name, iterpool);
    for (c = (char *)part; *c; c++)
      if (*c == '\\')
        *c = '/';
    sub_name = name ? apr_pstrcat(iterpool, name, "/", part, NULL) : part;
    sub = apr_pstrcat(iterpool, dir, "/", de->name, NULL);
    found |= walk(ctx, sub,
                  strcmp(shown, ".") == 0 ? de->name
                                          : apr_pstrcat(iterpool, shown, "/", de->name, NULL),
                  sub_name, sub_rel, ignore, iterpool);
  }
  apr_pool_destroy(iterpool);
  return found;
}

static void discover(ctx_t *ctx, const char *path)
{
  apr_finfo_t finfo;
  apr_status_t status;
  char *abs, *base, errbuf[256];
  apr_size_t len;
  apr_pool_t *pool;
  apr_array_header_t *list;
  dray_ignore_t *ignore;
  dray_error_t *err;

  status = apr_filepath_merge(&abs, NULL, path, 0, ctx->scratch);
  if (status == APR_SUCCESS)
    status = apr_stat(&finfo, abs, APR_FINFO_TYPE, ctx->scratch);
  if (status != APR_SUCCESS) {
    add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: %s", path,
                                        APR_STATUS_IS_ENOENT(status)
                                            ? "no such folder"
                                            : apr_strerror(status, errbuf, sizeof(errbuf))));
    return;
  }
  if (finfo.filetype != APR_DIR) {
    add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: not a folder", path));
    return;
  }
  len = strlen(abs);
  while (len > 1 && abs[len - 1] == '/')
    abs[--len] = '\0';
  base = strrchr(abs, '/');
  base = base ? base + 1 : abs;

  pool = dray_pool_create_sub(ctx->scratch);
  err = dray_ignore_load(&ignore, abs, pool, pool);
  if (err) {
    add_problem(ctx, err);
    apr_pool_destroy(pool);
    return;
  }
  {
    /* "dir/" shows as "dir", so that subfolders show as "dir/sub". */
    char *shown = apr_pstrdup(pool, path);
    apr_size_t n = strlen(shown);
    while (n > 1 && (shown[n - 1] == '/' || shown[n - 1] == '\\'))
      shown[--n] = '\0';
    path = shown;
  }
  if (list_dir(&list, abs, pool) == APR_SUCCESS && dockerfile_in(list)) {
    /* The PATH itself is an image named after its folder. */
    if (!*base || base[strlen(base) - 1] == ':')
      add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                          "%s: a Dockerfile in the root folder cannot be named",
                                          path));
    else
      walk(ctx, abs, path, lower_dup(base, pool), "", ignore, pool);
  } else if (!walk(ctx, abs, path, NULL, "", ignore, pool)) {
    add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                        "%s: no Dockerfile or Containerfile in or below it",
                                        path));
  }
  apr_pool_destroy(pool);
}

/* ---- compose services ---------------------------------------------------- */

/* The keys of E's build that the builder cannot do: refused (exit 2), or,
 * when the user said to ignore them, dropped with a warning. */
static void refuse_unsupported(ctx_t *ctx, entry_t *e, const dray_compose_t *compose)
{
  dray_buildspec_t *spec = (dray_buildspec_t *)e->img->spec;
  const char *builder = dray_builder_word(ctx->builder);
  const char *who = svc_noun(ctx, e->img->name, ctx->scratch);
  apr_array_header_t *needs;
  apr_array_header_t *keys = dray_buildspec_refusals(&needs, spec, ctx->builder,
                                                     ctx->scratch);
  int i, j;

  for (i = 0; i < keys->nelts; i++) {
    dray_build_key_t key = (dray_build_key_t)APR_ARRAY_IDX(keys, i, int);
    const char *word = dray_build_key_word(key);
    /* a bake target's key by its bake name; bake files have no place for
     * dray's own keys: the flag is the way there */
    const char *shown = ctx->bake ? dray_bake_key_word(key)
                                  : apr_pstrcat(ctx->scratch, "build.", word, NULL);
    const char *without = ctx->bake ? "--ignore-unsupported"
                                    : apr_psprintf(ctx->scratch,
                                                   "x-dray: {ignore: [%s]} in the compose file, "
                                                   "or --ignore-unsupported",
                                                   word);
    const char *where = dray_buildspec_where(spec, key, ctx->scratch);
    int ignored = ctx->opts->ignore_unsupported;
    for (j = 0; j < compose->ignore->nelts; j++)
      ignored |= APR_ARRAY_IDX(compose->ignore, j, int) == (int)key;
    if (ignored) {
      APR_ARRAY_PUSH(ctx->warnings, const char *) = apr_psprintf(
          ctx->pool, "%s: %s: %s ignored: %s cannot do it (it needs %s)", where, who, shown,
          builder, APR_ARRAY_IDX(needs, i, const char *));
      dray_buildspec_drop(spec, key);
      continue;
    }
    add_problem(ctx, dray_error_createf(
        DRAY_ERR_INPUT, NULL, "%s: %s: %s cannot be done by %s: it needs %s; or build without "
        "it: %s", where, who, shown, builder, APR_ARRAY_IDX(needs, i, const char *), without));
    e->bad = 1;
  }
}

/* A tag or whole reference for E, unless it has it already. */
static void add_tag(ctx_t *ctx, entry_t *e, const char *tag)
{
  int i;
  for (i = 0; i < e->img->tags->nelts; i++)
    if (strcmp(APR_ARRAY_IDX(e->img->tags, i, const char *), tag) == 0)
      return;
  APR_ARRAY_PUSH(e->img->tags, const char *) = apr_pstrdup(ctx->pool, tag);
}

/* REF, a reference as written (image:, build.tags), in E's place: the
 * registry prefix where it names none; its repository and tag. */
static dray_error_t *place_ref(const char **repository, const char **tag, ctx_t *ctx,
                               const char *ref_s)
{
  dray_ref_t *ref;
  DRAY_ERR(dray_ref_parse(&ref, ref_s, ctx->pool));
  if (ref->digest)
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "\"%s\" has a digest; an image to build needs a tag", ref_s);
  /* A registry prefix applies to names that do not name one. */
  *repository = ref->domain ? ref->name : dray_ref_join(ctx->registry, ref->name, ctx->pool);
  *tag = ref->tag;
  return DRAY_NO_ERROR;
}

static void service_problem(ctx_t *ctx, entry_t *e, const char *where, const char *what,
                            dray_error_t *err)
{
  add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: %s: %s: %s", where,
                                      svc_noun(ctx, e->img->name, ctx->scratch), what,
                                      err->message));
  dray_error_clear(err);
  e->bad = 1;
}

/* The references of E: image: (its tag, or those of -t, else latest), every
 * -t tag given, then build.tags. */
static void service_refs(ctx_t *ctx, entry_t *e)
{
  const dray_compose_service_t *svc = e->svc;
  const char *tag = NULL;
  int i;

  e->img->tags = apr_array_make(ctx->pool, 2, sizeof(const char *));
  /* without image:, compose names it "<project>-<service>" */
  if (svc->image || svc->default_image) {
    dray_error_t *err = place_ref(&e->img->repository, &tag, ctx,
                                  svc->image ? svc->image : svc->default_image);
    if (err) {
      service_problem(ctx, e,
                      svc->image ? apr_psprintf(ctx->scratch, "%s:%d", svc->image_path,
                                                svc->image_line)
                                 : svc->origin,
                      "image", err);
      return;
    }
  }
  if (tag)
    add_tag(ctx, e, tag);
  if (!tag || ctx->tags_given)
    for (i = 0; i < ctx->tags->nelts; i++)
      add_tag(ctx, e, APR_ARRAY_IDX(ctx->tags, i, const char *));
  for (i = 0; svc->spec->tags && i < svc->spec->tags->nelts; i++) {
    const char *repo, *t;
    dray_error_t *err = place_ref(&repo, &t, ctx,
                                  APR_ARRAY_IDX(svc->spec->tags, i, const char *));
    if (err) {
      service_problem(ctx, e, dray_buildspec_where(svc->spec, DRAY_BK_TAGS, ctx->scratch),
                      "build.tags", err);
      return;
    }
    add_tag(ctx, e, apr_pstrcat(ctx->pool, repo, ":", t ? t : "latest", NULL));
  }
}

static void add_services(ctx_t *ctx, const dray_compose_t *compose)
{
  int i;
  for (i = 0; i < compose->services->nelts; i++) {
    const dray_compose_service_t *svc =
        APR_ARRAY_IDX(compose->services, i, dray_compose_service_t *);
    entry_t *e = new_entry(ctx, svc->name, svc->origin);
    e->svc = svc;
    e->img->context_dir = svc->context_dir;
    e->img->dockerfile = svc->dockerfile;
    e->img->target = svc->target;
    /* a copy: ignored keys are dropped from the image's, not the file's */
    e->img->spec = apr_pmemdup(ctx->pool, svc->spec, sizeof(*svc->spec));
    merge_build_args(ctx, e->img, svc->build_args);
    refuse_unsupported(ctx, e, compose);
    service_refs(ctx, e);
  }
}

/* ---- checks -------------------------------------------------------------- */

/* Each image's platforms: its build's, else the run's (PLATFORMS, from
 * --platform). Several from --platform that the builder cannot build into
 * one manifest list are refused once, naming where the setting came from. */
static void resolve_platforms(ctx_t *ctx, const dray_settings_t *settings)
{
  apr_array_header_t *run = dray_buildspec_split_platforms(settings->platform, ctx->pool);
  const char *needs = dray_build_key_needs(DRAY_BK_PLATFORMS, ctx->builder);
  int i;
  if (run->nelts > 1 && needs)
    add_problem(ctx, dray_error_createf(
        DRAY_ERR_INPUT, NULL,
        "%s %s: several platforms (one manifest list per image) cannot be built by %s: it "
        "needs %s; or give one platform",
        settings->where[DRAY_SETTING_PLATFORM] ? settings->where[DRAY_SETTING_PLATFORM]
                                               : "--platform",
        settings->platform, dray_builder_word(ctx->builder), needs));
  for (i = 0; i < ctx->entries->nelts; i++) {
    dray_image_t *img = entry_at(ctx, i)->img;
    img->platforms = img->spec && nelts(img->spec->platforms) ? img->spec->platforms : run;
  }
}

/* The normalised reference "docker.io/library/app:1.0" of TAG of IMG, or
 * NULL when it does not parse (reported elsewhere). */
static const char *norm_ref(const dray_image_t *img, const char *tag, apr_pool_t *pool)
{
  dray_ref_t *ref;
  dray_error_t *err = dray_ref_parse(&ref, dray_image_ref(img, tag, pool), pool);
  if (err) {
    dray_error_clear(err);
    return NULL;
  }
  return apr_pstrcat(pool, dray_ref_normalized_name(ref, pool), ":", ref->tag, NULL);
}

/* A whole reference in E's tags that names E's own repository becomes a
 * plain tag, so that each reference is pushed once. */
static void fold_own_refs(ctx_t *ctx, entry_t *e)
{
  apr_array_header_t *tags = apr_array_make(ctx->pool, e->img->tags->nelts, sizeof(const char *));
  apr_size_t rlen = strlen(e->img->repository);
  int i, j, dup;
  for (i = 0; i < e->img->tags->nelts; i++) {
    const char *t = APR_ARRAY_IDX(e->img->tags, i, const char *);
    if (strncmp(t, e->img->repository, rlen) == 0 && t[rlen] == ':' && !strchr(t + rlen + 1, '/'))
      t += rlen + 1;
    for (j = 0, dup = 0; j < tags->nelts; j++)
      dup |= strcmp(APR_ARRAY_IDX(tags, j, const char *), t) == 0;
    if (!dup)
      APR_ARRAY_PUSH(tags, const char *) = t;
  }
  e->img->tags = tags;
}

/* (d) and (e): repositories valid, names unique. */
static void check_repositories(ctx_t *ctx)
{
  apr_hash_t *by_name = apr_hash_make(ctx->scratch);
  int i;

  for (i = 0; i < ctx->entries->nelts; i++) {
    entry_t *e = entry_at(ctx, i), *other;
    dray_ref_t *ref;
    dray_error_t *err;

    if (e->bad)
      continue;
    if (!e->img->repository)
      e->img->repository = dray_ref_join(ctx->registry, e->img->name, ctx->pool);
    if (!e->img->tags)
      e->img->tags = ctx->tags;
    err = dray_ref_parse(&ref, e->img->repository, ctx->scratch);
    if (!err && (ref->tag || ref->digest))
      err = dray_error_createf(DRAY_ERR_INPUT, NULL, "invalid reference \"%s\": not a repository",
                               e->img->repository);
    if (!err && !e->svc && !ctx->registry && ref->domain)
      err = dray_error_createf(DRAY_ERR_INPUT, NULL,
                               "\"%s\" would be read as registry \"%s\"; rename the folder or "
                               "use --registry",
                               e->img->repository, ref->domain);
    if (err) {
      add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: %s%s%s", e->img->origin,
                                          e->svc ? svc_noun(ctx, e->img->name, ctx->scratch)
                                                 : "",
                                          e->svc ? ": " : "", err->message));
      dray_error_clear(err);
      e->bad = 1;
      continue;
    }
    e->norm = dray_ref_normalized_name(ref, ctx->scratch);
    if (e->svc)
      fold_own_refs(ctx, e);

    other = apr_hash_get(by_name, e->img->name, APR_HASH_KEY_STRING);
    if (other) {
      add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                          "%s: image name \"%s\" is also used by %s",
                                          e->img->origin, e->img->name, other->img->origin));
      e->bad = 1;
      continue;
    }
    apr_hash_set(by_name, e->img->name, APR_HASH_KEY_STRING, e);
  }
}

/* What E builds: equal for two services exactly when they build the same. */
static const char *fingerprint(ctx_t *ctx, const entry_t *e)
{
  const dray_image_t *img = e->img;
  return apr_pstrcat(ctx->scratch, img->context_dir, "\n", img->dockerfile, "\n",
                     img->target ? img->target : "", "\n",
                     apr_array_pstrcat(ctx->scratch, img->build_args, '\n'), "\n",
                     dray_buildspec_fingerprint(img->spec, ctx->scratch), NULL);
}

/* Services that build the same thing are built once, pushed under all their
 * references: the later ones' references go to the first. */
static void merge_identical(ctx_t *ctx)
{
  apr_hash_t *by_print = apr_hash_make(ctx->scratch);
  int i, k;
  for (i = 0; i < ctx->entries->nelts; i++) {
    entry_t *e = entry_at(ctx, i), *first;
    if (e->bad || !e->svc)
      continue;
    e->fingerprint = fingerprint(ctx, e);
    first = apr_hash_get(by_print, e->fingerprint, APR_HASH_KEY_STRING);
    if (!first) {
      apr_hash_set(by_print, e->fingerprint, APR_HASH_KEY_STRING, e);
      continue;
    }
    for (k = 0; k < e->img->tags->nelts; k++)
      add_tag(ctx, first, dray_image_ref(e->img, APR_ARRAY_IDX(e->img->tags, k, const char *),
                                         ctx->pool));
    fold_own_refs(ctx, first);
    first->img->origin = apr_pstrcat(ctx->pool, first->img->origin, ", ", e->img->origin,
                                     " (", svc_noun(ctx, e->img->name, ctx->scratch),
                                     ", built the same)", NULL);
    e->merged_into = first;
  }
}

/* Two images that build different things may not be pushed as one
 * reference. */
static void check_refs(ctx_t *ctx)
{
  apr_hash_t *by_ref = apr_hash_make(ctx->scratch);
  int i, k;
  for (i = 0; i < ctx->entries->nelts; i++) {
    entry_t *e = entry_at(ctx, i);
    if (e->bad || e->merged_into)
      continue;
    for (k = 0; k < e->img->tags->nelts; k++) {
      const char *tag = APR_ARRAY_IDX(e->img->tags, k, const char *);
      const char *key = norm_ref(e->img, tag, ctx->scratch);
      entry_t *other = key ? apr_hash_get(by_ref, key, APR_HASH_KEY_STRING) : NULL;
      if (!key) {
        add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: invalid reference \"%s\"",
                                            e->img->origin,
                                            dray_image_ref(e->img, tag, ctx->scratch)));
        e->bad = 1;
      } else if (other && other != e) {
        add_problem(ctx, dray_error_createf(
            DRAY_ERR_INPUT, NULL,
            "%s: %s and %s (%s) build different images under one reference, \"%s\"",
            e->img->origin, e->img->name, other->img->name, other->img->origin,
            dray_image_ref(e->img, tag, ctx->scratch)));
        e->bad = 1;
      } else {
        apr_hash_set(by_ref, key, APR_HASH_KEY_STRING, e);
      }
    }
  }
}

/* Pushing to Docker Hub only because no registry was given is worth a word. */
static void warn_no_registry(ctx_t *ctx)
{
  int i, k;
  for (i = 0; i < ctx->entries->nelts; i++) {
    entry_t *e = entry_at(ctx, i);
    if (e->bad || e->merged_into || !e->selected)
      continue;
    for (k = 0; k < e->img->tags->nelts; k++) {
      dray_ref_t *ref;
      dray_error_t *err = dray_ref_parse(
          &ref, dray_image_ref(e->img, APR_ARRAY_IDX(e->img->tags, k, const char *), ctx->scratch),
          ctx->scratch);
      if (err) {
        dray_error_clear(err);
        continue;
      }
      if (!ref->domain) {
        APR_ARRAY_PUSH(ctx->warnings, const char *) = apr_psprintf(
            ctx->pool, "image %s has no registry: it will be pushed to docker.io",
            e->img->name);
        break;
      }
    }
  }
}

static int matches(const apr_array_header_t *patterns, const dray_image_t *img, char *used)
{
  int i, any = 0;
  for (i = 0; i < nelts(patterns); i++) {
    const char *p = APR_ARRAY_IDX(patterns, i, const char *);
    if (apr_fnmatch(p, img->name, 0) == APR_SUCCESS
        || (img->repository && apr_fnmatch(p, img->repository, 0) == APR_SUCCESS)) {
      any = 1;
      if (used)
        used[i] = 1;
    }
  }
  return any;
}

/* (g) --only / --skip; an --only pattern that matches nothing is likely a
 * typo, so it is reported. */
static void select_images(ctx_t *ctx)
{
  const apr_array_header_t *only = ctx->opts->only, *skip = ctx->opts->skip;
  char *used = apr_pcalloc(ctx->scratch, (apr_size_t)nelts(only) + 1);
  int i;

  for (i = 0; i < ctx->entries->nelts; i++) {
    entry_t *e = entry_at(ctx, i);
    e->selected = !e->merged_into
                  && (nelts(only) == 0 || matches(only, e->img, used))
                  && !matches(skip, e->img, NULL);
  }
  for (i = 0; i < nelts(only); i++)
    if (!used[i])
      add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL, "--only %s: matches no image",
                                          APR_ARRAY_IDX(only, i, const char *)));
}

/* (f) and the Dockerfile's own problems; fills e->refs. */
static void read_dockerfile(ctx_t *ctx, entry_t *e, apr_pool_t *iterpool)
{
  dray_dockerfile_t *df;
  dray_error_t *err;
  const char *who = e->svc ? apr_psprintf(iterpool, "%s: %s", e->img->origin,
                                          svc_noun(ctx, e->img->name, iterpool))
                           : e->img->origin;

  if (e->svc && !dray_file_is_dir(e->img->context_dir, iterpool)) {
    add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                        "%s: build context %s is not a folder or does not exist",
                                        who, e->img->context_dir));
    e->bad = 1;
    return;
  }
  if (e->img->spec && e->img->spec->dockerfile_inline) {
    const char *text = e->img->spec->dockerfile_inline;
    err = dray_dockerfile_parse_string(&df, text, strlen(text), e->img->dockerfile,
                                       e->img->build_args, ctx->scratch, iterpool);
  } else if (!dray_file_is_regular(e->img->dockerfile, iterpool)) {
    add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                        "%s: Dockerfile %s does not exist", who,
                                        e->img->dockerfile));
    e->bad = 1;
    return;
  } else {
    err = dray_dockerfile_parse(&df, e->img->dockerfile, e->img->build_args, ctx->scratch,
                                iterpool);
  }
  if (!err)
    err = dray_dockerfile_target_refs(&e->refs, df, e->img->target, ctx->scratch);
  if (err) {
    add_problem(ctx, err);
    e->bad = 1;
  }
}

/* (h) An edge for each ref naming an image of this run with one of its
 * tags (or no tag). A digest pins remote content: no edge. An image built
 * FROM its own name means the published one: no edge either. */
static void find_edges(ctx_t *ctx, apr_pool_t *iterpool)
{
  /* "repo:tag" -> entry, and "repo" -> the entry a FROM without tag means:
   * the one with "latest", else the first */
  apr_hash_t *by_ref = apr_hash_make(ctx->scratch), *by_repo = apr_hash_make(ctx->scratch);
  int i, j, k;

  for (i = 0; i < ctx->entries->nelts; i++) {
    entry_t *e = entry_at(ctx, i);
    if (!e->selected || e->bad)
      continue;
    for (k = 0; k < e->img->tags->nelts; k++) {
      const char *key = norm_ref(e->img, APR_ARRAY_IDX(e->img->tags, k, const char *),
                                 ctx->scratch);
      const char *colon = key ? strrchr(key, ':') : NULL;
      const char *repo = colon ? apr_pstrmemdup(ctx->scratch, key, (apr_size_t)(colon - key))
                               : NULL;
      entry_t *had = repo ? apr_hash_get(by_repo, repo, APR_HASH_KEY_STRING) : NULL;
      if (!key)
        continue;
      apr_hash_set(by_ref, key, APR_HASH_KEY_STRING, e);
      if (!had || strcmp(colon + 1, "latest") == 0)
        apr_hash_set(by_repo, repo, APR_HASH_KEY_STRING, e);
    }
  }
  for (i = 0; i < ctx->entries->nelts; i++) {
    entry_t *e = entry_at(ctx, i);
    if (!e->selected || e->bad)
      continue;
    for (j = 0; j < nelts(e->refs); j++) {
      const dray_dockerfile_ref_t *r = APR_ARRAY_IDX(e->refs, j, dray_dockerfile_ref_t *);
      dray_ref_t *ref;
      dray_error_t *err;
      const char *norm;
      entry_t *dep;
      int dup = 0;

      apr_pool_clear(iterpool);
      err = dray_ref_parse(&ref, r->ref, iterpool);
      if (err) { /* dockerfile.c already reported it */
        dray_error_clear(err);
        continue;
      }
      norm = dray_ref_normalized_name(ref, iterpool);
      /* The last FROM of the stages built is where the image's layers
       * start: what it shares with others built from the same base. */
      if (strcmp(r->instruction, "FROM") == 0 && strcmp(r->ref, "scratch") != 0)
        e->img->base = apr_pstrdup(ctx->pool, norm);
      dep = ref->tag ? apr_hash_get(by_ref, apr_pstrcat(iterpool, norm, ":", ref->tag, NULL),
                                    APR_HASH_KEY_STRING)
                     : apr_hash_get(by_repo, norm, APR_HASH_KEY_STRING);
      if (!dep || dep == e || ref->digest)
        continue;
      for (k = 0; k < e->deps->nelts; k++)
        dup |= APR_ARRAY_IDX(e->deps, k, int) == dep->id;
      if (dup)
        continue;
      APR_ARRAY_PUSH(e->deps, int) = dep->id;
      APR_ARRAY_PUSH(e->why, const char *) =
          apr_psprintf(ctx->scratch, "%s:%d: %s %s", e->img->dockerfile, r->line,
                       r->instruction, r->ref);
    }
  }
}

/* Which image of the run each base names (after ordering: final indices):
 * the image it is built after whose repository the base is. */
static void link_bases(ctx_t *ctx, apr_array_header_t *images)
{
  apr_hash_t *norm_of = apr_hash_make(ctx->scratch);
  int i, k;
  for (i = 0; i < ctx->entries->nelts; i++) {
    entry_t *e = entry_at(ctx, i);
    if (e->norm)
      apr_hash_set(norm_of, &e->img, sizeof(e->img), e->norm);
  }
  for (i = 0; i < images->nelts; i++) {
    dray_image_t *img = APR_ARRAY_IDX(images, i, dray_image_t *);
    img->base_image = NULL;
    /* Only when it is an edge: FROM c:v9 is not the c:latest built here. */
    for (k = 0; img->base && k < img->deps->nelts && !img->base_image; k++) {
      dray_image_t *dep = APR_ARRAY_IDX(images, APR_ARRAY_IDX(img->deps, k, int), dray_image_t *);
      const char *norm = apr_hash_get(norm_of, &dep, sizeof(dep));
      if (norm && strcmp(norm, img->base) == 0)
        img->base_image = dep;
    }
  }
}

/* ---- cycles and order ---------------------------------------------------- */

typedef struct tarjan_t {
  ctx_t *ctx;
  int *index, *low, *on_stack, *stack, *comp;
  int next_index, top, ncomp;
} tarjan_t;

static void strongconnect(tarjan_t *t, int v)
{
  entry_t *e = entry_at(t->ctx, v);
  int k;

  t->index[v] = t->low[v] = t->next_index++;
  t->stack[t->top++] = v;
  t->on_stack[v] = 1;
  for (k = 0; k < e->deps->nelts; k++) {
    int w = APR_ARRAY_IDX(e->deps, k, int);
    if (t->index[w] < 0) {
      strongconnect(t, w);
      if (t->low[w] < t->low[v])
        t->low[v] = t->low[w];
    } else if (t->on_stack[w] && t->index[w] < t->low[v]) {
      t->low[v] = t->index[w];
    }
  }
  if (t->low[v] == t->index[v]) {
    int w;
    do {
      w = t->stack[--t->top];
      t->on_stack[w] = 0;
      t->comp[w] = t->ncomp;
    } while (w != v);
    t->ncomp++;
  }
}

/* (i) One problem per strongly connected group, in discovery order: the
 * shortest way from its first image back to itself, with the Dockerfile
 * line behind each step. */
static void report_cycles(ctx_t *ctx)
{
  int n = ctx->entries->nelts, v, c, start;
  tarjan_t t;
  int *size, *prev, *queue, *prev_edge, *done;

  if (n == 0)
    return;
  memset(&t, 0, sizeof(t));
  t.ctx = ctx;
  t.index = apr_palloc(ctx->scratch, sizeof(int) * (apr_size_t)n);
  t.low = apr_palloc(ctx->scratch, sizeof(int) * (apr_size_t)n);
  t.on_stack = apr_pcalloc(ctx->scratch, sizeof(int) * (apr_size_t)n);
  t.stack = apr_palloc(ctx->scratch, sizeof(int) * (apr_size_t)n);
  t.comp = apr_palloc(ctx->scratch, sizeof(int) * (apr_size_t)n);
  for (v = 0; v < n; v++)
    t.index[v] = -1;
  for (v = 0; v < n; v++)
    if (t.index[v] < 0)
      strongconnect(&t, v);

  size = apr_pcalloc(ctx->scratch, sizeof(int) * (apr_size_t)t.ncomp);
  for (v = 0; v < n; v++)
    size[t.comp[v]]++;
  prev = apr_palloc(ctx->scratch, sizeof(int) * (apr_size_t)n);
  prev_edge = apr_palloc(ctx->scratch, sizeof(int) * (apr_size_t)n);
  queue = apr_palloc(ctx->scratch, sizeof(int) * (apr_size_t)n);

  done = apr_pcalloc(ctx->scratch, sizeof(int) * (apr_size_t)t.ncomp);
  for (start = 0; start < n; start++) {
    int head = 0, tail = 0, found = 0, w, k;
    const char *names, *whys;
    c = t.comp[start];
    if (size[c] < 2 || done[c])
      continue; /* reported from its first image already */
    done[c] = 1;
    /* Breadth-first from START over edges inside the group until an edge
     * leads back to START. */
    for (v = 0; v < n; v++)
      prev[v] = -2;
    prev[start] = -1;
    queue[tail++] = start;
    while (head < tail && !found) {
      entry_t *e;
      v = queue[head++];
      e = entry_at(ctx, v);
      for (k = 0; k < e->deps->nelts && !found; k++) {
        w = APR_ARRAY_IDX(e->deps, k, int);
        if (t.comp[w] != c)
          continue;
        if (w == start) {
          prev_edge[start] = k;
          prev[start] = v;
          found = 1;
        } else if (prev[w] == -2) {
          prev[w] = v;
          prev_edge[w] = k;
          queue[tail++] = w;
        }
      }
    }
    if (!found)
      continue; /* cannot happen in a group of two or more */
    /* prev[] leads from START back through the path to START again:
     * START -> x -> … -> last -> START is that chain reversed. */
    {
      apr_array_header_t *seq = apr_array_make(ctx->scratch, 8, sizeof(int));
      w = prev[start];
      while (w != start) {
        APR_ARRAY_PUSH(seq, int) = w;
        w = prev[w];
      }
      names = entry_at(ctx, start)->img->name;
      whys = "";
      for (k = seq->nelts; k >= 0; k--) {
        /* edge from FROM to TO, TO reached through prev_edge[TO] */
        int from = k == seq->nelts ? start : APR_ARRAY_IDX(seq, k, int);
        int to = k == 0 ? start : APR_ARRAY_IDX(seq, k - 1, int);
        entry_t *fe = entry_at(ctx, from);
        names = apr_pstrcat(ctx->scratch, names, " -> ", entry_at(ctx, to)->img->name, NULL);
        whys = apr_pstrcat(ctx->scratch, whys, *whys ? "; " : "",
                           APR_ARRAY_IDX(fe->why, prev_edge[to], const char *), NULL);
      }
    }
    add_problem(ctx, dray_error_createf(DRAY_ERR_INPUT, NULL, "%s: cycle: %s (%s)",
                                        entry_at(ctx, start)->img->origin, names, whys));
  }
}

/* (j) Kahn's algorithm taking the earliest discovered image that is ready,
 * so that the order only moves what dependencies force. */
static apr_array_header_t *order_images(ctx_t *ctx)
{
  int n = ctx->entries->nelts, placed_count = 0, i, k;
  int *pos = apr_palloc(ctx->scratch, sizeof(int) * ((apr_size_t)n + 1));
  apr_array_header_t *images = apr_array_make(ctx->pool, n, sizeof(dray_image_t *));

  for (i = 0; i < n; i++)
    pos[i] = entry_at(ctx, i)->selected ? -1 : -2;
  for (;;) {
    int pick = -1;
    for (i = 0; i < n && pick < 0; i++) {
      entry_t *e = entry_at(ctx, i);
      int ready = pos[i] == -1;
      for (k = 0; ready && k < e->deps->nelts; k++)
        ready = pos[APR_ARRAY_IDX(e->deps, k, int)] >= 0;
      if (ready)
        pick = i;
    }
    if (pick < 0)
      break;
    pos[pick] = placed_count++;
    APR_ARRAY_PUSH(images, dray_image_t *) = entry_at(ctx, pick)->img;
  }

  for (i = 0; i < n; i++) {
    entry_t *e = entry_at(ctx, i);
    int *deps;
    if (pos[i] < 0)
      continue;
    e->img->index = pos[i];
    e->img->deps = apr_array_make(ctx->pool, e->deps->nelts, sizeof(int));
    for (k = 0; k < e->deps->nelts; k++)
      APR_ARRAY_PUSH(e->img->deps, int) = pos[APR_ARRAY_IDX(e->deps, k, int)];
    /* ascending, for stable output */
    deps = (int *)e->img->deps->elts;
    for (k = 1; k < e->img->deps->nelts; k++) {
      int v = deps[k], j = k;
      while (j > 0 && deps[j - 1] > v) {
        deps[j] = deps[j - 1];
        j--;
      }
      deps[j] = v;
    }
  }
  return images;
}

dray_error_t *dray_plan_load(dray_plan_t **plan_p, const dray_plan_options_t *opts,
                             apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  ctx_t ctx;
  dray_plan_t *plan;
  dray_compose_t *compose = NULL;
  dray_settings_t settings, cli;
  apr_pool_t *iterpool;
  int i, bake = 0;

  memset(&ctx, 0, sizeof(ctx));
  dray_settings_init(&settings);
  if (opts->settings)
    cli = *opts->settings;
  else
    dray_settings_init(&cli);
  ctx.opts = opts;
  ctx.pool = dray_pool_create_sub(result_pool);
  ctx.scratch = dray_pool_create_sub(scratch_pool);
  iterpool = dray_pool_create_sub(ctx.scratch);
  ctx.entries = apr_array_make(ctx.scratch, 16, sizeof(entry_t *));

  if (opts->compose_file || nelts(opts->compose_files)) {
    dray_compose_options_t co;
    dray_error_t *err;
    char *text = NULL;
    apr_size_t len = 0;
    memset(&co, 0, sizeof(co));
    co.files = opts->compose_files;
    if (!nelts(co.files)) {
      co.files = apr_array_make(ctx.scratch, 1, sizeof(const char *));
      APR_ARRAY_PUSH(co.files, const char *) = opts->compose_file;
    }
    co.profiles = opts->profiles;
    co.env_files = opts->env_files;
    co.project_name = opts->project_name;
    /* bake or compose: by the first file's content */
    err = dray_file_read(&text, &len, NULL, APR_ARRAY_IDX(co.files, 0, const char *), NULL,
                         ctx.scratch);
    bake = !err && dray_bake_sniff(APR_ARRAY_IDX(co.files, 0, const char *), text, len)
                       != DRAY_BAKE_NONE;
    ctx.bake = bake;
    if (!err && bake) /* PATHs name targets and groups */
      err = dray_bake_load(&compose, APR_ARRAY_IDX(co.files, 0, const char *), opts->paths,
                           ctx.pool, ctx.scratch);
    else if (!err) {
      co.first_text = text;
      co.first_len = len;
      err = dray_compose_load_project(&compose, &co, ctx.pool, ctx.scratch);
    }
    if (err)
      add_problem(&ctx, err);
    else
      settings = compose->settings;
  }
  /* Flags over environment over x-dray over config file over defaults:
   * settings.c decides. */
  dray_settings_resolve(&settings, &cli, opts->env_settings, compose ? &settings : NULL,
                        opts->config_settings, ctx.pool);
  if (cli.registry) {
    dray_error_t *err = dray_ref_check_registry(&ctx.registry, cli.registry, ctx.pool);
    if (err) {
      add_problem(&ctx, dray_error_createf(DRAY_ERR_INPUT, NULL, "--registry %s: %s",
                                           cli.registry, err->message));
      dray_error_clear(err);
    }
  } else {
    ctx.registry = settings.registry; /* validated by compose.c */
  }
  settings.registry = ctx.registry;
  resolve_tags(&ctx, settings.tags);
  settings.tags = ctx.tags;
  ctx.tags_given = settings.source[DRAY_SETTING_TAGS] > DRAY_SOURCE_DEFAULT;
  ctx.builder = opts->has_buildx ? dray_builder_for(settings.engine_cmd,
                                                    opts->has_buildx(settings.engine_cmd,
                                                                     ctx.scratch))
                                 : opts->builder;
  ctx.warnings = apr_array_make(ctx.pool, 2, sizeof(const char *));
  check_build_args(&ctx);

  for (i = 0; !bake && i < nelts(opts->paths); i++)
    discover(&ctx, APR_ARRAY_IDX(opts->paths, i, const char *));
  if (compose)
    add_services(&ctx, compose);

  check_repositories(&ctx);
  merge_identical(&ctx);
  check_refs(&ctx);
  resolve_platforms(&ctx, &settings);
  select_images(&ctx);
  warn_no_registry(&ctx);
  for (i = 0; i < ctx.entries->nelts; i++) {
    entry_t *e = entry_at(&ctx, i);
    apr_pool_clear(iterpool);
    if (e->selected && !e->bad)
      read_dockerfile(&ctx, e, iterpool);
  }
  find_edges(&ctx, iterpool);
  report_cycles(&ctx);

  if (ctx.err) {
    apr_pool_destroy(ctx.pool);
    apr_pool_destroy(ctx.scratch);
    return ctx.err;
  }
  plan = apr_pcalloc(ctx.pool, sizeof(*plan));
  plan->images = order_images(&ctx);
  link_bases(&ctx, plan->images);
  plan->settings = settings;
  plan->warnings = ctx.warnings;
  plan->builder = ctx.builder;
  if (compose && compose->services->nelts == 0 && (bake || nelts(opts->paths) == 0))
    plan->nothing_to_build = bake ? "no target selected"
                             : compose->inactive ? "no service of the active profiles has build:"
                                                 : "no service has build:";
  apr_pool_destroy(ctx.scratch);
  *plan_p = plan;
  return DRAY_NO_ERROR;
}

int dray_image_is_list(const dray_image_t *image)
{
  return nelts(image->platforms) > 1;
}

const char *dray_image_ref(const dray_image_t *image, const char *tag, apr_pool_t *result_pool)
{
  if (strchr(tag, ':') || strchr(tag, '/'))
    return apr_pstrdup(result_pool, tag); /* a whole reference */
  return apr_pstrcat(result_pool, image->repository, ":", tag, NULL);
}
