/*
 * alert_sink: see alert_sink.h.
 */
#include "alert_sink.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "json_check.h"
#include "sign.h"
#include "version.h"

extern char **environ;

static size_t alert_sink_discard(char *data, size_t size, size_t count, void *user)
{
    (void)data;
    (void)user;
    return size * count;
}

char *alert_sink_body(const StoredAlert *alert)
{
    cJSON *body = json_check_parse_string(alert->details);
    if (body == NULL)
        body = cJSON_CreateObject(); /* details are ours; an empty object is still an alert */
    char *text = NULL;
    if (body != NULL && cJSON_AddNumberToObject(body, "id", (double)alert->id) != NULL)
        text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    return text;
}

/* The request's headers, with Standard Webhooks' id, timestamp and (with a
 * secret) signature; NULL with ERR set on failure. */
static struct curl_slist *alert_sink_headers(const StoredAlert *alert, const char *body,
                                             const Policy *policy, char *err, size_t errlen)
{
    char id[32], signatures[SIGN_HEADER_MAX] = "";
    snprintf(id, sizeof id, "alert_%lld", (long long)alert->id);
    int64_t now_ms = clock_wall_ms();
    int64_t timestamp = now_ms / 1000;
    if (policy != NULL &&
        sign_header_value(&policy->key, &policy->previous_key, policy->previous_secret_until,
                          now_ms, id, timestamp, body, strlen(body), signatures) != 0) {
        snprintf(err, errlen, "webhook: cannot sign the alert");
        return NULL;
    }
    char lines[4][SIGN_HEADER_MAX + 32];
    snprintf(lines[0], sizeof lines[0], "Content-Type: application/json");
    snprintf(lines[1], sizeof lines[1], "webhook-id: %s", id);
    snprintf(lines[2], sizeof lines[2], "webhook-timestamp: %lld", (long long)timestamp);
    snprintf(lines[3], sizeof lines[3], "webhook-signature: %s", signatures);
    size_t count = signatures[0] != '\0' ? 4 : 3;
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < count; i++) {
        struct curl_slist *grown = curl_slist_append(headers, lines[i]);
        if (grown == NULL) {
            curl_slist_free_all(headers);
            snprintf(err, errlen, "webhook: out of memory");
            return NULL;
        }
        headers = grown;
    }
    return headers;
}

int alert_sink_webhook(const char *url, const StoredAlert *alert, const char *body,
                       const Policy *policy, char *err, size_t errlen)
{
    struct curl_slist *headers = alert_sink_headers(alert, body, policy, err, errlen);
    if (headers == NULL)
        return -1;
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        curl_slist_free_all(headers);
        snprintf(err, errlen, "webhook: cannot initialise libcurl");
        return -1;
    }
    char error[CURL_ERROR_SIZE] = "";
    CURLcode code = CURLE_OK;
#define ALERT_SINK_SET(option, value)                                                          \
    do {                                                                                       \
        if (code == CURLE_OK)                                                                  \
            code = curl_easy_setopt(curl, option, value);                                      \
    } while (0)
    ALERT_SINK_SET(CURLOPT_URL, url);
    ALERT_SINK_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    ALERT_SINK_SET(CURLOPT_POSTFIELDS, body);
    ALERT_SINK_SET(CURLOPT_HTTPHEADER, headers);
    ALERT_SINK_SET(CURLOPT_USERAGENT, "herald/" HERALD_VERSION);
    /* The whole request, the name lookup included, ends at the timeout. */
    ALERT_SINK_SET(CURLOPT_TIMEOUT_MS, (long)ALERT_SINK_WEBHOOK_TIMEOUT_MS);
    ALERT_SINK_SET(CURLOPT_CONNECTTIMEOUT_MS, (long)ALERT_SINK_WEBHOOK_TIMEOUT_MS);
    ALERT_SINK_SET(CURLOPT_NOSIGNAL, 1L);
    /* libcurl resolves the name in a thread of its own. Without QUICK_EXIT,
     * a request whose timeout ran out while that thread was still in
     * getaddrinfo joins it in curl_easy_cleanup: the alert thread (and with
     * it the lease's renewals) would wait out the whole lookup, however
     * long the resolver takes. With it the thread is left to finish alone
     * (see deliver_prepare). */
    ALERT_SINK_SET(CURLOPT_QUICK_EXIT, 1L);
    ALERT_SINK_SET(CURLOPT_PROXY, "");
    ALERT_SINK_SET(CURLOPT_WRITEFUNCTION, alert_sink_discard);
    ALERT_SINK_SET(CURLOPT_ERRORBUFFER, error);
#undef ALERT_SINK_SET
    long status = 0;
    if (code == CURLE_OK)
        code = curl_easy_perform(curl);
    if (code == CURLE_OK && curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (code != CURLE_OK) {
        snprintf(err, errlen, "webhook: %s", error[0] ? error : curl_easy_strerror(code));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(err, errlen, "webhook: HTTP %ld", status);
        return -1;
    }
    return 0;
}

/* environ plus the alert's variables; the caller frees the array and the
 * strings from index FIRST_OWNED on. */
static char **alert_sink_environment(const StoredAlert *alert, const char *body,
                                     size_t *first_owned)
{
    size_t inherited = 0;
    while (environ[inherited] != NULL)
        inherited++;
    char **variables = calloc(inherited + 7, sizeof *variables);
    if (variables == NULL)
        return NULL;
    size_t count = 0;
    for (size_t i = 0; i < inherited; i++) {
        if (strncmp(environ[i], "HERALD_ALERT_", 13) != 0)
            variables[count++] = environ[i];
    }
    *first_owned = count;
    cJSON *details = json_check_parse_string(alert->details);
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(details, "text");
    int failed = 0;
    failed |= asprintf(&variables[count++], "HERALD_ALERT_ID=%lld", (long long)alert->id) < 0;
    failed |= asprintf(&variables[count++], "HERALD_ALERT_KIND=%s", alert->kind) < 0;
    failed |= asprintf(&variables[count++], "HERALD_ALERT_STATE=%s",
                       alert->firing ? "firing" : "resolved") < 0;
    failed |= asprintf(&variables[count++], "HERALD_ALERT_COUNT=%lld", (long long)alert->count) < 0;
    failed |= asprintf(&variables[count++], "HERALD_ALERT_TEXT=%s",
                       cJSON_IsString(text) ? text->valuestring : "") < 0;
    failed |= asprintf(&variables[count++], "HERALD_ALERT_JSON=%s", body) < 0;
    cJSON_Delete(details);
    if (failed) {
        for (size_t i = *first_owned; i < count; i++)
            free(variables[i]);
        free(variables);
        return NULL;
    }
    return variables;
}

int alert_sink_command(const char *command, const StoredAlert *alert, const char *body,
                       char *err, size_t errlen)
{
    size_t first_owned = 0;
    char **environment = alert_sink_environment(alert, body, &first_owned);
    if (environment == NULL) {
        snprintf(err, errlen, "command: out of memory");
        return -1;
    }
    /* The child starts with no blocked signals and default SIGPIPE, whatever
     * heraldd's threads block or ignore. */
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *const argv[] = {"sh", "-c", (char *)command, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", NULL, &attributes, argv, environment);
    posix_spawnattr_destroy(&attributes);
    for (size_t i = first_owned; environment[i] != NULL; i++)
        free(environment[i]);
    free(environment);
    if (rc != 0) {
        snprintf(err, errlen, "command: cannot start: %s", strerror(rc));
        return -1;
    }
    int64_t deadline = clock_monotonic_ms() + ALERT_SINK_COMMAND_TIMEOUT_MS;
    int status = 0;
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR) {
            snprintf(err, errlen, "command: waitpid: %s", strerror(errno));
            return -1;
        }
        if (clock_monotonic_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errlen, "command: still running after %dms; killed",
                     ALERT_SINK_COMMAND_TIMEOUT_MS);
            return -1;
        }
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "command: exited with %s %d",
                 WIFEXITED(status) ? "status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}
