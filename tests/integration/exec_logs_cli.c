/* End to end: the built `podrun logs` against state files and CRI logs the
 * test writes itself in docs/state.md's layout under a temporary run dir and
 * root: name resolution, --previous, --tail, --timestamps, --prefix,
 * --all-containers, and -f across a restart until the container is done,
 * the state file is gone, or the supervisor dies. Needs no root; removes its
 * directory and reaps every process it starts. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/logs.h"
#include "pod/state.h"

TestSuite(exec_logs_cli);

static char dir[64];
static char *run_dir, *root_dir;
/* Processes the running test started: killed and reaped by teardown even
 * when an assertion ends the test early. */
static pid_t kids[8];
static size_t n_kids;

static void track(pid_t pid)
{
        for (size_t i = 0; i < n_kids; i++)
                if (kids[i] == 0) {
                        kids[i] = pid;
                        return;
                }
        cr_assert_lt(n_kids, PR_ELEMENTSOF(kids));
        kids[n_kids++] = pid;
}

static void untrack(pid_t pid)
{
        for (size_t i = 0; i < n_kids; i++)
                if (kids[i] == pid)
                        kids[i] = 0;
}

static void reap_kids(void)
{
        for (size_t i = 0; i < n_kids; i++)
                if (kids[i] > 0 && waitpid(kids[i], NULL, WNOHANG) == 0) {
                        (void)kill(kids[i], SIGKILL);
                        (void)waitpid(kids[i], NULL, 0);
                }
        n_kids = 0;
}

static void setup(void)
{
        strcpy(dir, "/tmp/podrun-logs-cli-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        run_dir = pr_asprintf("%s/run", dir);
        root_dir = pr_asprintf("%s/root", dir);
}

static void teardown(void)
{
        struct pr_error err = {};

        reap_kids();
        cr_assert_eq(pr_rm_rf(dir, &err), 0, "%s", err.msg);
        free(run_dir);
        free(root_dir);
}

struct ctr {
        const char *name;
        bool init;
        unsigned restarts;
        bool done;
};

static char *log_dir(const char *pod, const char *name)
{
        return pr_asprintf("%s/pods/%s/logs/%s", root_dir, pod, name);
}

/* The state of pod with containers; the supervisor is sup (0: none). */
static void write_state(const char *pod, const struct ctr *c, size_t n, pid_t sup)
{
        _cleanup_free_ char *pdir = pr_asprintf("%s/pods/%s", run_dir, pod);
        _cleanup_free_ char *path = pr_asprintf("%s/state.json", pdir);
        struct state_container sc[8] = {};
        struct pod_state st = {
            .version = STATE_VERSION,
            .name = (char *)pod,
            .uid = (char *)"uid",
            .root_dir = root_dir,
            .run_dir = run_dir,
            .phase = STATE_PHASE_RUNNING,
            .n_containers = n,
            .containers = sc,
        };
        struct pr_error err = {};

        cr_assert_eq(pr_mkdir_p(pdir, 0755, &err), 0, "%s", err.msg);
        for (size_t i = 0; i < n; i++) {
                sc[i].name = (char *)c[i].name;
                sc[i].init = c[i].init;
                sc[i].restart_count = c[i].restarts;
                sc[i].done = c[i].done;
                sc[i].cur.state = c[i].done ? STATE_CTR_TERMINATED : STATE_CTR_RUNNING;
                sc[i].log_dir = log_dir(pod, c[i].name);
        }
        if (sup > 0)
                cr_assert_eq(state_proc_get(sup, &st.supervisor, &err), 0, "%s", err.msg);
        cr_assert_eq(state_write(&st, path, &err), 0, "%s", err.msg);
        for (size_t i = 0; i < n; i++)
                free(sc[i].log_dir);
}

static void write_log(const char *pod, const char *name, unsigned restart, const char *text)
{
        _cleanup_free_ char *d = log_dir(pod, name);
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        struct pr_error err = {};

        cr_assert_eq(logs_writer_open(d, restart, NULL, &w, &err), 0, "%s", err.msg);
        cr_assert_eq(logs_writer_write(w, LOGS_STDOUT, text, strlen(text), &err), 0);
        cr_assert_eq(logs_writer_flush(w, &err), 0);
}

struct run {
        int status;
        char *out;
        char *err;
};

static char *slurp(int fd)
{
        char *s = pr_strdup("");
        size_t len = 0;
        char buf[4096];
        ssize_t n;

        (void)lseek(fd, 0, SEEK_SET);
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                s = pr_realloc(s, len + (size_t)n + 1);
                memcpy(s + len, buf, (size_t)n);
                len += (size_t)n;
                s[len] = '\0';
        }
        (void)close(fd);
        return s;
}

static int anon(void)
{
        char p[] = "/tmp/podrun-logs-cli-out-XXXXXX";
        int fd = mkostemp(p, O_CLOEXEC);

        cr_assert_geq(fd, 0);
        (void)unlink(p);
        return fd;
}

static pid_t start(const char *const *args, int *out, int *err)
{
        _cleanup_free_ char *exe = pr_asprintf("%s/pod/cli/podrun", getenv("PODRUN_BUILD_DIR"));
        const char *argv[32] = {exe, "--run-dir", run_dir, "--root", root_dir, "logs"};
        size_t n = 6;
        pid_t pid;

        cr_assert(getenv("PODRUN_BUILD_DIR"), "run through meson test");
        for (; *args; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        *out = anon();
        *err = anon();
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (dup2(*out, 1) < 0 || dup2(*err, 2) < 0)
                        _exit(99);
                execv(exe, (char *const *)argv);
                _exit(98);
        }
        track(pid);
        return pid;
}

static struct run finish(pid_t pid, int out, int err)
{
        struct run r = {.status = -1};
        int status;

        cr_assert_eq(waitpid(pid, &status, 0), pid);
        untrack(pid);
        r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
}

static struct run logs(const char *const *args)
{
        int out, err;
        pid_t pid = start(args, &out, &err);

        return finish(pid, out, err);
}

#define LOGS(...) logs((const char *const[]){__VA_ARGS__, NULL})

static void run_done(struct run *r)
{
        free(r->out);
        free(r->err);
}

static void expect(struct run r, int status, const char *out, const char *err)
{
        cr_assert_eq(r.status, status, "status %d, stderr: %s", r.status, r.err);
        cr_assert_str_eq(r.out, out);
        cr_assert_str_eq(r.err, err);
        run_done(&r);
}

Test(exec_logs_cli, resolves_names_like_kubectl, .init = setup, .fini = teardown)
{
        const struct ctr web[] = {{.name = "app"}};
        const struct ctr shop[] = {{.name = "init", .init = true}, {.name = "app"}, {.name = "db"}};

        write_state("web", web, 1, 0);
        write_log("web", "app", 0, "hello from web\n");
        expect(LOGS("app"), 0, "hello from web\n", "");
        expect(LOGS("web"), 0, "hello from web\n", "");
        expect(LOGS("web/app"), 0, "hello from web\n", "");
        write_state("shop", shop, 3, 0);
        write_log("shop", "db", 0, "db up\n");
        expect(LOGS("db"), 0, "db up\n", "");
        expect(LOGS("app"), 2, "",
               "podrun: container name \"app\" is ambiguous: shop/app, web/app\n");
        expect(LOGS("shop"), 2, "",
               "podrun: a container name must be specified for pod shop, choose one of: "
               "[init app db]\n");
        expect(LOGS("shop", "-c", "db"), 0, "db up\n", "");
        expect(LOGS("nope"), 1, "", "podrun: no pod or container named \"nope\"\n");
        expect(LOGS("web/nope"), 1, "", "podrun: container \"nope\" not found in pod \"web\"\n");
        expect(LOGS("nope/app"), 1, "", "podrun: pod \"nope\" not found\n");
}

Test(exec_logs_cli, previous_tail_timestamps_prefix, .init = setup, .fini = teardown)
{
        const struct ctr web[] = {{.name = "app", .restarts = 2}};
        const struct ctr fresh[] = {{.name = "app"}};
        struct run r;

        write_state("web", web, 1, 0);
        write_log("web", "app", 1, "first run\n");
        write_log("web", "app", 2, "a\nb\nc\n");
        expect(LOGS("web/app"), 0, "a\nb\nc\n", "");
        expect(LOGS("web/app", "--previous"), 0, "first run\n", "");
        expect(LOGS("web/app", "--tail", "2"), 0, "b\nc\n", "");
        expect(LOGS("web/app", "--tail=0"), 0, "", "");
        expect(LOGS("--prefix", "web/app", "--tail", "1"), 0, "[pod/web/app] c\n", "");
        r = LOGS("web/app", "--timestamps", "--tail", "1");
        cr_assert_eq(r.status, 0);
        /* 2026-11-30T07:03:31.123456789Z c */
        cr_assert_eq(strlen(r.out), 33, "%s", r.out);
        cr_assert_eq(r.out[29], 'Z');
        cr_assert_str_eq(r.out + 30, " c\n");
        run_done(&r);
        expect(LOGS("web/app", "--since", "1h"), 0, "a\nb\nc\n", "");
        expect(LOGS("web/app", "--since-time", "2999-01-01T00:00:00Z"), 0, "", "");
        expect(LOGS("web/app", "--tail", "x"), 2, "",
               "podrun: logs: --tail: 'x' is not a number of lines (see 'podrun logs --help')\n");
        write_state("web", fresh, 1, 0);
        expect(LOGS("web/app", "-p"), 1, "",
               "podrun: previous terminated container \"app\" in pod \"web\" not found\n");
}

Test(exec_logs_cli, all_containers_in_order, .init = setup, .fini = teardown)
{
        const struct ctr shop[] = {{.name = "init", .init = true}, {.name = "app"}, {.name = "db"}};

        write_state("shop", shop, 3, 0);
        write_log("shop", "init", 0, "i1\n");
        write_log("shop", "app", 0, "a1\na2\n");
        write_log("shop", "db", 0, "d1\n");
        expect(LOGS("shop", "--all-containers", "--prefix"), 0,
               "[pod/shop/init] i1\n[pod/shop/app] a1\n[pod/shop/app] a2\n[pod/shop/db] d1\n", "");
}

static void sleep_ms(int ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

        (void)nanosleep(&ts, NULL);
}

/* -f: lines as they come, on to the next restart's file with one marker on
 * stderr, and an end once the state says done. The test process plays the
 * supervisor. */
Test(exec_logs_cli, follow_across_a_restart_until_done, .init = setup, .fini = teardown,
     .timeout = 30)
{
        struct ctr web[] = {{.name = "app"}};
        _cleanup_free_ char *d = log_dir("web", "app");
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        struct pr_error err = {};
        int out, errfd;
        pid_t pid;

        write_state("web", web, 1, getpid());
        write_log("web", "app", 0, "before\n");
        pid = start((const char *const[]){"-f", "app", NULL}, &out, &errfd);
        sleep_ms(300);
        cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "logs -f ended early");
        cr_assert_eq(logs_writer_open(d, 0, NULL, &w, &err), 0);
        cr_assert_eq(logs_writer_write(w, LOGS_STDOUT, "live\n", 5, &err), 0);
        w = logs_writer_free(w);
        sleep_ms(200);
        web[0].restarts = 1;
        write_state("web", web, 1, getpid());
        sleep_ms(200);
        write_log("web", "app", 1, "after restart\n");
        sleep_ms(200);
        cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "logs -f ended before done");
        web[0].done = true;
        write_state("web", web, 1, getpid());
        expect(finish(pid, out, errfd), 0, "before\nlive\nafter restart\n",
               "--- container app restarted (restart 1) ---\n");
}

Test(exec_logs_cli, follow_ends_when_the_pod_is_gone, .init = setup, .fini = teardown,
     .timeout = 30)
{
        const struct ctr web[] = {{.name = "app"}};
        _cleanup_free_ char *state = pr_asprintf("%s/pods/web/state.json", run_dir);
        int out, errfd;
        pid_t pid;

        write_state("web", web, 1, getpid());
        write_log("web", "app", 0, "x\n");
        pid = start((const char *const[]){"-f", "web", NULL}, &out, &errfd);
        sleep_ms(300);
        cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "logs -f ended early");
        cr_assert_eq(unlink(state), 0);
        expect(finish(pid, out, errfd), 0, "x\n", "");
}

Test(exec_logs_cli, follow_ends_when_the_supervisor_dies, .init = setup, .fini = teardown,
     .timeout = 30)
{
        const struct ctr web[] = {{.name = "app"}};
        int out, errfd;
        pid_t sup, pid;

        sup = fork();
        cr_assert_geq(sup, 0);
        if (sup == 0) {
                pause();
                _exit(0);
        }
        track(sup);
        write_state("web", web, 1, sup);
        write_log("web", "app", 0, "x\n");
        pid = start((const char *const[]){"-f", "web", NULL}, &out, &errfd);
        sleep_ms(300);
        cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "logs -f ended early");
        /* Only the supervisor's pidfd can wake podrun now. */
        cr_assert_eq(kill(sup, SIGKILL), 0);
        cr_assert_eq(waitpid(sup, NULL, 0), sup);
        untrack(sup);
        expect(finish(pid, out, errfd), 0, "x\n", "");
}
