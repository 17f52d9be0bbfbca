/* podrun down and the reading of a pod's status from outside its
 * supervisor: signal the supervisor (checked by pid and start time), wait
 * for it, and tear down from the state file whatever a dead one left. It
 * owns the teardown after a crash; it must never signal a process whose
 * start time does not match the record, and never touch a pod whose lock
 * another live podrun holds. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
#include "pod/status.h"
#include "pod/supervisor-int.h"
#include "pod/supervisor.h"

static void free_cgp(struct cg **cg)
{
        *cg = cg_free(*cg);
}

/* net_pod_detach() needs only the name: it works after a crash and twice. */
void sup_detach_network(const char *root_dir, const char *name)
{
        struct net_config cfg = {};
        struct pr_error err = {};

        if (net_config_load(root_dir, &cfg, &err) < 0 ||
            net_pod_detach(&cfg, root_dir, name, &err) < 0)
                pr_log_warn("pod '%s': network: %s; ignoring", name, err.msg);
        net_config_done(&cfg);
}

/* Waits for a process that is not our child to exit, by its pidfd. */
static int wait_proc_gone(const struct state_proc *p, uint64_t timeout_usec)
{
        _cleanup_close_ int fd = -1;
        struct pollfd pfd;
        uint64_t deadline = pr_now_mono_usec() + timeout_usec;

        if (!state_proc_alive(p))
                return 0;
        fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
        if (fd < 0)
                return errno == ESRCH ? 0 : -errno;
        if (!state_proc_alive(p))
                return 0;
        pfd = (struct pollfd){.fd = fd, .events = POLLIN};
        for (;;) {
                uint64_t now = pr_now_mono_usec();
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
                if (r > 0)
                        return 0;
                if (r < 0 && errno != EINTR)
                        return -errno;
        }
}

static void kill_and_wait(const struct state_proc *p, const char *what, const char *pod)
{
        if (!state_proc_alive(p))
                return;
        if (state_proc_kill(p, SIGKILL) < 0)
                return;
        if (wait_proc_gone(p, 5 * PR_USEC_PER_SEC) < 0)
                pr_log_warn("pod '%s': %s (pid %d) did not die; ignoring", pod, what, (int)p->pid);
}

static int skeleton_from_state(const struct pod_state *st, const char *run_dir,
                               const char *root_dir, struct pod_plan **ret, struct pr_error *err)
{
        struct plan_options opts = {
            .run_dir = st->run_dir ? st->run_dir : run_dir,
            .root_dir = st->root_dir ? st->root_dir : root_dir,
            .netns_dir = st->netns_dir,
        };
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ bool *init = pr_calloc(st->n_containers + 1, sizeof(bool));

        for (size_t i = 0; i < st->n_containers; i++) {
                pr_strv_push(&names, st->containers[i].name);
                init[i] = st->containers[i].init;
        }
        return plan_build_skeleton(st->name, names, init, &opts, ret, err);
}

/* The pod's cgroup tree, by the parent recorded when it was made (a
 * relative parent is relative to our own cgroup, as it was to up's). */
static void remove_cgroups_from_state(const struct pod_state *st, const char *name)
{
        _cleanup_(free_cgp) struct cg *cg = NULL;
        struct pr_error err = {};

        for (size_t i = 0; i < st->n_resources; i++) {
                struct cg_options o = {.parent = st->resources[i].id};

                if (!pr_streq(st->resources[i].kind, "cgroup"))
                        continue;
                if (cg_pod_open(&o, name, &cg, &err) < 0 || cg_remove(cg, &err) < 0)
                        pr_log_warn("pod '%s': cgroups: %s; ignoring", name, err.msg);
                cg = cg_free(cg);
        }
}

/* Tears down what a dead supervisor left, under the pod's lock. */
static int teardown_from_state(const char *run_dir, const char *root_dir, const char *name,
                               struct pr_error *err)
{
        _cleanup_free_ char *pod_dir = state_pod_dir(run_dir, name);
        _cleanup_free_ char *path = state_path(run_dir, name);
        _cleanup_(state_freep) struct pod_state *st = NULL;
        _cleanup_(plan_freep) struct pod_plan *plan = NULL;
        _cleanup_close_ int lock = -1;
        struct pr_error ignored = {};
        int r;

        /* Not waiting: a live holder is a podrun starting this pod right now. */
        lock = state_lock(pod_dir, false, false, err);
        if (lock == -ENOENT)
                return 0; /* the supervisor removed everything */
        if (lock == -EBUSY)
                return pr_err_msg(err, EBUSY,
                                  "pod '%s' is being started or stopped by another podrun", name);
        if (lock < 0)
                return lock;
        if (state_read(path, &st, &ignored) < 0) {
                /* No state: a stale directory. Nothing we know of runs. */
                st = pr_calloc(1, sizeof(*st));
                st->name = pr_strdup(name);
        }
        for (size_t i = 0; i < st->n_containers; i++)
                kill_and_wait(&st->containers[i].proc, "container", name);
        kill_and_wait(&st->infra, "infra", name);
        if (state_has_resource(st, "network", "bridge"))
                sup_detach_network(st->root_dir ? st->root_dir : root_dir, name);
        remove_cgroups_from_state(st, name);
        r = skeleton_from_state(st, run_dir, root_dir, &plan, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < plan->n_containers; i++)
                if (ctr_cleanup(plan, &plan->containers[i], &ignored) < 0)
                        pr_log_warn("pod '%s': %s; ignoring", name, ignored.msg);
        if (infra_cleanup(plan, &ignored) < 0)
                pr_log_warn("pod '%s': %s; ignoring", name, ignored.msg);
        r = pr_rm_rf(plan->root_dir, err);
        if (r >= 0)
                r = pr_rm_rf(pod_dir, err);
        if (r < 0)
                return pr_err_wrap(err, "pod '%s'", name);
        return 0;
}

bool sup_pod_exists(const char *run_dir, const char *name)
{
        _cleanup_free_ char *pod_dir = state_pod_dir(run_dir, name);
        struct stat s;

        return lstat(pod_dir, &s) == 0 && S_ISDIR(s.st_mode);
}

/* Without a run dir there is no state: what can be known from the name
 * alone is the netns file and the pod's files under root. */
static int teardown_leftovers(const struct sup_down_options *o, const char *name,
                              struct pr_error *err)
{
        const char *run_dir = o->run_dir, *root_dir = o->root_dir;
        struct plan_options opts = {
            .run_dir = run_dir, .root_dir = root_dir, .netns_dir = o->netns_dir};
        _cleanup_(plan_freep) struct pod_plan *plan = NULL;
        struct pr_error ignored = {};
        struct stat s;
        int r;

        r = plan_build_skeleton(name, NULL, NULL, &opts, &plan, err);
        if (r < 0)
                return r;
        if (lstat(plan->root_dir, &s) < 0 && lstat(plan->netns_path, &s) < 0)
                return pr_err_msg(err, ENOENT, "pod '%s' not found", name);
        sup_detach_network(root_dir, name);
        if (o->cgroup_parent) {
                struct pod_state fake = {
                    .n_resources = 1,
                    .resources = &(struct state_resource){.kind = (char *)"cgroup",
                                                          .id = (char *)o->cgroup_parent}};
                remove_cgroups_from_state(&fake, name);
        }
        if (infra_cleanup(plan, &ignored) < 0)
                pr_log_warn("pod '%s': %s; ignoring", name, ignored.msg);
        r = pr_rm_rf(plan->root_dir, err);
        if (r >= 0 && sup_pod_exists(run_dir, name))
                r = pr_rm_rf(plan->run_dir, err);
        return r;
}

static void request_grace(const char *run_dir, const char *name, int grace_seconds)
{
        _cleanup_free_ char *pod_dir = state_pod_dir(run_dir, name);
        _cleanup_free_ char *path = pr_asprintf("%s/%s", pod_dir, SUP_GRACE_FILE);
        _cleanup_free_ char *text = pr_asprintf("%d\n", grace_seconds);
        struct pr_error err = {};

        if (grace_seconds >= 0 && pr_write_file_atomic(path, text, strlen(text), 0600, &err) < 0)
                pr_log_warn("pod '%s': %s; using the pod's grace period", name, err.msg);
}

int sup_down(const struct sup_down_options *o, const char *name, struct pr_error *err)
{
        const char *run_dir = o->run_dir, *root_dir = o->root_dir;
        _cleanup_free_ char *path = state_path(run_dir, name);
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct pr_error ignored = {};

        if (!name || !*name || strchr(name, '/') || name[0] == '.')
                return pr_err_usage(err, "'%s' is not a valid pod name", name ? name : "");
        if (!sup_pod_exists(run_dir, name))
                return teardown_leftovers(o, name, err);
        if (state_read(path, &st, &ignored) >= 0 && state_proc_alive(&st->supervisor)) {
                request_grace(run_dir, name, o->grace_seconds);
                if (state_proc_kill(&st->supervisor, SIGTERM) == 0 &&
                    wait_proc_gone(&st->supervisor, o->timeout_usec) == -ETIMEDOUT) {
                        pr_log_warn("pod '%s': the supervisor did not finish in time; killing it",
                                    name);
                        kill_and_wait(&st->supervisor, "supervisor", name);
                }
        }
        return teardown_from_state(run_dir, root_dir, name, err);
}

int sup_read_status(const char *run_dir, const char *name, struct pod_state **ret,
                    struct pr_error *err)
{
        _cleanup_free_ char *path = state_path(run_dir, name);
        _cleanup_(state_freep) struct pod_state *st = NULL;
        _cleanup_free_ bool *alive = NULL;
        int r;

        r = state_read(path, &st, err);
        if (r == -ENOENT)
                return pr_err_msg(err, ENOENT, "pod '%s' not found", name);
        if (r < 0)
                return r;
        if (!st->finished && !state_proc_alive(&st->supervisor)) {
                alive = pr_calloc(st->n_containers + 1, sizeof(bool));
                for (size_t i = 0; i < st->n_containers; i++)
                        alive[i] = state_proc_alive(&st->containers[i].proc);
                status_mark_supervisor_lost(st, alive, pr_now_real_usec());
        }
        *ret = PR_TAKE_PTR(st);
        return 0;
}
