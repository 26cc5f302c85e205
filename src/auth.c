/* auth.c — credentials from the docker CLI's config.json and credential helpers. */
#include "dray/auth.h"

#include <string.h>

#include <apr_base64.h>
#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <jansson.h>

#include "dray/child.h"
#include "dray/dockercfg.h"
#include "dray/file.h"
#include "dray/pools.h"
#include "dray/ref.h"

/* The longest "auth" entry read (base64 of user:password; real ones are
 * well under a kilobyte, tokens a few). */
#define DRAY_AUTH_MAX_AUTH_ENTRY (1024 * 1024)

struct dray_auth_config_t {
  const char *origin;
  apr_array_header_t *auth_keys;  /* const char *, in file order */
  apr_hash_t *auths;              /* key -> dray_credentials_t * */
  const char *creds_store;
  apr_array_header_t *helper_keys;
  apr_hash_t *cred_helpers;       /* key -> suffix */
  apr_interval_time_t helper_deadline;
  /* Helper results, shared by every pusher thread. LOCK guards the cache
   * and CACHE_POOL only: no one holds it while a helper runs. */
  apr_thread_mutex_t *lock;
  apr_thread_cond_t *answered;    /* broadcast when an entry leaves RUNNING */
  apr_pool_t *cache_pool;
  apr_hash_t *cache;              /* server key -> helper_answer_t * */
};

typedef enum helper_state_t {
  HELPER_RUNNING,                 /* a thread is running the helper for it */
  HELPER_ANSWERED,                /* CREDS (NULL: the helper has none) */
  HELPER_FAILED                   /* remembered for the life of the config */
} helper_state_t;

/* What a helper said for one server key. */
typedef struct helper_answer_t {
  helper_state_t state;
  const dray_credentials_t *creds;
  apr_status_t failure;           /* FAILED: the error's code */
  const char *message;            /* FAILED: the error, without secrets */
} helper_answer_t;

const char *dray_auth_server_key(const char *registry)
{
  return dray_ref_domain_is_docker_hub(registry) ? DRAY_AUTH_HUB_KEY : registry;
}

/* The host[:port] part of KEY: where it starts and its length. */
static const char *key_host(const char *key, apr_size_t *len)
{
  const char *slash;
  if (!strncmp(key, "http://", 7))
    key += 7;
  else if (!strncmp(key, "https://", 8))
    key += 8;
  slash = strchr(key, '/');
  *len = slash ? (apr_size_t)(slash - key) : strlen(key);
  return key;
}

const char *dray_auth_key_hostname(const char *key, apr_pool_t *result_pool)
{
  apr_size_t len;
  const char *host = key_host(key, &len);
  return apr_pstrmemdup(result_pool, host, len);
}

/* Whether config key KEY names REGISTRY (NULL: Docker Hub) by its host.
 * No pool: it runs under pushers' threads on the shared configuration. */
static int key_names(const char *key, const char *registry)
{
  char host[256];
  apr_size_t len;
  const char *start = key_host(key, &len);
  if (len >= sizeof(host))
    return 0; /* longer than any host name */
  memcpy(host, start, len);
  host[len] = '\0';
  if (dray_ref_domain_is_docker_hub(registry))
    return dray_ref_domain_is_docker_hub(host);
  return !strcmp(host, registry);
}

/* The CLI's lookup in a config section (KEYS in file order, VALUES by key):
 * the exact server key, then REGISTRY as written, then any key whose host
 * part is the registry's (keys written with a scheme or a path). */
static void *find_in_section(const apr_array_header_t *keys, apr_hash_t *values,
                             const char *registry)
{
  void *v = apr_hash_get(values, dray_auth_server_key(registry), APR_HASH_KEY_STRING);
  if (!v && registry)
    v = apr_hash_get(values, registry, APR_HASH_KEY_STRING);
  for (int i = 0; !v && i < keys->nelts; i++) {
    const char *k = APR_ARRAY_IDX(keys, i, const char *);
    if (key_names(k, registry))
      v = apr_hash_get(values, k, APR_HASH_KEY_STRING);
  }
  return v;
}

static const char *json_str(json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

static const char *dup_or_null(apr_pool_t *pool, const char *s)
{
  return s ? apr_pstrdup(pool, s) : NULL;
}

/* One set of credentials in POOL, from any source. */
static dray_credentials_t *credentials_make(apr_pool_t *pool, const char *serveraddress,
                                            const char *source, const char *username,
                                            const char *password, const char *identitytoken)
{
  dray_credentials_t *c = apr_pcalloc(pool, sizeof(*c));
  c->serveraddress = dup_or_null(pool, serveraddress);
  c->source = dup_or_null(pool, source);
  c->username = dup_or_null(pool, username);
  c->password = dup_or_null(pool, password);
  c->identitytoken = dup_or_null(pool, identitytoken);
  return c;
}

/* Standard base64 of DATA, or base64url (RFC 4648 section 5) with URL set;
 * padded either way. Sizes stay apr_size_t throughout (APR's encoder takes
 * an int length). */
static char *base64(const void *data, apr_size_t len, int url, apr_pool_t *result_pool)
{
  const char *abc = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *in = data;
  char *out = apr_palloc(result_pool, (len + 2) / 3 * 4 + 1), *o = out;
  apr_size_t i;

  for (i = 0; i + 2 < len; i += 3) {
    *o++ = abc[in[i] >> 2];
    *o++ = abc[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
    *o++ = abc[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
    *o++ = abc[in[i + 2] & 63];
  }
  if (i < len) {
    *o++ = abc[in[i] >> 2];
    if (i + 1 < len) {
      *o++ = abc[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
      *o++ = abc[(in[i + 1] & 15) << 2];
    } else {
      *o++ = abc[(in[i] & 3) << 4];
      *o++ = '=';
    }
    *o++ = '=';
  }
  *o = '\0';
  return out;
}

/* An "auths" entry: "auth" (base64 of user:password) or username and
 * password, and an identity token. NULL with *BAD set when "auth" cannot be
 * read; NULL alone when there is nothing to log in with. */
static dray_credentials_t *auths_entry(const char *key, json_t *value, int *bad,
                                       apr_pool_t *pool)
{
  const char *b64 = json_str(value, "auth");
  const char *user = json_str(value, "username"), *pass = json_str(value, "password");
  const char *token = json_str(value, "identitytoken");
  char *plain = NULL;

  *bad = 0;
  if (b64 && strlen(b64) > DRAY_AUTH_MAX_AUTH_ENTRY) {
    /* APR's decoder counts in int: no length near 2 GB reaches it. */
    *bad = 1;
    return NULL;
  }
  if (b64) {
    char *colon;
    int n;
    plain = apr_palloc(pool, (apr_size_t)apr_base64_decode_len(b64) + 1);
    n = apr_base64_decode(plain, b64);
    plain[n > 0 ? n : 0] = '\0';
    colon = strchr(plain, ':');
    if (!colon) {
      *bad = 1;
      return NULL;
    }
    *colon = '\0';
    user = plain;
    pass = colon + 1;
  }
  if (!user && !token)
    return NULL; /* e.g. only an "email" */
  return credentials_make(pool, key, "config.json", user, pass, token);
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
  cfg->helper_deadline = DRAY_AUTH_HELPER_DEADLINE;
  cfg->cache_pool = dray_pool_create_sub(result_pool);
  if (apr_thread_mutex_create(&cfg->lock, APR_THREAD_MUTEX_DEFAULT, result_pool) != APR_SUCCESS
      || apr_thread_cond_create(&cfg->answered, result_pool) != APR_SUCCESS)
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
      int bad;
      if (!json_is_object(value))
        continue;
      c = auths_entry(key, value, &bad, result_pool);
      if (bad)
        err = dray_error_compose(
            err, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                    "%s: the \"auth\" entry for %s is not "
                                    "base64 of user:password",
                                    origin, key));
      if (!c)
        continue;
      APR_ARRAY_PUSH(cfg->auth_keys, const char *) = c->serveraddress;
      apr_hash_set(cfg->auths, c->serveraddress, APR_HASH_KEY_STRING, c);
    }
  }

  cfg->creds_store = dup_or_null(result_pool, json_str(root, "credsStore"));

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
  char *text;
  apr_size_t len;
  int missing;

  if (!config_dir)
    config_dir = dray_dockercfg_dir(scratch_pool);
  if (!config_dir)
    return dray_auth_config_parse(cfg, "", 0, "config.json", result_pool);
  path = apr_pstrcat(scratch_pool, config_dir, "/config.json", NULL);
  DRAY_ERR(dray_file_read(&text, &len, &missing, path, NULL, scratch_pool));
  return dray_auth_config_parse(cfg, missing ? "" : text, missing ? 0 : len, path, result_pool);
}

const char *dray_auth_helper_for(const dray_auth_config_t *cfg,
                                 const char *registry)
{
  const char *suffix = find_in_section(cfg->helper_keys, cfg->cred_helpers, registry);
  return suffix ? suffix : cfg->creds_store;
}

void dray_auth_config_set_helper_deadline(dray_auth_config_t *cfg,
                                          apr_interval_time_t deadline)
{
  cfg->helper_deadline = deadline;
}

/* Run "docker-credential-SUFFIX get" with the server key on stdin, for at
 * most DEADLINE in all; *CREDS (NULL: the helper has none) in RESULT_POOL. */
static dray_error_t *run_helper(const dray_credentials_t **creds, const char *suffix,
                                const char *registry, const char *key,
                                apr_interval_time_t deadline, dray_cancel_t *cancel,
                                apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  const char *program = apr_pstrcat(scratch_pool, "docker-credential-", suffix, NULL);
  const char *who = registry ? registry : "docker.io";
  const char *argv[3];
  dray_child_spec_t spec;
  dray_child_result_t res;
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
  spec.deadline = deadline;
  spec.capture_max = 64 * 1024;
  /* No log and no line callback: the output is a secret. */

  err = dray_child_run(&res, &spec, scratch_pool, scratch_pool);
  if (err)
    return dray_error_createf(DRAY_ERR_AUTH, err,
                              "cannot run credential helper %s for registry %s", program, who);
  if (res.cancelled)
    return dray_error_createf(DRAY_ERR_CANCELLED, NULL,
                              "credential helper %s for registry %s was cancelled", program, who);
  if (res.deadline_exceeded)
    return dray_error_createf(DRAY_ERR_AUTH, NULL,
                              "credential helper %s for registry %s gave no answer within "
                              "%" APR_TIME_T_FMT " s: stopped",
                              program, who, apr_time_sec(deadline));
  out = res.output ? res.output : "";
  *creds = NULL;
  if (res.exit_code != 0) {
    /* The helpers' own wording for "nothing stored": anonymous, as the CLI does. */
    if (strstr(out, "credentials not found"))
      return DRAY_NO_ERROR;
    return dray_error_createf(DRAY_ERR_AUTH, NULL,
                              "credential helper %s failed for registry %s (exit code %d)",
                              program, who, res.exit_code);
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
                              program, who);
  }
  user = json_is_string(json_object_get(root, "Username"))
             ? json_string_value(json_object_get(root, "Username")) : NULL;
  secret = json_str(root, "Secret");
  url = json_str(root, "ServerURL");
  if (secret && user && !strcmp(user, "<token>"))
    *creds = credentials_make(result_pool, url ? url : key, program, NULL, NULL, secret);
  else if (secret)
    *creds = credentials_make(result_pool, url ? url : key, program, user ? user : "", secret,
                              NULL);
  json_decref(root);
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
  const dray_credentials_t *c = NULL;
  dray_error_t *err = DRAY_NO_ERROR;

  *creds = NULL;
  if (!suffix) {
    c = find_in_section(cfg->auth_keys, cfg->auths, registry);
  } else {
    helper_answer_t *answer;

    apr_thread_mutex_lock(cfg->lock);
    /* Another thread asking the same helper for the same key: wait for its
     * answer (at most its deadline) rather than run the helper twice. A
     * helper for another key never waits here: the lock is not held while
     * a helper runs. */
    while ((answer = apr_hash_get(cfg->cache, key, APR_HASH_KEY_STRING))
           && answer->state == HELPER_RUNNING)
      apr_thread_cond_wait(cfg->answered, cfg->lock);
    if (!answer) {
      apr_pool_t *subpool = dray_pool_create_sub(scratch_pool);
      const dray_credentials_t *found = NULL;
      const char *cache_key = apr_pstrdup(cfg->cache_pool, key);
      apr_interval_time_t deadline = cfg->helper_deadline;

      answer = apr_pcalloc(cfg->cache_pool, sizeof(*answer));
      answer->state = HELPER_RUNNING;
      apr_hash_set(cfg->cache, cache_key, APR_HASH_KEY_STRING, answer);
      apr_thread_mutex_unlock(cfg->lock);

      err = run_helper(&found, suffix, registry, key, deadline, cancel, subpool, subpool);

      apr_thread_mutex_lock(cfg->lock);
      if (err && dray_error_has(err, DRAY_ERR_CANCELLED)) {
        /* Not the helper's failure: nothing to remember. */
        apr_hash_set(cfg->cache, cache_key, APR_HASH_KEY_STRING, NULL);
      } else if (err) {
        /* Remembered: every later image gets the same error at once
         * instead of running (and waiting for) the same helper again. */
        answer->state = HELPER_FAILED;
        answer->failure = err->apr_err;
        answer->message = apr_pstrdup(cfg->cache_pool, dray_error_format(err, subpool));
      } else {
        answer->state = HELPER_ANSWERED;
        answer->creds = found ? credentials_make(cfg->cache_pool, found->serveraddress,
                                                 found->source, found->username,
                                                 found->password, found->identitytoken)
                              : NULL;
      }
      apr_thread_cond_broadcast(cfg->answered);
      apr_pool_destroy(subpool); /* the helper's raw output goes with it */
    } else if (answer->state == HELPER_FAILED) {
      err = dray_error_createf(answer->failure, NULL,
                               "%s (an earlier attempt in this run; not asked again)",
                               answer->message);
    }
    if (!err)
      c = answer->creds;
    /* The caller's copy, made under the lock: CFG's are shared. */
    if (c)
      *creds = credentials_make(result_pool, c->serveraddress, c->source, c->username,
                                c->password, c->identitytoken);
    apr_thread_mutex_unlock(cfg->lock);
    return err;
  }
  /* The caller's copy: CFG's are shared with other threads. */
  if (c)
    *creds = credentials_make(result_pool, c->serveraddress, c->source, c->username, c->password,
                              c->identitytoken);
  return DRAY_NO_ERROR;
}

const char *dray_auth_base64url(const void *data, apr_size_t len,
                                apr_pool_t *result_pool)
{
  return base64(data, len, 1, result_pool);
}

/* Encode and wipe jansson's malloc'd copy of the secret. */
static const char *encode_json(json_t *obj, apr_pool_t *result_pool)
{
  char *text = json_dumps(obj, JSON_COMPACT);
  const char *out;
  json_decref(obj);
  if (!text)
    return DRAY_AUTH_ANONYMOUS;
  out = base64(text, strlen(text), 1, result_pool);
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
  if (!creds || !creds->username)
    return NULL;
  pair = apr_pstrcat(result_pool, creds->username, ":",
                     creds->password ? creds->password : "", NULL);
  return apr_pstrcat(result_pool, "Basic ", base64(pair, strlen(pair), 0, result_pool), NULL);
}
