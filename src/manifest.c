/* manifest.c — Docker v2 schema 2 manifests, byte for byte. */
#include "dray/manifest.h"

#include "dray/blob.h"
#include "dray/strbuf.h"

/* Digests are "sha256:" and hex, media types are constants: nothing here
 * needs JSON escaping. Indented as the docker engine writes it. */
void dray_manifest_build(dray_manifest_t *m, const dray_image_blobs_t *blobs,
                         apr_pool_t *result_pool)
{
  dray_strbuf_t b;
  dray_strbuf_init(&b, 512 + 200 * (apr_size_t)blobs->layers->nelts, result_pool);
  dray_strbuf_appendf(&b,
                      "{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"%s\",\n"
                      "   \"config\": {\n      \"mediaType\": \"%s\",\n"
                      "      \"size\": %lu,\n      \"digest\": \"%s\"\n   },\n"
                      "   \"layers\": [",
                      DRAY_MANIFEST_MEDIA_TYPE, DRAY_MANIFEST_CONFIG_TYPE,
                      (unsigned long)blobs->config_len, blobs->id);
  for (int i = 0; i < blobs->layers->nelts; i++) {
    const dray_image_layer_t *l = &APR_ARRAY_IDX(blobs->layers, i, dray_image_layer_t);
    dray_strbuf_appendf(&b,
                        "%s\n      {\n         \"mediaType\": \"%s\",\n"
                        "         \"size\": %" APR_INT64_T_FMT ",\n"
                        "         \"digest\": \"%s\"\n      }",
                        i ? "," : "", DRAY_MANIFEST_LAYER_TYPE, l->size, l->digest);
  }
  dray_strbuf_appendf(&b, "%s]\n}", blobs->layers->nelts ? "\n   " : "");
  m->body = b.data;
  m->len = b.len;
  m->digest = dray_sha256_of(b.data, b.len, result_pool);
}
