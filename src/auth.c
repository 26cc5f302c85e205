/* auth.c — credentials from the docker CLI's config.json and credential helpers. */
#include "dray/auth.h"

#include <string.h>

#include <apr_base64.h>
#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_thread_mutex.h>
#include <jansson.h>

#include "dray/child.h"
#include "dray/platform.h"

struct dray_auth_config_t {
  const char *origin;
  apr_array_header_t *auth_keys;  /* const char *, in file order */
  apr_hash_t *auths;              /* key -> dray_credentials_t * */
  const char *creds_store;
  apr_array_header_t *helper_keys;
  apr_hash_t *cred_helpers;       /* key -> suffix */
  /* Helper results, shared by every pusher thread. */
  apr_thread_mutex_t *lock;
  apr_pool_t *cache_pool;
  apr_hash_t *cache;              /* server key -> dray_credentials_t * */
};

/* Marks "the helper has nothing" in the cache. */
static const dray_credentials_t anonymous_marker;

const char *dray_auth_config_dir(apr_pool_t *result_pool)
{
  char *env = NULL;
  const char *home;
  if (apr_env_get(&env, "DOCKER_CONFIG", result_pool) == APR_SUCCESS && env && *env)
    return env;
  home = dray_platform_home_dir(result_pool);
  if (!home)
    return NULL;
  return apr_pstrcat(result_pool, home, "/.docker", NULL);
}

int dray_auth_is_hub(const char *registry)
{
  return !registry || !*registry || !strcmp(registry, "docker.io")
         || !strcmp(registry, "index.docker.io")
         || !strcmp(registry, "registry-1.docker.io");
}

const char *dray_auth_server_key(const char *registry)
{
  return dray_auth_is_hub(registry) ? DRAY_AUTH_HUB_KEY : registry;
}

const char *dray_auth_key_hostname(const char *key, apr_pool_t *result_pool)
{
  const char *slash;
  if (!strncmp(key, "http://", 7))
    key += 7;
  else if (!strncmp(key, "https://", 8))
    key += 8;
  slash = strchr(key, '/');
  return slash ? apr_pstrmemdup(result_pool, key, (apr_size_t)(slash - key))
               : apr_pstrdup(result_pool, key);
}

static const char *json_str(json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

dray_error_t *dray_auth_config_parse(dray_auth_config_t **cfg_p,
                                     const char *json, apr_size_t len,
                                     const char *origin,
                                     apr_pool_t *result_pool)
{
  dray_auth_config_t *cfg = apr_pcalloc(result_pool, sizeof(*cfg));
  json_error_t jerr;
  json_t *root, *section, *value;
  const char *key;
  dray_error_t *err = DRAY_NO_ERROR;

  cfg->origin = apr_pstrdup(result_pool, origin);
  cfg->auth_keys = apr_array_make(result_pool, 4, sizeof(const char *));
  cfg->auths = apr_hash_make(result_pool);
  cfg->helper_keys = apr_array_make(result_pool, 4, sizeof(const char *));
  cfg->cred_helpers = apr_hash_make(result_pool);
  if (apr_pool_create(&cfg->cache_pool, result_pool) != APR_SUCCESS
      || apr_thread_mutex_create(&cfg->lock, APR_THREAD_MUTEX_DEFAULT, result_pool)
             != APR_SUCCESS)
    return dray_error_create(APR_ENOMEM, NULL, "cannot set up the credentials cache");
  cfg->cache = apr_hash_make(cfg->cache_pool);

  root = len ? json_loadb(json, len, 0, &jerr) : json_object();
  if (!root || !json_is_object(root)) {
    /* jerr.text may quote the file, which may hold secrets: give the place only. */
    json_decref(root);
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "%s: not a valid JSON object (line %d, column %d)",
                              origin, root ? 1 : jerr.line, root ? 1 : jerr.column);
  }

  section = json_object_get(root, "auths");
  if (json_is_object(section)) {
    json_object_foreach(section, key, value) {
      dray_credentials_t *c;
      const char *b64;
      if (!json_is_object(value))
        continue;
      c = apr_pcalloc(result_pool, sizeof(*c));
      c->serveraddress = apr_pstrdup(result_pool, key);
      c->source = "config.json";
      b64 = json_str(value, "auth");
      if (b64) {
        char *plain = apr_palloc(result_pool, (apr_size_t)apr_base64_decode_len(b64) + 1);
        int n = apr_base64_decode(plain, b64);
        char *colon;
        plain[n > 0 ? n : 0] = '\0';
        colon = strchr(plain, ':');
        if (!colon) {
          err = dray_error_compose(
              err, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                      "%s: the \"auth\" entry for %s is not "
                                      "base64 of user:password",
                                      origin, key));
          continue;
        }
        *colon = '\0';
        c->username = plain;
        c->password = colon + 1;
      }
      else {
        const char *u = json_str(value, "username"), *p = json_str(value, "password");
        c->username = u ? apr_pstrdup(result_pool, u) : NULL;
        c->password = p ? apr_pstrdup(result_pool, p) : NULL;
      }
      if (json_str(value, "identitytoken"))
        c->identitytoken = apr_pstrdup(result_pool, json_str(value, "identitytoken"));
      if (!c->username && !c->identitytoken)
        continue; /* e.g. only an "email": nothing to log in with */
      APR_ARRAY_PUSH(cfg->auth_keys, const char *) = c->serveraddress;
      apr_hash_set(cfg->auths, c->serveraddress, APR_HASH_KEY_STRING, c);
    }
  }

  if (json_str(root, "credsStore"))
    cfg->creds_store = apr_pstrdup(result_pool, json_str(root, "credsStore"));

  section = json_object_get(root, "credHelpers");
  if (json_is_object(section)) {
    json_object_foreach(section, key, value) {
      const char *k;
      if (!json_is_string(value) || !*json_string_value(value))
        continue;
      k = apr_pstrdup(result_pool, key);
      APR_ARRAY_PUSH(cfg->helper_keys, const char *) = k;
      apr_hash_set(cfg->cred_helpers, k, APR_HASH_KEY_STRING,
                   apr_pstrdup(result_pool, json_string_value(value)));
    }
  }
  json_decref(root);
  if (err)
    return err;
  *cfg_p = cfg;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_auth_config_load(dray_auth_config_t **cfg,
                                    const char *config_dir,
                                    apr_pool_t *result_pool,
                                    apr_pool_t *scratch_pool)
{
  const char *path;
  apr_file_t *file;
  apr_finfo_t finfo;
  apr_status_t status;
  char *buf;
  apr_size_t len;

  if (!config_dir)
    config_dir = dray_auth_config_dir(scratch_pool);
  if (!config_dir)
    return dray_auth_config_parse(cfg, "", 0, "config.json", result_pool);
  path = apr_pstrcat(scratch_pool, config_dir, "/config.json", NULL);

  status = apr_file_open(&file, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                         APR_OS_DEFAULT, scratch_pool);
  if (APR_STATUS_IS_ENOENT(status) || APR_STATUS_IS_ENOTDIR(status))
    return dray_auth_config_parse(cfg, "", 0, path, result_pool);
  if (status)
    return dray_error_wrap_apr(status, "cannot open %s", path);
  status = apr_file_info_get(&finfo, APR_FINFO_SIZE, file);
  if (status)
    return dray_error_wrap_apr(status, "cannot read %s", path);
  len = (apr_size_t)finfo.size;
  buf = apr_palloc(scratch_pool, len + 1);
  status = apr_file_read_full(file, buf, len, &len);
  apr_file_close(file);
  if (status && status != APR_EOF)
    return dray_error_wrap_apr(status, "cannot read %s", path);
  return dray_auth_config_parse(cfg, buf, len, path, result_pool);
}

/* The CLI's lookup: the exact key first, then any key whose host part is the
 * registry's (keys written with a scheme or a path). */
static const dray_credentials_t *find_auth(const dray_auth_config_t *cfg,
                                           const char *registry,
                                           apr_pool_t *scratch_pool)
{
  const char *key = dray_auth_server_key(registry);
  const dray_credentials_t *c = apr_hash_get(cfg->auths, key, APR_HASH_KEY_STRING);
  int hub = dray_auth_is_hub(registry);

  if (c)
    return c;
  for (int i = 0; i < cfg->auth_keys->nelts; i++) {
    const char *k = APR_ARRAY_IDX(cfg->auth_keys, i, const char *);
    const char *host = dray_auth_key_hostname(k, scratch_pool);
    if (hub ? dray_auth_is_hub(host) : !strcmp(host, registry))
      return apr_hash_get(cfg->auths, k, APR_HASH_KEY_STRING);
  }
  return NULL;
}

const char *dray_auth_helper_for(const dray_auth_config_t *cfg,
                                 const char *registry)
{
  const char *key = dray_auth_server_key(registry);
  const char *suffix = apr_hash_get(cfg->cred_helpers, key, APR_HASH_KEY_STRING);
  int hub = dray_auth_is_hub(registry);

  if (!suffix && registry)
    suffix = apr_hash_get(cfg->cred_helpers, registry, APR_HASH_KEY_STRING);
  for (int i = 0; !suffix && i < cfg->helper_keys->nelts; i++) {
    const char *k = APR_ARRAY_IDX(cfg->helper_keys, i, const char *);
    char host[512];
    const char *h = k, *slash;
    if (!strncmp(h, "https://", 8))
      h += 8;
    else if (!strncmp(h, "http://", 7))
      h += 7;
    slash = strchr(h, '/');
    apr_cpystrn(host, h, slash && (apr_size_t)(slash - h) < sizeof(host)
                             ? (apr_size_t)(slash - h) + 1 : sizeof(host));
    if (hub ? dray_auth_is_hub(host) : !strcmp(host, registry))
      suffix = apr_hash_get(cfg->cred_helpers, k, APR_HASH_KEY_STRING);
  }
  return suffix ? suffix : cfg->creds_store;
}

/* Run "docker-credential-SUFFIX get" with the server key on stdin. */
static dray_error_t *run_helper(const dray_credentials_t **creds,
                                dray_auth_config_t *cfg, const char *suffix,
                                const char *registry, const char *key,
                                dray_cancel_t *cancel, apr_pool_t *scratch_pool)
{
  const char *program = apr_pstrcat(scratch_pool, "docker-credential-", suffix, NULL);
  const char *argv[3];
  dray_child_spec_t spec;
  dray_child_result_t res;
  dray_credentials_t *c;
  dray_error_t *err;
  const char *out, *start, *end;
  json_t *root;
  const char *user, *secret, *url;

  argv[0] = program;
  argv[1] = "get";
  argv[2] = NULL;
  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.stdin_data = key; /* the CLI writes the bare URL, no newline */
  spec.stdin_len = strlen(key);
  spec.cancel = cancel;
  spec.idle_timeout = apr_time_from_sec(120);
  spec.capture_max = 64 * 1024;
  /* No log and no line callback: the output is a secret. */

  err = dray_child_run(&res, &spec, scratch_pool, scratch_pool);
  if (err)
    return dray_error_createf(DRAY_ERR_AUTH, err,
                              "cannot run credential helper %s for registry %s",
                              program, registry ? registry : "docker.io");
  if (res.cancelled)
    return dray_error_createf(DRAY_ERR_CANCELLED, NULL,
                              "credential helper %s for registry %s was cancelled",
                              program, registry ? registry : "docker.io");
  out = res.output ? res.output : "";
  if (res.exit_code != 0) {
    /* The helpers' own wording for "nothing stored": anonymous, as the CLI does. */
    if (strstr(out, "credentials not found"))
      return *creds = &anonymous_marker, DRAY_NO_ERROR;
    return dray_error_createf(DRAY_ERR_AUTH, NULL,
                              "credential helper %s failed for registry %s (exit code %d%s)",
                              program, registry ? registry : "docker.io", res.exit_code,
                              res.idle_timed_out ? ", timed out" : "");
  }

  /* stdout and stderr share a pipe: take the JSON object in it. */
  start = strchr(out, '{');
  end = strrchr(out, '}');
  root = start && end > start
             ? json_loadb(start, (apr_size_t)(end - start + 1), 0, NULL) : NULL;
  if (!json_is_object(root)) {
    json_decref(root);
    return dray_error_createf(DRAY_ERR_AUTH, NULL,
                              "credential helper %s gave no valid answer for registry %s",
                              program, registry ? registry : "docker.io");
  }
  user = json_is_string(json_object_get(root, "Username"))
             ? json_string_value(json_object_get(root, "Username")) : NULL;
  secret = json_str(root, "Secret");
  url = json_str(root, "ServerURL");
  if (!secret) {
    json_decref(root);
    return *creds = &anonymous_marker, DRAY_NO_ERROR;
  }
  c = apr_pcalloc(cfg->cache_pool, sizeof(*c));
  c->source = apr_pstrdup(cfg->cache_pool, program);
  c->serveraddress = apr_pstrdup(cfg->cache_pool, url ? url : key);
  if (user && !strcmp(user, "<token>"))
    c->identitytoken = apr_pstrdup(cfg->cache_pool, secret);
  else {
    c->username = apr_pstrdup(cfg->cache_pool, user ? user : "");
    c->password = apr_pstrdup(cfg->cache_pool, secret);
  }
  json_decref(root);
  *creds = c;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_auth_get(const dray_credentials_t **creds,
                            dray_auth_config_t *cfg,
                            const char *registry,
                            dray_cancel_t *cancel,
                            apr_pool_t *result_pool,
                            apr_pool_t *scratch_pool)
{
  const char *suffix = dray_auth_helper_for(cfg, registry);
  const char *key = dray_auth_server_key(registry);
  const dray_credentials_t *c;
  dray_error_t *err = DRAY_NO_ERROR;

  *creds = NULL;
  if (!suffix) {
    *creds = find_auth(cfg, registry, scratch_pool);
    return DRAY_NO_ERROR;
  }

  /* Held across the helper so that parallel pushes ask it once. */
  apr_thread_mutex_lock(cfg->lock);
  c = apr_hash_get(cfg->cache, key, APR_HASH_KEY_STRING);
  if (!c) {
    apr_pool_t *subpool;
    apr_pool_create(&subpool, scratch_pool);
    err = run_helper(&c, cfg, suffix, registry, key, cancel, subpool);
    if (!err)
      apr_hash_set(cfg->cache, apr_pstrdup(cfg->cache_pool, key),
                   APR_HASH_KEY_STRING, c);
    apr_pool_destroy(subpool); /* the helper's raw output goes with it */
  }
  apr_thread_mutex_unlock(cfg->lock);
  if (err)
    return err;
  *creds = c == &anonymous_marker ? NULL : c;
  return DRAY_NO_ERROR;
}

const char *dray_auth_base64url(const void *data, apr_size_t len,
                                apr_pool_t *result_pool)
{
  char *out = apr_palloc(result_pool, (apr_size_t)apr_base64_encode_len((int)len));
  apr_base64_encode_binary(out, data, (int)len);
  for (char *c = out; *c; c++) {
    if (*c == '+')
      *c = '-';
    else if (*c == '/')
      *c = '_';
  }
  return out;
}

/* Encode and wipe jansson's malloc'd copy of the secret. */
static const char *encode_json(json_t *obj, apr_pool_t *result_pool)
{
  char *text = json_dumps(obj, JSON_COMPACT);
  const char *out;
  json_decref(obj);
  if (!text)
    return DRAY_AUTH_ANONYMOUS;
  out = dray_auth_base64url(text, strlen(text), result_pool);
  memset(text, 0, strlen(text));
  free(text);
  return out;
}

const char *dray_auth_registry_header(const dray_credentials_t *creds,
                                      apr_pool_t *result_pool)
{
  json_t *obj;
  if (!creds || (!creds->identitytoken && !creds->username))
    return DRAY_AUTH_ANONYMOUS;
  obj = json_object();
  if (creds->identitytoken)
    json_object_set_new(obj, "identitytoken", json_string(creds->identitytoken));
  else {
    json_object_set_new(obj, "username", json_string(creds->username));
    json_object_set_new(obj, "password", json_string(creds->password ? creds->password : ""));
  }
  if (creds->serveraddress)
    json_object_set_new(obj, "serveraddress", json_string(creds->serveraddress));
  return encode_json(obj, result_pool);
}

const char *dray_auth_basic_header(const dray_credentials_t *creds,
                                   apr_pool_t *result_pool)
{
  const char *pair;
  char *out;
  if (!creds || !creds->username)
    return NULL;
  pair = apr_pstrcat(result_pool, creds->username, ":",
                     creds->password ? creds->password : "", NULL);
  out = apr_palloc(result_pool, (apr_size_t)apr_base64_encode_len((int)strlen(pair)));
  apr_base64_encode(out, pair, (int)strlen(pair));
  return apr_pstrcat(result_pool, "Basic ", out, NULL);
}
