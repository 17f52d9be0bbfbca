/* The plan's destructor and its JSON form (for `validate --plan`-style
 * debugging and tests). Plain data in, text out: no I/O. */
#include <json-c/json.h>
#include <stdlib.h>

#include "pod/base/util.h"
#include "pod/plan.h"

static void plan_container_done(struct plan_container *pc)
{
        free(pc->name);
        free(pc->image_ref);
        free(pc->image_id);
        free(pc->image_rootfs);
        pr_strv_free(pc->argv);
        pr_strv_free(pc->env);
        free(pc->working_dir);
        free(pc->groups);
        free(pc->dir);
        free(pc->upper_dir);
        free(pc->work_dir);
        free(pc->rootfs);
        free(pc->log_dir);
        for (size_t i = 0; i < pc->n_mounts; i++) {
                free(pc->mounts[i].volume);
                free(pc->mounts[i].source);
                free(pc->mounts[i].sub_path);
                free(pc->mounts[i].target);
        }
        free(pc->mounts);
        free(pc->late_env);
}

static void plan_volume_done(struct plan_volume *v)
{
        free(v->name);
        free(v->path);
        for (size_t i = 0; i < v->n_files; i++) {
                free(v->files[i].path);
                free(v->files[i].content);
        }
        free(v->files);
}

struct pod_plan *plan_free(struct pod_plan *plan)
{
        if (!plan)
                return NULL;
        for (size_t i = 0; i < plan->n_containers; i++)
                plan_container_done(&plan->containers[i]);
        free(plan->containers);
        for (size_t i = 0; i < plan->n_volumes; i++)
                plan_volume_done(&plan->volumes[i]);
        free(plan->volumes);
        free(plan->name);
        free(plan->namespace);
        free(plan->uid);
        free(plan->hostname);
        free(plan->fqdn);
        free(plan->run_dir);
        free(plan->root_dir);
        free(plan->state_path);
        free(plan->netns_path);
        free(plan->hosts_path);
        free(plan->hostname_path);
        free(plan->resolv_path);
        free(plan->shm_dir);
        free(plan->pod_ip);
        free(plan->host_ip);
        free(plan);
        return NULL;
}

static json_object *json_str(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

static json_object *json_strv(char *const *v)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

static json_object *mount_to_json(const struct plan_mount *m)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "type", json_str(plan_mount_type_to_string(m->type)));
        json_object_object_add(o, "volume", json_str(m->volume));
        json_object_object_add(o, "source", json_str(m->source));
        json_object_object_add(o, "subPath", json_str(m->sub_path));
        json_object_object_add(o, "target", json_str(m->target));
        json_object_object_add(o, "readOnly", json_object_new_boolean(m->read_only));
        json_object_object_add(o, "sizeBytes", json_object_new_int64((int64_t)m->size_bytes));
        json_object_object_add(o, "hostPath", json_object_new_boolean(m->host_path));
        if (m->host_path)
                json_object_object_add(o, "hostPathType",
                                       json_str(spec_host_path_type_to_string(m->host_path_type)));
        return o;
}

static json_object *container_to_json(const struct plan_container *c)
{
        json_object *o = json_object_new_object(), *groups = json_object_new_array(),
                    *mounts = json_object_new_array();

        json_object_object_add(o, "name", json_str(c->name));
        json_object_object_add(o, "init", json_object_new_boolean(c->init));
        json_object_object_add(o, "sidecar", json_object_new_boolean(c->sidecar));
        json_object_object_add(o, "restartPolicy",
                               json_str(spec_restart_policy_to_string(c->restart_policy)));
        json_object_object_add(o, "image", json_str(c->image_ref));
        json_object_object_add(o, "imageID", json_str(c->image_id));
        json_object_object_add(o, "imageRootfs", json_str(c->image_rootfs));
        json_object_object_add(o, "argv", json_strv(c->argv));
        json_object_object_add(o, "env", json_strv(c->env));
        json_object_object_add(o, "workingDir", json_str(c->working_dir));
        json_object_object_add(o, "uid", json_object_new_int64(c->uid));
        json_object_object_add(o, "gid", json_object_new_int64(c->gid));
        for (size_t i = 0; i < c->n_groups; i++)
                json_object_array_add(groups, json_object_new_int64(c->groups[i]));
        json_object_object_add(o, "groups", groups);
        json_object_object_add(o, "stopSignal", json_object_new_int(c->stop_signal));
        json_object_object_add(o, "gracePeriodUsec",
                               json_object_new_int64((int64_t)c->grace_period_usec));
        json_object_object_add(o, "dir", json_str(c->dir));
        json_object_object_add(o, "rootfs", json_str(c->rootfs));
        json_object_object_add(o, "logDir", json_str(c->log_dir));
        for (size_t i = 0; i < c->n_mounts; i++)
                json_object_array_add(mounts, mount_to_json(&c->mounts[i]));
        json_object_object_add(o, "mounts", mounts);
        json_object_object_add(o, "readOnlyRootfs", json_object_new_boolean(c->read_only_rootfs));
        return o;
}

static json_object *volume_to_json(const struct plan_volume *v)
{
        json_object *o = json_object_new_object(), *files = json_object_new_array();

        json_object_object_add(o, "name", json_str(v->name));
        json_object_object_add(o, "type", json_str(spec_volume_type_to_string(v->type)));
        json_object_object_add(o, "mountType", json_str(plan_mount_type_to_string(v->mount_type)));
        json_object_object_add(o, "path", json_str(v->path));
        for (size_t i = 0; i < v->n_files; i++) {
                json_object *f = json_object_new_object();

                json_object_object_add(f, "path", json_str(v->files[i].path));
                json_object_object_add(f, "content", json_str(v->files[i].content));
                json_object_object_add(f, "mode", json_object_new_int((int)v->files[i].mode));
                json_object_array_add(files, f);
        }
        json_object_object_add(o, "files", files);
        return o;
}

char *plan_to_json(const struct pod_plan *plan)
{
        json_object *o = json_object_new_object(), *cs = json_object_new_array(),
                    *vs = json_object_new_array();
        char *text;

        json_object_object_add(o, "name", json_str(plan->name));
        json_object_object_add(o, "namespace", json_str(plan->namespace));
        json_object_object_add(o, "uid", json_str(plan->uid));
        json_object_object_add(o, "hostname", json_str(plan->hostname));
        json_object_object_add(o, "fqdn", json_str(plan->fqdn));
        json_object_object_add(o, "runDir", json_str(plan->run_dir));
        json_object_object_add(o, "rootDir", json_str(plan->root_dir));
        json_object_object_add(o, "statePath", json_str(plan->state_path));
        json_object_object_add(o, "netnsPath", json_str(plan->netns_path));
        json_object_object_add(o, "restartPolicy",
                               json_str(spec_restart_policy_to_string(plan->restart_policy)));
        json_object_object_add(o, "gracePeriodUsec",
                               json_object_new_int64((int64_t)plan->grace_period_usec));
        json_object_object_add(o, "shareProcessNamespace",
                               json_object_new_boolean(plan->share_pid));
        for (size_t i = 0; i < plan->n_volumes; i++)
                json_object_array_add(vs, volume_to_json(&plan->volumes[i]));
        json_object_object_add(o, "volumes", vs);
        for (size_t i = 0; i < plan->n_containers; i++)
                json_object_array_add(cs, container_to_json(&plan->containers[i]));
        json_object_object_add(o, "containers", cs);
        text = pr_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return text;
}
