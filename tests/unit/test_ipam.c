/* IPAM leases in a temp dir: no root, no kernel objects. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netsetup/netsetup-int.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"

TestSuite(ipam);

static char root[] = "/tmp/podrun-test-ipam-XXXXXX";
static struct net_config cfg;
static struct net_ipam ipam;
static int lock_fd = -1;

static void setup_net(const char *conf)
{
        struct pr_error err = {};

        cr_assert_not_null(mkdtemp(root));
        cr_assert_eq(net_config_parse(conf, "test.conf", &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(net_ipam_open(root, &cfg, &ipam, &err), 0, "%s", err.msg);
        cr_assert_eq(net_ipam_lock(&ipam, &lock_fd, &err), 0, "%s", err.msg);
}

static void teardown_net(void)
{
        if (lock_fd >= 0)
                (void)close(lock_fd);
        lock_fd = -1;
        net_ipam_done(&ipam);
        net_config_done(&cfg);
        (void)pr_rm_rf(root, NULL);
        strcpy(root, "/tmp/podrun-test-ipam-XXXXXX");
}

static void setup29(void)
{
        setup_net("bridge = tst0\nsubnet = 10.1.2.0/29\n");
}

static void setup30(void)
{
        setup_net("bridge = tst0\nsubnet = 10.1.2.0/30\n");
}

static void setup24(void)
{
        setup_net("bridge = tst0\nsubnet = 10.1.3.0/24\n");
}

static char *alloc_text(const char *pod)
{
        struct pr_error err = {};
        struct in_addr a;
        char buf[INET_ADDRSTRLEN];

        cr_assert_eq(net_ipam_allocate(&ipam, pod, &a, &err), 0, "%s: %s", pod, err.msg);
        cr_assert_not_null(inet_ntop(AF_INET, &a, buf, sizeof(buf)));
        return pr_strdup(buf);
}

static void write_lease(const char *name, const char *text)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", ipam.dir, name);
        FILE *f = fopen(path, "we");

        cr_assert_not_null(f);
        fputs(text, f);
        fclose(f);
}

static bool lease_exists(const char *name)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", ipam.dir, name);
        return access(path, F_OK) == 0;
}

static void current_boot_id(char *buf, size_t n)
{
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

        cr_assert_not_null(f);
        cr_assert_not_null(fgets(buf, (int)n, f));
        buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
}

Test(ipam, exhaustion_of_a_29_skips_network_gateway_broadcast, .init = setup29,
     .fini = teardown_net)
{
        const char *expect[] = {"10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"};
        struct pr_error err = {};
        struct in_addr a;

        for (size_t i = 0; i < PR_ELEMENTSOF(expect); i++) {
                _cleanup_free_ char *pod = pr_asprintf("pod%zu", i);
                _cleanup_free_ char *ip = alloc_text(pod);
                cr_assert_str_eq(ip, expect[i]);
        }
        cr_assert_eq(net_ipam_allocate(&ipam, "one-too-many", &a, &err), -ENOSPC);
        cr_assert_str_eq(err.msg, "network 'tst0': no free address in 10.1.2.0/29");
        cr_assert_eq(net_ipam_count(&ipam, &err), 5);
}

Test(ipam, same_pod_gets_its_lease_again, .init = setup29, .fini = teardown_net)
{
        _cleanup_free_ char *a = alloc_text("web");
        _cleanup_free_ char *b = alloc_text("web");

        cr_assert_str_eq(a, b);
        cr_assert_eq(net_ipam_count(&ipam, NULL), 1);
}

Test(ipam, round_robin_after_release, .init = setup29, .fini = teardown_net)
{
        struct pr_error err = {};
        _cleanup_free_ char *a = alloc_text("a");
        _cleanup_free_ char *b = NULL, *c = NULL;

        cr_assert_str_eq(a, "10.1.2.2");
        cr_assert_eq(net_ipam_release(&ipam, "a", &err), 1, "%s", err.msg);
        cr_assert_not(lease_exists("10.1.2.2"));
        /* Not handed out again at once: the next one is. */
        b = alloc_text("b");
        cr_assert_str_eq(b, "10.1.2.3");
        cr_assert_eq(net_ipam_release(&ipam, "a", &err), 0, "releasing twice is fine");
        cr_assert_eq(net_ipam_release(&ipam, "b", &err), 1);
        cr_assert_eq(net_ipam_count(&ipam, &err), 0);
        c = alloc_text("c");
        cr_assert_str_eq(c, "10.1.2.4");
}

Test(ipam, released_address_reused_after_wrap, .init = setup29, .fini = teardown_net)
{
        char *ips[5];

        for (int i = 0; i < 5; i++) {
                _cleanup_free_ char *pod = pr_asprintf("p%d", i);
                ips[i] = alloc_text(pod);
        }
        cr_assert_eq(net_ipam_release(&ipam, "p1", NULL), 1);
        {
                _cleanup_free_ char *again = alloc_text("q");
                cr_assert_str_eq(again, ips[1]);
        }
        for (int i = 0; i < 5; i++)
                free(ips[i]);
}

static void lease_path(const char *name, char *buf, size_t n)
{
        snprintf(buf, n, "%s/%s", ipam.dir, name);
}

static void write_owned_lease(const char *name, const char *pod, const char *extra)
{
        char boot[64], text[512];

        current_boot_id(boot, sizeof(boot));
        snprintf(text, sizeof(text), "pod=%s\nboot_id=%s\n%s", pod, boot, extra);
        write_lease(name, text);
}

Test(ipam, lease_from_another_boot_is_reclaimed, .init = setup30, .fini = teardown_net)
{
        _cleanup_free_ char *ip = NULL;
        _cleanup_free_ char *text = NULL;
        char path[512];

        write_lease("10.1.2.2", "pod=old\nboot_id=00000000-0000-0000-0000-000000000000\n");
        ip = alloc_text("new");
        cr_assert_str_eq(ip, "10.1.2.2");
        lease_path("10.1.2.2", path, sizeof(path));
        cr_assert_eq(pr_read_file(path, 1024, &text, NULL, NULL), 0);
        cr_assert(strstr(text, "pod=new\n"), "lease rewritten for the new owner: %s", text);
}

static bool only_alive_exists(const char *pod, void *data)
{
        (*(int *)data)++;
        return strcmp(pod, "alive") == 0;
}

Test(ipam, pod_exists_callback_decides, .init = setup30, .fini = teardown_net)
{
        struct pr_error err = {};
        struct in_addr a;
        _cleanup_free_ char *ip = NULL;
        char path[512];
        int calls = 0;

        ipam.pod_exists = only_alive_exists;
        ipam.userdata = &calls;
        write_owned_lease("10.1.2.2", "alive", "");
        cr_assert_eq(net_ipam_allocate(&ipam, "new", &a, &err), -ENOSPC);
        cr_assert_gt(calls, 0);
        lease_path("10.1.2.2", path, sizeof(path));
        cr_assert_eq(unlink(path), 0);
        write_owned_lease("10.1.2.2", "gone", "");
        ip = alloc_text("new");
        cr_assert_str_eq(ip, "10.1.2.2");
}

Test(ipam, same_boot_without_owner_process_is_kept, .init = setup30, .fini = teardown_net)
{
        struct pr_error err = {};
        struct in_addr a;

        write_owned_lease("10.1.2.2", "kept", "");
        cr_assert_eq(net_ipam_allocate(&ipam, "new", &a, &err), -ENOSPC);
        cr_assert(lease_exists("10.1.2.2"));
}

Test(ipam, lease_of_a_dead_owner_process_is_reclaimed, .init = setup30, .fini = teardown_net)
{
        _cleanup_free_ char *ip = NULL;
        _cleanup_free_ char *extra = NULL;
        struct pr_error err = {};
        struct in_addr a;
        pid_t child;

        /* A live owner (this process) holds its lease. */
        ipam.owner_pid = getpid();
        ip = alloc_text("mine");
        cr_assert_str_eq(ip, "10.1.2.2");
        ipam.owner_pid = 0;
        cr_assert_eq(net_ipam_allocate(&ipam, "new", &a, &err), -ENOSPC);
        /* An owner that has exited (pid reaped) does not. */
        child = fork();
        cr_assert_geq(child, 0);
        if (child == 0)
                _exit(0);
        cr_assert_eq(waitpid(child, NULL, 0), child);
        cr_assert_eq(net_ipam_release(&ipam, "mine", &err), 1);
        extra = pr_asprintf("pid=%d\nstart_time=12345\n", (int)child);
        write_owned_lease("10.1.2.2", "crashed", extra);
        free(ip);
        ip = alloc_text("new");
        cr_assert_str_eq(ip, "10.1.2.2");
}

Test(ipam, corrupt_lease_is_skipped, .init = setup29, .fini = teardown_net)
{
        _cleanup_free_ char *ip = NULL;
        char path[512];

        write_lease("10.1.2.2", "\x01garbage without an equals sign");
        write_lease("10.1.2.3", "pod=x\n"); /* no boot_id */
        write_lease("10.1.2.4", "");
        ip = alloc_text("new");
        cr_assert_str_eq(ip, "10.1.2.5");
        /* Never removed: a person should look at them. */
        cr_assert(lease_exists("10.1.2.2"));
        cr_assert(lease_exists("10.1.2.3"));
        lease_path("10.1.2.4", path, sizeof(path));
        cr_assert_eq(access(path, F_OK), 0);
}

Test(ipam, corrupt_lease_in_a_full_network_is_no_free_address, .init = setup30,
     .fini = teardown_net)
{
        struct pr_error err = {};
        struct in_addr a;

        write_lease("10.1.2.2", "pod=\"; rm -rf /\nboot_id=x\n");
        cr_assert_eq(net_ipam_allocate(&ipam, "new", &a, &err), -ENOSPC);
        cr_assert_str_eq(err.msg, "network 'tst0': no free address in 10.1.2.0/30");
}

Test(ipam, host_ports_are_exclusive, .init = setup29, .fini = teardown_net)
{
        struct pr_error err = {};

        cr_assert_eq(net_ipam_reserve_port(&ipam, "a", NET_PROTOCOL_TCP, 8080, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(net_ipam_reserve_port(&ipam, "a", NET_PROTOCOL_TCP, 8080, &err), 0,
                     "the same pod again is fine");
        cr_assert_eq(net_ipam_reserve_port(&ipam, "b", NET_PROTOCOL_TCP, 8080, &err), -EADDRINUSE);
        cr_assert_str_eq(err.msg, "hostPort 8080/TCP is already taken by pod 'a'");
        cr_assert_eq(net_ipam_reserve_port(&ipam, "b", NET_PROTOCOL_UDP, 8080, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(net_ipam_release_ports(&ipam, "a", &err), 1);
        cr_assert_eq(net_ipam_reserve_port(&ipam, "b", NET_PROTOCOL_TCP, 8080, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(net_ipam_release_ports(&ipam, "b", &err), 2);
        cr_assert_eq(net_ipam_count(&ipam, &err), 0, "port records are not leases");
}

/* N processes allocate at once, each with its own lock fd (flock locks
 * belong to the open file description, so this is the real contention). */
Test(ipam, concurrent_allocations_are_distinct, .init = setup24, .fini = teardown_net)
{
        enum { N = 40 };
        int pipefd[2];
        pid_t pids[N];
        uint32_t got[N];

        (void)close(lock_fd);
        lock_fd = -1;
        cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
        for (int i = 0; i < N; i++) {
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] == 0) {
                        struct pr_error err = {};
                        struct in_addr a = {0};
                        char pod[32];
                        int fd = -1;

                        snprintf(pod, sizeof(pod), "pod-%d", i);
                        if (net_ipam_lock(&ipam, &fd, &err) < 0 ||
                            net_ipam_allocate(&ipam, pod, &a, &err) < 0)
                                _exit(1);
                        (void)close(fd);
                        if (write(pipefd[1], &a.s_addr, sizeof(a.s_addr)) != sizeof(a.s_addr))
                                _exit(2);
                        _exit(0);
                }
        }
        (void)close(pipefd[1]);
        for (int i = 0; i < N; i++) {
                int status;
                cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
        }
        for (int i = 0; i < N; i++)
                cr_assert_eq(read(pipefd[0], &got[i], sizeof(got[i])), sizeof(got[i]));
        (void)close(pipefd[0]);
        for (int i = 0; i < N; i++) {
                uint32_t h = ntohl(got[i]);
                cr_assert(h > 0x0a010301 && h < 0x0a0103ff, "address in range, not gateway");
                for (int j = 0; j < i; j++)
                        cr_assert_neq(got[i], got[j], "children %d and %d got the same", i, j);
        }
        cr_assert_eq(net_ipam_count(&ipam, NULL), N);
}

Test(ipam, host_port_of_a_stale_pod_is_reclaimed, .init = setup29, .fini = teardown_net)
{
        _cleanup_free_ char *path = pr_asprintf("%s/ports/tcp-8080", ipam.dir);
        struct pr_error err = {};
        FILE *f = fopen(path, "we");

        cr_assert_not_null(f);
        fputs("pod=old\nboot_id=00000000-0000-0000-0000-000000000000\n", f);
        fclose(f);
        cr_assert_eq(net_ipam_reserve_port(&ipam, "new", NET_PROTOCOL_TCP, 8080, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(net_ipam_release_ports(&ipam, "new", &err), 1);
}

Test(ipam, count_is_live_pods_and_drops_stale_leases, .init = setup29, .fini = teardown_net)
{
        _cleanup_free_ char *ip = alloc_text("live");

        write_lease("10.1.2.5", "pod=old\nboot_id=00000000-0000-0000-0000-000000000000\n");
        write_lease("10.1.2.6", "corrupt");
        cr_assert_eq(net_ipam_count(&ipam, NULL), 1);
        cr_assert_not(lease_exists("10.1.2.5"), "the stale lease is removed");
        cr_assert(lease_exists("10.1.2.6"), "a corrupt one is left for a person to read");
        cr_assert_eq(net_ipam_release(&ipam, "live", NULL), 1);
        cr_assert_eq(net_ipam_count(&ipam, NULL), 0);
}
