/* The pod's host objects as the supervisor makes and removes them: the
 * network (netsetup/), the cgroups (pod/cgroup.h), and the removal of
 * everything at the end. It owns the order of those steps and their record
 * in the state file (recorded before made); it must never run the loop or
 * signal a process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netsetup/netsetup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "pod/plan.h"
#include "pod/runtime.h"
#include "pod/state.h"
#include "pod/supervisor-int.h"
#include "pod/supervisor.h"
#include "pod/userns.h"

static void free_cgp(struct cg **cg)
{
        *cg = cg_free(*cg);
}

static void set_str(char **field, const char *value)
{
        free(*field);
        *field = value ? pr_strdup(value) : NULL;
}

/* The default parent is podrun's alone: once its last pod is gone it is
 * removed too (rmdir fails harmlessly while another pod lives there), so
 * nothing of podrun stays in the cgroup tree. */
static void remove_empty_parents(const struct cg *pod_cg)
{
        static const char *const controllers[] = {"memory",  "cpu",     "cpuacct", "pids",
                                                  "freezer", "devices", "unified"};

        for (size_t i = 0; i < PR_ELEMENTSOF(controllers); i++) {
                const char *path = cg_get_path(pod_cg, controllers[i]);
                _cleanup_free_ char *parent = NULL;

                if (!path || !strrchr(path, '/'))
                        continue;
                parent = pr_strndup(path, (size_t)(strrchr(path, '/') - path));
                (void)rmdir(parent);
        }
}

static void remove_cgroups(struct supervisor *sup)
{
        struct pr_error err = {};

        if (!sup->pod_cg)
                return;
        if (cg_remove(sup->pod_cg, &err) < 0) {
                pr_log_warn("pod '%s': %s; ignoring", sup->plan->name, err.msg);
                return;
        }
        state_remove_resource(sup->st, "cgroup",
                              sup->opts->cgroups->parent ? sup->opts->cgroups->parent
                                                         : CG_PARENT_DEFAULT);
        if (!sup->opts->cgroups_required)
                remove_empty_parents(sup->pod_cg);
}

void sup_remove_pod(struct supervisor *sup, bool keep_state)
{
        struct pr_error err = {};

        remove_cgroups(sup);

        if (state_has_resource(sup->st, "network", "bridge")) {
                sup_detach_network(sup->opts->root_dir, sup->plan->name);
                state_remove_resource(sup->st, "network", "bridge");
                free(sup->st->pod_ip);
                sup->st->pod_ip = NULL;
        }

        for (size_t i = 0; i < sup->plan->n_containers; i++)
                if (ctr_cleanup(sup->plan, &sup->plan->containers[i], &err) < 0) {
                        pr_log_warn("pod '%s': %s; ignoring", sup->plan->name, err.msg);
                        pr_error_clear(&err);
                }
        if (infra_cleanup(sup->plan, &err) < 0) {
                pr_log_warn("pod '%s': %s; ignoring", sup->plan->name, err.msg);
                pr_error_clear(&err);
        }
        state_remove_resource(sup->st, "infra", "pause");
        if (sup->infra.userns) {
                _cleanup_free_ char *range = userns_range_id(sup->infra.userns_start);

                state_remove_resource(sup->st, "userns", range);
        }
        if (keep_state)
                return;
        if (pr_rm_rf(sup->plan->root_dir, &err) < 0) {
                pr_log_warn("pod '%s': %s; ignoring", sup->plan->name, err.msg);
                pr_error_clear(&err);
        }
        if (pr_rm_rf(sup->plan->run_dir, &err) < 0)
                pr_log_warn("pod '%s': %s; ignoring", sup->plan->name, err.msg);
}

static void collect_host_ports(const struct pod_plan *plan, struct net_host_port **ret,
                               size_t *ret_n)
{
        for (size_t i = 0; plan->spec && i < plan->n_containers; i++) {
                const struct spec_container *c = plan->containers[i].spec;

                for (size_t j = 0; c && j < c->n_ports; j++) {
                        const struct spec_port *p = &c->ports[j];
                        struct net_host_port *h;

                        if (p->host_port <= 0)
                                continue;
                        h = pr_array_grow(ret, ret_n, sizeof(*h));
                        h->host_port = (uint16_t)p->host_port;
                        h->container_port = (uint16_t)p->container_port;
                        h->protocol =
                            p->protocol == SPEC_PROTOCOL_UDP ? NET_PROTOCOL_UDP : NET_PROTOCOL_TCP;
                        h->host_ip = p->host_ip;
                }
        }
}

/* The pod's eth0, address and routes, once the infra holds the network
 * namespace; recorded before it is made, so a crash in between is undone. */
int sup_attach_network(struct supervisor *sup, struct pr_error *err)
{
        struct net_config cfg = {};
        struct net_pod_result res = {};
        _cleanup_free_ struct net_host_port *ports = NULL;
        size_t n_ports = 0;
        struct net_pod pod = {.name = sup->plan->name,
                              .netns_path = sup->plan->netns_path,
                              .netns_fd = -1,
                              .owner_pid = getpid()};
        int r;

        if (!sup->opts->network || sup->plan->host_network)
                return 0;
        collect_host_ports(sup->plan, &ports, &n_ports);
        pod.ports = ports;
        pod.n_ports = n_ports;
        r = net_config_load(sup->opts->root_dir, &cfg, err);
        if (r >= 0) {
                state_add_resource(sup->st, "network", "bridge");
                sup_save(sup);
                r = net_pod_attach(&cfg, sup->opts->root_dir, &pod, &res, err);
        }
        net_config_done(&cfg);
        if (r < 0)
                return pr_err_wrap(err, "network");
        plan_set_pod_ip(sup->plan, res.ip4, res.gateway4);
        set_str(&sup->st->pod_ip, res.ip4);
        set_str(&sup->st->host_ip, res.gateway4);
        r = infra_write_hosts(sup->plan, res.ip4, err);
        sup_save(sup);
        return r;
}

/* The pod's cgroup, recorded before it is made. A host without usable
 * cgroups runs the pod without them unless a parent was asked for. */
int sup_create_pod_cgroup(struct supervisor *sup, struct pr_error *err)
{
        const struct cg_options *o = sup->opts->cgroups;
        struct cg_limits l = {};
        int r;

        if (!o)
                return 0;
        state_add_resource(sup->st, "cgroup", o->parent ? o->parent : CG_PARENT_DEFAULT);
        sup_save(sup);
        r = cg_pod_create(o, sup->plan->name, &sup->pod_cg, err);
        if (r >= 0 && sup->plan->spec) {
                cg_limits_from_pod(sup->plan->spec, &l);
                r = cg_apply_limits(sup->pod_cg, &l, err);
        }
        if (r >= 0)
                return 0;
        if (sup->opts->cgroups_required)
                return pr_err_wrap(err, "cgroups");
        pr_log_warn("pod '%s': cgroups: %s; running without them", sup->plan->name, err->msg);
        pr_error_clear(err);
        if (sup->pod_cg) {
                (void)cg_remove(sup->pod_cg, err);
                pr_error_clear(err);
                sup->pod_cg = cg_free(sup->pod_cg);
        }
        return 0;
}

void sup_attach_infra_cgroup(struct supervisor *sup)
{
        _cleanup_(free_cgp) struct cg *infra_cg = NULL;
        struct pr_error err = {};

        if (!sup->pod_cg)
                return;
        if (cg_infra_create(sup->pod_cg, &infra_cg, &err) < 0 ||
            cg_attach(infra_cg, sup->infra.pid, &err) < 0)
                pr_log_warn("pod '%s': infra cgroup: %s; ignoring", sup->plan->name, err.msg);
}
