/* The runtime tests' fixture: see runtime_common.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "pod/plan.h"
#include "pod/runtime.h"
#include "pod/security.h"
#include "tests/integration/runtime_common.h"

char t_tmp[64];
char *t_image_dir;
char *t_pause_path;

void t_setup(void)
{
        const char *build = getenv("PODRUN_BUILD_DIR");
        _cleanup_free_ char *probe = NULL;
        struct pr_error err = {};

        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (!build)
                cr_skip_test("PODRUN_BUILD_DIR is not set");
        probe = pr_asprintf("%s/tests/probe/probe", build);
        t_pause_path = pr_asprintf("%s/pod/pause/podrun-pause", build);
        if (access(probe, X_OK) < 0 || access(t_pause_path, X_OK) < 0 ||
            access("/bin/busybox", X_OK) < 0)
                cr_skip_test("probe, podrun-pause or /bin/busybox missing");
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
                cr_skip_test("unshare: %s", strerror(errno));
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        strcpy(t_tmp, "/tmp/podrun-runtime-XXXXXX");
        cr_assert_not_null(mkdtemp(t_tmp));
        t_image_dir = pr_asprintf("%s/image", t_tmp);
        /* The test image: the probe, busybox for sh, the usual empty dirs. */
        for (const char *d = "bin\0proc\0sys\0dev\0etc\0tmp\0"; *d; d += strlen(d) + 1) {
                _cleanup_free_ char *p = pr_asprintf("%s/%s", t_image_dir, d);
                cr_assert_eq(pr_mkdir_p(p, 0755, &err), 0, "%s", err.msg);
        }
        {
                _cleanup_free_ char *cmd = pr_asprintf(
                    "cp %s %s/probe && cp /bin/busybox %s/bin/busybox && ln -s busybox %s/bin/sh",
                    probe, t_image_dir, t_image_dir, t_image_dir);
                cr_assert_eq(system(cmd), 0);
        }
}

/* What a failed test left: its processes are killed through pidfds (never
 * by a pid that may have been reused), its mounts under t_tmp detached. */
static int leftover_pidfds[64];
static size_t n_leftover;

void t_track(int pidfd)
{
        if (n_leftover < PR_ELEMENTSOF(leftover_pidfds))
                leftover_pidfds[n_leftover++] = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
}

static void detach_mounts_under(const char *prefix)
{
        for (int pass = 0; pass < 8; pass++) {
                _cleanup_free_ char *info = NULL;
                struct pr_error err = {};
                bool any = false;
                char *save = NULL;

                if (pr_read_file("/proc/self/mountinfo", 1 << 20, &info, NULL, &err) < 0)
                        return;
                for (char *l = strtok_r(info, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        char mp[512];

                        if (sscanf(l, "%*s %*s %*s %*s %511s", mp) == 1 &&
                            pr_startswith(mp, prefix) && umount2(mp, MNT_DETACH) == 0)
                                any = true;
                }
                if (!any)
                        return;
        }
}

void t_teardown(void)
{
        struct pr_error err = {};

        for (size_t i = 0; i < n_leftover; i++) {
                if (leftover_pidfds[i] < 0)
                        continue;
                (void)pidfd_send_signal(leftover_pidfds[i], SIGKILL, NULL, 0);
                (void)close(leftover_pidfds[i]);
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        if (t_tmp[0])
                detach_mounts_under(t_tmp);
        if (t_tmp[0])
                cr_expect_eq(pr_rm_rf(t_tmp, &err), 0, "%s", err.msg);
        free(t_image_dir);
        free(t_pause_path);
}

/* ---- a pod cgroup -------------------------------------------------------- */

static char cg_parent[64];

int t_cg_pod_create(const char *name, struct cg **ret, struct pr_error *err)
{
        struct cg_options opts = {.parent = cg_parent};

        (void)snprintf(cg_parent, sizeof(cg_parent), "podrun-test-%d", (int)getpid());
        return cg_pod_create(&opts, name, ret, err);
}

void t_cg_pod_remove(struct cg **pod)
{
        static const char *const slots[] = {"memory",  "cpu",     "cpuacct", "pids",
                                            "freezer", "devices", "unified"};
        struct pr_error err = {};

        if (!*pod)
                return;
        /* Kills every container process the test left, too. */
        (void)cg_remove(*pod, &err);
        for (size_t i = 0; i < PR_ELEMENTSOF(slots); i++) {
                const char *p = cg_get_path(*pod, slots[i]);
                _cleanup_free_ char *dir = p ? pr_strdup(p) : NULL;

                if (dir) {
                        *strrchr(dir, '/') = '\0';
                        (void)rmdir(dir);
                }
        }
        *pod = cg_free(*pod);
}

/* ---- hand-built plans --------------------------------------------------- */

void t_pod_init(struct tpod *p, const char *name, bool share_pid)
{
        struct pod_plan *pl = &p->plan;

        memset(p, 0, sizeof(*p));
        p->infra.pidfd = -1;
        pl->name = pr_strdup(name);
        pl->hostname = pr_asprintf("%s-host", name);
        pl->run_dir = pr_asprintf("%s/run/pods/%s", t_tmp, name);
        pl->root_dir = pr_asprintf("%s/root/pods/%s", t_tmp, name);
        pl->netns_path = pr_asprintf("%s/netns/podrun-%s", t_tmp, name);
        pl->hosts_path = pr_asprintf("%s/etc/hosts", pl->run_dir);
        pl->hostname_path = pr_asprintf("%s/etc/hostname", pl->run_dir);
        pl->resolv_path = pr_asprintf("%s/etc/resolv.conf", pl->run_dir);
        pl->shm_dir = pr_asprintf("%s/shm", pl->run_dir);
        pl->share_pid = share_pid;
        pl->spec = &p->spec;
        p->spec.dns_policy = SPEC_DNS_DEFAULT;
        /* Two emptyDirs: "data" on disk, "mem" a tmpfs; and "info", a
         * downwardAPI volume whose files a test may set. */
        pl->volumes = p->volumes;
        pl->n_volumes = 3;
        p->volumes[0] = (struct plan_volume){
            .name = pr_strdup("data"),
            .type = SPEC_VOLUME_EMPTY_DIR,
            .mount_type = PLAN_MOUNT_BIND,
            .path = pr_asprintf("%s/volumes/data", pl->root_dir),
        };
        p->volumes[1] = (struct plan_volume){
            .name = pr_strdup("mem"),
            .type = SPEC_VOLUME_EMPTY_DIR,
            .mount_type = PLAN_MOUNT_TMPFS,
            .path = pr_asprintf("%s/volumes/mem", pl->run_dir),
            .size_bytes = 1 << 20,
        };
        p->volumes[2] = (struct plan_volume){
            .name = pr_strdup("info"),
            .type = SPEC_VOLUME_DOWNWARD_API,
            .mount_type = PLAN_MOUNT_BIND,
            .path = pr_asprintf("%s/volumes/info", pl->run_dir),
        };
}

/* argv as one string, split on '|'. */
struct tctr *t_pod_add(struct tpod *p, const char *name, const char *args)
{
        struct tctr *t = &p->ctrs[p->n_ctrs];
        struct plan_container *c = &t->c;
        _cleanup_free_ char *copy = pr_strdup(args);
        char *save = NULL;

        cr_assert_lt(p->n_ctrs, MAX_CTRS);
        memset(t, 0, sizeof(*t));
        t->proc = (struct ctr_process){
            .pidfd = -1, .stdout_fd = -1, .stderr_fd = -1, .stdin_fd = -1, .start_error_fd = -1};
        c->name = pr_strdup(name);
        c->index = p->n_ctrs++;
        c->image_rootfs = pr_strdup(t_image_dir);
        for (char *w = strtok_r(copy, "|", &save); w; w = strtok_r(NULL, "|", &save))
                pr_strv_push(&c->argv, w);
        pr_strv_push(&c->env, "PATH=/bin:/");
        c->working_dir = pr_strdup("/");
        c->dir = pr_asprintf("%s/containers/%s", p->plan.run_dir, name);
        c->upper_dir = pr_asprintf("%s/upper", c->dir);
        c->work_dir = pr_asprintf("%s/work", c->dir);
        c->rootfs = pr_asprintf("%s/rootfs", c->dir);
        c->mounts = t->mounts;
        p->plan.containers = NULL; /* containers are passed one by one */
        return t;
}

void t_mount(struct tctr *t, const struct plan_volume *v, const char *target, const char *sub_path,
             bool read_only)
{
        struct plan_mount *m = &t->mounts[t->c.n_mounts++];

        cr_assert_leq(t->c.n_mounts, MAX_MOUNTS);
        *m = (struct plan_mount){
            .type = v->mount_type,
            .volume = pr_strdup(v->name),
            .source = pr_strdup(v->path),
            .sub_path = sub_path ? pr_strdup(sub_path) : NULL,
            .target = pr_strdup(target),
            .read_only = read_only,
        };
}

static void free_ctr(struct tctr *t)
{
        struct plan_container *c = &t->c;

        ctr_process_close(&t->proc);
        free(c->name);
        free(c->image_rootfs);
        pr_strv_free(c->argv);
        pr_strv_free(c->env);
        free(c->working_dir);
        free(c->dir);
        free(c->upper_dir);
        free(c->work_dir);
        free(c->rootfs);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(t->mounts[i].volume);
                free(t->mounts[i].source);
                free(t->mounts[i].sub_path);
                free(t->mounts[i].target);
        }
}

static void free_pod(struct tpod *p)
{
        struct pod_plan *pl = &p->plan;

        for (size_t i = 0; i < p->n_ctrs; i++)
                free_ctr(&p->ctrs[i]);
        for (size_t i = 0; i < pl->n_volumes; i++) {
                free(p->volumes[i].name);
                free(p->volumes[i].path);
        }
        infra_done(&p->infra);
        free(pl->name);
        free(pl->hostname);
        free(pl->run_dir);
        free(pl->root_dir);
        free(pl->netns_path);
        free(pl->hosts_path);
        free(pl->hostname_path);
        free(pl->resolv_path);
        free(pl->shm_dir);
}

/* ---- running ------------------------------------------------------------ */

void t_pod_start(struct tpod *p)
{
        struct pr_error err = {};

        cr_assert_eq(infra_start(&p->plan, t_pause_path, &p->infra, &err), 0, "%s", err.msg);
        p->infra_started = true;
        t_track(p->infra.pidfd);
}

void t_spawn_with(struct tpod *p, struct tctr *t, const struct ctr_spawn_opts *opts)
{
        struct pr_error err = {};

        cr_assert_eq(ctr_spawn(&p->plan, &t->c, &p->infra, opts, &t->proc, &err), 0, "%s", err.msg);
        t->started = true;
        t_track(t->proc.pidfd);
}

void t_spawn(struct tpod *p, struct tctr *t)
{
        t_spawn_with(p, t, NULL);
}

/* Appends what fd has until EOF (or, with until, until that text shows). */
char *t_read_output(int fd, const char *until)
{
        char *buf = pr_strdup("");
        size_t len = 0;

        for (;;) {
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                char chunk[4096];
                ssize_t n;

                if (until && strstr(buf, until))
                        return buf;
                cr_assert_gt(poll(&pfd, 1, TIMEOUT_MS), 0, "timed out; output so far: %s", buf);
                n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EAGAIN)
                        continue;
                if (n < 0 && errno == EIO)
                        return buf; /* a terminal's master: the slave side is gone */
                cr_assert_geq(n, 0);
                if (n == 0)
                        return buf;
                buf = pr_realloc(buf, len + (size_t)n + 1);
                memcpy(buf + len, chunk, (size_t)n);
                len += (size_t)n;
                buf[len] = '\0';
        }
}

/* Waits for the start error pipe: 0 when exec succeeded, 1 with err. */
int t_start_result(struct tctr *t, struct pr_error *err)
{
        struct pollfd pfd = {.fd = t->proc.start_error_fd, .events = POLLIN};

        cr_assert_gt(poll(&pfd, 1, TIMEOUT_MS), 0, "no start result");
        return ctr_read_start_error(t->proc.start_error_fd, err);
}

int t_wait_exit(struct tctr *t)
{
        siginfo_t si = {};

        cr_assert_eq(waitid(P_PIDFD, (id_t)t->proc.pidfd, &si, WEXITED), 0);
        t->started = false;
        return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

/* Runs a one-shot container to its end; returns its stdout. */
char *t_run(struct tpod *p, struct tctr *t, int *ret_status)
{
        struct pr_error err = {};
        char *out;
        int status;

        t_spawn(p, t);
        cr_assert_eq(t_start_result(t, &err), 0, "start error: %s", err.msg);
        out = t_read_output(t->proc.stdout_fd, NULL);
        status = t_wait_exit(t);
        if (ret_status)
                *ret_status = status;
        else
                cr_assert_eq(status, 0, "container '%s' exited %d: %s", t->c.name, status, out);
        return out;
}

bool t_mounted_under(const char *prefix)
{
        _cleanup_free_ char *info = NULL;
        struct pr_error err = {};

        cr_assert_eq(pr_read_file("/proc/self/mountinfo", 1 << 20, &info, NULL, &err), 0);
        return strstr(info, prefix) != NULL;
}

bool t_exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

/* Stops and removes everything, then checks that nothing is left. */
void t_pod_down(struct tpod *p)
{
        struct pr_error err = {};
        pid_t infra_pid = p->infra.pid;

        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct tctr *t = &p->ctrs[i];

                if (t->started) {
                        (void)kill(t->proc.pid, SIGKILL);
                        (void)t_wait_exit(t);
                }
                cr_assert_eq(ctr_cleanup(&p->plan, &t->c, &err), 0, "%s", err.msg);
                cr_assert_eq(ctr_cleanup(&p->plan, &t->c, &err), 0, "twice: %s", err.msg);
                cr_assert_not(t_exists(t->c.dir), "'%s' is left", t->c.dir);
        }
        if (p->infra_started) {
                cr_assert_eq(infra_stop(&p->infra, 5 * PR_USEC_PER_SEC, &err), 0, "%s", err.msg);
                cr_assert(kill(infra_pid, 0) < 0 && errno == ESRCH, "infra still there");
        }
        cr_assert_eq(infra_cleanup(&p->plan, &err), 0, "%s", err.msg);
        cr_assert_eq(infra_cleanup(&p->plan, &err), 0, "twice: %s", err.msg);
        cr_assert_not(t_mounted_under(p->plan.run_dir), "a mount under %s is left",
                      p->plan.run_dir);
        cr_assert_not(t_mounted_under(p->plan.root_dir), "a mount under %s is left",
                      p->plan.root_dir);
        cr_assert_not(t_mounted_under(p->plan.netns_path), "%s is left", p->plan.netns_path);
        cr_assert_not(t_exists(p->plan.netns_path));
        cr_assert_not(t_exists(p->infra.ns_dir ? p->infra.ns_dir : p->plan.shm_dir));
        cr_assert_not(t_exists(p->plan.shm_dir));
        cr_assert_not(t_exists(p->volumes[0].path));
        cr_assert_not(t_exists(p->volumes[1].path));
        cr_assert_not(t_exists(p->volumes[2].path));
        cr_assert_not(t_exists(p->plan.hosts_path));
        free_pod(p);
}

/* The value after "name " on its line of probe ns output. */
char *t_ns_of(const char *out, const char *name)
{
        _cleanup_free_ char *key = pr_asprintf("\n%s ", name);
        _cleanup_free_ char *text = pr_asprintf("\n%s", out);
        const char *p = strstr(text, key);

        cr_assert_not_null(p, "no '%s' in %s", name, out);
        p += strlen(key);
        return pr_strndup(p, strcspn(p, "\n"));
}

char *t_host_ns(pid_t pid, const char *name)
{
        _cleanup_free_ char *path = pr_asprintf("/proc/%d/ns/%s", (int)pid, name);
        char buf[128];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);

        cr_assert_gt(n, 0, "readlink '%s': %s", path, strerror(errno));
        return pr_strndup(buf, (size_t)n);
}
