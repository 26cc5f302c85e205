/* error.c — error chains, each chain owning one pool. */
#include "dray/error.h"
#include "dray/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "dray/pools.h"

static dray_error_t *make_error(apr_status_t apr_err, dray_error_t *child)
{
  apr_pool_t *pool;
  dray_error_t *err;

  /* A chain lives in the child's pool so that one clear frees all of it. */
  if (child)
    pool = child->pool;
  else /* a root of its own, with the one out-of-memory policy */
    apr_pool_create_ex(&pool, NULL, dray_pool_abort, NULL);

  err = apr_pcalloc(pool, sizeof(*err));
  err->apr_err = apr_err;
  err->child = child;
  err->pool = pool;
  return err;
}

dray_error_t *dray_error_create(apr_status_t apr_err, dray_error_t *child,
                                const char *message)
{
  dray_error_t *err = make_error(apr_err, child);
  err->message = message ? apr_pstrdup(err->pool, message) : NULL;
  return err;
}

dray_error_t *dray_error_createf(apr_status_t apr_err, dray_error_t *child,
                                 const char *fmt, ...)
{
  dray_error_t *err = make_error(apr_err, child);
  va_list ap;
  va_start(ap, fmt);
  err->message = apr_pvsprintf(err->pool, fmt, ap);
  va_end(ap);
  return err;
}

dray_error_t *dray_error_wrap_apr(apr_status_t status, const char *fmt, ...)
{
  dray_error_t *err = make_error(status, NULL);
  char buf[256];
  const char *context;
  va_list ap;

  va_start(ap, fmt);
  context = apr_pvsprintf(err->pool, fmt, ap);
  va_end(ap);
  apr_strerror(status, buf, sizeof(buf));
  err->message = apr_psprintf(err->pool, "%s: %s", context, buf);
  return err;
}

dray_error_t *dray_error_quick_wrapf(dray_error_t *child, const char *fmt, ...)
{
  dray_error_t *err;
  va_list ap;

  if (!child)
    return NULL;
  err = make_error(child->apr_err, child);
  va_start(ap, fmt);
  err->message = apr_pvsprintf(err->pool, fmt, ap);
  va_end(ap);
  return err;
}

/* Deep-copy SRC's chain into POOL (used when two chains with different pools
 * are joined, so that one pool owns the result). */
static dray_error_t *copy_chain(const dray_error_t *src, apr_pool_t *pool)
{
  dray_error_t *head = NULL, **tail = &head;
  for (; src; src = src->child) {
    dray_error_t *e = apr_pcalloc(pool, sizeof(*e));
    e->apr_err = src->apr_err;
    e->message = src->message ? apr_pstrdup(pool, src->message) : NULL;
    e->pool = pool;
    *tail = e;
    tail = &e->child;
  }
  return head;
}

dray_error_t *dray_error_compose(dray_error_t *err1, dray_error_t *err2)
{
  dray_error_t *last;
  if (!err1)
    return err2;
  if (!err2)
    return err1;
  for (last = err1; last->child; last = last->child)
    ;
  last->child = copy_chain(err2, err1->pool);
  dray_error_clear(err2);
  return err1;
}

int dray_error_has(const dray_error_t *err, apr_status_t code)
{
  for (; err; err = err->child)
    if (err->apr_err == code)
      return 1;
  return 0;
}

const char *dray_error_format(const dray_error_t *err, apr_pool_t *result_pool)
{
  const char *out = NULL;
  for (; err; err = err->child) {
    if (!err->message)
      continue;
    out = out ? apr_pstrcat(result_pool, out, ": ", err->message, NULL)
              : apr_pstrdup(result_pool, err->message);
  }
  return out ? out : "unknown error";
}

void dray_error_print(const dray_error_t *err, const char *prefix)
{
  for (; err; err = err->child)
    if (err->message)
      fprintf(stderr, "%s%s\n", prefix ? prefix : "",
              dray_text_printable(err->message, err->pool));
  fflush(stderr);
}

void dray_error_clear(dray_error_t *err)
{
  if (err)
    apr_pool_destroy(err->pool);
}
