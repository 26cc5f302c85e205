/* strbuf.c — growable buffers in pools. */
#include "dray/strbuf.h"

#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#define STRBUF_MIN 64

void dray_strbuf_init(dray_strbuf_t *buf, apr_size_t size, apr_pool_t *pool)
{
  buf->cap = (size ? size : STRBUF_MIN) + 1;
  buf->data = apr_palloc(pool, buf->cap);
  buf->data[0] = '\0';
  buf->len = 0;
  buf->pool = pool;
}

void dray_strbuf_append(dray_strbuf_t *buf, const char *data, apr_size_t len)
{
  if (buf->len + len + 1 > buf->cap) {
    apr_size_t cap = buf->cap;
    char *grown;
    while (cap < buf->len + len + 1)
      cap *= 2;
    grown = apr_palloc(buf->pool, cap);
    memcpy(grown, buf->data, buf->len);
    buf->data = grown;
    buf->cap = cap;
  }
  memcpy(buf->data + buf->len, data, len);
  buf->len += len;
  buf->data[buf->len] = '\0';
}

void dray_strbuf_truncate(dray_strbuf_t *buf, apr_size_t len)
{
  if (len < buf->len) {
    buf->len = len;
    buf->data[len] = '\0';
  }
}

void dray_strbuf_appendf(dray_strbuf_t *buf, const char *fmt, ...)
{
  va_list ap;
  char small[512];
  int n;
  va_start(ap, fmt);
  n = apr_vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n >= 0 && (apr_size_t)n < sizeof(small) - 1) {
    dray_strbuf_append(buf, small, (apr_size_t)n);
    return;
  }
  {
    /* Longer: format in a pool of its own, gone at once. */
    apr_pool_t *scratch;
    const char *s;
    apr_pool_create(&scratch, buf->pool);
    va_start(ap, fmt);
    s = apr_pvsprintf(scratch, fmt, ap);
    va_end(ap);
    dray_strbuf_append(buf, s, strlen(s));
    apr_pool_destroy(scratch);
  }
}
