/* testtar.h — writing tar streams in memory for the unit tests of the tar
 * reader and the image reader (a fake "docker save"). Header-only. */
#ifndef DRAY_TESTTAR_H
#define DRAY_TESTTAR_H

#include <string.h>

#include <apr_strings.h>

#include "dray/strbuf.h"

/* A ustar header for NAME (PREFIX: the ustar prefix field, or NULL). */
static inline void testtar_header(dray_strbuf_t *t, const char *name, char type,
                                  apr_size_t size, const char *prefix)
{
  char h[512];
  unsigned long sum = 0;
  memset(h, 0, sizeof(h));
  memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
  apr_snprintf(h + 100, 8, "%07o", 0644);
  apr_snprintf(h + 124, 12, "%011lo", (unsigned long)size);
  h[156] = type;
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  if (prefix)
    memcpy(h + 345, prefix, strlen(prefix));
  memset(h + 148, ' ', 8);
  for (int i = 0; i < 512; i++)
    sum += (unsigned char)h[i];
  apr_snprintf(h + 148, 8, "%06lo", sum);
  dray_strbuf_append(t, h, 512);
}

/* A whole entry: header, LEN bytes of DATA, padding. */
static inline void testtar_file(dray_strbuf_t *t, const char *name, char type,
                                const char *data, apr_size_t len, const char *prefix)
{
  static const char zeros[512];
  testtar_header(t, name, type, len, prefix);
  dray_strbuf_append(t, data, len);
  dray_strbuf_append(t, zeros, (512 - len % 512) % 512);
}

/* The end of the stream: two zero blocks. */
static inline void testtar_end(dray_strbuf_t *t)
{
  static const char zeros[1024];
  dray_strbuf_append(t, zeros, sizeof(zeros));
}

#endif /* DRAY_TESTTAR_H */
