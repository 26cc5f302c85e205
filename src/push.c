/* push.c — one image's push: skip what the registry has, push each tag,
 * verify; and reading the digest line both drivers' engines print. */
#include "dray/push.h"

#include <string.h>

#include <apr_strings.h>

#include "dray/ref.h"
#include "dray/verify.h"

dray_error_t *dray_push_fail(dray_push_result_t *result, dray_outcome_t outcome,
                             dray_error_t *err)
{
  result->outcome = outcome;
  return err;
}

dray_error_t *dray_push_parse_reference(dray_ref_t **ref, dray_push_result_t *result,
                                        const char *ref_s, apr_pool_t *result_pool)
{
  dray_error_t *err = dray_ref_parse(ref, ref_s, result_pool);
  if (err)
    return dray_push_fail(result, DRAY_OUTCOME_REJECTED, err);
  if (!(*ref)->tag && (*ref)->digest)
    return dray_push_fail(result, DRAY_OUTCOME_REJECTED,
                          dray_error_createf(DRAY_ERR_INPUT, NULL,
                                             "push %s: a tag is needed to push", ref_s));
  return DRAY_NO_ERROR;
}

int dray_push_driver_kind_from_word(const char *word)
{
  static const char *const words[] = {"auto", "engine", "cli", "registry"};
  for (int i = 0; word && i < (int)(sizeof(words) / sizeof(words[0])); i++)
    if (!strcmp(word, words[i]))
      return i;
  return -1;
}

dray_push_driver_kind_t dray_push_driver_choose(dray_push_driver_kind_t asked,
                                                dray_engine_cmd_kind_t engine_cmd,
                                                const dray_engine_endpoint_t *ep,
                                                dray_engine_image_store_t store)
{
  if (asked != DRAY_PUSH_DRIVER_AUTO)
    return asked;
  if (engine_cmd == DRAY_ENGINE_CMD_PODMAN || !ep || !dray_engine_http_capable(ep))
    return DRAY_PUSH_DRIVER_CLI;
  if (dray_engine_is_local(ep) && store != DRAY_ENGINE_STORE_CONTAINERD)
    return DRAY_PUSH_DRIVER_ENGINE_THEN_REGISTRY;
  return DRAY_PUSH_DRIVER_ENGINE;
}

const char *dray_push_parse_digest_line(const char *line, apr_int64_t *size,
                                        apr_pool_t *result_pool)
{
  const char *p = strstr(line, "digest: ");
  const char *start, *end, *digest;

  if (!p)
    return NULL;
  start = p + strlen("digest: ");
  for (end = start; *end && *end != ' '; end++)
    ;
  digest = dray_digest_parse(start, (apr_size_t)(end - start), result_pool);
  if (digest && size) {
    const char *s = strstr(end, "size: ");
    *size = s ? apr_atoi64(s + strlen("size: ")) : -1;
  }
  return digest;
}

/* The local manifest list IMAGE is pushed from, or NULL: not a list. */
static const char *manifest_list(const dray_image_t *image, apr_pool_t *pool)
{
  if (!dray_image_is_list(image))
    return NULL;
  return dray_image_ref(image, APR_ARRAY_IDX(image->tags, 0, const char *), pool);
}

const char *dray_push_describe(const dray_push_driver_t *driver, const dray_image_t *image,
                               const char *reference, apr_pool_t *result_pool)
{
  const char *list = manifest_list(image, result_pool);
  if (list && driver->describe_list)
    return driver->describe_list(driver, list, reference, result_pool);
  return driver->describe(driver, reference, result_pool);
}

/* Bytes the current tag's push reported last; forwards progress on. */
typedef struct tag_progress_t {
  dray_push_progress_fn fn;
  void *baton;
  apr_int64_t bytes;
} tag_progress_t;

static void on_tag_progress(void *baton, const dray_push_progress_t *p)
{
  tag_progress_t *tp = baton;
  tp->bytes = p->bytes_done;
  if (tp->fn)
    tp->fn(tp->baton, p);
}

/* One tag: skip it if the registry has it (--skip-existing), else push it
 * and check that the registry serves what the push reported. *DIGEST gets
 * the tag's digest; *UP_TO_DATE whether it was skipped. */
static dray_error_t *push_tag(dray_push_image_result_t *result, const char **digest,
                              int *up_to_date, const dray_pusher_t *pusher, const char *ref,
                              const char *list, apr_file_t *log, dray_cancel_t *cancel, tag_progress_t *tp,
                              apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  dray_push_request_t req;
  dray_push_result_t res;
  dray_error_t *err;

  *up_to_date = 0;
  if (pusher->skip_existing) {
    DRAY_ERR(dray_verify_up_to_date(up_to_date, digest, pusher->registry, pusher->engine,
                                    pusher->images, ref,
                                    cancel, result_pool, scratch_pool));
    if (*up_to_date) {
      if (log)
        apr_file_printf(log, "dray: %s is up to date in the registry (%s)\n", ref, *digest);
      return DRAY_NO_ERROR;
    }
  }
  memset(&req, 0, sizeof(req));
  memset(&res, 0, sizeof(res));
  req.reference = ref;
  req.log = log;
  req.cancel = cancel;
  req.progress = on_tag_progress;
  req.progress_baton = tp;
  req.stall_timeout = pusher->stall_timeout;
  req.manifest_list = list;
  tp->bytes = 0;
  err = pusher->driver->push(pusher->driver, &req, &res, result_pool, scratch_pool);
  result->bytes += tp->bytes;
  result->resumed += res.resumed;
  result->bytes_saved += res.bytes_saved;
  result->outcome = res.outcome;
  result->retry_after = res.retry_after;
  if (err)
    return err;
  *digest = res.digest;
  if (!pusher->verify || !pusher->registry)
    return DRAY_NO_ERROR;
  err = dray_verify_pushed(&result->outcome, pusher->registry, ref, res.digest, cancel,
                           &result->retry_after, scratch_pool);
  if (err)
    return err;
  if (log)
    apr_file_printf(log, "dray: verified %s: the registry serves %s\n", ref, res.digest);
  return DRAY_NO_ERROR;
}

void dray_push_prepare(const dray_pusher_t *pusher, const dray_image_t *image, apr_file_t *log,
                       dray_cancel_t *cancel, apr_pool_t *scratch_pool)
{
  if (!pusher || !pusher->driver->prepare || pusher->skip_existing
      || dray_image_is_list(image))
    return;
  pusher->driver->prepare(pusher->driver,
                          dray_image_ref(image, APR_ARRAY_IDX(image->tags, 0, const char *),
                                         scratch_pool),
                          cancel, log, scratch_pool);
}

dray_error_t *dray_push_image(dray_push_image_result_t *result,
                              const dray_pusher_t *pusher,
                              const dray_image_t *image,
                              apr_file_t *log,
                              dray_cancel_t *cancel,
                              dray_push_progress_fn progress,
                              void *progress_baton,
                              apr_pool_t *result_pool,
                              apr_pool_t *scratch_pool)
{
  tag_progress_t tp;
  const char *list = manifest_list(image, scratch_pool);
  int i, skipped = 0, verified = 0;

  memset(result, 0, sizeof(*result));
  result->tag_digests = apr_array_make(result_pool, image->tags->nelts, sizeof(const char *));
  tp.fn = progress;
  tp.baton = progress_baton;
  tp.bytes = 0;
  for (i = 0; i < image->tags->nelts; i++) {
    const char *ref = dray_image_ref(image, APR_ARRAY_IDX(image->tags, i, const char *),
                                     scratch_pool);
    const char *digest = NULL;
    int up_to_date;
    DRAY_ERR(push_tag(result, &digest, &up_to_date, pusher, ref, list, log, cancel, &tp,
                      result_pool, scratch_pool));
    APR_ARRAY_PUSH(result->tag_digests, const char *) = digest;
    if (up_to_date)
      skipped++;
    else if (pusher->verify && pusher->registry)
      verified++;
  }
  result->outcome = DRAY_OUTCOME_OK;
  result->up_to_date = skipped == image->tags->nelts;
  result->verified = verified == image->tags->nelts - skipped;
  return DRAY_NO_ERROR;
}
