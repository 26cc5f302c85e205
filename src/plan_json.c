/* plan_json.c — the plan as JSON (jansson). */
#include "dray/plan_json.h"

#include <string.h>

#include "dray/enginecmd.h"

static json_t *strings(const apr_array_header_t *a)
{
  json_t *out = json_array();
  int i;
  for (i = 0; a && i < a->nelts; i++)
    json_array_append_new(out, json_string(APR_ARRAY_IDX(a, i, const char *)));
  return out;
}

static json_t *argv_json(const char **argv)
{
  json_t *out = json_array();
  for (; *argv; argv++)
    json_array_append_new(out, json_string(*argv));
  return out;
}

/* The command BUILDER would run for IMG, or null when it would refuse a
 * key of it. */
static json_t *command_of(const dray_image_t *img, const dray_build_options_t *opts,
                          dray_builder_t builder, apr_pool_t *pool)
{
  dray_build_options_t o = *opts;
  apr_array_header_t *needs;
  if (img->spec && dray_buildspec_refusals(&needs, img->spec, builder, pool)->nelts)
    return json_null();
  if (dray_image_is_list(img) && dray_build_key_needs(DRAY_BK_PLATFORMS, builder))
    return json_null(); /* several platforms from --platform */
  o.builder = builder;
  if (builder == DRAY_BUILDER_PODMAN
      && dray_engine_cmd_kind(opts->engine_cmd) != DRAY_ENGINE_CMD_PODMAN)
    o.engine_cmd = "podman";
  else if (builder != DRAY_BUILDER_PODMAN
           && dray_engine_cmd_kind(opts->engine_cmd) == DRAY_ENGINE_CMD_PODMAN)
    o.engine_cmd = "docker";
  return argv_json(dray_build_argv(img, &o, NULL, pool));
}

static json_t *image_json(const dray_plan_t *plan, const dray_image_t *img,
                          const dray_build_options_t *opts, apr_pool_t *pool)
{
  json_t *o = json_object(), *refs = json_array(), *after = json_array(), *cmds = json_object();
  int i;
  for (i = 0; i < img->tags->nelts; i++)
    json_array_append_new(refs, json_string(dray_image_ref(
                                    img, APR_ARRAY_IDX(img->tags, i, const char *), pool)));
  for (i = 0; img->deps && i < img->deps->nelts; i++)
    json_array_append_new(after, json_string(APR_ARRAY_IDX(plan->images,
                                                           APR_ARRAY_IDX(img->deps, i, int),
                                                           const dray_image_t *)->name));
  for (i = 0; i < DRAY_BUILDER_COUNT; i++)
    json_object_set_new(cmds, dray_builder_word((dray_builder_t)i),
                        command_of(img, opts, (dray_builder_t)i, pool));
  json_object_set_new(o, "name", json_string(img->name));
  json_object_set_new(o, "references", refs);
  json_object_set_new(o, "repository", json_string(img->repository));
  json_object_set_new(o, "context", json_string(img->context_dir));
  json_object_set_new(o, "dockerfile", json_string(img->dockerfile));
  json_object_set_new(o, "dockerfile_inline",
                      img->spec && img->spec->dockerfile_inline
                          ? json_string(img->spec->dockerfile_inline)
                          : json_null());
  json_object_set_new(o, "target", img->target ? json_string(img->target) : json_null());
  json_object_set_new(o, "args", strings(img->build_args));
  json_object_set_new(o, "platforms", strings(img->platforms)); /* the plan's */
  json_object_set_new(o, "after", after);
  json_object_set_new(o, "origin", img->origin ? json_string(img->origin) : json_null());
  json_object_set_new(o, "build_command",
                      argv_json(dray_build_argv(img, opts, NULL, pool)));
  json_object_set_new(o, "build_commands", cmds);
  return o;
}

json_t *dray_plan_json(const dray_plan_t *plan, const dray_build_options_t *opts,
                       apr_pool_t *scratch_pool)
{
  json_t *doc = json_object(), *images = json_array();
  int i;
  for (i = 0; i < plan->images->nelts; i++)
    json_array_append_new(images, image_json(plan, APR_ARRAY_IDX(plan->images, i,
                                                                 const dray_image_t *),
                                             opts, scratch_pool));
  json_object_set_new(doc, "version", json_integer(DRAY_PLAN_JSON_VERSION));
  json_object_set_new(doc, "builder", json_string(dray_builder_word(plan->builder)));
  json_object_set_new(doc, "images", images);
  json_object_set_new(doc, "warnings", strings(plan->warnings));
  return doc;
}
