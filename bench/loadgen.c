/*
 * bench load generator: posts tasks to heraldd (or payloads straight to a
 * receiver) with libcurl's multi interface, at full speed or a fixed rate.
 *
 *   loadgen --url URL --count N [--concurrency C] [--rate R] [--batch B]
 *           [--target URL] [--type T] [--seq-start S] [--direct]
 *
 * Every payload carries {"seq": N, "sent_ns": T} (CLOCK_REALTIME at send) so
 * the receiver can measure end-to-end latency. Prints one JSON line:
 * requests and tasks sent, accepted (2xx) and failed, duration, tasks/s and
 * the request latency percentiles.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOADGEN_BODY_MAX (1 << 20)

typedef struct Slot {
    CURL *easy;
    char *body;
    double started;
    bool busy;
} Slot;

static double loadgen_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static unsigned long long loadgen_wall_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec;
}

static size_t loadgen_discard(char *data, size_t size, size_t count, void *user)
{
    (void)data;
    (void)user;
    return size * count;
}

static int loadgen_compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *target = "http://127.0.0.1:9/", *type = "BENCH";
    long count = 1000, concurrency = 64, batch = 1, seq_start = 0;
    double rate = 0;
    bool direct = false;
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},   {"count", required_argument, NULL, 'n'},
        {"concurrency", required_argument, NULL, 'c'}, {"rate", required_argument, NULL, 'r'},
        {"batch", required_argument, NULL, 'b'}, {"target", required_argument, NULL, 't'},
        {"type", required_argument, NULL, 'y'},  {"seq-start", required_argument, NULL, 's'},
        {"direct", no_argument, NULL, 'd'},      {NULL, 0, NULL, 0},
    };
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'u': url = optarg; break;
        case 'n': count = atol(optarg); break;
        case 'c': concurrency = atol(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'b': batch = atol(optarg); break;
        case 't': target = optarg; break;
        case 'y': type = optarg; break;
        case 's': seq_start = atol(optarg); break;
        case 'd': direct = true; break;
        default: return 2;
        }
    }
    if (url == NULL || count < 1 || concurrency < 1 || batch < 1) {
        fprintf(stderr, "usage: loadgen --url URL --count N [...]\n");
        return 2;
    }
    char endpoint[1024];
    snprintf(endpoint, sizeof endpoint, "%s%s", url,
             direct ? "" : (batch > 1 ? "/v1/tasks/batch" : "/v1/tasks"));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, concurrency);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    Slot *slots = calloc((size_t)concurrency, sizeof *slots);
    long requests = (count + batch - 1) / batch;
    double *latencies = calloc((size_t)requests, sizeof *latencies);
    long next_task = 0, sent_requests = 0, done = 0, accepted = 0, failed = 0;
    for (long i = 0; i < concurrency; i++) {
        slots[i].easy = curl_easy_init();
        slots[i].body = malloc(LOADGEN_BODY_MAX);
        curl_easy_setopt(slots[i].easy, CURLOPT_URL, endpoint);
        curl_easy_setopt(slots[i].easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(slots[i].easy, CURLOPT_WRITEFUNCTION, loadgen_discard);
        curl_easy_setopt(slots[i].easy, CURLOPT_PRIVATE, &slots[i]);
        curl_easy_setopt(slots[i].easy, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(slots[i].easy, CURLOPT_NOSIGNAL, 1L);
    }
    double start = loadgen_now();
    while (done < requests) {
        /* Start what the concurrency and the rate allow. */
        for (long i = 0; i < concurrency && sent_requests < requests; i++) {
            if (slots[i].busy)
                continue;
            if (rate > 0 && loadgen_now() < start + (double)next_task / rate)
                break;
            Slot *slot = &slots[i];
            size_t used = 0;
            long in_batch = 0;
            if (!direct && batch > 1)
                used += (size_t)snprintf(slot->body, LOADGEN_BODY_MAX, "{\"tasks\":[");
            for (; in_batch < batch && next_task < count; in_batch++, next_task++) {
                long seq = seq_start + next_task;
                unsigned long long sent_ns = loadgen_wall_ns();
                if (direct)
                    used += (size_t)snprintf(slot->body + used, LOADGEN_BODY_MAX - used,
                                             "{\"seq\":%ld,\"sent_ns\":%llu}", seq, sent_ns);
                else
                    used += (size_t)snprintf(
                        slot->body + used, LOADGEN_BODY_MAX - used,
                        "%s{\"business_id\":\"B%ld\",\"business_type\":\"%s\",\"target_url\":"
                        "\"%s\",\"payload\":{\"seq\":%ld,\"sent_ns\":%llu,\"order\":\"O-%ld\","
                        "\"amount\":\"99.00\"}}",
                        in_batch ? "," : "", seq, type, target, seq, sent_ns, seq);
            }
            if (!direct && batch > 1)
                used += (size_t)snprintf(slot->body + used, LOADGEN_BODY_MAX - used, "]}");
            curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDS, slot->body);
            curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDSIZE, (long)used);
            slot->started = loadgen_now();
            slot->busy = true;
            curl_multi_add_handle(multi, slot->easy);
            sent_requests++;
        }
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *message;
        int left;
        while ((message = curl_multi_info_read(multi, &left)) != NULL) {
            if (message->msg != CURLMSG_DONE)
                continue;
            Slot *slot;
            char *private_pointer;
            curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &private_pointer);
            slot = (Slot *)private_pointer;
            long status = 0;
            curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &status);
            if (message->data.result == CURLE_OK && status >= 200 && status <= 299)
                accepted++;
            else
                failed++;
            latencies[done++] = (loadgen_now() - slot->started) * 1000.0;
            curl_multi_remove_handle(multi, slot->easy);
            slot->busy = false;
        }
        /* Transfers can finish inside perform: with a free slot and work left,
         * start it now rather than sleep in poll with nothing to watch. */
        bool can_start = sent_requests < requests && running < concurrency;
        if (can_start && rate <= 0)
            continue;
        curl_multi_poll(multi, NULL, 0, rate > 0 ? 1 : 100, NULL);
    }
    double seconds = loadgen_now() - start;
    qsort(latencies, (size_t)done, sizeof *latencies, loadgen_compare);
    printf("{\"requests\":%ld,\"tasks\":%ld,\"accepted\":%ld,\"failed\":%ld,\"seconds\":%.3f,"
           "\"tasks_per_second\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
           done, count, accepted, failed, seconds, (double)count / seconds,
           latencies[(size_t)(0.50 * (double)(done - 1))],
           latencies[(size_t)(0.99 * (double)(done - 1))]);
    for (long i = 0; i < concurrency; i++) {
        curl_easy_cleanup(slots[i].easy);
        free(slots[i].body);
    }
    free(slots);
    free(latencies);
    curl_slist_free_all(headers);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return failed > 0 ? 1 : 0;
}
