/* Cgroups and the security profile wired into real containers the way the
 * supervisor wires them: infra_start(), then per container cg_container_create()
 * and ctr_spawn() with cg_after_clone as the after_clone hook and the
 * RuntimeDefault profile. A container that grows 10 MB at a time past its
 * 50 MB limit is OOM-killed (137, counted by cg_oom_killed_since) while its
 * sibling keeps running; a fork bomb stops at pids.max. Each test runs in
 * its own mount and network namespaces under a temporary root, with its
 * cgroups nested under the test's own, and removes all of it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
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

#define TIMEOUT_MS 30000

static char tmp[64];
static char parent[64];
static char *image_dir;
static char *pause_path;
static struct cg *pod_cg;

static void setup(void)
{
        const char *build = getenv("PODRUN_BUILD_DIR");
        _cleanup_free_ char *probe = NULL, *cmd = NULL;
        struct cg_options opts = {};
        struct pr_error err = {};
        enum cg_mode mode;

        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (!build)
                cr_skip_test("PODRUN_BUILD_DIR is not set");
        if (cg_detect(NULL, &mode, &err) < 0)
                cr_skip_test("no cgroups: %s", err.msg);
        probe = pr_asprintf("%s/tests/probe/probe", build);
        pause_path = pr_asprintf("%s/pod/pause/podrun-pause", build);
        if (access(probe, X_OK) < 0 || access(pause_path, X_OK) < 0)
                cr_skip_test("probe or podrun-pause missing");
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
                cr_skip_test("unshare: %s", strerror(errno));
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        strcpy(tmp, "/tmp/podrun-cgrt-XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        image_dir = pr_asprintf("%s/image", tmp);
        for (const char *d = "proc\0sys\0dev\0etc\0tmp\0"; *d; d += strlen(d) + 1) {
                _cleanup_free_ char *p = pr_asprintf("%s/%s", image_dir, d);
                cr_assert_eq(pr_mkdir_p(p, 0755, &err), 0, "%s", err.msg);
        }
        cmd = pr_asprintf("cp %s %s/probe", probe, image_dir);
        cr_assert_eq(system(cmd), 0);
        (void)snprintf(parent, sizeof(parent), "podrun-test-%d", (int)getpid());
        opts.parent = parent;
        cr_assert_eq(cg_pod_create(&opts, "web", &pod_cg, &err), 0, "%s", err.msg);
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

static void teardown(void)
{
        static const char *const slots[] = {"memory",  "cpu",     "cpuacct", "pids",
                                            "freezer", "devices", "unified"};
        struct pr_error err = {};

        if (pod_cg) {
                /* Kills every container process the test left, too. */
                (void)cg_remove(pod_cg, &err);
                for (size_t i = 0; i < PR_ELEMENTSOF(slots); i++) {
                        const char *p = cg_get_path(pod_cg, slots[i]);
                        _cleanup_free_ char *dir = p ? pr_strdup(p) : NULL;

                        if (dir) {
                                *strrchr(dir, '/') = '\0';
                                (void)rmdir(dir);
                        }
                }
                pod_cg = cg_free(pod_cg);
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        if (tmp[0]) {
                detach_mounts_under(tmp);
                cr_expect_eq(pr_rm_rf(tmp, &err), 0, "%s", err.msg);
        }
        free(image_dir);
        free(pause_path);
}

TestSuite(cgroup, .init = setup, .fini = teardown, .timeout = 90);

struct tctr {
        struct plan_container c;
        struct spec_container spec;
        struct ctr_process proc;
        struct cg *cg;
        struct sec_profile *sec;
        bool running;
};

struct tpod {
        struct spec_pod spec;
        struct pod_plan plan;
        struct infra infra;
};

static void pod_init(struct tpod *p)
{
        struct pod_plan *pl = &p->plan;
        struct pr_error err = {};

        memset(p, 0, sizeof(*p));
        p->infra.pidfd = -1;
        pl->name = pr_strdup("web");
        pl->hostname = pr_strdup("web");
        pl->run_dir = pr_asprintf("%s/run/pods/web", tmp);
        pl->root_dir = pr_asprintf("%s/root/pods/web", tmp);
        pl->netns_path = pr_asprintf("%s/netns/podrun-web", tmp);
        pl->hosts_path = pr_asprintf("%s/etc/hosts", pl->run_dir);
        pl->hostname_path = pr_asprintf("%s/etc/hostname", pl->run_dir);
        pl->resolv_path = pr_asprintf("%s/etc/resolv.conf", pl->run_dir);
        pl->shm_dir = pr_asprintf("%s/shm", pl->run_dir);
        pl->spec = &p->spec;
        p->spec.name = (char *)"web";
        p->spec.dns_policy = SPEC_DNS_DEFAULT;
        cr_assert_eq(infra_start(pl, pause_path, &p->infra, &err), 0, "%s", err.msg);
}

static void pod_fini(struct tpod *p)
{
        struct pod_plan *pl = &p->plan;
        struct pr_error err = {};

        cr_expect_eq(infra_stop(&p->infra, 5 * PR_USEC_PER_SEC, &err), 0, "%s", err.msg);
        cr_expect_eq(infra_cleanup(pl, &err), 0, "%s", err.msg);
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

/* Creates the container's cgroup with its limits, builds its profile and
 * spawns it, attached to the cgroup at ctr_spawn's sync point 2. */
static void start(struct tpod *p, struct tctr *t, const char *name, const char *args,
                  const struct cg_limits *limits)
{
        struct plan_container *c = &t->c;
        _cleanup_free_ char *copy = pr_strdup(args);
        struct ctr_spawn_opts opts = {.after_clone = cg_after_clone};
        struct pr_error err = {};
        char *save = NULL;

        memset(t, 0, sizeof(*t));
        t->proc = (struct ctr_process){
            .pidfd = -1, .stdout_fd = -1, .stderr_fd = -1, .stdin_fd = -1, .start_error_fd = -1};
        t->spec.name = (char *)name;
        t->spec.termination_message_path = (char *)"/dev/termination-log";
        c->name = pr_strdup(name);
        c->spec = &t->spec;
        c->image_rootfs = pr_strdup(image_dir);
        for (char *w = strtok_r(copy, "|", &save); w; w = strtok_r(NULL, "|", &save))
                pr_strv_push(&c->argv, w);
        pr_strv_push(&c->env, "PATH=/");
        c->working_dir = pr_strdup("/");
        c->dir = pr_asprintf("%s/containers/%s", p->plan.run_dir, name);
        c->upper_dir = pr_asprintf("%s/upper", c->dir);
        c->work_dir = pr_asprintf("%s/work", c->dir);
        c->rootfs = pr_asprintf("%s/rootfs", c->dir);
        cr_assert_eq(cg_container_create(pod_cg, name, limits, &t->cg, &err), 0, "%s", err.msg);
        cr_assert_eq(sec_profile_build(&p->plan, c, &t->sec, &err), 0, "%s", err.msg);
        opts.data = t->cg;
        opts.security = t->sec;
        cr_assert_eq(ctr_spawn(&p->plan, c, &p->infra, &opts, &t->proc, &err), 0, "%s", err.msg);
        t->running = true;
}

static int wait_exit(struct tctr *t)
{
        siginfo_t si = {};

        cr_assert_eq(waitid(P_PIDFD, (id_t)t->proc.pidfd, &si, WEXITED), 0);
        t->running = false;
        return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

static bool still_running(struct tctr *t)
{
        siginfo_t si = {};

        return waitid(P_PIDFD, (id_t)t->proc.pidfd, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               si.si_pid == 0;
}

/* Reads stdout until EOF or until text shows. */
static char *read_output(int fd, const char *until)
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
                cr_assert_geq(n, 0);
                if (n == 0)
                        return buf;
                buf = pr_realloc(buf, len + (size_t)n + 1);
                memcpy(buf + len, chunk, (size_t)n);
                len += (size_t)n;
                buf[len] = '\0';
        }
}

static void finish(struct tpod *p, struct tctr *t)
{
        struct pr_error err = {};

        if (t->running) {
                (void)pidfd_send_signal(t->proc.pidfd, SIGKILL, NULL, 0);
                (void)wait_exit(t);
        }
        cr_expect_eq(ctr_cleanup(&p->plan, &t->c, &err), 0, "%s", err.msg);
        cr_expect_eq(cg_remove(t->cg, &err), 0, "%s", err.msg);
        ctr_process_close(&t->proc);
        t->cg = cg_free(t->cg);
        t->sec = sec_profile_free(t->sec);
        free(t->c.name);
        free(t->c.image_rootfs);
        pr_strv_free(t->c.argv);
        pr_strv_free(t->c.env);
        free(t->c.working_dir);
        free(t->c.dir);
        free(t->c.upper_dir);
        free(t->c.work_dir);
        free(t->c.rootfs);
}

Test(cgroup, oom_killed_container_while_the_sibling_runs)
{
        struct cg_limits small = {
            .memory_bytes = 50 << 20, .pids_max = 64, .restrict_devices = true};
        struct cg_limits none = {.pids_max = 64, .restrict_devices = true};
        struct pr_error err = {};
        struct tpod p;
        struct tctr hog, side;
        _cleanup_free_ char *out = NULL, *side_out = NULL;
        uint64_t base = 0;

        pod_init(&p);
        start(&p, &side, "side", "/probe|sleep|inf", &none);
        start(&p, &hog, "hog", "/probe|grow|10", &small);
        cr_assert_eq(cg_oom_kill_count(hog.cg, &base, &err), 0, "%s", err.msg);
        out = read_output(hog.proc.stdout_fd, NULL);
        /* Killed by the kernel: 128 + SIGKILL, and the counter says why. */
        cr_assert_eq(wait_exit(&hog), 137, "%s", out);
        cr_assert(strstr(out, "40 MB\n"), "%s", out);
        cr_assert_null(strstr(out, "60 MB\n"), "%s", out);
        cr_assert_eq(cg_oom_killed_since(hog.cg, &base, &err), 1, "%s", err.msg);
        cr_assert(still_running(&side), "the sibling container died too");
        cr_assert_eq(cg_oom_killed_since(side.cg, &(uint64_t){0}, &err), 0);
        finish(&p, &hog);
        finish(&p, &side);
        pod_fini(&p);
}

Test(cgroup, fork_bomb_in_a_container_stops_at_pids_max)
{
        struct cg_limits l = {.pids_max = 64, .restrict_devices = true};
        struct tpod p;
        struct tctr bomb;
        _cleanup_free_ char *out = NULL;
        pid_t other;

        pod_init(&p);
        start(&p, &bomb, "bomb", "/probe|forkbomb", &l);
        out = read_output(bomb.proc.stdout_fd, NULL);
        /* The probe is one of the 64 tasks. */
        cr_assert_str_eq(out, "63 EAGAIN\n");
        cr_assert_eq(wait_exit(&bomb), 0);
        other = fork();
        cr_assert_geq(other, 0);
        if (other == 0)
                _exit(0);
        cr_assert_eq(waitpid(other, NULL, 0), other);
        finish(&p, &bomb);
        pod_fini(&p);
}
