/* libyaml's event stream to a tree of typed nodes with positions, one tree per
 * document, typed as Kubernetes' sigs.k8s.io/yaml would type them (go-yaml v2,
 * YAML 1.1 booleans, base-prefixed integers). It owns the hostile-input limits
 * (size, depth, scalar length, nodes, aliases) and duplicate keys. It must
 * never know about Pods, never recurse over a tree (aliases make it a DAG whose
 * expanded depth only the limits bound), and never let a libyaml type out. */
#include "specs/yaml-int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pod/base/util.h"
#include "specs/specs-int.h"

struct anchor {
        char *name;
        struct spec_node *node;
};

struct builder {
        const char *file;
        const char *buf;
        struct spec_diags *diags;
        int errors;
        bool stop; /* a limit or syntax error: no further events are read */

        struct spec_yaml_doc doc;
        struct spec_node *stack[SPEC_MAX_DEPTH + 1];
        size_t depth;
        size_t n_anchors;
        struct anchor *anchors;

        size_t total_nodes; /* expanded, across the stream */
        size_t n_aliases;
};

static void error_at(struct builder *b, struct spec_pos pos, const char *field, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static void error_at(struct builder *b, struct spec_pos pos, const char *field, const char *fmt,
                     ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                abort(); /* out of memory, as pr_malloc */
        spec_diags_add(b->diags, SPEC_ERROR, b->file, pos, field, "%s", msg);
        b->errors++;
}

static struct spec_pos pos_of_mark(const yaml_mark_t *m)
{
        /* libyaml counts from zero. */
        return (struct spec_pos){.line = (uint32_t)m->line + 1, .column = (uint32_t)m->column + 1};
}

/* A reader error has only a byte offset (the reader decodes ahead of the
 * scanner, so the parser's mark is elsewhere): count lines up to it. */
static struct spec_pos pos_of_offset(const char *buf, size_t len, size_t offset)
{
        struct spec_pos p = {1, 1};

        for (size_t i = 0; i < offset && i < len; i++) {
                if (buf[i] == '\n') {
                        p.line++;
                        p.column = 1;
                } else {
                        p.column++;
                }
        }
        return p;
}

static char *join_key(const char *path, const char *key)
{
        size_t len = strlen(key);
        _cleanup_free_ char *safe = NULL;

        if (!spec_key_is_plain(key, len))
                key = safe = spec_excerpt(key, len, SPEC_PATH_KEY_MAX);
        return pr_asprintf("%s%s%s", path, *path ? "." : "", key);
}

/* The Kubernetes-style path ("spec.containers[0].name") of the node at stack
 * level `level`, which is always the last child its parent has so far: keys
 * joined by dots, indices in brackets. While a mapping is being built its n
 * counts slots (key, value, key, ...), so its last key is at n - 2. */
static char *stack_path(const struct builder *b, size_t level, const char *last_key)
{
        char *path = pr_strdup("");

        for (size_t i = 1; i <= level; i++) {
                const struct spec_node *parent = b->stack[i - 1];
                char *next;

                if (parent->kind == SPEC_NODE_SEQUENCE)
                        next = pr_asprintf("%s[%zu]", path, parent->n - 1);
                else if (parent->n >= 2 && parent->n % 2 == 0)
                        next = join_key(path, parent->children[parent->n - 2]->value);
                else
                        next = pr_strdup(path); /* a key: named by its parent */
                free(path);
                path = next;
        }
        if (last_key) {
                char *next = join_key(path, last_key);
                free(path);
                path = next;
        }
        return path;
}

static size_t add_sat(size_t a, size_t b)
{
        size_t r;

        if (__builtin_add_overflow(a, b, &r) || r > SPEC_MAX_NODES + 1)
                return SPEC_MAX_NODES + 1;
        return r;
}

static struct spec_node *node_new(struct builder *b, enum spec_node_kind kind, struct spec_pos pos)
{
        struct spec_node *n = pr_calloc(1, sizeof(*n));

        n->kind = kind;
        n->pos = pos;
        n->weight = 1;
        *(struct spec_node **)pr_array_grow(&b->doc.nodes, &b->doc.n_nodes, sizeof(n)) = n;
        return n;
}

static void node_free(struct spec_node *n)
{
        free(n->value);
        free(n->tag);
        free(n->children);
        free(n);
}

static void doc_done(struct spec_yaml_doc *d)
{
        for (size_t i = 0; i < d->n_nodes; i++)
                node_free(d->nodes[i]);
        free(d->nodes);
        *d = (struct spec_yaml_doc){0};
}

void spec_yaml_stream_done(struct spec_yaml_stream *s)
{
        for (size_t i = 0; i < s->n_docs; i++)
                doc_done(&s->docs[i]);
        free(s->docs);
        *s = (struct spec_yaml_stream){0};
}

static void anchors_clear(struct builder *b)
{
        for (size_t i = 0; i < b->n_anchors; i++)
                free(b->anchors[i].name);
        free(b->anchors);
        b->anchors = NULL;
        b->n_anchors = 0;
}

/* Keeps the running total of expanded nodes under SPEC_MAX_NODES, so that no
 * later walk of the DAG can be made to visit more. */
static bool charge_nodes(struct builder *b, struct spec_pos pos, size_t add)
{
        b->total_nodes = add_sat(b->total_nodes, add);
        if (b->total_nodes > SPEC_MAX_NODES) {
                error_at(b, pos, NULL,
                         "manifest too large: more than %u nodes once aliases are expanded",
                         (unsigned)SPEC_MAX_NODES);
                b->stop = true;
                return false;
        }
        return true;
}

/* Hangs a node on the collection being built, or makes it the root. A
 * collection used as a mapping key is refused: JSON keys are strings. */
static bool attach(struct builder *b, struct spec_node *child)
{
        struct spec_node *parent;

        if (b->depth == 0) {
                b->doc.root = child;
                return true;
        }
        parent = b->stack[b->depth - 1];
        if (parent->kind == SPEC_NODE_MAPPING && parent->n % 2 == 0 &&
            child->kind != SPEC_NODE_SCALAR) {
                _cleanup_free_ char *path = stack_path(b, b->depth - 1, NULL);
                error_at(b, child->pos, *path ? path : NULL,
                         "a mapping key must be a string, not %s", spec_node_type_name(child));
                b->stop = true;
                return false;
        }
        *(struct spec_node **)pr_array_grow(&parent->children, &parent->n,
                                            sizeof(*parent->children)) = child;
        parent->weight = add_sat(parent->weight, child->weight);
        return true;
}

static void remember_anchor(struct builder *b, const yaml_char_t *anchor, struct spec_node *n)
{
        struct anchor *a;

        if (!anchor)
                return;
        a = pr_array_grow(&b->anchors, &b->n_anchors, sizeof(*a));
        a->name = pr_strdup((const char *)anchor);
        a->node = n;
}

static bool check_depth(struct builder *b, struct spec_pos pos, size_t extra)
{
        if (b->depth + extra > SPEC_MAX_DEPTH) {
                error_at(b, pos, NULL, "nesting deeper than %d levels", SPEC_MAX_DEPTH);
                b->stop = true;
                return false;
        }
        return true;
}

static void on_alias(struct builder *b, const yaml_event_t *ev)
{
        const char *name = (const char *)ev->data.alias.anchor;
        struct spec_pos pos = pos_of_mark(&ev->start_mark);
        struct spec_node *target = NULL;

        for (size_t i = b->n_anchors; i > 0; i--)
                if (strcmp(b->anchors[i - 1].name, name) == 0) {
                        target = b->anchors[i - 1].node;
                        break;
                }
        if (!target) {
                error_at(b, pos, NULL, "unknown anchor '%s' referenced", name);
                b->stop = true;
                return;
        }
        if (!target->complete) {
                error_at(b, pos, NULL, "anchor '%s' value contains itself", name);
                b->stop = true;
                return;
        }
        if (++b->n_aliases > SPEC_MAX_ALIASES) {
                error_at(b, pos, NULL, "too many aliases: more than %d", SPEC_MAX_ALIASES);
                b->stop = true;
                return;
        }
        if (!charge_nodes(b, pos, target->weight) || !check_depth(b, pos, target->height))
                return;
        (void)attach(b, target);
}

static bool tag_is(const char *tag, const char *name)
{
        return pr_startswith(tag, "tag:yaml.org,2002:") && strcmp(tag + 18, name) == 0;
}

/* An explicit tag decides the type the way go-yaml does: !!str (and the
 * non-specific "!") makes a string, !!int and kin must match the text. */
static void resolve_tagged(struct builder *b, struct spec_node *n)
{
        /* clang-format off */
        static const struct {
                const char *tag;
                enum spec_scalar_type type;
        } typed[] = {
                { "int", SPEC_SCALAR_INT },
                { "float", SPEC_SCALAR_FLOAT },
                { "bool", SPEC_SCALAR_BOOL },
                { "null", SPEC_SCALAR_NULL },
        };
        /* clang-format on */

        if (strcmp(n->tag, "!") == 0 || tag_is(n->tag, "str") || tag_is(n->tag, "binary") ||
            tag_is(n->tag, "timestamp")) {
                n->type = SPEC_SCALAR_STRING;
                return;
        }
        for (size_t i = 0; i < PR_ELEMENTSOF(typed); i++) {
                if (!tag_is(n->tag, typed[i].tag))
                        continue;
                spec_yaml_resolve_plain(n);
                if (n->type == SPEC_SCALAR_INT && typed[i].type == SPEC_SCALAR_FLOAT) {
                        n->type = SPEC_SCALAR_FLOAT;
                } else if (n->type != typed[i].type) {
                        _cleanup_free_ char *path = stack_path(b, b->depth, NULL);
                        _cleanup_free_ char *shown = spec_excerpt(n->value, n->len, 40);
                        error_at(b, n->pos, *path ? path : NULL, "cannot decode \"%s\" as !!%s",
                                 shown, typed[i].tag);
                        n->type = SPEC_SCALAR_STRING;
                }
                return;
        }
        /* Local tags (!foo) carry no type for JSON: resolve by style. */
        if (n->quoted)
                n->type = SPEC_SCALAR_STRING;
        else
                spec_yaml_resolve_plain(n);
}

static void on_scalar(struct builder *b, const yaml_event_t *ev)
{
        struct spec_pos pos = pos_of_mark(&ev->start_mark);
        struct spec_node *n;

        if (ev->data.scalar.length > SPEC_MAX_SCALAR_BYTES) {
                error_at(b, pos, NULL, "scalar longer than %u bytes",
                         (unsigned)SPEC_MAX_SCALAR_BYTES);
                b->stop = true;
                return;
        }
        if (!charge_nodes(b, pos, 1))
                return;
        n = node_new(b, SPEC_NODE_SCALAR, pos);
        n->len = ev->data.scalar.length;
        n->value = pr_malloc(n->len + 1);
        memcpy(n->value, ev->data.scalar.value, n->len);
        n->value[n->len] = '\0';
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        n->complete = true;
        if (ev->data.scalar.tag)
                n->tag = pr_strdup((const char *)ev->data.scalar.tag);
        remember_anchor(b, ev->data.scalar.anchor, n);
        if (!attach(b, n))
                return;
        if (n->tag)
                resolve_tagged(b, n);
        else if (n->quoted)
                n->type = SPEC_SCALAR_STRING;
        else
                spec_yaml_resolve_plain(n);
}

static void on_collection_start(struct builder *b, const yaml_event_t *ev, enum spec_node_kind kind)
{
        struct spec_pos pos = pos_of_mark(&ev->start_mark);
        const yaml_char_t *anchor = kind == SPEC_NODE_MAPPING ? ev->data.mapping_start.anchor
                                                              : ev->data.sequence_start.anchor;
        struct spec_node *n;

        if (!check_depth(b, pos, 1) || !charge_nodes(b, pos, 1))
                return;
        n = node_new(b, kind, pos);
        remember_anchor(b, anchor, n);
        if (!attach(b, n))
                return;
        b->stack[b->depth++] = n;
}

static int compare_key_index(const void *pa, const void *pb, void *arg)
{
        const struct spec_node *m = arg;
        size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
        const struct spec_node *ka = m->children[2 * a], *kb = m->children[2 * b];
        size_t l = ka->len < kb->len ? ka->len : kb->len;
        int r = memcmp(ka->value, kb->value, l);

        if (r != 0)
                return r;
        if (ka->len != kb->len)
                return ka->len < kb->len ? -1 : 1;
        return a < b ? -1 : a > b;
}

/* The API server decodes strictly: a key given twice is an error, not "last
 * one wins". Sorting keeps this O(n log n) for hostile mappings. */
static void check_duplicates(struct builder *b, const struct spec_node *m)
{
        _cleanup_free_ size_t *idx = NULL;
        size_t first = 0;

        if (m->n < 2)
                return;
        idx = pr_malloc(m->n * sizeof(*idx));
        for (size_t i = 0; i < m->n; i++)
                idx[i] = i;
        qsort_r(idx, m->n, sizeof(*idx), compare_key_index, (void *)m);
        for (size_t i = 1; i < m->n; i++) {
                const struct spec_node *k0 = m->children[2 * idx[first]];
                const struct spec_node *k = m->children[2 * idx[i]];

                if (k->len != k0->len || memcmp(k->value, k0->value, k->len) != 0) {
                        first = i;
                        continue;
                }
                _cleanup_free_ char *path = stack_path(b, b->depth, k->value);
                _cleanup_free_ char *shown = spec_excerpt(k->value, k->len, SPEC_PATH_KEY_MAX);
                error_at(b, k->pos, path, "duplicate field \"%s\" (first given at line %u)", shown,
                         k0->pos.line);
        }
}

static bool is_merge_key(const struct spec_node *k)
{
        return k->kind == SPEC_NODE_SCALAR && !k->quoted && strcmp(k->value, "<<") == 0 &&
               (!k->tag || tag_is(k->tag, "merge"));
}

struct pair_ref {
        struct spec_node *key, *value;
        bool merged; /* explicit keys win over merged ones */
        size_t rank; /* document order; among merged keys the earlier wins */
        bool keep;
};

static bool keys_equal(const struct spec_node *a, const struct spec_node *b)
{
        return a->len == b->len && memcmp(a->value, b->value, a->len) == 0;
}

static int compare_pair_ref(const void *pa, const void *pb)
{
        const struct pair_ref *a = pa, *b = pb;
        size_t l = a->key->len < b->key->len ? a->key->len : b->key->len;
        int r = memcmp(a->key->value, b->key->value, l);

        if (r != 0)
                return r;
        if (a->key->len != b->key->len)
                return a->key->len < b->key->len ? -1 : 1;
        if (a->merged != b->merged)
                return a->merged ? 1 : -1;
        return a->rank < b->rank ? -1 : a->rank > b->rank;
}

static int compare_pair_rank(const void *pa, const void *pb)
{
        const struct pair_ref *a = pa, *b = pb;

        return a->rank < b->rank ? -1 : a->rank > b->rank;
}

static void push_ref(struct pair_ref **refs, size_t *n, struct spec_node *k, struct spec_node *v,
                     bool merged)
{
        struct pair_ref *r = pr_array_grow(refs, n, sizeof(**refs));

        *r = (struct pair_ref){.key = k, .value = v, .merged = merged, .rank = *n - 1};
}

/* Collects the pairs a "<<" value brings: a mapping, or a list of them. */
static bool collect_merge(struct builder *b, const struct spec_node *v, struct pair_ref **refs,
                          size_t *n)
{
        size_t count = v->kind == SPEC_NODE_SEQUENCE ? v->n : 1;

        for (size_t i = 0; i < count; i++) {
                const struct spec_node *src = v->kind == SPEC_NODE_SEQUENCE ? v->children[i] : v;

                if (src->kind != SPEC_NODE_MAPPING) {
                        _cleanup_free_ char *path = stack_path(b, b->depth, "<<");
                        error_at(b, src->pos, path,
                                 "a merge key takes a mapping or a list of mappings, not %s",
                                 spec_node_type_name(src));
                        return false;
                }
                for (size_t j = 0; j < src->n; j++)
                        push_ref(refs, n, spec_node_key(src, j), spec_node_value(src, j), true);
        }
        return true;
}

/* YAML merge keys ("<<: *base"), which go-yaml and so kubectl honour: the
 * mapping's own keys win, then the earlier merged mapping. Sorting keeps a
 * hostile stream of merges O(n log n). */
static void apply_merges(struct builder *b, struct spec_node *m)
{
        _cleanup_free_ struct pair_ref *refs = NULL;
        size_t n = 0, kept = 0;
        bool any = false;

        for (size_t i = 0; i < m->n; i++)
                any = any || is_merge_key(spec_node_key(m, i));
        if (!any)
                return;
        for (size_t i = 0; i < m->n; i++) {
                struct spec_node *k = spec_node_key(m, i), *v = spec_node_value(m, i);

                if (!is_merge_key(k))
                        push_ref(&refs, &n, k, v, false);
                else if (!collect_merge(b, v, &refs, &n))
                        return;
        }
        if (n > 0)
                qsort(refs, n, sizeof(*refs), compare_pair_ref);
        for (size_t i = 0; i < n; i++)
                refs[i].keep = i == 0 || !keys_equal(refs[i - 1].key, refs[i].key);
        if (n > 0)
                qsort(refs, n, sizeof(*refs), compare_pair_rank);
        m->children = pr_realloc(m->children, (n ? n : 1) * 2 * sizeof(*m->children));
        for (size_t i = 0; i < n; i++)
                if (refs[i].keep) {
                        m->children[2 * kept] = refs[i].key;
                        m->children[2 * kept + 1] = refs[i].value;
                        kept++;
                }
        m->n = kept;
}

static void on_collection_end(struct builder *b)
{
        struct spec_node *n;

        if (b->depth == 0)
                return;
        n = b->stack[--b->depth];
        n->complete = true;
        n->height = 1;
        for (size_t i = 0; i < n->n; i++)
                if (n->children[i]->height + 1 > n->height)
                        n->height = n->children[i]->height + 1;
        /* attach() counted this node as one; its children count now. */
        if (b->depth > 0)
                b->stack[b->depth - 1]->weight =
                    add_sat(b->stack[b->depth - 1]->weight, n->weight - 1);
        if (n->kind == SPEC_NODE_MAPPING) {
                /* libyaml always pairs keys with values (an absent value is
                 * an empty scalar), so the slot count is even here. */
                n->n /= 2;
                check_duplicates(b, n);
                apply_merges(b, n);
        }
}

static void on_document_end(struct builder *b, struct spec_yaml_stream *s)
{
        struct spec_yaml_doc *d;

        /* A document of only "---" or comments is a null scalar: skipped. */
        if (b->doc.root && b->doc.root->kind == SPEC_NODE_SCALAR &&
            b->doc.root->type == SPEC_SCALAR_NULL)
                b->doc.root = NULL;
        d = pr_array_grow(&s->docs, &s->n_docs, sizeof(*d));
        *d = b->doc;
        b->doc = (struct spec_yaml_doc){0};
        b->depth = 0;
        anchors_clear(b);
}

static void syntax_error(struct builder *b, const yaml_parser_t *p, size_t len)
{
        struct spec_pos pos;

        if (p->error == YAML_MEMORY_ERROR)
                abort(); /* as pr_malloc would */
        if (p->error == YAML_READER_ERROR) {
                pos = pos_of_offset(b->buf, len, p->problem_offset);
                if (p->problem_value >= 0)
                        error_at(b, pos, NULL, "%s: #%X", p->problem ? p->problem : "bad input",
                                 (unsigned)p->problem_value);
                else
                        error_at(b, pos, NULL, "%s", p->problem ? p->problem : "bad input");
                return;
        }
        pos = pos_of_mark(&p->problem_mark);
        /* The most common cause by far, and libyaml does not say it. */
        if (p->problem_mark.index < len && b->buf[p->problem_mark.index] == '\t')
                error_at(b, pos, NULL, "found a tab character: YAML indents with spaces only");
        else if (p->context)
                error_at(b, pos, NULL, "%s %s at line %zu column %zu",
                         p->problem ? p->problem : "syntax error", p->context,
                         p->context_mark.line + 1, p->context_mark.column + 1);
        else
                error_at(b, pos, NULL, "%s", p->problem ? p->problem : "syntax error");
}

static void handle_event(struct builder *b, const yaml_event_t *ev, struct spec_yaml_stream *s)
{
        switch (ev->type) {
        case YAML_DOCUMENT_START_EVENT:
                b->doc.pos = pos_of_mark(&ev->start_mark);
                break;
        case YAML_DOCUMENT_END_EVENT:
                on_document_end(b, s);
                break;
        case YAML_ALIAS_EVENT:
                on_alias(b, ev);
                break;
        case YAML_SCALAR_EVENT:
                on_scalar(b, ev);
                break;
        case YAML_SEQUENCE_START_EVENT:
                on_collection_start(b, ev, SPEC_NODE_SEQUENCE);
                break;
        case YAML_MAPPING_START_EVENT:
                on_collection_start(b, ev, SPEC_NODE_MAPPING);
                break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                on_collection_end(b);
                break;
        default:
                break;
        }
}

int spec_yaml_parse(const char *file, const char *buf, size_t len, struct spec_yaml_stream *ret,
                    struct spec_diags *diags)
{
        struct builder b = {.file = file, .buf = buf, .diags = diags};
        struct spec_yaml_stream s = {0};
        yaml_parser_t parser;
        bool done = false;

        if (len > SPEC_MAX_DOCUMENT_BYTES) {
                error_at(&b, (struct spec_pos){1, 1}, NULL, "manifest larger than %u bytes",
                         (unsigned)SPEC_MAX_DOCUMENT_BYTES);
                *ret = s;
                return b.errors;
        }
        if (!yaml_parser_initialize(&parser))
                abort();
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        while (!done && !b.stop) {
                yaml_event_t ev;

                if (!yaml_parser_parse(&parser, &ev)) {
                        syntax_error(&b, &parser, len);
                        break;
                }
                handle_event(&b, &ev, &s);
                done = ev.type == YAML_STREAM_END_EVENT;
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&parser);
        /* A document cut short by an error is dropped: its tree is partial. */
        doc_done(&b.doc);
        anchors_clear(&b);
        *ret = s;
        return b.errors;
}

static bool in_list(const char *s, const char *const *list)
{
        for (; *list; list++)
                if (strcmp(s, *list) == 0)
                        return true;
        return false;
}

/* strconv.ParseInt(s, 0, 64): sign, then 0x / 0o / 0b / leading-0 octal. */
static bool parse_go_int(const char *s, int64_t *ret)
{
        bool neg = false;
        unsigned base = 10;
        uint64_t v = 0;

        if (*s == '+' || *s == '-')
                neg = *s++ == '-';
        if (!*s)
                return false;
        if (s[0] == '0' && s[1]) {
                char p = (char)(s[1] | 0x20);
                if (p == 'x' || p == 'o' || p == 'b') {
                        base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
                        s += 2;
                        if (!*s)
                                return false;
                } else {
                        base = 8;
                        s++;
                }
        }
        for (; *s; s++) {
                unsigned d;

                if (*s >= '0' && *s <= '9')
                        d = (unsigned)(*s - '0');
                else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
                        d = (unsigned)((*s | 0x20) - 'a' + 10);
                else
                        return false;
                if (d >= base || __builtin_mul_overflow(v, base, &v) ||
                    __builtin_add_overflow(v, d, &v))
                        return false;
        }
        if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
                return false;
        *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return true;
}

/* go-yaml v2's float pattern: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_yaml_float(const char *s)
{
        size_t digits = 0;

        if (*s == '+' || *s == '-')
                s++;
        if (*s == '.') {
                for (s++; *s >= '0' && *s <= '9'; s++)
                        digits++;
                if (!digits)
                        return false;
        } else {
                for (; *s >= '0' && *s <= '9'; s++)
                        digits++;
                if (!digits)
                        return false;
                if (*s == '.')
                        for (s++; *s >= '0' && *s <= '9'; s++)
                                ;
        }
        if (*s == 'e' || *s == 'E') {
                digits = 0;
                s++;
                if (*s == '+' || *s == '-')
                        s++;
                for (; *s >= '0' && *s <= '9'; s++)
                        digits++;
                if (!digits)
                        return false;
        }
        return *s == '\0';
}

void spec_yaml_resolve_plain(struct spec_node *n)
{
        /* clang-format off */
        static const char *const yes[] = { "y", "Y", "yes", "Yes", "YES", "true", "True",
                                           "TRUE", "on", "On", "ON", NULL };
        /* clang-format on */
        /* clang-format off */
        static const char *const no[] = { "n", "N", "no", "No", "NO", "false", "False",
                                          "FALSE", "off", "Off", "OFF", NULL };
        /* clang-format on */
        /* clang-format off */
        static const char *const null[] = { "", "~", "null", "Null", "NULL", NULL };
        /* clang-format on */
        /* clang-format off */
        static const char *const nan[] = { ".nan", ".NaN", ".NAN", NULL };
        /* clang-format on */
        /* clang-format off */
        static const char *const inf[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                                           NULL };
        /* clang-format on */
        /* clang-format off */
        static const char *const ninf[] = { "-.inf", "-.Inf", "-.INF", NULL };
        /* clang-format on */
        _cleanup_free_ char *plain = NULL;
        size_t j = 0;
        char c = n->value[0];

        n->type = SPEC_SCALAR_STRING;
        if (strlen(n->value) != n->len)
                return;
        if (in_list(n->value, yes) || in_list(n->value, no)) {
                n->type = SPEC_SCALAR_BOOL;
                n->boolean = in_list(n->value, yes);
        } else if (in_list(n->value, null)) {
                n->type = SPEC_SCALAR_NULL;
        } else if (in_list(n->value, nan) || in_list(n->value, inf) || in_list(n->value, ninf)) {
                n->type = SPEC_SCALAR_FLOAT;
                n->number = in_list(n->value, nan)   ? NAN
                            : in_list(n->value, inf) ? INFINITY
                                                     : -INFINITY;
        }
        if (n->type != SPEC_SCALAR_STRING ||
            !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
                return;
        /* go-yaml drops every underscore before trying numbers. */
        plain = pr_malloc(n->len + 1);
        for (size_t i = 0; i < n->len; i++)
                if (n->value[i] != '_')
                        plain[j++] = n->value[i];
        plain[j] = '\0';
        if (parse_go_int(plain, &n->integer)) {
                n->type = SPEC_SCALAR_INT;
                n->number = (double)n->integer;
        } else if (is_yaml_float(plain)) {
                n->type = SPEC_SCALAR_FLOAT;
                n->number = strtod(plain, NULL);
        }
}

const char *spec_node_type_name(const struct spec_node *n)
{
        if (n->kind == SPEC_NODE_SEQUENCE)
                return "a list";
        if (n->kind == SPEC_NODE_MAPPING)
                return "an object";
        switch (n->type) {
        case SPEC_SCALAR_NULL:
                return "null";
        case SPEC_SCALAR_BOOL:
                return "a boolean";
        case SPEC_SCALAR_INT:
                return "an integer";
        case SPEC_SCALAR_FLOAT:
                return "a number";
        case SPEC_SCALAR_STRING:
                break;
        }
        return "a string";
}

const struct spec_node *spec_node_get(const struct spec_node *mapping, const char *key)
{
        if (!mapping || mapping->kind != SPEC_NODE_MAPPING)
                return NULL;
        for (size_t i = 0; i < mapping->n; i++)
                if (strcmp(spec_node_key(mapping, i)->value, key) == 0)
                        return spec_node_value(mapping, i);
        return NULL;
}
