/* outcome.c — the one table of outcomes and the one classifier. */
#include "dray/outcome.h"

#include <string.h>

#include <apr_cstr.h>

typedef struct outcome_row_t {
  dray_outcome_t outcome;
  const char *word;
  int retryable;
} outcome_row_t;

/* In enum order: the unit test walks it. */
static const outcome_row_t outcome_table[DRAY_OUTCOME_COUNT] = {
  {DRAY_OUTCOME_OK, "ok", 0},
  {DRAY_OUTCOME_EXIT, "exit", 1},
  {DRAY_OUTCOME_STALLED, "stalled", 1},
  {DRAY_OUTCOME_RESET, "reset", 1},
  {DRAY_OUTCOME_NETWORK, "network", 1},
  {DRAY_OUTCOME_SERVER_ERROR, "server-error", 1},
  {DRAY_OUTCOME_RATE_LIMITED, "rate-limited", 1},
  {DRAY_OUTCOME_AUTH, "auth", 0},
  {DRAY_OUTCOME_NOT_FOUND, "not-found", 0},
  {DRAY_OUTCOME_REJECTED, "rejected", 0},
  {DRAY_OUTCOME_PROTOCOL, "protocol", 1},
  {DRAY_OUTCOME_VERIFY, "verify", 1},
  {DRAY_OUTCOME_CANCELLED, "cancelled", 0},
  {DRAY_OUTCOME_INTERRUPTED, "interrupted", 0},
  {DRAY_OUTCOME_DEPENDENCY, "dependency", 0},
  {DRAY_OUTCOME_NOT_STARTED, "not-started", 0},
};

const char *dray_outcome_word(dray_outcome_t outcome)
{
  if ((int)outcome < 0 || outcome >= DRAY_OUTCOME_COUNT)
    return "unknown";
  return outcome_table[outcome].word;
}

int dray_outcome_from_word(const char *word)
{
  int i;
  for (i = 0; i < DRAY_OUTCOME_COUNT; i++)
    if (strcmp(outcome_table[i].word, word) == 0)
      return (int)outcome_table[i].outcome;
  return -1;
}

int dray_outcome_retryable(dray_outcome_t outcome)
{
  if ((int)outcome < 0 || outcome >= DRAY_OUTCOME_COUNT)
    return 0;
  return outcome_table[outcome].retryable;
}

dray_outcome_t dray_outcome_from_http_status(long status)
{
  if (status >= 200 && status < 300)
    return DRAY_OUTCOME_OK;
  if (status == 401 || status == 403)
    return DRAY_OUTCOME_AUTH;
  if (status == 404)
    return DRAY_OUTCOME_NOT_FOUND;
  if (status == 429)
    return DRAY_OUTCOME_RATE_LIMITED;
  if (status >= 500 && status < 600)
    return DRAY_OUTCOME_SERVER_ERROR;
  if (status >= 400 && status < 500)
    return DRAY_OUTCOME_REJECTED;
  return DRAY_OUTCOME_PROTOCOL;
}

/* What engines (dockerd, podman) and registries say, in the order tried:
 * the first pattern found decides. Auth comes first ("denied" may come with
 * a 403 text), transport faults last (an auth failure may mention EOF). */
typedef struct message_rule_t {
  const char *pattern;
  dray_outcome_t outcome;
} message_rule_t;

static const message_rule_t message_rules[] = {
  {"unauthorized", DRAY_OUTCOME_AUTH},
  {"denied", DRAY_OUTCOME_AUTH},
  {"authentication required", DRAY_OUTCOME_AUTH},
  {"no basic auth credentials", DRAY_OUTCOME_AUTH},
  {"incorrect username or password", DRAY_OUTCOME_AUTH},
  {"forbidden", DRAY_OUTCOME_AUTH},
  {"does not exist locally", DRAY_OUTCOME_NOT_FOUND},
  {"no such image", DRAY_OUTCOME_NOT_FOUND},
  {"image not known", DRAY_OUTCOME_NOT_FOUND},        /* podman */
  {"tag does not exist", DRAY_OUTCOME_NOT_FOUND},
  {"invalid reference format", DRAY_OUTCOME_REJECTED},
  {"repository name must", DRAY_OUTCOME_REJECTED},
  {"toomanyrequests", DRAY_OUTCOME_RATE_LIMITED},
  {"too many requests", DRAY_OUTCOME_RATE_LIMITED},
  {"http status: 429", DRAY_OUTCOME_RATE_LIMITED},     /* Go: "unexpected HTTP status: 503 X" */
  {"http status: 5", DRAY_OUTCOME_SERVER_ERROR},
  {"internal server error", DRAY_OUTCOME_SERVER_ERROR},
  {"bad gateway", DRAY_OUTCOME_SERVER_ERROR},
  {"service unavailable", DRAY_OUTCOME_SERVER_ERROR},
  {"gateway timeout", DRAY_OUTCOME_SERVER_ERROR},
  {"connection reset", DRAY_OUTCOME_RESET},
  {"broken pipe", DRAY_OUTCOME_RESET},
  {"unexpected eof", DRAY_OUTCOME_RESET},
  {"unexpected end", DRAY_OUTCOME_RESET},
  {": eof", DRAY_OUTCOME_RESET},                      /* Go's "Put ...: EOF" */
  {"connection refused", DRAY_OUTCOME_NETWORK},
  {"no such host", DRAY_OUTCOME_NETWORK},
  {"network is unreachable", DRAY_OUTCOME_NETWORK},
  {"no route to host", DRAY_OUTCOME_NETWORK},
  {"i/o timeout", DRAY_OUTCOME_NETWORK},
  {"handshake timeout", DRAY_OUTCOME_NETWORK},
  {"timed out", DRAY_OUTCOME_NETWORK},
  {"timeout", DRAY_OUTCOME_NETWORK},
  {"dial tcp", DRAY_OUTCOME_NETWORK},
  {"couldn't connect", DRAY_OUTCOME_NETWORK},          /* curl */
  {"could not resolve", DRAY_OUTCOME_NETWORK},         /* curl */
};

static int text_has(const char *text, const char *needle)
{
  apr_size_t n = strlen(needle);
  for (; *text; text++)
    if (apr_cstr_casecmpn(text, needle, n) == 0)
      return 1;
  return 0;
}

dray_outcome_t dray_outcome_from_message(const char *message, dray_outcome_t fallback)
{
  apr_size_t i;
  if (!message)
    return fallback;
  for (i = 0; i < sizeof(message_rules) / sizeof(message_rules[0]); i++)
    if (text_has(message, message_rules[i].pattern))
      return message_rules[i].outcome;
  return fallback;
}

dray_outcome_t dray_outcome_from_error(const dray_error_t *err, long http_status,
                                       dray_outcome_t fallback, apr_pool_t *scratch_pool)
{
  if (!err)
    return DRAY_OUTCOME_OK;
  if (dray_error_has(err, DRAY_ERR_CANCELLED))
    return DRAY_OUTCOME_CANCELLED;
  if (dray_error_has(err, DRAY_ERR_AUTH))
    return DRAY_OUTCOME_AUTH;
  if (dray_error_has(err, DRAY_ERR_STALLED))
    return DRAY_OUTCOME_STALLED;
  if (dray_error_has(err, DRAY_ERR_VERIFY))
    return DRAY_OUTCOME_VERIFY;
  if (dray_error_has(err, DRAY_ERR_NOT_FOUND))
    return DRAY_OUTCOME_NOT_FOUND;
  if (http_status >= 300)
    return dray_outcome_from_http_status(http_status);
  if (dray_error_has(err, DRAY_ERR_PROTOCOL))
    return DRAY_OUTCOME_PROTOCOL;
  /* Our own transport says how it failed; only foreign words (an engine's
   * or a CLI's messages) are read for what they say. */
  if (dray_error_has(err, DRAY_ERR_NET_RESET))
    return DRAY_OUTCOME_RESET;
  if (dray_error_has(err, DRAY_ERR_NET_DOWN) || dray_error_has(err, DRAY_ERR_NET_TIMEOUT))
    return DRAY_OUTCOME_NETWORK;
  return dray_outcome_from_message(dray_error_format(err, scratch_pool), fallback);
}
