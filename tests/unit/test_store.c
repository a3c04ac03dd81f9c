/* Unit tests for the store (store.h), run against each backend
 * (HERALD_TEST_BACKEND): opening, the task queries and every shape of the
 * task listing. */
#include "test_support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "task_url.h"

typedef TestStore Fixture;

static void make_request(TaskRequest *request, const char *business_id, const char *type,
                         const char *url, const char *key)
{
    test_task_request(request, business_id, type, url, key, "{\"a\":1}");
}

#define insert test_insert_task

static void test_fresh_database_is_migrated(void **state)
{
    Fixture *fixture = *state;
    const MigrationSet *set =
        test_backend_is_postgresql() ? &migrations_postgresql : &migrations_sqlite;
    assert_int_equal(store_schema_version(fixture->store), (int)set->count);
    char err[256];
    assert_int_equal(store_ping(fixture->store, err, sizeof err), 0);
    /* A second connection that does not migrate accepts the current schema. */
    StoreOptions options = {.migrate = false};
    Store *other = store_open(&fixture->location, &options, err, sizeof err);
    assert_non_null(other);
    store_close(other);
}

static void test_insert_get_round_trip(void **state)
{
    Fixture *fixture = *state;
    TaskRequest request;
    make_request(&request, "P1", "PAYMENT_SUCCESS", "https://order/notify", "key-1");
    request.headers_json = strdup("{\"X-Tenant\":\"a\"}");
    task_request_compute_hash(&request);
    char err[256];
    int64_t id;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(test_create_task(fixture->store, &request, 7, "msg_x", 1234, &id), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.id, id);
    assert_string_equal(task.webhook_id, "msg_x");
    assert_string_equal(task.business_id, "P1");
    assert_string_equal(task.business_type, "PAYMENT_SUCCESS");
    assert_string_equal(task.target_url, "https://order/notify");
    assert_string_equal(task.payload, "{\"a\":1}");
    assert_int_equal(task.payload_length, 7);
    assert_true(task.payload_is_json);
    assert_string_equal(task.headers_json, "{\"X-Tenant\":\"a\"}");
    assert_string_equal(task.idempotency_key, "key-1");
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    assert_int_equal(task.attempts, 0);
    assert_int_equal(task.max_retry, 7);
    assert_int_equal(task.next_attempt_at, 1234);
    assert_int_equal(task.created_at, 1234);
    assert_int_equal(task.last_status_code, 0);
    assert_null(task.last_error);
    task_clear(&task);
    assert_int_equal(store_task_get(fixture->store, id + 100, &task, err, sizeof err), STORE_NOT_FOUND);

    task_request_clear(&request);
}

/* store_task_create on REQUEST: STORE_OK; *CREATED and the id made or found. */
static int64_t create(Store *store, const TaskRequest *request, bool *created,
                      unsigned char hash[TASK_HASH_SIZE])
{
    char err[256];
    TaskCreation creation;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(store_task_create(store, request, 5, "msg_c", 10, &creation, err, sizeof err),
                     STORE_OK);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    *created = creation.created;
    if (creation.created)
        return creation.id;
    if (hash != NULL)
        memcpy(hash, creation.existing_hash, TASK_HASH_SIZE);
    int64_t id = creation.existing.id;
    task_clear(&creation.existing);
    return id;
}

static void test_create_finds_what_a_request_repeats(void **state)
{
    Fixture *fixture = *state;
    TaskRequest keyed, same_key, keyless, keyless_again, other_url;
    make_request(&keyed, "P1", "PAYMENT_SUCCESS", "https://order/notify", "key-1");
    make_request(&same_key, "P9", "PAYMENT_SUCCESS", "https://else/", "key-1");
    make_request(&keyless, "P1", "PAYMENT_SUCCESS", "https://order/notify", NULL);
    make_request(&keyless_again, "P1", "PAYMENT_SUCCESS", "https://order/notify", NULL);
    make_request(&other_url, "P1", "PAYMENT_SUCCESS", "https://other/", NULL);
    bool created;
    unsigned char hash[TASK_HASH_SIZE];
    int64_t first = create(fixture->store, &keyed, &created, NULL);
    assert_true(created);
    /* The key decides, and the caller learns the first request's hash. */
    assert_int_equal(create(fixture->store, &same_key, &created, hash), first);
    assert_false(created);
    assert_memory_equal(hash, keyed.hash, TASK_HASH_SIZE);
    /* Without a key: only tasks also created without one count. */
    int64_t plain = create(fixture->store, &keyless, &created, NULL);
    assert_true(created);
    assert_true(plain != first);
    assert_int_equal(create(fixture->store, &keyless_again, &created, NULL), plain);
    assert_false(created);
    int64_t other = create(fixture->store, &other_url, &created, NULL);
    assert_true(created);
    assert_true(other != plain);
    task_request_clear(&keyed);
    task_request_clear(&same_key);
    task_request_clear(&keyless);
    task_request_clear(&keyless_again);
    task_request_clear(&other_url);
}

/* A keyless request as intake makes it: known by its URL's normal form. */
static void make_normal_request(TaskRequest *request, const char *business_id, const char *url)
{
    make_request(request, business_id, "PAYMENT_SUCCESS", url, NULL);
    char message[256];
    assert_int_equal(task_url_normalise(url, &request->target_identity, message, sizeof message),
                     0);
    task_request_compute_hash(request);
}

/* Creates REQUEST with store_task_create_many, alone; as create(). */
static int64_t create_in_many(Store *store, const TaskRequest *request, bool *created)
{
    char err[256];
    TaskCreation creation;
    TaskCreateItem item = {.request = request, .max_retry = 5, .webhook_id = "msg_cm"};
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(store_task_create_many(store, &item, 1, 10, &creation, err, sizeof err),
                     STORE_OK);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    *created = creation.created;
    int64_t id = creation.created ? creation.id : creation.existing.id;
    task_clear(&creation.existing);
    return id;
}

/* Without a key a task is known by its URL's normal form, so every spelling
 * repeats it; it keeps the URL as written. A task stored before herald
 * normalised (known by the URL as written) is repeated by the same bytes. */
static void test_identity_is_the_normal_form(void **state)
{
    Fixture *fixture = *state;
    TaskRequest first, spellings[3], other_path, legacy, legacy_again;
    make_normal_request(&first, "P1", "HTTP://Shop.EXAMPLE:80/a/./hook%7e");
    make_normal_request(&spellings[0], "P1", "http://shop.example/a/hook~");
    make_normal_request(&spellings[1], "P1", "http://shop.example:80/a/b/../hook%7E");
    make_normal_request(&spellings[2], "P1", "http://SHOP.example/a/%68ook~");
    make_normal_request(&other_path, "P1", "http://shop.example/A/hook~");
    bool created;
    int64_t id = create(fixture->store, &first, &created, NULL);
    assert_true(created);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(create(fixture->store, &spellings[i], &created, NULL), id);
        assert_false(created);
        assert_int_equal(create_in_many(fixture->store, &spellings[i], &created), id);
        assert_false(created);
    }
    int64_t other = create_in_many(fixture->store, &other_path, &created);
    assert_true(created);
    assert_true(other != id);
    char err[256];
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_string_equal(task.target_url, "HTTP://Shop.EXAMPLE:80/a/./hook%7e");
    task_clear(&task);
    /* Stored as herald before the normal form stored it: known as written. */
    make_request(&legacy, "P2", "PAYMENT_SUCCESS", "http://Shop.EXAMPLE/x", NULL);
    int64_t old = create(fixture->store, &legacy, &created, NULL);
    assert_true(created);
    make_normal_request(&legacy_again, "P2", "http://Shop.EXAMPLE/x");
    assert_int_equal(create(fixture->store, &legacy_again, &created, NULL), old);
    assert_false(created);
    assert_int_equal(create_in_many(fixture->store, &legacy_again, &created), old);
    assert_false(created);
    task_request_clear(&first);
    for (int i = 0; i < 3; i++)
        task_request_clear(&spellings[i]);
    task_request_clear(&other_path);
    task_request_clear(&legacy);
    task_request_clear(&legacy_again);
}

/* store_task_create_many: each item as if created alone, in order, so an
 * item repeats one committed before or one earlier in the same call. */
static void test_create_many_is_create_in_order(void **state)
{
    Fixture *fixture = *state;
    TaskRequest committed, requests[6];
    make_request(&committed, "P0", "PAYMENT_SUCCESS", "https://order/notify", "key-0");
    bool created;
    int64_t earlier = create(fixture->store, &committed, &created, NULL);
    assert_true(created);
    make_request(&requests[0], "P1", "PAYMENT_SUCCESS", "https://order/notify", NULL);
    make_request(&requests[1], "P1", "PAYMENT_SUCCESS", "https://order/notify", NULL);
    make_request(&requests[2], "P0", "PAYMENT_SUCCESS", "https://order/notify", "key-0");
    make_request(&requests[3], "P2", "ORDER_UPDATE", "https://order/notify", "key-2");
    make_request(&requests[4], "P3", "ORDER_UPDATE", "https://else/", "key-2"); /* reused */
    make_request(&requests[5], "P1", "PAYMENT_SUCCESS", "https://other/", NULL);
    const char *ids[6] = {"msg_m0", "msg_m1", "msg_m2", "msg_m3", "msg_m4", "msg_m5"};
    TaskCreateItem items[6];
    for (int i = 0; i < 6; i++)
        items[i] = (TaskCreateItem){.request = &requests[i], .max_retry = 3 + i,
                                    .webhook_id = ids[i]};
    TaskCreation out[6];
    char err[256];
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_create_many(fixture->store, items, 6, 20, out, err, sizeof err),
                     STORE_OK);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    bool expect_created[6] = {true, false, false, true, false, true};
    for (int i = 0; i < 6; i++)
        assert_int_equal(out[i].created, expect_created[i]);
    assert_int_equal(out[1].existing.id, out[0].id);
    assert_int_equal(out[2].existing.id, earlier);
    assert_memory_equal(out[2].existing_hash, committed.hash, TASK_HASH_SIZE);
    assert_int_equal(out[4].existing.id, out[3].id);
    assert_memory_equal(out[4].existing_hash, requests[3].hash, TASK_HASH_SIZE);
    assert_true(out[0].id < out[3].id && out[3].id < out[5].id); /* ids in order */
    Task task;
    assert_int_equal(store_task_get(fixture->store, out[3].id, &task, err, sizeof err), STORE_OK);
    assert_string_equal(task.webhook_id, "msg_m3");
    assert_int_equal(task.max_retry, 6);
    assert_int_equal(task.created_at, 20);
    assert_string_equal(task.idempotency_key, "key-2");
    assert_memory_equal(task.payload, "{\"a\":1}", task.payload_length);
    task_clear(&task);
    for (int i = 0; i < 6; i++) {
        task_clear(&out[i].existing);
        task_request_clear(&requests[i]);
    }
    task_request_clear(&committed);
    /* Nothing at all is fine too. */
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_create_many(fixture->store, items, 0, 20, out, err, sizeof err),
                     STORE_OK);
    store_rollback(fixture->store);
}

static void test_rollback_discards(void **state)
{
    Fixture *fixture = *state;
    TaskRequest request;
    make_request(&request, "P1", "T", "http://a/", NULL);
    char err[256];
    int64_t id;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(test_create_task(fixture->store, &request, 5, "m", 1, &id), 0);
    store_rollback(fixture->store);
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_NOT_FOUND);
    /* A savepoint undoes only its own part. */
    int64_t kept, undone;
    TaskRequest second;
    make_request(&second, "P2", "T", "http://a/", NULL);
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(test_create_task(fixture->store, &request, 5, "m", 1, &kept), 0);
    assert_int_equal(store_savepoint(fixture->store, err, sizeof err), 0);
    assert_int_equal(test_create_task(fixture->store, &second, 5, "m", 1, &undone), 0);
    assert_int_equal(store_savepoint_rollback(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_get(fixture->store, kept, &task, err, sizeof err), STORE_OK);
    task_clear(&task);
    assert_int_equal(store_task_get(fixture->store, undone, &task, err, sizeof err), STORE_NOT_FOUND);
    task_request_clear(&request);
    task_request_clear(&second);
}

static void expect_ids(Store *store, const TaskFilter *filter, const int64_t *ids, size_t count)
{
    Task *tasks;
    size_t found;
    char err[256];
    assert_int_equal(store_task_list(store, filter, &tasks, &found, err, sizeof err), 0);
    assert_int_equal(found, count);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(tasks[i].id, ids[i]);
    store_task_list_free(tasks, found);
}

static void test_list_filters_and_pages(void **state)
{
    Fixture *fixture = *state;
    int64_t a = insert(fixture->store, "P1", "PAY", "http://a/", NULL, 1);
    int64_t b = insert(fixture->store, "P1", "ORDER", "http://a/", NULL, 2);
    int64_t c = insert(fixture->store, "P2", "PAY", "http://a/", NULL, 3);
    int64_t d = insert(fixture->store, "P3", "PAY", "http://b/", NULL, 4);
    int64_t e = insert(fixture->store, "P4", "KEYED", "http://b/", "KEY-1", 5);
    TaskFilter by_key = {.limit = 10, .idempotency_key = "KEY-1"};
    expect_ids(fixture->store, &by_key, (int64_t[]){e}, 1);
    TaskFilter by_key_and_type = {.limit = 10, .idempotency_key = "KEY-1", .business_type = "ORDER"};
    expect_ids(fixture->store, &by_key_and_type, NULL, 0);
    TaskFilter no_key = {.limit = 10, .idempotency_key = "KEY-2"};
    expect_ids(fixture->store, &no_key, NULL, 0);
    TaskFilter all = {.limit = 10, .after = e};
    expect_ids(fixture->store, &all, (int64_t[]){d, c, b, a}, 4);
    TaskFilter page = {.limit = 2, .after = e};
    expect_ids(fixture->store, &page, (int64_t[]){d, c}, 2);
    page.after = c;
    expect_ids(fixture->store, &page, (int64_t[]){b, a}, 2);
    page.after = a;
    expect_ids(fixture->store, &page, NULL, 0);
    TaskFilter by_id = {.limit = 10, .business_id = "P1"};
    expect_ids(fixture->store, &by_id, (int64_t[]){b, a}, 2);
    TaskFilter by_type = {.limit = 10, .business_type = "PAY"};
    expect_ids(fixture->store, &by_type, (int64_t[]){d, c, a}, 3);
    TaskFilter both = {.limit = 10, .business_type = "PAY", .business_id = "P1"};
    expect_ids(fixture->store, &both, (int64_t[]){a}, 1);
    TaskFilter pending = {.limit = 10, .has_status = true, .status = TASK_STATUS_PENDING, .after = d};
    expect_ids(fixture->store, &pending, (int64_t[]){c, b, a}, 3);
    TaskFilter failed = {.limit = 10, .has_status = true, .status = TASK_STATUS_FAILED};
    expect_ids(fixture->store, &failed, NULL, 0);
}

/* A task of test_every_filter_shape, as the filters see it. */
typedef struct ShapeTask {
    int64_t id;
    const char *business_id, *type, *key;
    TaskStatus status;
} ShapeTask;

static bool shape_matches(const ShapeTask *task, const TaskFilter *filter)
{
    return (filter->business_id == NULL || strcmp(task->business_id, filter->business_id) == 0) &&
           (filter->business_type == NULL || strcmp(task->type, filter->business_type) == 0) &&
           (!filter->has_status || task->status == filter->status) &&
           (filter->idempotency_key == NULL ||
            (task->key != NULL && strcmp(task->key, filter->idempotency_key) == 0)) &&
           (filter->after == 0 || task->id < filter->after);
}

/* Every shape of the task listing (each filter on or off: 32 statements,
 * each prepared once and used again), paged two at a time, against the
 * same filter applied here: the right tasks, newest first, none twice. */
static void test_every_filter_shape(void **state)
{
    Fixture *fixture = *state;
    static const char *const ids[] = {"A", "B"}, *const types[] = {"PAY", "REFUND"};
    ShapeTask tasks[16];
    size_t count = 0;
    for (int i = 0; i < 16; i++) {
        char key[16];
        snprintf(key, sizeof key, "K%d", i / 4);
        ShapeTask *task = &tasks[count++];
        *task = (ShapeTask){.business_id = ids[i % 2], .type = types[(i / 2) % 2],
                            .key = i % 4 == 3 ? strdup(key) : NULL,
                            .status = TASK_STATUS_PENDING};
        char url[32]; /* distinct, so that keyless tasks do not repeat each other */
        snprintf(url, sizeof url, "http://%s/%d", i < 4 ? "claimed" : "waiting", i);
        task->id = insert(fixture->store, task->business_id, task->type, url, task->key, i + 1);
    }
    /* The first four are delivering. */
    char err[256];
    Task claimed[4];
    size_t got = 0;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_claim_due(fixture->store, "http://claimed", 100, 60000,
                                     "0123456789abcdef0123456789abcdef", 4, claimed, &got, err,
                                     sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(got, 4);
    for (size_t i = 0; i < got; i++) {
        task_clear(&claimed[i]);
        tasks[i].status = TASK_STATUS_DELIVERING;
    }
    for (int round = 0; round < 2; round++)
        for (unsigned shape = 0; shape < 32; shape++) {
            TaskFilter filter = {
                .business_id = shape & 1 ? ids[round] : NULL,
                .business_type = shape & 2 ? types[round] : NULL,
                .has_status = (shape & 4) != 0,
                .status = round ? TASK_STATUS_DELIVERING : TASK_STATUS_PENDING,
                .idempotency_key = shape & 8 ? (round ? "K0" : "K2") : NULL,
                .after = shape & 16 ? tasks[12].id : 0,
                .limit = 2,
            };
            int64_t next = filter.after;
            size_t seen = 0;
            for (;;) { /* pages newest first: what the filter leaves, in id order down */
                filter.after = next;
                Task *page;
                size_t found;
                assert_int_equal(store_task_list(fixture->store, &filter, &page, &found, err,
                                                 sizeof err), 0);
                for (size_t i = 0; i < found; i++) {
                    size_t expected = count;
                    while (expected-- > 0)
                        if (shape_matches(&tasks[expected], &filter) &&
                            (seen == 0 || tasks[expected].id < next))
                            break;
                    assert_true(expected < count);
                    assert_int_equal(page[i].id, tasks[expected].id);
                    next = page[i].id;
                    filter.after = next;
                    seen++;
                }
                store_task_list_free(page, found);
                if (found < 2)
                    break;
            }
            size_t wanted = 0;
            filter.after = shape & 16 ? tasks[12].id : 0;
            for (size_t i = 0; i < count; i++)
                wanted += shape_matches(&tasks[i], &filter) ? 1 : 0;
            assert_int_equal(seen, wanted);
        }
    for (size_t i = 0; i < count; i++)
        free((char *)tasks[i].key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_database_is_migrated, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_insert_get_round_trip, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_discards, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_create_finds_what_a_request_repeats, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_identity_is_the_normal_form, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_create_many_is_create_in_order, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_and_pages, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_every_filter_shape, test_store_setup, test_store_teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
