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

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

/* The visit's notes as one text for the FTS body. */
static char *visit_body(const Fieldsync__Visit *v)
{
    const char *parts[] = {v->objective, v->agenda, v->outcome, v->needs, v->next_step};
    size_t len = 1;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        len += strlen(nz(parts[i])) + 1;
    char *body = malloc(len);
    if (body == NULL)
        return NULL;
    body[0] = '\0';
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (parts[i] == NULL || parts[i][0] == '\0')
            continue;
        if (body[0] != '\0')
            strcat(body, "\n");
        strcat(body, parts[i]);
    }
    return body;
}

bool fs_store_kind_searchable(fs_kind kind)
{
    return kind == FIELDSYNC__RECORD_KIND__ACCOUNT || kind == FIELDSYNC__RECORD_KIND__CONTACT ||
           kind == FIELDSYNC__RECORD_KIND__VISIT;
}

int fs_store_search_text(fs_kind kind, const ProtobufCMessage *m, const char **name,
                         const char **body, char **owned, fs_err *err)
{
    *owned = NULL;
    if (kind == FIELDSYNC__RECORD_KIND__ACCOUNT) {
        *name = nz(((const Fieldsync__Account *)m)->name);
        *body = nz(((const Fieldsync__Account *)m)->notes);
    } else if (kind == FIELDSYNC__RECORD_KIND__CONTACT) {
        *name = nz(((const Fieldsync__Contact *)m)->name);
        *body = nz(((const Fieldsync__Contact *)m)->title);
    } else {
        *name = "";
        *body = *owned = visit_body((const Fieldsync__Visit *)m);
        if (*owned == NULL)
            return fs_err_set(err, FS_ENOMEM, "indexing a visit: out of memory");
    }
    return 0;
}

/* fs_search_text(kind, state, column): the name (column 0) or body (1) the
 * state's visible record is indexed with; '' for a record that is not visible
 * or of a kind without search rows. A state that does not decode is an error,
 * never a guess: taking the wrong tokens out would damage the index. */
static void search_text_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    fs_state *state = NULL;
    ProtobufCMessage *m = NULL;
    const char *text[2] = {"", ""};
    char *owned = NULL;
    fs_err err;
    (void)argc;
    fs_kind kind = (fs_kind)sqlite3_value_int(argv[0]);
    int col = sqlite3_value_int(argv[2]) != 0;
    int rc = fs_state_decode(&state, sqlite3_value_blob(argv[1]),
                             (size_t)sqlite3_value_bytes(argv[1]), &err);
    if (rc == 0 && fs_store_kind_searchable(kind) && fs_record_alive(state))
        rc = fs_record_visible(state, &m, &err);
    if (rc == 0 && m != NULL)
        rc = fs_store_search_text(kind, m, &text[0], &text[1], &owned, &err);
    if (rc == 0)
        sqlite3_result_text(ctx, text[col], -1, SQLITE_TRANSIENT);
    else if (rc == FS_ENOMEM)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_error(ctx, fs_err_message(&err), -1);
    free(owned);
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
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
