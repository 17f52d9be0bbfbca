/* Diagnostics about manifests: collecting, ordering and formatting them as
 * "file:line:col: error: field: message". It must never print: the command
 * that ends the operation does. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/specs-int.h"
#include "specs/specs.h"

void spec_diags_add(struct spec_diags *diags, enum spec_severity severity, const char *file,
                    struct spec_pos pos, const char *field, const char *fmt, ...)
{
        struct spec_diag *d;
        char *msg;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                abort(); /* out of memory, as pr_malloc */
        d = pr_array_grow(&diags->items, &diags->n, sizeof(*d));
        d->severity = severity;
        d->file = pr_strdup(file ? file : "<input>");
        d->pos = pos;
        d->field = field && *field ? pr_strdup(field) : NULL;
        d->message = msg;
        if (severity == SPEC_ERROR)
                diags->n_errors++;
}

void spec_diags_done(struct spec_diags *diags)
{
        if (!diags)
                return;
        for (size_t i = 0; i < diags->n; i++) {
                free(diags->items[i].file);
                free(diags->items[i].field);
                free(diags->items[i].message);
        }
        free(diags->items);
        *diags = (struct spec_diags){0};
}

char *spec_diag_format(const struct spec_diag *d)
{
        const char *sev = d->severity == SPEC_ERROR ? "error" : "warning";

        if (d->field)
                return pr_asprintf("%s:%u:%u: %s: %s: %s", d->file, d->pos.line, d->pos.column, sev,
                                   d->field, d->message);
        return pr_asprintf("%s:%u:%u: %s: %s", d->file, d->pos.line, d->pos.column, sev,
                           d->message);
}

static int compare_diag(const void *pa, const void *pb)
{
        const struct spec_diag *a = *(const struct spec_diag *const *)pa;
        const struct spec_diag *b = *(const struct spec_diag *const *)pb;

        if (a->pos.line != b->pos.line)
                return a->pos.line < b->pos.line ? -1 : 1;
        if (a->pos.column != b->pos.column)
                return a->pos.column < b->pos.column ? -1 : 1;
        /* Equal positions keep their order: compare addresses in the array. */
        return a < b ? -1 : a > b;
}

void spec_diags_sort(struct spec_diags *diags, size_t from)
{
        _cleanup_free_ struct spec_diag **order = NULL;
        _cleanup_free_ struct spec_diag *sorted = NULL;
        size_t n;

        if (from >= diags->n)
                return;
        n = diags->n - from;
        order = pr_malloc(n * sizeof(*order));
        sorted = pr_malloc(n * sizeof(*sorted));
        for (size_t i = 0; i < n; i++)
                order[i] = &diags->items[from + i];
        qsort(order, n, sizeof(*order), compare_diag);
        for (size_t i = 0; i < n; i++)
                sorted[i] = *order[i];
        memcpy(diags->items + from, sorted, n * sizeof(*sorted));
}

size_t spec_edit_distance(const char *a, const char *b, size_t cap)
{
        size_t la = strlen(a), lb = strlen(b);
        _cleanup_free_ size_t *row = NULL;

        if (la > 64 || lb > 64)
                return cap + 1; /* field names are short; anything else is not close */
        row = pr_malloc((lb + 1) * sizeof(*row));
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0], best;

                row[0] = i;
                best = row[0];
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t cost = diag + (tolower((unsigned char)a[i - 1]) !=
                                              tolower((unsigned char)b[j - 1]));

                        if (up + 1 < cost)
                                cost = up + 1;
                        if (row[j - 1] + 1 < cost)
                                cost = row[j - 1] + 1;
                        diag = up;
                        row[j] = cost;
                        if (cost < best)
                                best = cost;
                }
                if (best > cap)
                        return cap + 1;
        }
        return row[lb] > cap ? cap + 1 : row[lb];
}

char *spec_excerpt(const char *s, size_t len, size_t max)
{
        size_t n = len < max ? len : max;
        char *out = pr_malloc(n * 4 + 4), *p = out;

        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];
                if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
                        p += sprintf(p, ch == '"' || ch == '\\' ? "\\%c" : "\\x%02x", ch);
                else
                        *p++ = (char)ch;
        }
        if (n < len)
                p += sprintf(p, "...");
        *p = '\0';
        return out;
}

bool spec_key_is_plain(const char *s, size_t len)
{
        if (len > SPEC_PATH_KEY_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}
