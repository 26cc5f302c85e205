/* manifest.c — Docker v2 schema 2 and OCI image manifests, byte for byte. */
#include "dray/manifest.h"

#include "dray/blob.h"
#include "dray/strbuf.h"

/* Digests are "sha256:" and hex, media types are constants: nothing here
 * needs JSON escaping. Indented as the docker engine writes it. */
void dray_manifest_build(dray_manifest_t *m, const dray_image_blobs_t *blobs,
                         apr_pool_t *result_pool)
{
  /* The two kinds differ in their media types alone. */
  int oci = blobs->manifest_kind == DRAY_IMAGE_MANIFEST_OCI;
  const char *type = oci ? DRAY_MANIFEST_OCI_MEDIA_TYPE : DRAY_MANIFEST_MEDIA_TYPE;
  const char *config_type = oci ? DRAY_MANIFEST_OCI_CONFIG_TYPE : DRAY_MANIFEST_CONFIG_TYPE;
  const char *layer_type = oci ? DRAY_MANIFEST_OCI_LAYER_TYPE : DRAY_MANIFEST_LAYER_TYPE;
  dray_strbuf_t b;
  dray_strbuf_init(&b, 512 + 200 * (apr_size_t)blobs->layers->nelts, result_pool);
  dray_strbuf_appendf(&b,
                      "{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"%s\",\n"
                      "   \"config\": {\n      \"mediaType\": \"%s\",\n"
                      "      \"size\": %lu,\n      \"digest\": \"%s\"\n   },\n"
                      "   \"layers\": [",
                      type, config_type, (unsigned long)blobs->config_len, blobs->id);
  for (int i = 0; i < blobs->layers->nelts; i++) {
    const dray_image_layer_t *l = &APR_ARRAY_IDX(blobs->layers, i, dray_image_layer_t);
    dray_strbuf_appendf(&b,
                        "%s\n      {\n         \"mediaType\": \"%s\",\n"
                        "         \"size\": %" APR_INT64_T_FMT ",\n"
                        "         \"digest\": \"%s\"\n      }",
                        i ? "," : "", layer_type, l->size, l->digest);
  }
  dray_strbuf_appendf(&b, "%s]\n}", blobs->layers->nelts ? "\n   " : "");
  m->body = b.data;
  m->len = b.len;
  m->digest = dray_sha256_of(b.data, b.len, result_pool);
  m->media_type = type;
}
