/*
 * fields_value.c: converting one leaf's text (a flag value, a CSV cell) to its
 * JSON value and back (fields.h). format(convert(x)) gives x back for every
 * value CSV export writes, which is what makes export -> import a round trip.
 */
#include "fields.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fieldsync/calendar.h"

char *fs_json_dump(const json_t *v, size_t flags)
{
    size_t n = json_dumpb(v, NULL, 0, flags);
    char *s = n > 0 ? malloc(n + 1) : NULL;
    if (s == NULL || json_dumpb(v, s, n, flags) != n) {
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

/* ---- dates and instants ---- */

/* A real day "YYYY-MM-DD" at the start of s; the number of bytes used (10) or 0. */
static size_t scan_ymd(const char *s, int *y, int *m, int *d)
{
    char day[FS_DATE_SIZE];
    if (strnlen(s, 10) < 10)
        return 0;
    memcpy(day, s, 10);
    day[10] = '\0';
    if (!fs_calendar_valid(day))
        return 0;
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
    return 10;
}

int fs_date_parse(const char *text, char *out)
{
    int y, m, d;
    if (strlen(text) == 10 && scan_ymd(text, &y, &m, &d) == 10) {
        memcpy(out, text, 11);
        return 0;
    }
    long long days;
    if (strcmp(text, "today") == 0)
        days = 0;
    else if (strcmp(text, "tomorrow") == 0)
        days = 1;
    else if (text[0] == '+' && isdigit((unsigned char)text[1])) {
        char *end;
        errno = 0;
        days = strtoll(text + 1, &end, 10);
        if (errno != 0 || (*end != '\0' && strcmp(end, "d") != 0) || days > 36500)
            return -1;
    } else
        return -1;
    fs_calendar_day((int)days, out); /* the rep's local day, not UTC's */
    return 0;
}

/* A zone after a time: "Z" or "UTC" (*off 0), "+HH:MM" or "+HHMM" (*off seconds
 * east), or the local zone's own abbreviation ("CET", "CEST": *isdst 0 or 1,
 * *local true). 0, or -1 when p is none of these. */
static int parse_zone(const char *p, bool *local, long *off, int *isdst)
{
    int hh, mm, used = 0;
    *local = false;
    *off = 0;
    if (strcmp(p, "Z") == 0 || strcmp(p, "UTC") == 0)
        return 0;
    if ((p[0] == '+' || p[0] == '-') && isdigit((unsigned char)p[1]) &&
        (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &used) == 2 ||
         sscanf(p + 1, "%2d%2d%n", &hh, &mm, &used) == 2) &&
        p[1 + used] == '\0' && hh <= 14 && mm <= 59) {
        *off = (p[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
        return 0;
    }
    tzset();
    for (int dst = 0; dst < 2; dst++)
        if (tzname[dst] != NULL && strcmp(p, tzname[dst]) == 0) {
            *local = true;
            *isdst = dst;
            return 0;
        }
    return -1;
}

int fs_time_parse(const char *text, long long *out)
{
    if (text[0] != '\0' && strspn(text, "0123456789") == strlen(text)) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno != 0)
            return -1;
        *out = v;
        return 0;
    }
    int y, m, d, hh = 0, mm = 0, ss = 0;
    size_t n = scan_ymd(text, &y, &m, &d);
    if (n == 0)
        return -1;
    const char *p = text + n;
    if (*p == ' ' || *p == 'T') {
        int used = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &used) != 2)
            return -1;
        p += 1 + used;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &ss, &used) != 1)
                return -1;
            p += 1 + used;
        }
        if (hh > 23 || mm > 59 || ss > 60)
            return -1;
    }
    bool local = true;
    long off = 0;
    int isdst = -1; /* mktime decides, for a time given without its zone */
    if (*p == ' ')
        p++;
    if (*p != '\0' && parse_zone(p, &local, &off, &isdst) != 0)
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = m - 1,
                    .tm_mday = d,
                    .tm_hour = hh,
                    .tm_min = mm,
                    .tm_sec = ss,
                    .tm_isdst = isdst};
    *out = local ? (long long)mktime(&tm) : (long long)timegm(&tm) - off;
    return 0;
}

/* ---- money ---- */

/* Decimal places of a currency's minor unit (ISO 4217); 2 for all others. */
static int currency_exponent(const char *code)
{
    char cur[4] = "";
    for (size_t i = 0; i < 3 && code[i]; i++)
        cur[i] = (char)toupper((unsigned char)code[i]);
    static const char *const zero[] = {"JPY", "KRW", "ISK", "CLP", "VND", "XOF", "XAF", "HUF"};
    static const char *const three[] = {"BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD"};
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        if (strcmp(cur, zero[i]) == 0)
            return strcmp(cur, "HUF") == 0 ? 2 : 0;
    for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++)
        if (strcmp(cur, three[i]) == 0)
            return 3;
    return 2;
}

static bool is_currency(const char *s, size_t n)
{
    return n == 3 && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
           isalpha((unsigned char)s[2]);
}

/* "-1250.5" with exp decimals -> minor units; -1 on junk, too many decimals, overflow. */
static int parse_amount(const char *s, size_t n, int exp, long long *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    long long v = 0;
    int decimals = -1;
    bool digits = false;
    for (; i < n; i++) {
        if (s[i] == '.' && decimals < 0) {
            decimals = 0;
            continue;
        }
        if (!isdigit((unsigned char)s[i]))
            return -1;
        if (decimals >= 0 && ++decimals > exp)
            return -1;
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
        digits = true;
    }
    if (!digits)
        return -1;
    for (int k = decimals < 0 ? 0 : decimals; k < exp; k++) {
        if (v > INT64_MAX / 10)
            return -1;
        v *= 10;
    }
    *out = neg ? -v : v;
    return 0;
}

int fs_money_parse(const char *text, json_t **out)
{
    *out = NULL;
    if (text[0] == '{') {
        *out = json_loads(text, 0, NULL);
        return json_is_object(*out) ? 0 : (json_decref(*out), *out = NULL, -1);
    }
    char cur[4] = "";
    const char *num = text, *sp = strchr(text, ' ');
    size_t nlen = strlen(text);
    if (sp != NULL) {
        const char *a = text, *b = sp + 1;
        if (strchr(b, ' ') != NULL)
            return -1;
        if (is_currency(a, (size_t)(sp - a))) { /* "EUR 1250.00" */
            memcpy(cur, a, 3);
            num = b;
            nlen = strlen(b);
        } else if (is_currency(b, strlen(b))) { /* "1250.00 EUR" */
            memcpy(cur, b, 3);
            nlen = (size_t)(sp - a);
        } else {
            return -1;
        }
    }
    long long minor;
    if (parse_amount(num, nlen, currency_exponent(cur), &minor) != 0)
        return -1;
    *out = cur[0] ? json_pack("{s:I, s:s}", "minor_units", (json_int_t)minor, "currency", cur)
                  : json_pack("{s:I}", "minor_units", (json_int_t)minor);
    return *out ? 0 : -1;
}

char *fs_money_format(const json_t *money)
{
    const char *cur = json_string_value(json_object_get(money, "currency"));
    json_t *mu = json_object_get(money, "minor_units");
    char buf[64];
    if (!json_is_integer(mu)) /* currency alone, or empty */
        return cur ? strdup(cur) : NULL;
    long long v = json_integer_value(mu);
    if (cur != NULL && !is_currency(cur, strlen(cur))) /* not "1250.00 EUR"-able */
        return fs_json_dump(money, JSON_COMPACT | JSON_SORT_KEYS);
    int exp = currency_exponent(cur ? cur : "");
    unsigned long long a = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    unsigned long long scale = exp == 0 ? 1 : exp == 3 ? 1000 : 100;
    if (exp == 0)
        snprintf(buf, sizeof(buf), "%s%llu", v < 0 ? "-" : "", a);
    else
        snprintf(buf, sizeof(buf), "%s%llu.%0*llu", v < 0 ? "-" : "", a / scale, exp, a % scale);
    if (cur != NULL) {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof(buf) - n, " %s", cur);
    }
    return strdup(buf);
}

/* ---- enums ---- */

static bool ends_with_unspec(const char *name)
{
    size_t n = strlen(name);
    return n >= 11 && strcmp(name + n - 11, "unspecified") == 0;
}

static void lower(char *dst, size_t n, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

/*
 * The value name text stands for: the exact lower-case name, or else the one
 * name that text is a prefix or suffix of at a '_' boundary ("opportunity" ->
 * "opportunity_tier", "prospect" -> "funnel_prospect", "50" -> "pct_50").
 */
static const char *enum_match(const ProtobufCEnumDescriptor *ed, const char *text, char *buf,
                              size_t n)
{
    char want[64], name[64];
    lower(want, sizeof(want), text);
    for (size_t i = 0; want[i]; i++)
        if (want[i] == '-' || want[i] == ' ')
            want[i] = '_';
    const char *found = NULL;
    size_t nfound = 0, wl = strlen(want);
    for (unsigned i = 0; i < ed->n_values; i++) {
        lower(name, sizeof(name), ed->values[i].name);
        if (strcmp(name, want) == 0) {
            found = ed->values[i].name;
            nfound = 1;
            break;
        }
        size_t nl = strlen(name);
        bool pre = nl > wl && strncmp(name, want, wl) == 0 && name[wl] == '_';
        bool suf = nl > wl && strcmp(name + nl - wl, want) == 0 && name[nl - wl - 1] == '_';
        if (wl > 0 && (pre || suf) && !ends_with_unspec(name)) {
            found = ed->values[i].name;
            nfound++;
        }
    }
    if (nfound != 1)
        return NULL;
    lower(buf, n, found);
    return buf;
}

/* ---- text -> JSON ---- */

static int why_fail(char *why, size_t n, const fs_leaf *l, const char *text, const char *expect)
{
    snprintf(why, n, "%s: \"%.80s\" is not %s", l->path, text, expect);
    return -1;
}

static int convert_phone(const fs_leaf *l, const char *text, json_t **out, char *why, size_t n)
{
    const char *kind = l->phone_kind ? l->phone_kind : "office";
    const char *num = text, *colon = strchr(text, ':');
    char kbuf[32];
    if (colon != NULL && (size_t)(colon - text) < sizeof(kbuf)) {
        memcpy(kbuf, text, (size_t)(colon - text));
        kbuf[colon - text] = '\0';
        char canon[64];
        const ProtobufCEnumDescriptor *ed =
            l->fd->descriptor
                ? ((const ProtobufCMessageDescriptor *)l->fd->descriptor)->fields[0].descriptor
                : NULL;
        if (ed != NULL && enum_match(ed, kbuf, canon, sizeof(canon)) != NULL) {
            num = colon + 1;
            if (*num == '\0')
                return why_fail(why, n, l, text, "a phone number");
            *out = json_pack("{s:s, s:s}", "kind", canon, "number", num);
            return *out ? 0 : -1;
        }
    }
    if (*num == '\0')
        return why_fail(why, n, l, text, "a phone number");
    *out = json_pack("{s:s, s:s}", "kind", kind, "number", num);
    return *out ? 0 : -1;
}

/* One element (or the whole value of a singular leaf). One case per leaf type,
 * kept together so the accepted forms can be read in one place: hence longer
 * than the usual function. */
static int convert_one(const fs_leaf *l, const char *text, json_t **out, char *why, size_t n)
{
    long long v;
    char buf[64];
    *out = NULL;
    switch (l->type) {
    case FS_LEAF_STRING:
        *out = json_string(text);
        return *out ? 0 : why_fail(why, n, l, text, "valid UTF-8 text");
    case FS_LEAF_DATE:
        if (fs_date_parse(text, buf) != 0)
            return why_fail(why, n, l, text, "a date YYYY-MM-DD (or today, tomorrow, +N)");
        *out = json_string(buf);
        return 0;
    case FS_LEAF_TIME:
        if (fs_time_parse(text, &v) != 0)
            return why_fail(why, n, l, text,
                            "a time YYYY-MM-DD HH:MM (local, or with Z or +HH:MM) or Unix seconds");
        *out = json_integer(v);
        return 0;
    case FS_LEAF_INT:
    case FS_LEAF_UINT: {
        char *end;
        errno = 0;
        v = strtoll(text, &end, 10);
        bool u32 = l->fd->type == PROTOBUF_C_TYPE_UINT32 || l->fd->type == PROTOBUF_C_TYPE_FIXED32;
        bool i32 = l->fd->type == PROTOBUF_C_TYPE_INT32 || l->fd->type == PROTOBUF_C_TYPE_SINT32 ||
                   l->fd->type == PROTOBUF_C_TYPE_SFIXED32;
        if (errno || end == text || *end || isspace((unsigned char)text[0]) ||
            (l->type == FS_LEAF_UINT && v < 0) || (u32 && v > 4294967295LL) ||
            (i32 && (v < INT32_MIN || v > INT32_MAX)))
            return why_fail(why, n, l, text,
                            l->type == FS_LEAF_UINT ? "a whole number >= 0" : "a whole number");
        *out = json_integer(v);
        return 0;
    }
    case FS_LEAF_BOOL: {
        static const char *const yes[] = {"true", "yes", "y", "1"}, *const no[] = {"false", "no",
                                                                                   "n", "0"};
        lower(buf, sizeof(buf), text);
        for (size_t i = 0; i < 4; i++)
            if (strcmp(buf, yes[i]) == 0 || strcmp(buf, no[i]) == 0)
                *out = json_boolean(strcmp(buf, yes[i]) == 0);
        return *out ? 0 : why_fail(why, n, l, text, "true or false");
    }
    case FS_LEAF_ENUM: {
        if (enum_match(l->fd->descriptor, text, buf, sizeof(buf)) == NULL) {
            char list[256];
            size_t o = (size_t)snprintf(list, sizeof(list), "one of ");
            for (const char *p = strstr(l->help, "one of ") + 7; *p && o + 3 < sizeof(list); p++)
                o += (size_t)(*p == '|' ? snprintf(list + o, sizeof(list) - o, ", ")
                                        : (list[o] = *p, list[o + 1] = '\0', 1));
            return why_fail(why, n, l, text, list);
        }
        *out = json_string(buf);
        return 0;
    }
    case FS_LEAF_MONEY:
        if (fs_money_parse(text, out) != 0)
            return why_fail(why, n, l, text, "an amount like \"1250.00 EUR\"");
        return 0;
    case FS_LEAF_PHONES:
        return convert_phone(l, text, out, why, n);
    case FS_LEAF_JSON:
        *out = json_loads(text, JSON_DECODE_ANY, NULL);
        if (*out == NULL || (l->repeated && !json_is_array(*out))) {
            json_decref(*out);
            *out = NULL;
            return why_fail(why, n, l, text, l->repeated ? "a JSON array" : "JSON");
        }
        return 0;
    }
    return why_fail(why, n, l, text, "a supported value");
}

int fs_fields_convert(const fs_leaf *l, const char *text, bool split, json_t **out, char *why,
                      size_t whylen)
{
    *out = NULL;
    if (!l->repeated || l->type == FS_LEAF_JSON)
        return convert_one(l, text, out, why, whylen);
    json_t *arr = json_array();
    if (arr == NULL)
        return why_fail(why, whylen, l, text, "possible to hold (out of memory)");
    char *copy = strdup(text);
    char *save = NULL;
    int rc = copy ? 0 : -1;
    for (char *tok = split ? strtok_r(copy, ";", &save) : copy; rc == 0 && tok != NULL;
         tok = split ? strtok_r(NULL, ";", &save) : NULL) {
        while (split && *tok == ' ')
            tok++;
        if (split && *tok == '\0')
            continue;
        json_t *el;
        rc = convert_one(l, tok, &el, why, whylen);
        if (rc == 0)
            rc = json_array_append_new(arr, el);
    }
    free(copy);
    if (rc != 0) {
        json_decref(arr);
        return -1;
    }
    *out = arr;
    return 0;
}

/* ---- JSON -> text ---- */

static char *format_one(const fs_leaf *l, const json_t *v)
{
    char buf[64];
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return strdup(buf);
    }
    if (json_is_boolean(v))
        return strdup(json_is_true(v) ? "true" : "false");
    if (l->type == FS_LEAF_MONEY && json_is_object(v))
        return fs_money_format(v);
    if (l->type == FS_LEAF_PHONES && json_is_object(v)) {
        const char *k = json_string_value(json_object_get(v, "kind"));
        const char *num = json_string_value(json_object_get(v, "number"));
        char *s = NULL;
        if (asprintf(&s, "%s%s%s", k ? k : "", k ? ":" : "", num ? num : "") < 0)
            return NULL;
        return s;
    }
    return fs_json_dump(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

char *fs_fields_format(const fs_leaf *l, const json_t *record)
{
    json_t *v = fs_json_path(record, l->path);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_array(v) || l->type == FS_LEAF_JSON)
        return format_one(l, v);
    if (json_array_size(v) == 0)
        return NULL;
    size_t len = 0, i;
    json_t *el;
    char *out = NULL;
    json_array_foreach(v, i, el)
    {
        char *s = format_one(l, el);
        size_t sl = s ? strlen(s) : 0;
        char *grown = realloc(out, len + sl + 2);
        if (grown == NULL) {
            free(s);
            free(out);
            return NULL;
        }
        out = grown;
        if (i > 0)
            out[len++] = ';';
        if (sl)
            memcpy(out + len, s, sl);
        len += sl;
        out[len] = '\0';
        free(s);
    }
    return out;
}
