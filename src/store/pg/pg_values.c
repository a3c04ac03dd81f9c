/*
 * store/pg_values: values to and from libpq. Parameters go as text
 * (numbers) or binary (bytes: payloads, hashes, response bodies), so
 * nothing is escaped; results come back in binary and are read here, by
 * type, into herald's own types. Part of the PostgreSQL backend (pg.h).
 */
#include "pg.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters ---- */

static void pg_param_add(PgParams *params, const char *value, int length, int format)
{
    if (params->count >= PG_PARAMS_MAX)
        abort(); /* a statement with more is a programming error, caught by the tests */
    params->values[params->count] = value;
    params->lengths[params->count] = length;
    params->formats[params->count] = format;
    params->count++;
}

void pg_param_text(PgParams *params, const char *text)
{
    pg_param_add(params, text, 0, 0);
}

void pg_param_int64(PgParams *params, int64_t value)
{
    char *number = params->numbers[params->count < PG_PARAMS_MAX ? params->count : 0];
    snprintf(number, sizeof params->numbers[0], "%lld", (long long)value);
    pg_param_add(params, number, 0, 0);
}

void pg_param_int64_or_null(PgParams *params, int64_t value)
{
    if (value == 0)
        pg_param_add(params, NULL, 0, 0);
    else
        pg_param_int64(params, value);
}

void pg_param_bool(PgParams *params, bool value)
{
    pg_param_add(params, value ? "t" : "f", 0, 0);
}

void pg_param_bytes(PgParams *params, const void *data, size_t length)
{
    /* A zero-length bytea still needs a non-NULL pointer to be sent as such. */
    pg_param_add(params, data ? (const char *)data : NULL, (int)length, 1);
}

/* ---- array parameters (binary format: ndim, has-null flag, element type,
 * then per dimension its length and lower bound; then each element as a
 * length, -1 for NULL, and its bytes) ---- */

#define PG_ARRAY_HEADER 20
#define PG_ARRAY_MAX (256 * 1024 * 1024)

static int pg_array_put32(PgArray *array, int32_t value)
{
    uint32_t network = htonl((uint32_t)value);
    return buffer_append(&array->data, &network, sizeof network);
}

int pg_array_init(PgArray *array, Oid element)
{
    *array = (PgArray){.element = element};
    buffer_init(&array->data, PG_ARRAY_MAX);
    static const char header[PG_ARRAY_HEADER];
    return buffer_append(&array->data, header, sizeof header); /* filled in at the end */
}

int pg_array_add(PgArray *array, const void *value, size_t length)
{
    array->count++;
    if (value == NULL) {
        array->has_null = true;
        return pg_array_put32(array, -1);
    }
    if (length > INT32_MAX || pg_array_put32(array, (int32_t)length) != 0)
        return -1;
    return buffer_append(&array->data, value, length);
}

int pg_array_add_int4(PgArray *array, int32_t value)
{
    uint32_t network = htonl((uint32_t)value);
    return pg_array_add(array, &network, sizeof network);
}

int pg_array_add_int8(PgArray *array, int64_t value)
{
    uint64_t network = htobe64((uint64_t)value);
    return pg_array_add(array, &network, sizeof network);
}

int pg_array_add_bool(PgArray *array, bool value)
{
    char byte = value ? 1 : 0;
    return pg_array_add(array, &byte, 1);
}

void pg_param_array(PgParams *params, PgArray *array)
{
    uint32_t header[PG_ARRAY_HEADER / 4] = {htonl(1), htonl(array->has_null ? 1 : 0),
                                            htonl(array->element), htonl((uint32_t)array->count),
                                            htonl(1)};
    memcpy(array->data.data, header, sizeof header);
    pg_param_add(params, array->data.data, (int)array->data.length, 1);
}

void pg_array_free(PgArray *array)
{
    buffer_free(&array->data);
}

/* ---- results (binary format) ---- */

bool pg_column_is_null(const PGresult *result, int row, int column)
{
    return PQgetisnull(result, row, column) != 0;
}

int64_t pg_column_int64(const PGresult *result, int row, int column)
{
    if (PQgetisnull(result, row, column))
        return 0;
    const unsigned char *bytes = (const unsigned char *)PQgetvalue(result, row, column);
    switch (PQgetlength(result, row, column)) {
    case 1: return bytes[0]; /* boolean */
    case 2: {
        uint16_t value;
        memcpy(&value, bytes, 2);
        return (int16_t)ntohs(value);
    }
    case 4: {
        uint32_t value;
        memcpy(&value, bytes, 4);
        return (int32_t)ntohl(value);
    }
    case 8: {
        uint64_t value;
        memcpy(&value, bytes, 8);
        return (int64_t)be64toh(value);
    }
    default: return 0;
    }
}

bool pg_column_bool(const PGresult *result, int row, int column)
{
    return !PQgetisnull(result, row, column) && PQgetlength(result, row, column) == 1 &&
           PQgetvalue(result, row, column)[0] != 0;
}

int pg_column_text(const PGresult *result, int row, int column, char **out, size_t *length)
{
    *out = NULL;
    if (length)
        *length = 0;
    if (PQgetisnull(result, row, column))
        return 0;
    size_t size = (size_t)PQgetlength(result, row, column);
    char *copy = malloc(size + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, PQgetvalue(result, row, column), size);
    copy[size] = '\0';
    *out = copy;
    if (length)
        *length = size;
    return 0;
}

void pg_column_copy(const PGresult *result, int row, int column, char *out, size_t size)
{
    if (PQgetisnull(result, row, column)) {
        out[0] = '\0';
        return;
    }
    snprintf(out, size, "%.*s", PQgetlength(result, row, column),
             PQgetvalue(result, row, column));
}

int pg_collect_rows(PGresult *result, size_t element_size,
                    int (*read)(const PGresult *result, int row, void *element),
                    void (*clear)(void *element), const char *what, void **out, size_t *count,
                    char *err, size_t errlen)
{
    size_t rows = (size_t)PQntuples(result);
    char *elements = calloc(rows ? rows : 1, element_size);
    size_t used = 0;
    if (elements != NULL) {
        for (; used < rows; used++)
            if (read(result, (int)used, elements + used * element_size) != 0) {
                used++; /* its allocations are freed with the others */
                goto fail;
            }
        PQclear(result);
        *out = elements;
        *count = rows;
        return 0;
    }
fail:
    for (size_t i = 0; elements != NULL && i < used; i++)
        clear(elements + i * element_size);
    free(elements);
    PQclear(result);
    snprintf(err, errlen, "%s: out of memory", what);
    return -1;
}
