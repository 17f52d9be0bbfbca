/* The Volume object: emptyDir, hostPath, configMap, secret, downwardAPI and
 * projected sources, with the API server's volume defaults. Volume types a
 * single host cannot provide (network and cloud disks, claims) are errors,
 * not warnings: a mount of a volume that silently became something else
 * would lose data. It must never touch the host: hostPath is only a string. */
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/pod-int.h"

static bool take_source(struct conv *c, const char *what)
{
        if (c->oneof++ > 0) {
                conv_error(c, c->pos, "Forbidden: may not specify more than 1 %s", what);
                return false;
        }
        return true;
}

static void f_mode(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        int64_t v;

        (void)f;
        if (conv_int(c, n, INT32_MIN, INT32_MAX, &v))
                *(int32_t *)dst = (int32_t)v;
}

static void f_item_mode(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        struct spec_key_to_path *k = dst;
        int64_t v;

        (void)f;
        if (conv_int(c, n, INT32_MIN, INT32_MAX, &v)) {
                k->has_mode = true;
                k->mode = (int32_t)v;
        }
}

/* clang-format off */
static const struct field key_to_path_fields[] = {
        { "key", f_string, offsetof(struct spec_key_to_path, key), NULL },
        { "mode", f_item_mode, 0, NULL },
        { "path", f_string, offsetof(struct spec_key_to_path, path), NULL },
};
/* clang-format on */
static const struct object_desc key_to_path_desc = OBJECT_DESC(key_to_path_fields);

static void key_to_path_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_object_source *o = arg;
        struct spec_key_to_path *k;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        k = pr_array_grow(&o->items, &o->n_items, sizeof(*k));
        (void)conv_object(c, item, k, &key_to_path_desc);
}

/* dst: the struct spec_object_source the items belong to. */
static void f_key_to_path_items(struct conv *c, const struct spec_node *n, void *dst,
                                const struct field *f)
{
        (void)f;
        (void)conv_list(c, n, key_to_path_item, dst);
}

static void f_discard_string(struct conv *c, const struct spec_node *n, void *dst,
                             const struct field *f)
{
        (void)dst;
        (void)f;
        free(conv_strdup(c, n));
}

static void f_downward_mode(struct conv *c, const struct spec_node *n, void *dst,
                            const struct field *f)
{
        struct spec_downward_item *d = dst;
        int64_t v;

        (void)f;
        if (conv_int(c, n, INT32_MIN, INT32_MAX, &v)) {
                d->has_mode = true;
                d->mode = (int32_t)v;
        }
}

#define DI(member) offsetof(struct spec_downward_item, member)
/* Only "v1" exists for fieldRef.apiVersion: checked as a string, then
 * implied. */
/* clang-format off */
static const struct field downward_field_ref_fields[] = {
        { "apiVersion", f_discard_string, 0, NULL },
        { "fieldPath", f_string, DI(field_path), NULL },
};
/* clang-format on */
static const struct object_desc downward_field_ref_desc = OBJECT_DESC(downward_field_ref_fields);

/* clang-format off */
static const struct field downward_resource_ref_fields[] = {
        { "containerName", f_string, DI(container_name), NULL },
        { "divisor", f_quantity, DI(divisor), NULL },
        { "resource", f_string, DI(resource), NULL },
};
/* clang-format on */
static const struct object_desc downward_resource_ref_desc =
    OBJECT_DESC(downward_resource_ref_fields);

/* clang-format off */
static const struct field downward_item_fields[] = {
        { "fieldRef", f_object, 0, &downward_field_ref_desc },
        { "mode", f_downward_mode, 0, NULL },
        { "path", f_string, DI(path), NULL },
        { "resourceFieldRef", f_object, 0, &downward_resource_ref_desc },
};
/* clang-format on */
static const struct object_desc downward_item_desc = OBJECT_DESC(downward_item_fields);

struct downward_items {
        struct spec_downward_item **items;
        size_t *n;
};

static void downward_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct downward_items *list = arg;
        struct spec_downward_item *d;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        d = pr_array_grow(list->items, list->n, sizeof(*d));
        (void)conv_object(c, item, d, &downward_item_desc);
}

static void f_volume_downward_items(struct conv *c, const struct spec_node *n, void *dst,
                                    const struct field *f)
{
        struct spec_volume *v = dst;
        struct downward_items list = {&v->downward_items, &v->n_downward_items};

        (void)f;
        (void)conv_list(c, n, downward_item, &list);
}

static void f_projection_downward_items(struct conv *c, const struct spec_node *n, void *dst,
                                        const struct field *f)
{
        struct spec_projection *p = dst;
        struct downward_items list = {&p->downward_items, &p->n_downward_items};

        (void)f;
        (void)conv_list(c, n, downward_item, &list);
}

#define V(member) offsetof(struct spec_volume, member)
/* clang-format off */
static const struct field empty_dir_fields[] = {
        { "medium", f_enum, V(empty_dir.medium), &spec_storage_medium_table },
        { "sizeLimit", f_quantity, V(empty_dir.size_limit), NULL },
};
/* clang-format on */
static const struct object_desc empty_dir_desc = OBJECT_DESC(empty_dir_fields);

/* clang-format off */
static const struct field host_path_fields[] = {
        { "path", f_string, V(host_path.path), NULL },
        { "type", f_enum, V(host_path.type), &spec_host_path_type_table },
};
/* clang-format on */
static const struct object_desc host_path_desc = OBJECT_DESC(host_path_fields);

/* clang-format off */
static const struct field config_map_fields[] = {
        { "defaultMode", f_mode, V(default_mode), NULL },
        { "items", f_key_to_path_items, V(object), NULL },
        { "name", f_string, V(object.name), NULL },
        { "optional", f_bool, V(object.optional), NULL },
};
/* clang-format on */
static const struct object_desc config_map_desc = OBJECT_DESC(config_map_fields);

/* clang-format off */
static const struct field secret_fields[] = {
        { "defaultMode", f_mode, V(default_mode), NULL },
        { "items", f_key_to_path_items, V(object), NULL },
        { "optional", f_bool, V(object.optional), NULL },
        { "secretName", f_string, V(object.name), NULL },
};
/* clang-format on */
static const struct object_desc secret_desc = OBJECT_DESC(secret_fields);

/* clang-format off */
static const struct field downward_api_fields[] = {
        { "defaultMode", f_mode, V(default_mode), NULL },
        { "items", f_volume_downward_items, 0, NULL },
};
/* clang-format on */
static const struct object_desc downward_api_desc = OBJECT_DESC(downward_api_fields);

#define PJ(member) offsetof(struct spec_projection, member)
/* clang-format off */
static const struct field projected_object_fields[] = {
        { "items", f_key_to_path_items, PJ(object), NULL },
        { "name", f_string, PJ(object.name), NULL },
        { "optional", f_bool, PJ(object.optional), NULL },
};
/* clang-format on */
static const struct object_desc projected_object_desc = OBJECT_DESC(projected_object_fields);

/* clang-format off */
static const struct field projected_downward_fields[] = {
        { "items", f_projection_downward_items, 0, NULL },
};
/* clang-format on */
static const struct object_desc projected_downward_desc = OBJECT_DESC(projected_downward_fields);

/* clang-format off */
static const struct field token_fields[] = {
        { "audience", f_string, PJ(service_account_token.audience), NULL },
        { "expirationSeconds", f_int64, PJ(service_account_token.expiration_seconds), NULL },
        { "path", f_string, PJ(service_account_token.path), NULL },
};
/* clang-format on */
static const struct object_desc token_desc = OBJECT_DESC(token_fields);

struct projection_kind {
        enum spec_projection_type type;
        const struct object_desc *desc;
};

static const struct projection_kind projection_config_map = {SPEC_PROJECTION_CONFIG_MAP,
                                                             &projected_object_desc};
static const struct projection_kind projection_secret = {SPEC_PROJECTION_SECRET,
                                                         &projected_object_desc};
static const struct projection_kind projection_downward = {SPEC_PROJECTION_DOWNWARD_API,
                                                           &projected_downward_desc};
static const struct projection_kind projection_token = {SPEC_PROJECTION_SERVICE_ACCOUNT_TOKEN,
                                                        &token_desc};

static void f_projection_kind(struct conv *c, const struct spec_node *n, void *dst,
                              const struct field *f)
{
        const struct projection_kind *k = f->aux;
        struct spec_projection *p = dst;

        if (!take_source(c, "volume type per source"))
                return;
        p->type = k->type;
        (void)conv_object(c, n, p, k->desc);
}

static void f_projection_unsupported(struct conv *c, const struct spec_node *n, void *dst,
                                     const struct field *f)
{
        c->oneof++;
        f_unsupported(c, n, dst, f);
}

/* clang-format off */
static const struct field projection_fields[] = {
        { "clusterTrustBundle", f_projection_unsupported, 0,
          "podrun has no cluster trust bundles" },
        { "configMap", f_projection_kind, 0, &projection_config_map },
        { "downwardAPI", f_projection_kind, 0, &projection_downward },
        { "podCertificate", f_projection_unsupported, 0, "podrun issues no pod certificates" },
        { "secret", f_projection_kind, 0, &projection_secret },
        { "serviceAccountToken", f_projection_kind, 0, &projection_token },
};
/* clang-format on */
static const struct object_desc projection_desc = OBJECT_DESC(projection_fields);

static void projection_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_volume *v = arg;
        struct spec_projection *p;
        unsigned saved = c->oneof;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        p = pr_array_grow(&v->projections, &v->n_projections, sizeof(*p));
        p->type = _SPEC_PROJECTION_TYPE_INVALID;
        c->oneof = 0;
        (void)conv_object(c, item, p, &projection_desc);
        if (c->oneof == 0)
                conv_error(c, item->pos,
                           "Required value: must specify exactly 1 volume type "
                           "per source");
        c->oneof = saved;
}

static void f_projection_sources(struct conv *c, const struct spec_node *n, void *dst,
                                 const struct field *f)
{
        (void)f;
        (void)conv_list(c, n, projection_item, dst);
}

/* clang-format off */
static const struct field projected_fields[] = {
        { "defaultMode", f_mode, V(default_mode), NULL },
        { "sources", f_projection_sources, 0, NULL },
};
/* clang-format on */
static const struct object_desc projected_desc = OBJECT_DESC(projected_fields);

struct volume_kind {
        enum spec_volume_type type;
        const struct object_desc *desc;
};

static const struct volume_kind kind_empty_dir = {SPEC_VOLUME_EMPTY_DIR, &empty_dir_desc};
static const struct volume_kind kind_host_path = {SPEC_VOLUME_HOST_PATH, &host_path_desc};
static const struct volume_kind kind_config_map = {SPEC_VOLUME_CONFIG_MAP, &config_map_desc};
static const struct volume_kind kind_secret = {SPEC_VOLUME_SECRET, &secret_desc};
static const struct volume_kind kind_downward = {SPEC_VOLUME_DOWNWARD_API, &downward_api_desc};
static const struct volume_kind kind_projected = {SPEC_VOLUME_PROJECTED, &projected_desc};

static void f_volume_kind(struct conv *c, const struct spec_node *n, void *dst,
                          const struct field *f)
{
        const struct volume_kind *k = f->aux;
        struct spec_volume *v = dst;

        if (!take_source(c, "volume type"))
                return;
        v->type = k->type;
        (void)conv_object(c, n, v, k->desc);
}

/* Every other VolumeSource member of Kubernetes: an error, not unknown. */
static void f_remote_volume(struct conv *c, const struct spec_node *n, void *dst,
                            const struct field *f)
{
        (void)n;
        (void)dst;
        (void)f;
        (void)take_source(c, "volume type");
        conv_error(c, c->pos,
                   "not supported: podrun provides emptyDir, hostPath, configMap, "
                   "secret, downwardAPI and projected volumes only");
}

/* clang-format off */
static const struct field volume_fields[] = {
        { "awsElasticBlockStore", f_remote_volume, 0, NULL },
        { "azureDisk", f_remote_volume, 0, NULL },
        { "azureFile", f_remote_volume, 0, NULL },
        { "cephfs", f_remote_volume, 0, NULL },
        { "cinder", f_remote_volume, 0, NULL },
        { "configMap", f_volume_kind, 0, &kind_config_map },
        { "csi", f_remote_volume, 0, NULL },
        { "downwardAPI", f_volume_kind, 0, &kind_downward },
        { "emptyDir", f_volume_kind, 0, &kind_empty_dir },
        { "ephemeral", f_remote_volume, 0, NULL },
        { "fc", f_remote_volume, 0, NULL },
        { "flexVolume", f_remote_volume, 0, NULL },
        { "flocker", f_remote_volume, 0, NULL },
        { "gcePersistentDisk", f_remote_volume, 0, NULL },
        { "gitRepo", f_remote_volume, 0, NULL },
        { "glusterfs", f_remote_volume, 0, NULL },
        { "hostPath", f_volume_kind, 0, &kind_host_path },
        { "image", f_remote_volume, 0, NULL },
        { "iscsi", f_remote_volume, 0, NULL },
        { "name", f_string, V(name), NULL },
        { "nfs", f_remote_volume, 0, NULL },
        { "persistentVolumeClaim", f_remote_volume, 0, NULL },
        { "photonPersistentDisk", f_remote_volume, 0, NULL },
        { "portworxVolume", f_remote_volume, 0, NULL },
        { "projected", f_volume_kind, 0, &kind_projected },
        { "quobyte", f_remote_volume, 0, NULL },
        { "rbd", f_remote_volume, 0, NULL },
        { "scaleIO", f_remote_volume, 0, NULL },
        { "secret", f_volume_kind, 0, &kind_secret },
        { "storageos", f_remote_volume, 0, NULL },
        { "vsphereVolume", f_remote_volume, 0, NULL },
};
/* clang-format on */
const struct object_desc spec_volume_desc = OBJECT_DESC_AT(volume_fields, "spec.volumes[*]");

static void downward_defaults(struct spec_downward_item *items, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (items[i].resource && !items[i].divisor.set)
                        (void)spec_quantity_parse("1", &items[i].divisor);
}

void conv_volume_defaults(struct spec_volume *v)
{
        /* 0644, as the API server defaults every projecting source. */
        if (v->default_mode < 0)
                v->default_mode = 0644;
        downward_defaults(v->downward_items, v->n_downward_items);
        for (size_t i = 0; i < v->n_projections; i++) {
                struct spec_projection *p = &v->projections[i];
                downward_defaults(p->downward_items, p->n_downward_items);
                if (p->type == SPEC_PROJECTION_SERVICE_ACCOUNT_TOKEN &&
                    p->service_account_token.expiration_seconds == 0)
                        p->service_account_token.expiration_seconds = 3600;
        }
}

static void object_source_done(struct spec_object_source *o)
{
        free(o->name);
        for (size_t i = 0; i < o->n_items; i++) {
                free(o->items[i].key);
                free(o->items[i].path);
        }
        free(o->items);
}

static void downward_items_done(struct spec_downward_item *items, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(items[i].path);
                free(items[i].field_path);
                free(items[i].container_name);
                free(items[i].resource);
                spec_quantity_done(&items[i].divisor);
        }
        free(items);
}

void spec_volume_done(struct spec_volume *v)
{
        free(v->name);
        spec_quantity_done(&v->empty_dir.size_limit);
        free(v->host_path.path);
        object_source_done(&v->object);
        downward_items_done(v->downward_items, v->n_downward_items);
        for (size_t i = 0; i < v->n_projections; i++) {
                struct spec_projection *p = &v->projections[i];
                object_source_done(&p->object);
                downward_items_done(p->downward_items, p->n_downward_items);
                free(p->service_account_token.audience);
                free(p->service_account_token.path);
        }
        free(v->projections);
}
