/* strbuf.h — a growable byte buffer in a pool (after Subversion's
 * svn_stringbuf_t): for text that arrives in pieces of unknown size, such as
 * an HTTP body, a stream line split across reads, or a substitution's
 * output. Always NUL-terminated after its LEN bytes. Growing doubles the
 * capacity; the old block stays in the pool until the pool goes, so the
 * pool holds at most twice the final size. */
#ifndef DRAY_STRBUF_H
#define DRAY_STRBUF_H

#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_strbuf_t {
  char *data;
  apr_size_t len;
  apr_size_t cap;            /* bytes allocated, including the NUL */
  apr_pool_t *pool;
} dray_strbuf_t;

/* An empty buffer with room for SIZE bytes (0: a small default) in POOL. */
void dray_strbuf_init(dray_strbuf_t *buf, apr_size_t size, apr_pool_t *pool);

/* Append LEN bytes of DATA. */
void dray_strbuf_append(dray_strbuf_t *buf, const char *data, apr_size_t len);

/* Append printf-style text. */
void dray_strbuf_appendf(dray_strbuf_t *buf, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Keep only the first LEN bytes (LEN <= buf->len); keep the room. */
void dray_strbuf_truncate(dray_strbuf_t *buf, apr_size_t len);

/* Forget the contents, keep the room. */
#define dray_strbuf_clear(buf) dray_strbuf_truncate((buf), 0)

#ifdef __cplusplus
}
#endif
#endif /* DRAY_STRBUF_H */
