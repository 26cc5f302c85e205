/* xml.h — text for XML documents (the JUnit report, the timeline SVG). */
#ifndef DRAY_XML_H
#define DRAY_XML_H

#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

/* TEXT with &, <, >, " and ' escaped, and characters XML 1.0 cannot hold
 * (control characters other than tab, CR, LF: ANSI escapes in logs)
 * dropped. In RESULT_POOL. */
const char *dray_xml_escape(const char *text, apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_XML_H */
