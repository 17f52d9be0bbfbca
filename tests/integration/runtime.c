/* The composition of a pod, checked from inside its containers: an infra
 * process and containers of two pods started by infra_start() and
 * ctr_spawn() from hand-built plans, running the probe (and busybox sh to
 * chain probe commands) in an overlay of a test image. Each test runs in its
 * own mount and network namespaces under a temporary --root/--run-dir, and
 * ends by checking that cleanup left no process, mount, namespace file or
 * overlay directory behind. */
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
#include "pod/plan.h"
#include "pod/runtime.h"
#include "pod/security.h"

#define TIMEOUT_MS 20000
#define MAX_CTRS 4
#define MAX_MOUNTS 4

static char tmp[64];
static char *image_dir;
static char *pause_path;

static void setup(void)
{
        const char *build = getenv("PODRUN_BUILD_DIR");
        _cleanup_free_ char *probe = NULL;
        struct pr_error err = {};

        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (!build)
                cr_skip_test("PODRUN_BUILD_DIR is not set");
        probe = pr_asprintf("%s/tests/probe/probe", build);
        pause_path = pr_asprintf("%s/pod/pause/podrun-pause", build);
        if (access(probe, X_OK) < 0 || access(pause_path, X_OK) < 0 ||
            access("/bin/busybox", X_OK) < 0)
                cr_skip_test("probe, podrun-pause or /bin/busybox missing");
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
                cr_skip_test("unshare: %s", strerror(errno));
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        strcpy(tmp, "/tmp/podrun-runtime-XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        image_dir = pr_asprintf("%s/image", tmp);
        /* The test image: the probe, busybox for sh, the usual empty dirs. */
        for (const char *d = "bin\0proc\0sys\0dev\0etc\0tmp\0"; *d; d += strlen(d) + 1) {
                _cleanup_free_ char *p = pr_asprintf("%s/%s", image_dir, d);
                cr_assert_eq(pr_mkdir_p(p, 0755, &err), 0, "%s", err.msg);
        }
        {
                _cleanup_free_ char *cmd = pr_asprintf(
                    "cp %s %s/probe && cp /bin/busybox %s/bin/busybox && ln -s busybox %s/bin/sh",
                    probe, image_dir, image_dir, image_dir);
                cr_assert_eq(system(cmd), 0);
        }
}

/* What a failed test left: its processes are killed through pidfds (never
 * by a pid that may have been reused), its mounts under tmp detached. */
static int leftover_pidfds[64];
static size_t n_leftover;

static void track(int pidfd)
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

static void teardown(void)
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
        if (tmp[0])
                detach_mounts_under(tmp);
        if (tmp[0])
                cr_expect_eq(pr_rm_rf(tmp, &err), 0, "%s", err.msg);
        free(image_dir);
        free(pause_path);
}

TestSuite(runtime, .init = setup, .fini = teardown, .timeout = 60);

/* ---- hand-built plans --------------------------------------------------- */

struct tctr {
        struct plan_container c;
        struct plan_mount mounts[MAX_MOUNTS];
        struct ctr_process proc;
        bool started;
};

struct tpod {
        struct spec_pod spec;
        struct pod_plan plan;
        struct plan_volume volumes[2];
        struct tctr ctrs[MAX_CTRS];
        size_t n_ctrs;
        struct infra infra;
        bool infra_started;
};

static void pod_init(struct tpod *p, const char *name, bool share_pid)
{
        struct pod_plan *pl = &p->plan;

        memset(p, 0, sizeof(*p));
        p->infra.pidfd = -1;
        pl->name = pr_strdup(name);
        pl->hostname = pr_asprintf("%s-host", name);
        pl->run_dir = pr_asprintf("%s/run/pods/%s", tmp, name);
        pl->root_dir = pr_asprintf("%s/root/pods/%s", tmp, name);
        pl->netns_path = pr_asprintf("%s/netns/podrun-%s", tmp, name);
        pl->hosts_path = pr_asprintf("%s/etc/hosts", pl->run_dir);
        pl->hostname_path = pr_asprintf("%s/etc/hostname", pl->run_dir);
        pl->resolv_path = pr_asprintf("%s/etc/resolv.conf", pl->run_dir);
        pl->shm_dir = pr_asprintf("%s/shm", pl->run_dir);
        pl->share_pid = share_pid;
        pl->spec = &p->spec;
        p->spec.dns_policy = SPEC_DNS_DEFAULT;
        /* Two emptyDirs: "data" on disk, "mem" a tmpfs. */
        pl->volumes = p->volumes;
        pl->n_volumes = 2;
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
}

/* argv as one string, split on '|'. */
static struct tctr *pod_add(struct tpod *p, const char *name, const char *args)
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
        c->image_rootfs = pr_strdup(image_dir);
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

static void ctr_mount(struct tctr *t, const struct plan_volume *v, const char *target,
                      const char *sub_path, bool read_only)
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

static void ctr_free(struct tctr *t)
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

static void pod_free(struct tpod *p)
{
        struct pod_plan *pl = &p->plan;

        for (size_t i = 0; i < p->n_ctrs; i++)
                ctr_free(&p->ctrs[i]);
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

static void pod_start(struct tpod *p)
{
        struct pr_error err = {};

        cr_assert_eq(infra_start(&p->plan, pause_path, &p->infra, &err), 0, "%s", err.msg);
        p->infra_started = true;
        track(p->infra.pidfd);
}

static void spawn(struct tpod *p, struct tctr *t)
{
        struct pr_error err = {};

        cr_assert_eq(ctr_spawn(&p->plan, &t->c, &p->infra, NULL, &t->proc, &err), 0, "%s", err.msg);
        t->started = true;
        track(t->proc.pidfd);
}

/* Appends what fd has until EOF (or, with until, until that text shows). */
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
static int start_result(struct tctr *t, struct pr_error *err)
{
        struct pollfd pfd = {.fd = t->proc.start_error_fd, .events = POLLIN};

        cr_assert_gt(poll(&pfd, 1, TIMEOUT_MS), 0, "no start result");
        return ctr_read_start_error(t->proc.start_error_fd, err);
}

static int wait_exit(struct tctr *t)
{
        siginfo_t si = {};

        cr_assert_eq(waitid(P_PIDFD, (id_t)t->proc.pidfd, &si, WEXITED), 0);
        t->started = false;
        return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

/* Runs a one-shot container to its end; returns its stdout. */
static char *run(struct tpod *p, struct tctr *t, int *ret_status)
{
        struct pr_error err = {};
        char *out;
        int status;

        spawn(p, t);
        cr_assert_eq(start_result(t, &err), 0, "start error: %s", err.msg);
        out = read_output(t->proc.stdout_fd, NULL);
        status = wait_exit(t);
        if (ret_status)
                *ret_status = status;
        else
                cr_assert_eq(status, 0, "container '%s' exited %d: %s", t->c.name, status, out);
        return out;
}

static bool mounted_under(const char *prefix)
{
        _cleanup_free_ char *info = NULL;
        struct pr_error err = {};

        cr_assert_eq(pr_read_file("/proc/self/mountinfo", 1 << 20, &info, NULL, &err), 0);
        return strstr(info, prefix) != NULL;
}

static bool exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

/* Stops and removes everything, then checks that nothing is left. */
static void pod_down(struct tpod *p)
{
        struct pr_error err = {};
        pid_t infra_pid = p->infra.pid;

        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct tctr *t = &p->ctrs[i];

                if (t->started) {
                        (void)kill(t->proc.pid, SIGKILL);
                        (void)wait_exit(t);
                }
                cr_assert_eq(ctr_cleanup(&p->plan, &t->c, &err), 0, "%s", err.msg);
                cr_assert_eq(ctr_cleanup(&p->plan, &t->c, &err), 0, "twice: %s", err.msg);
                cr_assert_not(exists(t->c.dir), "'%s' is left", t->c.dir);
        }
        if (p->infra_started) {
                cr_assert_eq(infra_stop(&p->infra, 5 * PR_USEC_PER_SEC, &err), 0, "%s", err.msg);
                cr_assert(kill(infra_pid, 0) < 0 && errno == ESRCH, "infra still there");
        }
        cr_assert_eq(infra_cleanup(&p->plan, &err), 0, "%s", err.msg);
        cr_assert_eq(infra_cleanup(&p->plan, &err), 0, "twice: %s", err.msg);
        cr_assert_not(mounted_under(p->plan.run_dir), "a mount under %s is left", p->plan.run_dir);
        cr_assert_not(mounted_under(p->plan.root_dir), "a mount under %s is left",
                      p->plan.root_dir);
        cr_assert_not(mounted_under(p->plan.netns_path), "%s is left", p->plan.netns_path);
        cr_assert_not(exists(p->plan.netns_path));
        cr_assert_not(exists(p->infra.ns_dir ? p->infra.ns_dir : p->plan.shm_dir));
        cr_assert_not(exists(p->plan.shm_dir));
        cr_assert_not(exists(p->volumes[0].path));
        cr_assert_not(exists(p->volumes[1].path));
        cr_assert_not(exists(p->plan.hosts_path));
        pod_free(p);
}

/* The value after "name " on its line of probe ns output. */
static char *ns_of(const char *out, const char *name)
{
        _cleanup_free_ char *key = pr_asprintf("\n%s ", name);
        _cleanup_free_ char *text = pr_asprintf("\n%s", out);
        const char *p = strstr(text, key);

        cr_assert_not_null(p, "no '%s' in %s", name, out);
        p += strlen(key);
        return pr_strndup(p, strcspn(p, "\n"));
}

static char *host_ns(pid_t pid, const char *name)
{
        _cleanup_free_ char *path = pr_asprintf("/proc/%d/ns/%s", (int)pid, name);
        char buf[128];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);

        cr_assert_gt(n, 0, "readlink '%s': %s", path, strerror(errno));
        return pr_strndup(buf, (size_t)n);
}

/* ---- tests -------------------------------------------------------------- */

#define A1_SCRIPT                                                                                  \
        "sh|-c|/probe ns; /probe ipc-create 4242; /probe write /data/shared from-a1;"              \
        " /probe write /rootfile a1-only; /probe write /mem/m in-tmpfs; echo READY;"               \
        " exec /probe sleep inf"
#define PEER_SCRIPT                                                                                \
        "sh|-c|/probe ns; echo HOST $(/probe hostname); echo IPC $(/probe ipc-check 4242);"        \
        " echo DATA $(/probe cat /data/shared); echo MEM $(/probe cat /mem/m);"                    \
        " echo ROOT $(/probe cat /rootfile); echo PS; exec /probe ps"

Test(runtime, pod_composition)
{
        struct tpod a, b;
        struct tctr *a1, *a2, *b1;
        _cleanup_free_ char *out1 = NULL, *out2 = NULL, *outb = NULL;
        const char *names[] = {"net", "ipc", "uts", "pid", "mnt"};

        pod_init(&a, "alpha", false);
        pod_init(&b, "beta", false);
        a1 = pod_add(&a, "one", A1_SCRIPT);
        a2 = pod_add(&a, "two", PEER_SCRIPT);
        b1 = pod_add(&b, "other", PEER_SCRIPT);
        ctr_mount(a1, &a.volumes[0], "/data", NULL, false);
        ctr_mount(a1, &a.volumes[1], "/mem", NULL, false);
        ctr_mount(a2, &a.volumes[0], "/data", NULL, false);
        ctr_mount(a2, &a.volumes[1], "/mem", NULL, false);
        ctr_mount(b1, &b.volumes[0], "/data", NULL, false);
        ctr_mount(b1, &b.volumes[1], "/mem", NULL, false);
        pod_start(&a);
        pod_start(&b);

        spawn(&a, a1);
        out1 = read_output(a1->proc.stdout_fd, "READY\n");
        out2 = run(&a, a2, NULL);
        outb = run(&b, b1, NULL);

        for (size_t i = 0; i < PR_ELEMENTSOF(names); i++) {
                _cleanup_free_ char *n1 = ns_of(out1, names[i]);
                _cleanup_free_ char *n2 = ns_of(out2, names[i]);
                _cleanup_free_ char *nb = ns_of(outb, names[i]);
                /* The test unshared net and mnt; its parent did not. */
                _cleanup_free_ char *self = host_ns(getpid(), names[i]);
                _cleanup_free_ char *init = host_ns(getppid(), names[i]);
                bool shared = i < 3; /* net, ipc, uts */

                cr_expect(shared ? pr_streq(n1, n2) : !pr_streq(n1, n2), "%s: %s vs %s", names[i],
                          n1, n2);
                cr_expect(!pr_streq(n1, nb), "%s shared across pods: %s", names[i], n1);
                cr_expect(!pr_streq(n1, self) && !pr_streq(n1, init), "%s is the host's: %s",
                          names[i], n1);
        }
        cr_expect(strstr(out2, "HOST alpha-host\n"), "%s", out2);
        cr_expect(strstr(outb, "HOST beta-host\n"), "%s", outb);
        /* SysV IPC: the queue of one container is seen by its pod only. */
        cr_expect(strstr(out2, "IPC ok\n"), "%s", out2);
        cr_expect(strstr(outb, "IPC ENOENT\n"), "%s", outb);
        /* emptyDirs, on disk and tmpfs, shared within the pod only. */
        cr_expect(strstr(out2, "DATA from-a1\n"), "%s", out2);
        cr_expect(strstr(out2, "MEM in-tmpfs\n"), "%s", out2);
        cr_expect(strstr(outb, "DATA ENOENT\n"), "%s", outb);
        /* The writable layer is per container. */
        cr_expect(strstr(out2, "ROOT ENOENT\n"), "%s", out2);
        /* Only the container's own process, its command as PID 1. */
        cr_expect(strstr(out2, "PS\n1 probe\n") && pr_endswith(out2, "PS\n1 probe\n"), "%s", out2);
        cr_expect(pr_endswith(outb, "PS\n1 probe\n"), "%s", outb);

        pod_down(&a);
        pod_down(&b);
}

Test(runtime, shared_pid_namespace)
{
        struct tpod p;
        struct tctr *sleeper, *looker;
        _cleanup_free_ char *out = NULL, *ready = NULL;

        pod_init(&p, "shared", true);
        sleeper = pod_add(&p, "sleeper", "sh|-c|echo READY; exec /probe sleep inf");
        looker = pod_add(&p, "looker", "/probe|ps");
        pod_start(&p);
        spawn(&p, sleeper);
        ready = read_output(sleeper->proc.stdout_fd, "READY\n");
        out = run(&p, looker, NULL);
        /* pause is PID 1 of the shared namespace; both containers show. */
        cr_expect(pr_startswith(out, "1 podrun-pause\n"), "%s", out);
        cr_expect(strstr(out, " probe\n"), "%s", out);
        cr_expect(pr_strv_len(NULL) == 0);
        {
                size_t lines = 0;

                for (const char *c = out; *c; c++)
                        lines += *c == '\n';
                cr_expect_eq(lines, 3, "pause, sleeper and ps expected: %s", out);
        }
        /* pause's /proc/1/root is the host's root: a container with the
         * default capabilities must not follow it. */
        {
                struct spec_container spec = {};
                struct sec_profile *prof = NULL;
                struct ctr_spawn_opts opts = {};
                struct pr_error err = {};
                struct tctr *peek = pod_add(&p, "peek", "/probe|ls|/proc/1/root");
                _cleanup_free_ char *seen = NULL;

                peek->c.spec = &spec;
                cr_assert_eq(sec_profile_build(&p.plan, &peek->c, &prof, &err), 0, "%s", err.msg);
                opts.security = prof;
                cr_assert_eq(ctr_spawn(&p.plan, &peek->c, &p.infra, &opts, &peek->proc, &err), 0,
                             "%s", err.msg);
                peek->started = true;
                track(peek->proc.pidfd);
                cr_assert_eq(start_result(peek, &err), 0, "%s", err.msg);
                seen = read_output(peek->proc.stdout_fd, NULL);
                (void)wait_exit(peek);
                cr_expect_str_eq(seen, "EACCES\n");
                sec_profile_free(prof);
                peek->c.spec = NULL;
        }
        pod_down(&p);
}

Test(runtime, start_errors)
{
        struct tpod p;
        struct tctr *t;
        struct pr_error err = {};

        pod_init(&p, "errs", false);
        pod_start(&p);

        t = pod_add(&p, "missing", "/bin/nosuch");
        spawn(&p, t);
        cr_assert_eq(start_result(t, &err), 1);
        cr_expect_str_eq(err.msg, "exec: \"/bin/nosuch\": no such file or directory");
        cr_expect_eq(err.code, ENOENT);
        cr_expect_eq(wait_exit(t), 127);

        t = pod_add(&p, "notinpath", "nosuch");
        spawn(&p, t);
        cr_assert_eq(start_result(t, &err), 1);
        cr_expect_str_eq(err.msg, "exec: \"nosuch\": executable file not found in $PATH");
        (void)wait_exit(t);

        t = pod_add(&p, "cwdfile", "/probe|cwd");
        free(t->c.working_dir);
        t->c.working_dir = pr_strdup("/probe");
        spawn(&p, t);
        cr_assert_eq(start_result(t, &err), 1);
        cr_expect_str_eq(err.msg,
                         "chdir to cwd (\"/probe\") set in config.json failed: not a directory");
        (void)wait_exit(t);

        /* A missing workingDir is made, as runc makes it. */
        t = pod_add(&p, "newcwd", "/probe|cwd");
        free(t->c.working_dir);
        t->c.working_dir = pr_strdup("/work/dir");
        {
                _cleanup_free_ char *out = run(&p, t, NULL);
                cr_expect_str_eq(out, "/work/dir\n");
        }
        pod_down(&p);
}

Test(runtime, subpath_cannot_escape)
{
        struct tpod p;
        struct tctr *evil, *good, *ro;
        struct pr_error err = {};
        _cleanup_free_ char *link = NULL, *out = NULL, *okfile = NULL;

        pod_init(&p, "sub", false);
        evil = pod_add(&p, "evil", "/probe|ls|/mnt");
        ctr_mount(evil, &p.volumes[0], "/mnt", "evil", false);
        good = pod_add(&p, "good", "/probe|write|/mnt/f|inside");
        ctr_mount(good, &p.volumes[0], "/mnt", "ok/deeper", false);
        ro = pod_add(&p, "ro", "sh|-c|/probe write /mnt/x no; /probe write /x no; true");
        ctr_mount(ro, &p.volumes[0], "/mnt", NULL, true);
        ro->c.read_only_rootfs = true;
        pod_start(&p);
        link = pr_asprintf("%s/evil", p.volumes[0].path);
        cr_assert_eq(symlink("/etc", link), 0);

        spawn(&p, evil);
        cr_assert_eq(start_result(evil, &err), 1, "the subPath symlink was followed");
        cr_expect(strstr(err.msg, "subPath 'evil' leads outside the volume"), "%s", err.msg);
        (void)wait_exit(evil);

        /* A missing subPath is made inside the volume, and writes land there. */
        out = run(&p, good, NULL);
        okfile = pr_asprintf("%s/ok/deeper/f", p.volumes[0].path);
        cr_expect(exists(okfile), "'%s' missing", okfile);

        free(out);
        out = run(&p, ro, NULL);
        cr_expect_str_eq(out, "EROFS\nEROFS\n");
        pod_down(&p);
}

Test(runtime, image_symlinks_stay_inside)
{
        struct tpod p;
        struct tctr *t;
        _cleanup_free_ char *link = NULL, *hostdir = NULL, *planted = NULL, *out = NULL;
        _cleanup_free_ char *inimage = NULL;
        struct pr_error err = {};

        /* /etc in the image points at a host directory: the bind mounts of
         * hosts/hostname/resolv.conf must resolve inside the image, never on
         * the host. First the target is missing in the image: a clean start
         * error. */
        hostdir = pr_asprintf("%s/hostdir", tmp);
        cr_assert_eq(pr_mkdir_p(hostdir, 0755, &err), 0);
        link = pr_asprintf("%s/etc", image_dir);
        cr_assert_eq(rmdir(link), 0);
        cr_assert_eq(symlink(hostdir, link), 0);
        planted = pr_asprintf("%s/hosts", hostdir);
        pod_init(&p, "links", false);
        t = pod_add(&p, "c", "/probe|cat|/etc/hostname");
        pod_start(&p);
        spawn(&p, t);
        cr_assert_eq(start_result(t, &err), 1, "the host's directory was used");
        cr_expect(strstr(err.msg, "'/etc/hosts'"), "%s", err.msg);
        (void)wait_exit(t);
        cr_expect_not(exists(planted), "a mount point was made on the host");

        /* Then the same absolute path exists inside the image: it is used. */
        inimage = pr_asprintf("%s%s", image_dir, hostdir);
        cr_assert_eq(pr_mkdir_p(inimage, 0755, &err), 0);
        t = pod_add(&p, "d", "/probe|cat|/etc/hostname");
        out = run(&p, t, NULL);
        cr_expect_str_eq(out, "links-host\n");
        cr_expect_not(exists(planted), "a mount point was made on the host");
        pod_down(&p);

        /* A symlinked /proc in the image is refused (CVE-2023-27561). */
        link = (free(link), pr_asprintf("%s/proc", image_dir));
        cr_assert_eq(rmdir(link), 0);
        cr_assert_eq(symlink("/tmp", link), 0);
        pod_init(&p, "procl", false);
        t = pod_add(&p, "c", "/probe|ns");
        pod_start(&p);
        spawn(&p, t);
        cr_assert_eq(start_result(t, &err), 1);
        cr_expect(strstr(err.msg, "'/proc' in the image is a symlink"), "%s", err.msg);
        (void)wait_exit(t);
        pod_down(&p);
}

struct hook_seen {
        pid_t pid;
        bool waited; /* the child had not joined the pod yet */
        bool fail;
};

/* Sync point 2: the child must still be in our namespaces, waiting. */
static int after_clone(void *data, pid_t pid, struct pr_error *err)
{
        struct hook_seen *h = data;
        _cleanup_free_ char *mine = host_ns(getpid(), "net");
        _cleanup_free_ char *its = host_ns(pid, "net");

        h->pid = pid;
        h->waited = pr_streq(mine, its);
        if (h->fail)
                return pr_err_msg(err, EPERM, "cgroup 'test': refused");
        return 0;
}

Test(runtime, hooks_security_identity)
{
        struct tpod p;
        struct tctr *t;
        struct spec_container spec = {};
        struct sec_profile *prof = NULL;
        struct hook_seen seen = {};
        struct ctr_spawn_opts opts = {.after_clone = after_clone, .data = &seen};
        struct pr_error err = {};
        _cleanup_free_ char *out = NULL, *bnd = NULL;
        gid_t groups[] = {1000, 2000};

        pod_init(&p, "hooks", false);
        pod_start(&p);

        /* A failing hook: the error is ctr_spawn's and the child is gone. */
        seen.fail = true;
        t = pod_add(&p, "refused", "/probe|exit|0");
        cr_assert_lt(ctr_spawn(&p.plan, &t->c, &p.infra, &opts, &t->proc, &err), 0);
        cr_expect_str_eq(err.msg, "pod 'hooks': container 'refused': cgroup 'test': refused");
        cr_expect(seen.pid > 0 && seen.waited);
        cr_expect(kill(seen.pid, 0) < 0 && errno == ESRCH, "the refused child is left");

        /* A security profile and a non-root identity, seen from inside. */
        seen = (struct hook_seen){};
        t = pod_add(&p, "secure",
                    "sh|-c|/probe caps; /probe fds; /probe id; /probe write /data/by-1000 x;"
                    " /probe write /dev/termination-log bye");
        ctr_mount(t, &p.volumes[0], "/data", NULL, false);
        spec.termination_message_path = (char *)"/dev/termination-log";
        t->c.spec = &spec;
        t->c.uid = 1000;
        t->c.gid = 1000;
        t->c.groups = groups;
        t->c.n_groups = PR_ELEMENTSOF(groups);
        cr_assert_eq(sec_profile_build(&p.plan, &t->c, &prof, &err), 0, "%s", err.msg);
        opts.security = prof;
        cr_assert_eq(ctr_spawn(&p.plan, &t->c, &p.infra, &opts, &t->proc, &err), 0, "%s", err.msg);
        t->started = true;
        track(t->proc.pidfd);
        cr_expect_eq(seen.pid, t->proc.pid);
        cr_expect(seen.waited, "the child ran before sync point 3");
        cr_assert_eq(start_result(t, &err), 0, "%s", err.msg);
        out = read_output(t->proc.stdout_fd, NULL);
        cr_expect_eq(wait_exit(t), 0, "%s", out);
        bnd = pr_asprintf("Bnd %016llx\n", (unsigned long long)sec_default_caps());
        cr_expect(strstr(out, bnd), "want %s in %s", bnd, out);
        cr_expect(strstr(out, "Inh 0000000000000000\n"), "%s", out);
        cr_expect(strstr(out, "Amb 0000000000000000\n"), "%s", out);
        cr_expect(strstr(out, "Seccomp 2\n"), "%s", out);
        /* Only 0, 1, 2 reach the container (CVE-2024-21626); sh adds none. */
        cr_expect(!strstr(out, "\n3 "), "%s", out);
        cr_expect(strstr(out, "uid=1000 gid=1000 groups=1000,2000\n"), "%s", out);
        /* emptyDirs are writable by any user; the termination message file
         * outlives the container's /dev. */
        {
                _cleanup_free_ char *made = pr_asprintf("%s/by-1000", p.volumes[0].path);
                _cleanup_free_ char *tlog = pr_asprintf("%s/termination-log", t->c.dir);
                _cleanup_free_ char *msg = NULL;

                cr_expect(exists(made), "%s", out);
                cr_assert_eq(pr_read_file(tlog, 4096, &msg, NULL, &err), 0, "%s", err.msg);
                cr_expect_str_eq(msg, "bye\n");
        }
        sec_profile_free(prof);
        t->c.spec = NULL;
        t->c.groups = NULL;
        t->c.n_groups = 0;
        pod_down(&p);
}

Test(runtime, etc_files_stdin_host_path)
{
        struct tpod p;
        struct tctr *t;
        struct pr_error err = {};
        struct spec_host_alias aliases[2] = {};
        char *names1[] = {(char *)"foo.local", (char *)"bar.local", NULL};
        char *names2[] = {(char *)"baz", NULL};
        char *servers[] = {(char *)"10.0.0.10", NULL};
        char *searches[] = {(char *)"a.example", NULL};
        struct spec_kv opt = {.key = (char *)"ndots", .value = (char *)"2"};
        struct plan_volume hp = {.name = (char *)"hp", .type = SPEC_VOLUME_HOST_PATH};
        _cleanup_free_ char *out = NULL, *hostdir = NULL, *hostfile = NULL;
        _cleanup_free_ char *want = NULL;

        pod_init(&p, "files", false);
        aliases[0] = (struct spec_host_alias){.ip = (char *)"127.0.0.2", .hostnames = names1};
        aliases[1] = (struct spec_host_alias){.ip = (char *)"10.9.9.9", .hostnames = names2};
        p.spec.host_aliases = aliases;
        p.spec.n_host_aliases = 2;
        p.spec.dns_policy = SPEC_DNS_NONE;
        p.spec.dns_config.nameservers = servers;
        p.spec.dns_config.searches = searches;
        p.spec.dns_config.options = (struct spec_map){.n = 1, .items = &opt};
        p.plan.fqdn = pr_strdup("files-host.sub.default.svc.cluster.local");
        pod_start(&p);
        cr_assert_eq(infra_write_hosts(&p.plan, "10.1.2.3", &err), 0, "%s", err.msg);

        /* hostPath: DirectoryOrCreate makes it; readOnly keeps it so. */
        hostdir = pr_asprintf("%s/hostpath/made", tmp);
        hp.path = hostdir;
        t = pod_add(&p, "reader",
                    "sh|-c|/probe cat /etc/hosts; /probe cat /etc/resolv.conf;"
                    " read line; echo \"got $line\"; /probe write /hp/x no; true");
        ctr_mount(t, &hp, "/hp", NULL, true);
        t->mounts[0].host_path = true;
        t->mounts[0].host_path_type = SPEC_HOST_PATH_DIRECTORY_OR_CREATE;
        t->c.stdin_open = true;
        spawn(&p, t);
        cr_assert_geq(t->proc.stdin_fd, 0);
        cr_assert_eq(write(t->proc.stdin_fd, "hello\n", 6), 6);
        pr_closep(&t->proc.stdin_fd);
        t->proc.stdin_fd = -1;
        cr_assert_eq(start_result(t, &err), 0, "%s", err.msg);
        out = read_output(t->proc.stdout_fd, NULL);
        cr_expect_eq(wait_exit(t), 0, "%s", out);
        want = pr_strdup("# Kubernetes-managed hosts file.\n"
                         "127.0.0.1\tlocalhost\n"
                         "::1\tlocalhost ip6-localhost ip6-loopback\n"
                         "fe00::0\tip6-localnet\n"
                         "fe00::0\tip6-mcastprefix\n"
                         "fe00::1\tip6-allnodes\n"
                         "fe00::2\tip6-allrouters\n"
                         "10.1.2.3\tfiles-host.sub.default.svc.cluster.local\tfiles-host\n"
                         "\n"
                         "# Entries added by HostAliases.\n"
                         "127.0.0.2\tfoo.local\tbar.local\n"
                         "10.9.9.9\tbaz\n"
                         "search a.example\n"
                         "nameserver 10.0.0.10\n"
                         "options ndots:2\n"
                         "got hello\n"
                         "EROFS\n");
        cr_expect_str_eq(out, want);
        cr_expect(exists(hostdir), "DirectoryOrCreate did not make '%s'", hostdir);

        /* Type checks with kubelet's words. */
        hostfile = pr_asprintf("%s/hostpath/made", tmp);
        t = pod_add(&p, "wrongtype", "/probe|exit|0");
        ctr_mount(t, &hp, "/hp", NULL, false);
        t->mounts[0].host_path = true;
        t->mounts[0].host_path_type = SPEC_HOST_PATH_FILE;
        cr_assert_lt(ctr_spawn(&p.plan, &t->c, &p.infra, NULL, &t->proc, &err), 0);
        want = (free(want), pr_asprintf("pod 'files': container 'wrongtype': volume 'hp': "
                                        "hostPath type check failed: %s is not a file",
                                        hostfile));
        cr_expect_str_eq(err.msg, want);
        free(p.plan.fqdn);
        pod_down(&p);
}

/* lo's flags inside the named network namespace, from a forked child. */
static bool lo_up_in(const char *netns_path)
{
        pid_t pid = fork();
        int status;

        cr_assert_geq(pid, 0);
        if (pid == 0) {
                struct ifreq ifr = {};
                int nsfd = open(netns_path, O_RDONLY | O_CLOEXEC);
                int s;

                if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
                        _exit(2);
                s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                strcpy(ifr.ifr_name, "lo");
                if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                        _exit(3);
                _exit(ifr.ifr_flags & IFF_UP ? 0 : 1);
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool same_file(const char *a, const char *b)
{
        struct stat sa, sb;

        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
               sa.st_ino == sb.st_ino;
}

Test(runtime, infra_lifecycle_and_crash_recovery)
{
        struct tpod p;
        struct pr_error err = {};
        struct infra restored;
        _cleanup_free_ char *proc_net = NULL, *marker = NULL;
        size_t n_volumes;

        /* A pause that cannot be exec'd: a clear error, nothing left. */
        pod_init(&p, "life", false);
        cr_assert_lt(infra_start(&p.plan, "/nonexistent/podrun-pause", &p.infra, &err), 0);
        cr_expect_str_eq(err.msg, "pod 'life': infra: exec '/nonexistent/podrun-pause': No such "
                                  "file or directory");
        cr_expect_not(mounted_under(p.plan.run_dir));
        cr_expect_not(exists(p.plan.hosts_path));
        cr_expect_not(exists(p.plan.shm_dir));
        cr_expect_not(exists(p.volumes[0].path));

        /* A real one: the named netns is the infra's, lo is up in it. */
        pod_start(&p);
        proc_net = pr_asprintf("/proc/%d/ns/net", (int)p.infra.pid);
        cr_expect(same_file(p.plan.netns_path, proc_net));
        cr_expect(lo_up_in(p.plan.netns_path), "lo is down in the pod");
        marker = pr_asprintf("%s/left-by-a-container", p.volumes[1].path);
        cr_assert_eq(pr_write_file_atomic(marker, "x", 1, 0644, &err), 0);

        /* A crash: the supervisor's pidfd is gone; down restores the pid and
         * start time from the state file and has no volume list. */
        restored =
            (struct infra){.pid = p.infra.pid, .pidfd = -1, .start_time = p.infra.start_time};
        cr_assert_eq(infra_stop(&restored, 5 * PR_USEC_PER_SEC, &err), 0, "%s", err.msg);
        cr_expect(kill(p.infra.pid, 0) < 0 && errno == ESRCH, "infra still there");
        p.infra_started = false;
        n_volumes = p.plan.n_volumes;
        p.plan.n_volumes = 0;
        cr_assert_eq(infra_cleanup(&p.plan, &err), 0, "%s", err.msg);
        p.plan.n_volumes = n_volumes;
        cr_expect_not(exists(marker));
        /* A stale pid whose start time does not match is left alone. */
        restored = (struct infra){.pid = getpid(), .pidfd = -1, .start_time = 1};
        cr_assert_eq(infra_stop(&restored, PR_USEC_PER_SEC, &err), 0, "%s", err.msg);

        /* pause exits 0 on SIGTERM, and stopping an infra already gone is fine. */
        infra_done(&p.infra);
        pod_start(&p);
        {
                siginfo_t si = {};

                cr_assert_eq(pidfd_send_signal(p.infra.pidfd, SIGTERM, NULL, 0), 0);
                cr_assert_eq(waitid(P_PIDFD, (id_t)p.infra.pidfd, &si, WEXITED), 0);
                cr_expect_eq(si.si_code, CLD_EXITED, "pause did not exit on SIGTERM");
                cr_expect_eq(si.si_status, 0);
        }
        pod_down(&p);
}

Test(runtime, cgroup_namespace_view)
{
        struct tpod p;
        struct tctr *t;
        _cleanup_free_ char *out = NULL, *host = NULL;
        struct pr_error err = {};

        pod_init(&p, "cgv", false);
        t = pod_add(&p, "c",
                    "sh|-c|/probe cat /proc/self/cgroup; echo LS; /probe ls /sys/fs/cgroup;"
                    " echo W $(/probe write /sys/fs/cgroup/memory/x 1)");
        pod_start(&p);
        out = run(&p, t, NULL);
        cr_assert_eq(pr_read_file("/proc/self/cgroup", 65536, &host, NULL, &err), 0);
        /* Every hierarchy of ours is the root of the container's view. */
        cr_expect(!strstr(out, ":/process") && strstr(out, ":/\n"), "%s", out);
        if (strstr(host, ":memory:"))
                cr_expect(strstr(out, "LS\n") && strstr(out, "\nmemory\n"), "%s", out);
        if (strstr(host, "\n0::/") || pr_startswith(host, "0::/"))
                cr_expect(strstr(out, "\nunified\n") || !strstr(host, ":memory:"), "%s", out);
        cr_expect(strstr(out, "W EROFS\n"), "%s", out);
        pod_down(&p);
}

Test(runtime, tty)
{
        struct tpod p;
        struct tctr *t;
        struct pr_error err = {};
        _cleanup_free_ char *out = NULL, *errout = NULL;

        pod_init(&p, "tty", false);
        t = pod_add(&p, "term", "sh|-c|tty; read line; echo \"got $line\"");
        t->c.tty = true;
        t->c.stdin_open = true;
        pod_start(&p);
        spawn(&p, t);
        cr_assert_eq(write(t->proc.stdin_fd, "hello\n", 6), 6);
        cr_assert_eq(start_result(t, &err), 0, "%s", err.msg);
        out = read_output(t->proc.stdout_fd, "got hello");
        errout = read_output(t->proc.stderr_fd, NULL);
        cr_expect_eq(wait_exit(t), 0, "%s", out);
        /* The container's own devpts, its input echoed, CRLF as a terminal. */
        cr_expect(strstr(out, "/dev/pts/0\r\n"), "%s", out);
        cr_expect(strstr(out, "hello\r\n"), "%s", out);
        cr_expect(strstr(out, "got hello"), "%s", out);
        cr_expect_str_eq(errout, "");
        pod_down(&p);
}

/* In a forked child with 0, 1 and 2 closed, as a careless daemon might run:
 * the pipes and namespace fds land on 0-2 and must survive the child's
 * stdio setup. Returns a distinct code per failing step. */
static int steps_without_stdio(struct tpod *p, struct tctr *ok, struct tctr *bad)
{
        struct pr_error err = {};
        struct pollfd pfd;
        char buf[64] = "";
        ssize_t n;

        for (int fd = 0; fd < 3; fd++)
                (void)close(fd);
        if (infra_start(&p->plan, pause_path, &p->infra, &err) < 0)
                return 10;
        /* The premise: ctr_spawn's first fds (namespace files) get 0-2. */
        if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
                return 11;
        if (ctr_spawn(&p->plan, &ok->c, &p->infra, NULL, &ok->proc, &err) < 0)
                return 12;
        pfd = (struct pollfd){.fd = ok->proc.start_error_fd, .events = POLLIN};
        if (poll(&pfd, 1, TIMEOUT_MS) != 1 || ctr_read_start_error(pfd.fd, &err) != 0)
                return 13;
        pfd = (struct pollfd){.fd = ok->proc.stdout_fd, .events = POLLIN};
        if (poll(&pfd, 1, TIMEOUT_MS) != 1 || (n = read(pfd.fd, buf, sizeof(buf) - 1)) <= 0 ||
            strncmp(buf, "fine\n", (size_t)n) != 0)
                return 14;
        if (ctr_spawn(&p->plan, &bad->c, &p->infra, NULL, &bad->proc, &err) < 0)
                return 15;
        pfd = (struct pollfd){.fd = bad->proc.start_error_fd, .events = POLLIN};
        if (poll(&pfd, 1, TIMEOUT_MS) != 1 || ctr_read_start_error(pfd.fd, &err) != 1 ||
            !pr_streq(err.msg, "exec: \"/bin/nosuch\": no such file or directory"))
                return 16;
        return 0;
}

/* Whatever happened, the child leaves no process or file behind. */
static int run_without_stdio(struct tpod *p, struct tctr *ok, struct tctr *bad)
{
        struct pr_error err = {};
        int rc = steps_without_stdio(p, ok, bad);
        struct tctr *both[] = {ok, bad};

        for (size_t i = 0; i < PR_ELEMENTSOF(both); i++)
                if (both[i]->proc.pidfd >= 0) {
                        (void)pidfd_send_signal(both[i]->proc.pidfd, SIGKILL, NULL, 0);
                        (void)waitid(P_PIDFD, (id_t)both[i]->proc.pidfd, &(siginfo_t){}, WEXITED);
                }
        if (infra_stop(&p->infra, 5 * PR_USEC_PER_SEC, &err) < 0 ||
            ctr_cleanup(&p->plan, &ok->c, &err) < 0 || ctr_cleanup(&p->plan, &bad->c, &err) < 0 ||
            infra_cleanup(&p->plan, &err) < 0)
                return rc ? rc : 17;
        return rc;
}

Test(runtime, supervisor_without_stdio)
{
        struct tpod p;
        struct tctr *ok, *bad;
        int status;
        pid_t pid;

        pod_init(&p, "nostdio", false);
        ok = pod_add(&p, "ok", "/probe|echo|fine");
        bad = pod_add(&p, "bad", "/bin/nosuch");
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0)
                _exit(run_without_stdio(&p, ok, bad));
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "step %d failed",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
        /* The child cleaned up after itself; nothing of the pod is left. */
        pod_down(&p);
}
