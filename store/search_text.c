/*
 * search_text.c: what a record's row in the search index says, and the SQL
 * function that says it again from the stored state.
 *
 * The FTS5 table keeps no copy of the text (schema.c, version 7): its content
 * is the view search_content, which computes each indexed row's name and body
 * from records.state with fs_search_text(kind, state, column). FTS5 reads it
 * for snippets and to take a row out of the index, which must give back the
 * very tokens that went in: project.c indexes the text fs_store_search_text
 * gives, the function gives the same from the same state, and the triggers on
 * records take a row out of the index before its state changes or goes.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* The fields a kind's search row is made of: the name's, then the body's,
 * joined by newlines (empty ones left out). */
typedef struct search_fields {
    const char *name;
    const char *body[5];
} search_fields;

static const search_fields account_fields = {"name", {"notes"}};
static const search_fields contact_fields = {"name", {"title"}};
static const search_fields visit_fields = {
    NULL, {"objective", "agenda", "outcome", "needs", "next_step"}};

bool fs_store_kind_searchable(fs_kind kind)
{
    return kind == FIELDSYNC__RECORD_KIND__ACCOUNT || kind == FIELDSYNC__RECORD_KIND__CONTACT ||
           kind == FIELDSYNC__RECORD_KIND__VISIT;
}

/* The visible value of the kind's string field `field` (NULL when unset). */
static int visible_text(const fs_state *state, const char *field, char **out, fs_err *err)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(fs_kind_descriptor(state->kind), field);
    *out = NULL;
    return f != NULL ? fs_record_visible_string(state, f->id, out, err) : 0;
}

/* The non-empty texts of fields, joined by newlines (strlen: as a C string,
 * what the message's field gives). */
static int joined_text(const fs_state *state, const char *const *fields, size_t n, char **out,
                       fs_err *err)
{
    char *part[5] = {NULL};
    size_t len = 1;
    int rc = 0;
    for (size_t i = 0; i < n && fields[i] != NULL && rc == 0; i++) {
        rc = visible_text(state, fields[i], &part[i], err);
        len += part[i] != NULL ? strlen(part[i]) + 1 : 0;
    }
    *out = rc == 0 ? malloc(len) : NULL;
    if (rc == 0 && *out == NULL)
        rc = fs_err_set(err, FS_ENOMEM, "indexing %s: out of memory", state->id);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = part[i] != NULL ? strlen(part[i]) : 0;
        if (rc == 0 && k > 0) {
            if (w > 0)
                (*out)[w++] = '\n';
            memcpy(*out + w, part[i], k);
            w += k;
        }
        free(part[i]);
    }
    if (rc == 0)
        (*out)[w] = '\0';
    return rc;
}

int fs_store_search_text(const fs_state *state, char **name, char **body, fs_err *err)
{
    const search_fields *f = state->kind == FIELDSYNC__RECORD_KIND__ACCOUNT   ? &account_fields
                             : state->kind == FIELDSYNC__RECORD_KIND__CONTACT ? &contact_fields
                                                                              : &visit_fields;
    *name = *body = NULL;
    int rc = joined_text(state, &f->name, 1, name, err);
    if (rc == 0)
        rc = joined_text(state, f->body, sizeof(f->body) / sizeof(f->body[0]), body, err);
    if (rc != 0) {
        free(*name);
        *name = NULL;
    }
    return rc;
}

/* fs_search_text(kind, state, column): the name (column 0) or body (1) the
 * state's visible record is indexed with; '' for a record that is not visible
 * or of a kind without search rows. A state that does not decode is an error,
 * never a guess: taking the wrong tokens out would damage the index. */
static void search_text_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    fs_state *state = NULL;
    char *text[2] = {NULL, NULL};
    fs_err err;
    (void)argc;
    fs_kind kind = (fs_kind)sqlite3_value_int(argv[0]);
    int col = sqlite3_value_int(argv[2]) != 0;
    int rc = fs_state_decode_stored(&state, sqlite3_value_blob(argv[1]),
                                    (size_t)sqlite3_value_bytes(argv[1]), &err);
    if (rc == 0 && fs_store_kind_searchable(kind) && fs_record_alive(state))
        rc = fs_store_search_text(state, &text[0], &text[1], &err);
    if (rc == 0)
        sqlite3_result_text(ctx, text[col] != NULL ? text[col] : "", -1, SQLITE_TRANSIENT);
    else if (rc == FS_ENOMEM)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_error(ctx, fs_err_message(&err), -1);
    free(text[0]);
    free(text[1]);
    fs_state_free(state);
}

int fs_store_register_search_text(sqlite3 *db, fs_err *err)
{
    int rc = sqlite3_create_function(db, "fs_search_text", 3,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                     search_text_sql, NULL, NULL);
    return rc == SQLITE_OK ? 0
                           : fs_err_set(err, FS_EIO, "registering the search text function: %s",
                                        sqlite3_errstr(rc));
}
