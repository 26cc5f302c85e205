/* compose_merge.c — one service over another, by the specification's rules. */
#include "dray/compose_merge.h"

#include <string.h>

#include <apr_strings.h>

/* "K=V" / "K" args: BASE's, with OVER's replacing those of the same name. */
static apr_array_header_t *merge_args(const apr_array_header_t *base,
                                      const apr_array_header_t *over, apr_pool_t *pool)
{
  apr_array_header_t *out = apr_array_make(pool, base->nelts + over->nelts, sizeof(const char *));
  int i, j;
  for (i = 0; i < base->nelts; i++) {
    const char *b = APR_ARRAY_IDX(base, i, const char *);
    apr_size_t n = strcspn(b, "=");
    int replaced = 0;
    for (j = 0; j < over->nelts && !replaced; j++) {
      const char *o = APR_ARRAY_IDX(over, j, const char *);
      replaced = strcspn(o, "=") == n && strncmp(o, b, n) == 0;
    }
    if (!replaced)
      APR_ARRAY_PUSH(out, const char *) = b;
  }
  for (j = 0; j < over->nelts; j++)
    APR_ARRAY_PUSH(out, const char *) = APR_ARRAY_IDX(over, j, const char *);
  return out;
}

dray_compose_service_t *dray_compose_service_merge(const dray_compose_service_t *base,
                                                   const dray_compose_service_t *over,
                                                   apr_pool_t *result_pool)
{
  dray_compose_service_t *out = apr_pmemdup(result_pool, base, sizeof(*base));
  const dray_buildspec_t *os = over->spec;

  if (over->image) {
    out->image = over->image;
    out->image_line = over->image_line;
    out->image_path = over->image_path;
  }
  out->has_build = base->has_build || over->has_build;
  if (!base->has_build && over->has_build) {
    /* the build comes from OVER: so do its messages' places */
    out->origin = over->origin;
    out->path = over->path;
    out->line = over->line;
  }
  if (os->line[DRAY_BK_CONTEXT]) {
    out->context = over->context;
    out->base_dir = over->base_dir;
  } else if (!base->spec->line[DRAY_BK_CONTEXT]) {
    out->base_dir = base->has_build ? base->base_dir : over->base_dir;
  }
  if (over->dockerfile_written)
    out->dockerfile_written = over->dockerfile_written;
  if (os->line[DRAY_BK_TARGET])
    out->target = over->target;
  out->build_args = merge_args(base->build_args, over->build_args, result_pool);
  out->spec = dray_buildspec_merge(base->spec, os, result_pool);
  /* one way to name the Dockerfile: the later one */
  if (os->line[DRAY_BK_DOCKERFILE]) {
    out->spec->dockerfile_inline = NULL;
    out->spec->line[DRAY_BK_DOCKERFILE_INLINE] = 0;
  } else if (os->line[DRAY_BK_DOCKERFILE_INLINE]) {
    out->dockerfile_written = NULL;
  }
  if (over->profiles)
    out->profiles = over->profiles;
  out->extends_service = over->extends_service;
  out->extends_file = over->extends_file;
  out->extends_line = over->extends_line;
  return out;
}
