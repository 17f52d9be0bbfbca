/* specs/ private: a YAML stream as a small tree of nodes with positions, typed
 * the way Kubernetes' sigs.k8s.io/yaml (go-yaml v2, YAML 1.1 resolution) types
 * them before they become JSON. Only specs/ includes this; no libyaml type
 * appears here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "specs/specs.h"

enum spec_node_kind {
        SPEC_NODE_SCALAR,
        SPEC_NODE_SEQUENCE,
        SPEC_NODE_MAPPING,
};

/* What a scalar means once resolved, as go-yaml v2 resolves it for JSON. */
enum spec_scalar_type {
        SPEC_SCALAR_NULL,
        SPEC_SCALAR_BOOL,
        SPEC_SCALAR_INT,
        SPEC_SCALAR_FLOAT,
        SPEC_SCALAR_STRING,
};

struct spec_node {
        enum spec_node_kind kind;
        struct spec_pos pos;
        /* Nodes in this subtree once every alias is expanded, saturated. */
        size_t weight;
        size_t height; /* collection levels in the expanded subtree; 0 for a scalar */
        bool complete; /* end event seen: aliasing an open node is a cycle */

        /* SPEC_NODE_SCALAR */
        char *value; /* NUL-terminated; may contain NULs before len */
        size_t len;
        bool quoted; /* any style but plain */
        char *tag;   /* explicit tag as written, expanded by libyaml; NULL if none */
        enum spec_scalar_type type;
        bool boolean;
        int64_t integer;
        double number; /* SPEC_SCALAR_FLOAT, and SPEC_SCALAR_INT as a double */

        /* SPEC_NODE_SEQUENCE: n items; SPEC_NODE_MAPPING: n pairs, keys at
         * children[2i] and values at children[2i+1]. Children are shared
         * when they come from an alias, so the tree is a DAG owned by its
         * document's arena. */
        size_t n;
        struct spec_node **children;
};

static inline struct spec_node *spec_node_key(const struct spec_node *m, size_t i)
{
        return m->children[2 * i];
}

static inline struct spec_node *spec_node_value(const struct spec_node *m, size_t i)
{
        return m->children[2 * i + 1];
}

/* One "---" document: its root and the arena that owns every node of it. */
struct spec_yaml_doc {
        struct spec_node *root; /* NULL for an empty document */
        struct spec_pos pos;
        size_t n_nodes;
        struct spec_node **nodes;
};

struct spec_yaml_stream {
        size_t n_docs;
        struct spec_yaml_doc *docs;
};

/* Parses a whole stream. Syntax errors, limits, duplicate keys and cycles
 * become error diagnostics against file; parsing stops at the first syntax
 * or limit error, and the documents completed before it are kept. Returns
 * the number of error diagnostics added (0: the stream is sound). */
int spec_yaml_parse(const char *file, const char *buf, size_t len, struct spec_yaml_stream *ret,
                    struct spec_diags *diags);
void spec_yaml_stream_done(struct spec_yaml_stream *s);

/* Resolves a plain scalar's text the YAML 1.1 way go-yaml v2 does. */
void spec_yaml_resolve_plain(struct spec_node *n);

/* "a string", "an integer", "a list", ... for messages. */
const char *spec_node_type_name(const struct spec_node *n);

/* The value of key in a mapping, or NULL. */
const struct spec_node *spec_node_get(const struct spec_node *mapping, const char *key);
