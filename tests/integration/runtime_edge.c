/* The runtime's edges, from real containers: the after_clone hook and the
 * security profile at their sync points, identity, the generated etc files,
 * stdin and tty, hostPath checks, the infra's start failure, stop after a
 * crash, and a supervisor whose stdio is closed. Same fixture as runtime.c. */
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
#include "tests/integration/runtime_common.h"

TestSuite(runtime_edge, .init = t_setup, .fini = t_teardown, .timeout = 60);

struct hook_seen {
        pid_t pid;
        bool waited; /* the child had not joined the pod yet */
        bool fail;
};

/* Sync point 2: the child must still be in our namespaces, waiting. */
static int after_clone(void *data, pid_t pid, struct pr_error *err)
{
        struct hook_seen *h = data;
        _cleanup_free_ char *mine = t_host_ns(getpid(), "net");
        _cleanup_free_ char *its = t_host_ns(pid, "net");

        h->pid = pid;
        h->waited = pr_streq(mine, its);
        if (h->fail)
                return pr_err_msg(err, EPERM, "cgroup 'test': refused");
        return 0;
}

Test(runtime_edge, hooks_security_identity)
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

        t_pod_init(&p, "hooks", false);
        t_pod_start(&p);

        /* A failing hook: the error is ctr_spawn's and the child is gone. */
        seen.fail = true;
        t = t_pod_add(&p, "refused", "/probe|exit|0");
        cr_assert_lt(ctr_spawn(&p.plan, &t->c, &p.infra, &opts, &t->proc, &err), 0);
        cr_expect_str_eq(err.msg, "pod 'hooks': container 'refused': cgroup 'test': refused");
        cr_expect(seen.pid > 0 && seen.waited);
        cr_expect(kill(seen.pid, 0) < 0 && errno == ESRCH, "the refused child is left");

        /* A security profile and a non-root identity, seen from inside. */
        seen = (struct hook_seen){};
        t = t_pod_add(&p, "secure",
                      "sh|-c|/probe caps; /probe fds; /probe id; /probe write /data/by-1000 x;"
                      " /probe write /dev/termination-log bye");
        t_mount(t, &p.volumes[0], "/data", NULL, false);
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
        t_track(t->proc.pidfd);
        cr_expect_eq(seen.pid, t->proc.pid);
        cr_expect(seen.waited, "the child ran before sync point 3");
        cr_assert_eq(t_start_result(t, &err), 0, "%s", err.msg);
        out = t_read_output(t->proc.stdout_fd, NULL);
        cr_expect_eq(t_wait_exit(t), 0, "%s", out);
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

                cr_expect(t_exists(made), "%s", out);
                cr_assert_eq(pr_read_file(tlog, 4096, &msg, NULL, &err), 0, "%s", err.msg);
                cr_expect_str_eq(msg, "bye\n");
        }
        sec_profile_free(prof);
        t->c.spec = NULL;
        t->c.groups = NULL;
        t->c.n_groups = 0;
        t_pod_down(&p);
}

Test(runtime_edge, etc_files_stdin_host_path)
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

        t_pod_init(&p, "files", false);
        aliases[0] = (struct spec_host_alias){.ip = (char *)"127.0.0.2", .hostnames = names1};
        aliases[1] = (struct spec_host_alias){.ip = (char *)"10.9.9.9", .hostnames = names2};
        p.spec.host_aliases = aliases;
        p.spec.n_host_aliases = 2;
        p.spec.dns_policy = SPEC_DNS_NONE;
        p.spec.dns_config.nameservers = servers;
        p.spec.dns_config.searches = searches;
        p.spec.dns_config.options = (struct spec_map){.n = 1, .items = &opt};
        p.plan.fqdn = pr_strdup("files-host.sub.default.svc.cluster.local");
        t_pod_start(&p);
        cr_assert_eq(infra_write_hosts(&p.plan, "10.1.2.3", &err), 0, "%s", err.msg);

        /* hostPath: DirectoryOrCreate makes it; readOnly keeps it so. */
        hostdir = pr_asprintf("%s/hostpath/made", t_tmp);
        hp.path = hostdir;
        t = t_pod_add(&p, "reader",
                      "sh|-c|/probe cat /etc/hosts; /probe cat /etc/resolv.conf;"
                      " read line; echo \"got $line\"; /probe write /hp/x no; true");
        t_mount(t, &hp, "/hp", NULL, true);
        t->mounts[0].host_path = true;
        t->mounts[0].host_path_type = SPEC_HOST_PATH_DIRECTORY_OR_CREATE;
        t->c.stdin_open = true;
        t_spawn(&p, t);
        cr_assert_geq(t->proc.stdin_fd, 0);
        cr_assert_eq(write(t->proc.stdin_fd, "hello\n", 6), 6);
        pr_closep(&t->proc.stdin_fd);
        t->proc.stdin_fd = -1;
        cr_assert_eq(t_start_result(t, &err), 0, "%s", err.msg);
        out = t_read_output(t->proc.stdout_fd, NULL);
        cr_expect_eq(t_wait_exit(t), 0, "%s", out);
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
        cr_expect(t_exists(hostdir), "DirectoryOrCreate did not make '%s'", hostdir);

        /* Type checks with kubelet's words. */
        hostfile = pr_asprintf("%s/hostpath/made", t_tmp);
        t = t_pod_add(&p, "wrongtype", "/probe|exit|0");
        t_mount(t, &hp, "/hp", NULL, false);
        t->mounts[0].host_path = true;
        t->mounts[0].host_path_type = SPEC_HOST_PATH_FILE;
        cr_assert_lt(ctr_spawn(&p.plan, &t->c, &p.infra, NULL, &t->proc, &err), 0);
        want = (free(want), pr_asprintf("pod 'files': container 'wrongtype': volume 'hp': "
                                        "hostPath type check failed: %s is not a file",
                                        hostfile));
        cr_expect_str_eq(err.msg, want);
        free(p.plan.fqdn);
        t_pod_down(&p);
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

Test(runtime_edge, infra_lifecycle_and_crash_recovery)
{
        struct tpod p;
        struct pr_error err = {};
        struct infra restored;
        _cleanup_free_ char *proc_net = NULL, *marker = NULL;
        size_t n_volumes;

        /* A pause that cannot be exec'd: a clear error, nothing left. */
        t_pod_init(&p, "life", false);
        cr_assert_lt(infra_start(&p.plan, "/nonexistent/podrun-pause", &p.infra, &err), 0);
        cr_expect_str_eq(err.msg, "pod 'life': infra: exec '/nonexistent/podrun-pause': No such "
                                  "file or directory");
        cr_expect_not(t_mounted_under(p.plan.run_dir));
        cr_expect_not(t_exists(p.plan.hosts_path));
        cr_expect_not(t_exists(p.plan.shm_dir));
        cr_expect_not(t_exists(p.volumes[0].path));

        /* A real one: the named netns is the infra's, lo is up in it. */
        t_pod_start(&p);
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
        cr_expect_not(t_exists(marker));
        /* A stale pid whose start time does not match is left alone. */
        restored = (struct infra){.pid = getpid(), .pidfd = -1, .start_time = 1};
        cr_assert_eq(infra_stop(&restored, PR_USEC_PER_SEC, &err), 0, "%s", err.msg);

        /* pause exits 0 on SIGTERM, and stopping an infra already gone is fine. */
        infra_done(&p.infra);
        t_pod_start(&p);
        {
                siginfo_t si = {};

                cr_assert_eq(pidfd_send_signal(p.infra.pidfd, SIGTERM, NULL, 0), 0);
                cr_assert_eq(waitid(P_PIDFD, (id_t)p.infra.pidfd, &si, WEXITED), 0);
                cr_expect_eq(si.si_code, CLD_EXITED, "pause did not exit on SIGTERM");
                cr_expect_eq(si.si_status, 0);
        }
        t_pod_down(&p);
}

Test(runtime_edge, tty)
{
        struct tpod p;
        struct tctr *t;
        struct pr_error err = {};
        _cleanup_free_ char *out = NULL, *errout = NULL;

        t_pod_init(&p, "tty", false);
        t = t_pod_add(&p, "term", "sh|-c|tty; read line; echo \"got $line\"");
        t->c.tty = true;
        t->c.stdin_open = true;
        t_pod_start(&p);
        t_spawn(&p, t);
        cr_assert_eq(write(t->proc.stdin_fd, "hello\n", 6), 6);
        cr_assert_eq(t_start_result(t, &err), 0, "%s", err.msg);
        out = t_read_output(t->proc.stdout_fd, "got hello");
        errout = t_read_output(t->proc.stderr_fd, NULL);
        cr_expect_eq(t_wait_exit(t), 0, "%s", out);
        /* The container's own devpts, its input echoed, CRLF as a terminal. */
        cr_expect(strstr(out, "/dev/pts/0\r\n"), "%s", out);
        cr_expect(strstr(out, "hello\r\n"), "%s", out);
        cr_expect(strstr(out, "got hello"), "%s", out);
        cr_expect_str_eq(errout, "");
        t_pod_down(&p);
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
        if (infra_start(&p->plan, t_pause_path, &p->infra, &err) < 0)
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

Test(runtime_edge, supervisor_without_stdio)
{
        struct tpod p;
        struct tctr *ok, *bad;
        int status;
        pid_t pid;

        t_pod_init(&p, "nostdio", false);
        ok = t_pod_add(&p, "ok", "/probe|echo|fine");
        bad = t_pod_add(&p, "bad", "/bin/nosuch");
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0)
                _exit(run_without_stdio(&p, ok, bad));
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "step %d failed",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
        /* The child cleaned up after itself; nothing of the pod is left. */
        t_pod_down(&p);
}

/* hostNetwork: the pod shares the (test's own, unshared) network namespace
 * and the host's UTS namespace, whose hostname pause leaves alone. */
Test(runtime_edge, host_network)
{
        struct tpod p;
        struct tctr *t;
        char host[256], after[256];
        _cleanup_free_ char *out = NULL, *want = NULL, *net = NULL, *uts = NULL;

        cr_assert_eq(gethostname(host, sizeof(host)), 0);
        t_pod_init(&p, "hostnet", false);
        p.plan.host_network = true;
        t = t_pod_add(&p, "c", "sh|-c|/probe hostname; /probe ns; /probe cat /etc/hosts");
        t_pod_start(&p);
        out = t_run(&p, t, NULL);
        want = pr_asprintf("%s\n", host);
        cr_expect(pr_startswith(out, want), "%s", out);
        net = t_ns_of(out, "net");
        uts = t_ns_of(out, "uts");
        {
                _cleanup_free_ char *my_net = t_host_ns(getpid(), "net");
                _cleanup_free_ char *my_uts = t_host_ns(getpid(), "uts");

                cr_expect_str_eq(net, my_net);
                cr_expect_str_eq(uts, my_uts);
        }
        cr_expect_not(t_exists(p.plan.netns_path), "hostNetwork got a named netns");
        {
                /* kubelet gives a hostNetwork pod the node's own hosts file. */
                _cleanup_free_ char *node_hosts = NULL;
                struct pr_error err = {};

                cr_assert_eq(pr_read_file("/etc/hosts", 1 << 20, &node_hosts, NULL, &err), 0,
                             "%s", err.msg);
                cr_expect(strstr(out, node_hosts), "hosts file is not the node's: %s", out);
                cr_expect_null(strstr(out, "Kubernetes-managed"), "%s", out);
        }
        t_pod_down(&p);
        cr_assert_eq(gethostname(after, sizeof(after)), 0);
        cr_expect_str_eq(after, host, "the host's name changed");
}

/* A downwardAPI volume: its files are written before any container starts,
 * and the API server's read-only mount keeps them so. */
Test(runtime_edge, volume_files)
{
        struct tpod p;
        struct tctr *t;
        struct plan_file files[] = {
            {.path = (char *)"labels", .content = (char *)"app=\"web\"\n", .mode = 0644},
            {.path = (char *)"deep/er/name", .content = (char *)"files\n", .mode = 0600},
        };
        _cleanup_free_ char *out = NULL;

        t_pod_init(&p, "files", false);
        p.volumes[2].files = files;
        p.volumes[2].n_files = PR_ELEMENTSOF(files);
        t = t_pod_add(&p, "c",
                      "sh|-c|/probe cat /info/labels; /probe cat /info/deep/er/name;"
                      " /probe stat /info/deep/er/name; /probe write /info/x y; true");
        t_mount(t, &p.volumes[2], "/info", NULL, true);
        t_pod_start(&p);
        out = t_run(&p, t, NULL);
        cr_expect(pr_startswith(out, "app=\"web\"\nfiles\n"), "%s", out);
        cr_expect(strstr(out, "file 0600 0 0 6\n"), "%s", out);
        cr_expect(pr_endswith(out, "EROFS\n"), "%s", out);
        p.volumes[2].files = NULL;
        p.volumes[2].n_files = 0;
        t_pod_down(&p);
}

/* A restart is a new container, as under kubelet: the same plan entry
 * spawned again gets a fresh writable layer, the volumes keep their data. */
Test(runtime_edge, restart_gets_fresh_layer)
{
        struct tpod p;
        struct tctr *t;
        _cleanup_free_ char *first = NULL, *second = NULL;
        const char *script = "sh|-c|/probe cat /mine; /probe cat /data/kept;"
                             " /probe write /mine layer; /probe write /data/kept volume";

        t_pod_init(&p, "again", false);
        t = t_pod_add(&p, "c", script);
        t_mount(t, &p.volumes[0], "/data", NULL, false);
        t_pod_start(&p);
        first = t_run(&p, t, NULL);
        ctr_process_close(&t->proc);
        second = t_run(&p, t, NULL);
        cr_expect_str_eq(first, "ENOENT\nENOENT\nok\nok\n");
        cr_expect_str_eq(second, "ENOENT\nvolume\nok\nok\n");
        t_pod_down(&p);
}
