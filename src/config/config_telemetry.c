/*
 * config_telemetry: the [telemetry] section's environment and rules.
 *
 * OpenTelemetry's SDKs are configured by OTEL_* environment variables, and
 * operators set them for every service alike (a systemd drop-in, a
 * container's environment). herald honours the ones that apply to a traces
 * exporter over OTLP/HTTP; a key given in herald.conf wins over its variable,
 * as programmatic configuration wins over the environment in the SDKs. The
 * variables are read once, at start and at each reload, like the file.
 */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_keys.h"
#include "telemetry_headers.h"
#include "utf8.h"

/* Which variable gave each key (parallel to config_keys), for errors; set and
 * read on the thread loading the configuration (start, reload). */
static const char *config_telemetry_sources[CONFIG_KEYS_MAX];

/* The first of NAMES (NULL-terminated) set and not empty, or NULL. */
static const char *config_environment(const char *const *names, const char **which)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        const char *value = getenv(names[i]);
        if (value != NULL && value[0] != '\0') {
            *which = names[i];
            return value;
        }
    }
    return NULL;
}

/* Stores VALUE into [telemetry] NAME unless the file gave it. */
static int config_telemetry_take(Config *config, const int *lines, const char *name,
                                 const char *value, const char *variable, char *err,
                                 size_t errlen)
{
    int index = config_key_find(config_keys, config_key_count, "telemetry", name);
    if (index < 0 || lines[index] != 0)
        return 0;
    config_telemetry_sources[index] = variable;
    char reason[256];
    if (config_value_store(&config_keys[index], value, config, reason, sizeof reason) != 0) {
        snprintf(err, errlen, "environment %s: %s", variable, reason);
        return -1;
    }
    return 0;
}

/* BASE (OTEL_EXPORTER_OTLP_ENDPOINT) with /v1/traces appended to its path
 * (not after a query), into OUT. */
static int config_telemetry_base_url(const char *base, char *out, size_t size, char *err,
                                     size_t errlen)
{
    CURLU *url = curl_url();
    char *path = NULL, *whole = NULL;
    int status = -1;
    if (url == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (curl_url_set(url, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_get(url, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        snprintf(err, errlen, "environment OTEL_EXPORTER_OTLP_ENDPOINT: \"%.256s\" is not a URL",
                 base);
        goto done;
    }
    size_t length = strlen(path);
    char joined[CONFIG_PATH_MAX];
    snprintf(joined, sizeof joined, "%.*s/v1/traces",
             (int)(length > 0 && path[length - 1] == '/' ? length - 1 : length), path);
    if (curl_url_set(url, CURLUPART_PATH, joined, 0) != CURLUE_OK ||
        curl_url_get(url, CURLUPART_URL, &whole, 0) != CURLUE_OK) {
        snprintf(err, errlen, "environment OTEL_EXPORTER_OTLP_ENDPOINT: out of memory");
        goto done;
    }
    if (strlen(whole) >= size) {
        snprintf(err, errlen, "environment OTEL_EXPORTER_OTLP_ENDPOINT: longer than %zu bytes",
                 size - 1);
        goto done;
    }
    snprintf(out, size, "%s", whole);
    status = 0;
done:
    curl_free(path);
    curl_free(whole);
    curl_url_cleanup(url);
    return status;
}

static int config_telemetry_environment(Config *config, const int *lines, char *err,
                                        size_t errlen)
{
    const char *variable = NULL, *value;
    char text[CONFIG_PATH_MAX + 16];
    const char *disabled = getenv("OTEL_SDK_DISABLED");
    if (disabled != NULL && strcasecmp(disabled, "true") == 0)
        return config_telemetry_take(config, lines, "endpoint", "", "OTEL_SDK_DISABLED", err,
                                     errlen);
    const char *traces_endpoint[] = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", NULL};
    const char *base_endpoint[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", NULL};
    const char *protocol_names[] = {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                                    "OTEL_EXPORTER_OTLP_PROTOCOL", NULL};
    int endpoint_key = config_key_find(config_keys, config_key_count, "telemetry", "endpoint");
    bool endpoint_given = endpoint_key >= 0 && lines[endpoint_key] != 0;
    const char *endpoint = NULL;
    if (!endpoint_given && (value = config_environment(traces_endpoint, &variable)) != NULL) {
        endpoint = value;
    } else if (!endpoint_given && (value = config_environment(base_endpoint, &variable)) != NULL) {
        /* The base URL: the signal's path is appended to its path, as the
         * specification says. */
        if (config_telemetry_base_url(value, text, sizeof text, err, errlen) != 0)
            return -1;
        endpoint = text;
    }
    if (endpoint != NULL) {
        /* The protocol matters only for an endpoint the variables give: another
         * service's variables must not stop a heraldd that does not use them. */
        const char *protocol_variable = NULL;
        const char *protocol = config_environment(protocol_names, &protocol_variable);
        if (protocol != NULL && strcmp(protocol, "http/protobuf") != 0) {
            snprintf(err, errlen,
                     "environment %s: herald exports http/protobuf only, not \"%.64s\"",
                     protocol_variable, protocol);
            return -1;
        }
        if (config_telemetry_take(config, lines, "endpoint", endpoint, variable, err, errlen) != 0)
            return -1;
    }
    const char *headers[] = {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS",
                             NULL};
    const char *timeout[] = {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT",
                             NULL};
    const char *compression[] = {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
                                 "OTEL_EXPORTER_OTLP_COMPRESSION", NULL};
    const char *service[] = {"OTEL_SERVICE_NAME", NULL};
    if ((value = config_environment(headers, &variable)) != NULL &&
        config_telemetry_take(config, lines, "headers", value, variable, err, errlen) != 0)
        return -1;
    if ((value = config_environment(timeout, &variable)) != NULL) {
        snprintf(text, sizeof text, "%sms", value); /* the variables are in milliseconds */
        if (config_telemetry_take(config, lines, "timeout", text, variable, err, errlen) != 0)
            return -1;
    }
    if ((value = config_environment(compression, &variable)) != NULL &&
        config_telemetry_take(config, lines, "compression", value, variable, err, errlen) != 0)
        return -1;
    if ((value = config_environment(service, &variable)) != NULL &&
        config_telemetry_take(config, lines, "service_name", value, variable, err, errlen) != 0)
        return -1;
    /* Sampling: herald's sampler is always parent-based; the ratio applies
     * to the traces it starts. */
    const char *sampler_names[] = {"OTEL_TRACES_SAMPLER", NULL};
    const char *argument_names[] = {"OTEL_TRACES_SAMPLER_ARG", NULL};
    const char *sampler = config_environment(sampler_names, &variable);
    if (sampler == NULL)
        return 0;
    const char *ratio = NULL;
    if (strcmp(sampler, "always_on") == 0 || strcmp(sampler, "parentbased_always_on") == 0)
        ratio = "1";
    else if (strcmp(sampler, "always_off") == 0 || strcmp(sampler, "parentbased_always_off") == 0)
        ratio = "0";
    else if (strcmp(sampler, "traceidratio") == 0 ||
             strcmp(sampler, "parentbased_traceidratio") == 0)
        ratio = config_environment(argument_names, &variable) ?: "1";
    else {
        snprintf(err, errlen, "environment OTEL_TRACES_SAMPLER: \"%s\" is not a sampler herald "
                              "has (always_on, always_off, traceidratio, parentbased_*)", sampler);
        return -1;
    }
    return config_telemetry_take(config, lines, "sample_ratio", ratio, variable, err, errlen);
}

/* 0 if ENDPOINT is an http(s) URL with a host, else -1 with ERR set. */
static int config_telemetry_check_endpoint(const char *endpoint, char *err, size_t errlen)
{
    CURLU *url = curl_url();
    if (url == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *scheme = NULL, *host = NULL;
    CURLUcode code = curl_url_set(url, CURLUPART_URL, endpoint, 0);
    if (code == CURLUE_OK)
        code = curl_url_get(url, CURLUPART_SCHEME, &scheme, 0);
    if (code == CURLUE_OK)
        code = curl_url_get(url, CURLUPART_HOST, &host, 0);
    int status = 0;
    if (code != CURLUE_OK) {
        snprintf(err, errlen, "endpoint \"%.256s\" is not a URL: %s", endpoint,
                 curl_url_strerror(code));
        status = -1;
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(err, errlen, "endpoint \"%.256s\": the scheme must be http or https", endpoint);
        status = -1;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(url);
    return status;
}

int config_telemetry_settle(Config *config, const int *lines, const char *file, char *err,
                            size_t errlen)
{
    memset(config_telemetry_sources, 0, sizeof config_telemetry_sources);
    if (config_telemetry_environment(config, lines, err, errlen) != 0)
        return -1;
    char reason[512];
    const char *key = NULL;
    char **headers = NULL;
    int count;
    if (config->telemetry_endpoint[0] != '\0' &&
        config_telemetry_check_endpoint(config->telemetry_endpoint, reason, sizeof reason) != 0)
        key = "endpoint";
    if (key == NULL) {
        count = telemetry_headers_parse(config->telemetry_headers, &headers, reason,
                                        sizeof reason);
        if (count < 0)
            key = "headers";
        else
            telemetry_headers_free(headers, count);
    }
    if (key == NULL && !utf8_is_valid(config->telemetry_service_name,
                                      strlen(config->telemetry_service_name))) {
        snprintf(reason, sizeof reason, "service_name must be UTF-8 text");
        key = "service_name";
    }
    if (key == NULL && strcmp(config->telemetry_compression, "gzip") != 0 &&
        strcmp(config->telemetry_compression, "none") != 0) {
        snprintf(reason, sizeof reason, "compression must be gzip or none");
        key = "compression";
    }
    if (key == NULL)
        return 0;
    int line = config_key_line(config_keys, config_key_count, lines, "telemetry", key);
    int index = config_key_find(config_keys, config_key_count, "telemetry", key);
    const char *variable = index >= 0 ? config_telemetry_sources[index] : NULL;
    if (line > 0)
        snprintf(err, errlen, "%s:%d: [telemetry] %s", file, line, reason);
    else if (variable != NULL)
        snprintf(err, errlen, "environment %s: [telemetry] %s", variable, reason);
    else
        snprintf(err, errlen, "%s: [telemetry] %s", file, reason);
    return -1;
}
