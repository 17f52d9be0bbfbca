#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/specs.h"
#include "specs/yaml-int.h"

TestSuite(yaml);

struct parsed {
        struct spec_yaml_stream s;
        struct spec_diags d;
        int errors;
};

static void parse(struct parsed *p, const char *text)
{
        *p = (struct parsed){0};
        p->errors = spec_yaml_parse("t.yaml", text, strlen(text), &p->s, &p->d);
}

static void parsed_done(struct parsed *p)
{
        spec_yaml_stream_done(&p->s);
        spec_diags_done(&p->d);
}

/* The formatted diagnostic i, freed at the next call. */
static const char *diag(struct parsed *p, size_t i)
{
        static char *last;

        free(last);
        cr_assert_lt(i, p->d.n, "no diagnostic %zu (have %zu)", i, p->d.n);
        last = spec_diag_format(&p->d.items[i]);
        return last;
}

static const struct spec_node *get(const struct spec_node *root, const char *key)
{
        const struct spec_node *n = spec_node_get(root, key);
        cr_assert_not_null(n, "no key %s", key);
        return n;
}

Test(yaml, scalar_types_follow_go_yaml_v2)
{
        /* clang-format off */
        static const struct {
                const char *text;
                enum spec_scalar_type type;
                int64_t integer;
                bool boolean;
        } cases[] = {
                { "80", SPEC_SCALAR_INT, 80, false },
                { "\"80\"", SPEC_SCALAR_STRING, 0, false },
                { "'80'", SPEC_SCALAR_STRING, 0, false },
                { "-12", SPEC_SCALAR_INT, -12, false },
                { "+7", SPEC_SCALAR_INT, 7, false },
                { "0x1F", SPEC_SCALAR_INT, 31, false },
                { "0o17", SPEC_SCALAR_INT, 15, false },
                { "0644", SPEC_SCALAR_INT, 420, false },
                { "0b101", SPEC_SCALAR_INT, 5, false },
                { "1_000", SPEC_SCALAR_INT, 1000, false },
                { "08", SPEC_SCALAR_FLOAT, 0, false },
                { "1.5", SPEC_SCALAR_FLOAT, 0, false },
                { "1e3", SPEC_SCALAR_FLOAT, 0, false },
                { ".5", SPEC_SCALAR_FLOAT, 0, false },
                { ".inf", SPEC_SCALAR_FLOAT, 0, false },
                { "99999999999999999999", SPEC_SCALAR_FLOAT, 0, false },
                { "true", SPEC_SCALAR_BOOL, 0, true },
                { "True", SPEC_SCALAR_BOOL, 0, true },
                { "yes", SPEC_SCALAR_BOOL, 0, true },
                { "on", SPEC_SCALAR_BOOL, 0, true },
                { "y", SPEC_SCALAR_BOOL, 0, true },
                { "false", SPEC_SCALAR_BOOL, 0, false },
                { "no", SPEC_SCALAR_BOOL, 0, false },
                { "OFF", SPEC_SCALAR_BOOL, 0, false },
                { "\"true\"", SPEC_SCALAR_STRING, 0, false },
                { "null", SPEC_SCALAR_NULL, 0, false },
                { "~", SPEC_SCALAR_NULL, 0, false },
                { "", SPEC_SCALAR_NULL, 0, false },
                { "\"\"", SPEC_SCALAR_STRING, 0, false },
                { "2001-12-14", SPEC_SCALAR_STRING, 0, false },
                { "nginx:1.25", SPEC_SCALAR_STRING, 0, false },
                { "500m", SPEC_SCALAR_STRING, 0, false },
                { "0x", SPEC_SCALAR_STRING, 0, false },
                { "-x", SPEC_SCALAR_STRING, 0, false },
                { "TRUE1", SPEC_SCALAR_STRING, 0, false },
                { "!!str 80", SPEC_SCALAR_STRING, 0, false },
                { "!!int \"12\"", SPEC_SCALAR_INT, 12, false },
                { "! 12", SPEC_SCALAR_STRING, 0, false },
        };
        /* clang-format on */

        for (size_t i = 0; i < PR_ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = pr_asprintf("v: %s\n", cases[i].text);
                struct parsed p;
                const struct spec_node *v;

                parse(&p, text);
                cr_assert_eq(p.errors, 0, "%s: %zu diagnostics", cases[i].text, p.d.n);
                v = get(p.s.docs[0].root, "v");
                cr_assert_eq(v->kind, SPEC_NODE_SCALAR);
                cr_assert_eq(v->type, cases[i].type, "%s: type %d, want %d", cases[i].text, v->type,
                             cases[i].type);
                if (v->type == SPEC_SCALAR_INT)
                        cr_assert_eq(v->integer, cases[i].integer, "%s", cases[i].text);
                if (v->type == SPEC_SCALAR_BOOL)
                        cr_assert_eq(v->boolean, cases[i].boolean, "%s", cases[i].text);
                parsed_done(&p);
        }
}

Test(yaml, float_values)
{
        struct parsed p;

        parse(&p, "a: 1e3\nb: 08\nc: -.inf\nd: 2.50\n");
        cr_assert_eq(p.errors, 0);
        cr_assert_float_eq(get(p.s.docs[0].root, "a")->number, 1000.0, 1e-9);
        cr_assert_float_eq(get(p.s.docs[0].root, "b")->number, 8.0, 1e-9);
        cr_assert(isinf(get(p.s.docs[0].root, "c")->number));
        cr_assert_str_eq(get(p.s.docs[0].root, "d")->value, "2.50");
        parsed_done(&p);
}

Test(yaml, tree_shape_and_positions_count_from_one)
{
        struct parsed p;
        const struct spec_node *root, *spec, *ctrs, *c0;

        parse(&p, "kind: Pod\n"
                  "spec:\n"
                  "  containers:\n"
                  "  - name: app\n"
                  "    args: [a, \"b\"]\n");
        cr_assert_eq(p.errors, 0);
        cr_assert_eq(p.s.n_docs, 1);
        root = p.s.docs[0].root;
        cr_assert_eq(root->kind, SPEC_NODE_MAPPING);
        cr_assert_eq(root->n, 2);
        cr_assert_str_eq(spec_node_key(root, 0)->value, "kind");
        cr_assert_eq(spec_node_key(root, 0)->pos.line, 1);
        cr_assert_eq(spec_node_key(root, 0)->pos.column, 1);
        cr_assert_eq(spec_node_value(root, 0)->pos.column, 7);
        spec = get(root, "spec");
        ctrs = get(spec, "containers");
        cr_assert_eq(ctrs->kind, SPEC_NODE_SEQUENCE);
        cr_assert_eq(ctrs->n, 1);
        c0 = ctrs->children[0];
        cr_assert_eq(c0->pos.line, 4);
        cr_assert_eq(c0->pos.column, 5);
        cr_assert_eq(get(c0, "name")->pos.column, 11);
        cr_assert_eq(get(c0, "args")->n, 2);
        cr_assert_eq(get(c0, "args")->children[1]->quoted, true);
        cr_assert_eq(get(c0, "args")->children[0]->quoted, false);
        cr_assert_eq(get(c0, "args")->pos.line, 5);
        cr_assert_eq(get(c0, "args")->pos.column, 11);
        parsed_done(&p);
}

Test(yaml, multi_document_streams_and_empty_documents)
{
        struct parsed p;

        parse(&p, "a: 1\n---\n---\n# only a comment\n---\nb: 2\n...\n");
        cr_assert_eq(p.errors, 0);
        cr_assert_eq(p.s.n_docs, 4);
        cr_assert_not_null(p.s.docs[0].root);
        cr_assert_null(p.s.docs[1].root);
        cr_assert_null(p.s.docs[2].root);
        cr_assert_eq(get(p.s.docs[3].root, "b")->integer, 2);
        cr_assert_eq(p.s.docs[3].pos.line, 5);
        parsed_done(&p);

        parse(&p, "");
        cr_assert_eq(p.errors, 0);
        cr_assert_eq(p.s.n_docs, 0);
        parsed_done(&p);
}

Test(yaml, aliases_share_the_anchored_node)
{
        struct parsed p;
        const struct spec_node *root;

        parse(&p, "base: &b {image: busybox, tty: true}\n"
                  "one: *b\n"
                  "list: &l [x, y]\n"
                  "two: *l\n"
                  "s: &s text\n"
                  "t: *s\n");
        cr_assert_eq(p.errors, 0, "%zu", p.d.n);
        root = p.s.docs[0].root;
        cr_assert_eq(get(root, "one"), get(root, "base"));
        cr_assert_eq(get(root, "two")->n, 2);
        cr_assert_str_eq(get(root, "t")->value, "text");
        /* 1 root + 6 keys + base(1+4) + list(1+2) + s(1), the aliases expanded. */
        cr_assert_eq(root->weight, 1 + 6 + 5 + 5 + 3 + 3 + 1 + 1);
        parsed_done(&p);
}

Test(yaml, billion_laughs_is_refused_by_the_node_budget)
{
        struct parsed p;

        parse(&p, "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                  "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:6:8: error: manifest too large: more than 200000 "
                                      "nodes once aliases are expanded");
        /* The document cut short is dropped. */
        cr_assert_eq(p.s.n_docs, 0);
        parsed_done(&p);
}

Test(yaml, alias_count_is_bounded)
{
        _cleanup_free_ char *text = pr_strdup("a: &a x\nl:\n");
        struct parsed p;

        for (int i = 0; i < SPEC_MAX_ALIASES + 1; i++) {
                char *next = pr_asprintf("%s- *a\n", text);
                free(text);
                text = next;
        }
        parse(&p, text);
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:1003:3: error: too many aliases: more than 1000");
        parsed_done(&p);
}

Test(yaml, unknown_and_recursive_anchors)
{
        struct parsed p;

        parse(&p, "a: *nope\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:1:4: error: unknown anchor 'nope' referenced");
        parsed_done(&p);

        parse(&p, "a: &x [1, *x]\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:1:11: error: anchor 'x' value contains itself");
        parsed_done(&p);
}

static char *nested(size_t depth)
{
        char *s = pr_malloc(depth * 2 + 2);

        for (size_t i = 0; i < depth; i++) {
                s[i] = '[';
                s[depth + i] = ']';
        }
        s[depth * 2] = '\n';
        s[depth * 2 + 1] = '\0';
        return s;
}

Test(yaml, depth_is_bounded)
{
        _cleanup_free_ char *ok = nested(SPEC_MAX_DEPTH);
        _cleanup_free_ char *deep = nested(100000);
        struct parsed p;

        parse(&p, ok);
        cr_assert_eq(p.errors, 0);
        parsed_done(&p);
        parse(&p, deep);
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:1:65: error: nesting deeper than 64 levels");
        parsed_done(&p);
}

Test(yaml, depth_counts_aliases_expanded)
{
        _cleanup_free_ char *half = nested(40);
        _cleanup_free_ char *text = NULL;
        struct parsed p;

        half[80] = '\0';
        /* 40 levels anchored, then used 30 levels down: 70 once expanded. */
        text = pr_asprintf(
            "a: &a %s\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n", half);
        parse(&p, text);
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:2:33: error: nesting deeper than 64 levels");
        parsed_done(&p);
}

Test(yaml, scalar_and_document_sizes_are_bounded)
{
        size_t n = SPEC_MAX_SCALAR_BYTES + 1;
        _cleanup_free_ char *text = pr_malloc(n + 8);
        _cleanup_free_ char *big = pr_malloc(SPEC_MAX_DOCUMENT_BYTES + 2);
        struct parsed p;

        memcpy(text, "a: ", 3);
        memset(text + 3, 'x', n);
        strcpy(text + 3 + n, "\n");
        parse(&p, text);
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:1:4: error: scalar longer than 1048576 bytes");
        parsed_done(&p);

        memset(big, '#', SPEC_MAX_DOCUMENT_BYTES + 1);
        big[SPEC_MAX_DOCUMENT_BYTES + 1] = '\0';
        parse(&p, big);
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:1:1: error: manifest larger than 4194304 bytes");
        parsed_done(&p);
}

Test(yaml, duplicate_keys_name_the_path)
{
        struct parsed p;

        parse(&p, "spec:\n"
                  "  containers:\n"
                  "  - name: a\n"
                  "    image: x\n"
                  "    name: b\n"
                  "    name: c\n");
        cr_assert_eq(p.errors, 2);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:5:5: error: spec.containers[0].name: duplicate "
                                      "field \"name\" (first given at line 3)");
        cr_assert_str_eq(diag(&p, 1), "t.yaml:6:5: error: spec.containers[0].name: duplicate "
                                      "field \"name\" (first given at line 3)");
        parsed_done(&p);

        parse(&p, "a: 1\n\"a\": 2\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0),
                         "t.yaml:2:1: error: a: duplicate field \"a\" (first given at line 1)");
        parsed_done(&p);
}

Test(yaml, syntax_errors_carry_libyaml_text_and_mark)
{
        struct parsed p;

        parse(&p, "a: 1\nb: [1, 2\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:3:1: error: did not find expected ',' or ']' "
                                      "while parsing a flow sequence at line 2 column 4");
        parsed_done(&p);

        parse(&p, "a:\n  b: 1\n c: 2\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:3:2: error: did not find expected key while "
                                      "parsing a block mapping at line 1 column 1");
        parsed_done(&p);

        parse(&p, "a: \"x\xff\"\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:1:6: error: invalid leading UTF-8 octet: #FF");
        parsed_done(&p);
}

Test(yaml, documents_before_a_syntax_error_are_kept)
{
        struct parsed p;

        parse(&p, "a: 1\n---\nb: [\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_eq(p.s.n_docs, 1);
        cr_assert_eq(get(p.s.docs[0].root, "a")->integer, 1);
        parsed_done(&p);
}

Test(yaml, collection_keys_and_bad_tags_are_errors)
{
        struct parsed p;

        parse(&p, "? [a, b]\n: c\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:1:3: error: a mapping key must be a string, not "
                                      "a list");
        parsed_done(&p);

        parse(&p, "spec:\n  port: !!int eighty\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0),
                         "t.yaml:2:9: error: spec.port: cannot decode \"eighty\" as !!int");
        parsed_done(&p);
}

Test(yaml, type_names)
{
        struct parsed p;
        const struct spec_node *r;

        parse(&p, "a: [1]\nb: {c: d}\nc: 1\nd: 1.5\ne: true\nf: null\ng: s\n");
        r = p.s.docs[0].root;
        cr_assert_str_eq(spec_node_type_name(get(r, "a")), "a list");
        cr_assert_str_eq(spec_node_type_name(get(r, "b")), "an object");
        cr_assert_str_eq(spec_node_type_name(get(r, "c")), "an integer");
        cr_assert_str_eq(spec_node_type_name(get(r, "d")), "a number");
        cr_assert_str_eq(spec_node_type_name(get(r, "e")), "a boolean");
        cr_assert_str_eq(spec_node_type_name(get(r, "f")), "null");
        cr_assert_str_eq(spec_node_type_name(get(r, "g")), "a string");
        cr_assert_null(spec_node_get(r, "zz"));
        parsed_done(&p);
}

Test(yaml, merge_keys_follow_the_yaml_spec)
{
        struct parsed p;
        const struct spec_node *root, *c, *d;

        parse(&p, "base: &base {image: busybox, tty: true, name: base}\n"
                  "more: &more {name: more, stdin: true, tty: false}\n"
                  "c:\n"
                  "  name: app\n"
                  "  <<: *base\n"
                  "  args: [x]\n"
                  "d:\n"
                  "  <<: [*more, *base]\n");
        cr_assert_eq(p.errors, 0, "%s", p.d.n ? diag(&p, 0) : "");
        root = p.s.docs[0].root;
        c = get(root, "c");
        cr_assert_eq(c->n, 4);
        cr_assert_str_eq(spec_node_key(c, 0)->value, "name");
        cr_assert_str_eq(get(c, "name")->value, "app", "the mapping's own key wins");
        cr_assert_str_eq(get(c, "image")->value, "busybox");
        cr_assert(get(c, "tty")->boolean);
        cr_assert_str_eq(spec_node_key(c, 3)->value, "args");
        cr_assert_null(spec_node_get(c, "<<"));
        d = get(root, "d");
        cr_assert_eq(d->n, 4);
        cr_assert_str_eq(get(d, "name")->value, "more", "the earlier merged mapping wins");
        cr_assert_not(get(d, "tty")->boolean);
        cr_assert_str_eq(get(d, "image")->value, "busybox");
        parsed_done(&p);

        parse(&p, "a:\n  <<: [x]\n");
        cr_assert_eq(p.errors, 1);
        cr_assert_str_eq(diag(&p, 0), "t.yaml:2:8: error: a.<<: a merge key takes a mapping or a "
                                      "list of mappings, not a string");
        parsed_done(&p);

        parse(&p, "a: {\"<<\": {b: 1}}\n");
        cr_assert_eq(p.errors, 0);
        cr_assert_not_null(spec_node_get(get(p.s.docs[0].root, "a"), "<<"), "a quoted key is "
                                                                            "not a merge");
        parsed_done(&p);
}
