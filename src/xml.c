/* xml.c — escaping text for XML. */
#include "dray/xml.h"

#include <string.h>

const char *dray_xml_escape(const char *text, apr_pool_t *result_pool)
{
  apr_size_t n = strlen(text), i, o = 0;
  char *out = apr_palloc(result_pool, n * 6 + 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)text[i];
    const char *rep = NULL;
    switch (c) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&apos;"; break;
    default:
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
        continue;
    }
    if (rep) {
      memcpy(out + o, rep, strlen(rep));
      o += strlen(rep);
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = '\0';
  return out;
}
