/* text.h — text from peers (registries, engines, helpers, file names) made
 * safe to print: the one escaping function behind error printing, the view
 * and the summary. JSON output needs none (jansson escapes). */
#ifndef DRAY_TEXT_H
#define DRAY_TEXT_H

#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

/* S with every control character (C0, DEL, and C1 as UTF-8 U+0080..U+009F)
 * written as "\xHH", and a backslash before one as "\\" only when something
 * was escaped; so a registry's message cannot move the cursor, clear the
 * screen or fake a line. Returns S itself when nothing needs escaping. */
const char *dray_text_printable(const char *s, apr_pool_t *result_pool);

/* How much of a value a message quotes. */
#define DRAY_TEXT_EXCERPT_MAX 512

/* S[0..LEN) to quote in a message: whole when at most MAX bytes, else its
 * first MAX bytes (not splitting a UTF-8 sequence) and "...". For "%s":
 * a length is never cast to int for "%.*s", and a hostile value cannot
 * make a message megabytes long. */
const char *dray_text_excerpt(const char *s, apr_size_t len, apr_size_t max,
                              apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_TEXT_H */
