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

#ifdef __cplusplus
}
#endif
#endif /* DRAY_TEXT_H */
