/* netsetup against the real kernel: bridge, veth, addresses, routes and
 * leases, inside a network and mount namespace each test makes for itself.
 * Runs as root; skips otherwise. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netsetup/netsetup.h"
#include "pod/base/error.h"
#include "pod/base/util.h"
#include "tests/integration/net_common.h"

static struct net_env env;

static void setup(void)
{
        net_env_setup(&env, "bridge = ptest0\nsubnet = 10.123.0.0/24\n");
}

/* Criterion runs the suite's .init before a test's own: replace its env. */
static void setup_dual(void)
{
        net_env_teardown(&env);
        net_env_setup(&env, "bridge = ptest0\nsubnet = 10.123.0.0/24\nsubnet6 = fd12:3::/64\n"
                            "mtu = 1400\n");
}

static void teardown(void)
{
        net_env_teardown(&env);
}

TestSuite(net_pod, .init = setup, .fini = teardown, .timeout = 60);

static void attach(const char *name, const char *netns, struct net_pod_result *res)
{
        struct net_pod pod = {.name = name, .netns_path = netns, .netns_fd = -1};
        struct pr_error err = {};

        cr_assert_eq(net_pod_attach(&env.cfg, env.root, &pod, res, &err), 0, "%s", err.msg);
}

static void detach(const char *name)
{
        struct pr_error err = {};

        cr_assert_eq(net_pod_detach(&env.cfg, env.root, name, &err), 0, "%s", err.msg);
}

/* What `ip` sees inside the pod: the oracle is iproute2, not libnl. */
static void assert_pod_wired(const char *netns, const struct net_pod_result *res)
{
        _cleanup_free_ char *addr =
            net_sh_out("nsenter --net=%s ip -o -4 addr show dev eth0", netns);
        _cleanup_free_ char *lo = net_sh_out("nsenter --net=%s ip -o link show lo", netns);
        _cleanup_free_ char *route = net_sh_out("nsenter --net=%s ip -4 route show default", netns);
        _cleanup_free_ char *want = pr_asprintf("inet %s/24 ", res->ip4);

        cr_assert(strstr(addr, want), "eth0 lacks %s: %s", res->ip4, addr);
        cr_assert(strstr(lo, "UP"), "lo is not up: %s", lo);
        cr_assert(strstr(route, "default via 10.123.0.1 dev eth0"), "route: %s", route);
}

Test(net_pod, two_pods_reach_each_other_and_the_gateway)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        _cleanup_free_ char *b = net_env_netns(&env, "b");
        _cleanup_free_ char *host_link = NULL;
        struct net_pod_result ra, rb;
        char reply[64];
        pid_t srv;

        attach("pod-a", a, &ra);
        attach("pod-b", b, &rb);
        cr_assert_str_eq(ra.gateway4, "10.123.0.1");
        cr_assert_str_neq(ra.ip4, rb.ip4);
        cr_assert_eq(ra.prefix, 24);
        cr_assert_eq(ra.mtu, 1500);
        cr_assert_str_eq(ra.ip6, "");
        assert_pod_wired(a, &ra);
        assert_pod_wired(b, &rb);
        host_link = net_sh_out("ip -d -o link show %s", ra.host_ifname);
        cr_assert(strstr(host_link, "master ptest0"), "%s", host_link);
        cr_assert(strstr(host_link, "hairpin on"), "%s", host_link);
        cr_assert(strstr(host_link, "state UP") || strstr(host_link, ",UP"), "%s", host_link);

        /* TCP a -> b: b sees a's own address (no NAT on the bridge). */
        srv = net_server(b, false, AF_INET, 7000);
        cr_assert_eq(net_ask(a, false, rb.ip4, 7000, reply, sizeof(reply)), 0);
        cr_assert_str_eq(reply, ra.ip4);
        net_server_stop(&srv);
        /* UDP b -> a. */
        srv = net_server(a, true, AF_INET, 7001);
        cr_assert_eq(net_ask(b, true, ra.ip4, 7001, reply, sizeof(reply)), 0);
        cr_assert_str_eq(reply, rb.ip4);
        net_server_stop(&srv);
        /* a -> the gateway, a server in the "host" namespace. */
        srv = net_server(NULL, false, AF_INET, 7002);
        cr_assert_eq(net_ask(a, false, "10.123.0.1", 7002, reply, sizeof(reply)), 0);
        cr_assert_str_eq(reply, ra.ip4);
        net_server_stop(&srv);

        detach("pod-a");
        cr_assert_neq(net_ask(b, false, ra.ip4, 7000, reply, sizeof(reply)), 0);
        detach("pod-b");
        net_assert_clean(&env);
}

Test(net_pod, detach_is_idempotent_and_needs_only_the_name)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        _cleanup_free_ char *links = NULL;
        struct net_pod_result ra;

        detach("never-attached");
        attach("web", a, &ra);
        detach("web");
        links = net_sh_out("nsenter --net=%s ip -o link show", a);
        cr_assert_null(strstr(links, "eth0"), "the peer goes with the host end: %s", links);
        detach("web");
        net_assert_clean(&env);
}

Test(net_pod, attach_twice_is_refused_and_leaves_the_pod_working)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        struct net_pod pod = {.name = "web", .netns_path = a, .netns_fd = -1};
        struct net_pod_result ra, again;
        struct pr_error err = {};

        attach("web", a, &ra);
        cr_assert_eq(net_pod_attach(&env.cfg, env.root, &pod, &again, &err), -EEXIST);
        cr_assert(strstr(err.msg, "pod 'web': already attached"), "%s", err.msg);
        assert_pod_wired(a, &ra);
        detach("web");
        net_assert_clean(&env);
}

Test(net_pod, a_subnet_overlapping_a_host_route_is_refused_before_any_change)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        _cleanup_free_ char *links = NULL;
        struct net_pod pod = {.name = "web", .netns_path = a, .netns_fd = -1};
        struct net_pod_result res;
        struct pr_error err = {};

        cr_assert_eq(net_sh("ip link add ovl0 type veth peer name ovl1 && ip link set ovl0 up && "
                            "ip route add 10.123.0.128/25 dev ovl0"),
                     0);
        cr_assert_eq(net_pod_attach(&env.cfg, env.root, &pod, &res, &err), -EEXIST);
        cr_assert_str_eq(err.msg, "pod 'web': network 'ptest0': subnet 10.123.0.0/24 overlaps "
                                  "the host route 10.123.0.128/25 dev ovl0");
        links = net_sh_out("ip -o link show");
        cr_assert_null(strstr(links, "ptest0"), "nothing made: %s", links);
        cr_assert_eq(net_sh("ip link del ovl0"), 0);
        net_assert_clean(&env);
}

Test(net_pod, a_bad_namespace_file_fails_cleanly)
{
        _cleanup_free_ char *notns = pr_asprintf("%s/network.conf", env.root);
        struct net_pod pod = {.name = "web", .netns_path = notns, .netns_fd = -1};
        struct net_pod_result res;
        struct pr_error err = {};

        cr_assert_eq(net_pod_attach(&env.cfg, env.root, &pod, &res, &err), -EINVAL);
        cr_assert(strstr(err.msg, "not a namespace file"), "%s", err.msg);
        pod.name = "bad/name";
        cr_assert_eq(net_pod_attach(&env.cfg, env.root, &pod, &res, &err), -EINVAL);
        cr_assert(err.usage);
        net_assert_clean(&env);
}

Test(net_pod, dual_stack_and_mtu, .init = setup_dual)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        _cleanup_free_ char *b = net_env_netns(&env, "b");
        _cleanup_free_ char *addr6 = NULL, *route6 = NULL, *link = NULL;
        struct net_pod_result ra, rb;
        char reply[64];
        pid_t srv;

        attach("pod-a", a, &ra);
        attach("pod-b", b, &rb);
        cr_assert_eq(ra.mtu, 1400);
        cr_assert_str_eq(ra.gateway6, "fd12:3::1");
        cr_assert_str_eq(ra.ip6, "fd12:3::2");
        cr_assert_str_eq(rb.ip6, "fd12:3::3");
        addr6 = net_sh_out("nsenter --net=%s ip -o -6 addr show dev eth0", a);
        cr_assert(strstr(addr6, "inet6 fd12:3::2/64"), "%s", addr6);
        route6 = net_sh_out("nsenter --net=%s ip -6 route show default", a);
        cr_assert(strstr(route6, "default via fd12:3::1 dev eth0"), "%s", route6);
        link = net_sh_out("nsenter --net=%s ip -o link show eth0", a);
        cr_assert(strstr(link, "mtu 1400"), "%s", link);
        srv = net_server(b, false, AF_INET6, 7010);
        cr_assert_eq(net_ask(a, false, rb.ip6, 7010, reply, sizeof(reply)), 0);
        cr_assert_str_eq(reply, ra.ip6);
        net_server_stop(&srv);
        detach("pod-a");
        detach("pod-b");
        net_assert_clean(&env);
}

/* 50 `podrun up` at once: forked children each attach their own pod. */
Test(net_pod, fifty_concurrent_attaches_get_distinct_addresses)
{
        enum { N = 50 };
        char *paths[N];
        pid_t pids[N];
        int statuses[N];
        int out[2];
        struct net_pod_result res[N];

        for (int i = 0; i < N; i++) {
                char name[16];
                snprintf(name, sizeof(name), "ns%d", i);
                paths[i] = net_env_netns(&env, name);
        }
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        for (int i = 0; i < N; i++) {
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] == 0) {
                        char name[16];
                        struct net_pod pod = {.name = name, .netns_path = paths[i], .netns_fd = -1};
                        struct net_pod_result r = {0};
                        struct pr_error err = {};

                        snprintf(name, sizeof(name), "pod-%d", i);
                        if (net_pod_attach(&env.cfg, env.root, &pod, &r, &err) < 0) {
                                fprintf(stderr, "%s\n", err.msg);
                                _exit(1);
                        }
                        if (write(out[1], &r, sizeof(r)) != sizeof(r))
                                _exit(2);
                        _exit(0);
                }
        }
        close(out[1]);
        /* Reap every child before asserting: a failed assertion tears the
         * namespaces down, which must not happen under running attaches. */
        for (int i = 0; i < N; i++)
                cr_assert_eq(waitpid(pids[i], &statuses[i], 0), pids[i]);
        for (int i = 0; i < N; i++)
                cr_assert(WIFEXITED(statuses[i]) && WEXITSTATUS(statuses[i]) == 0,
                          "attach %d failed", i);
        for (int i = 0; i < N; i++)
                cr_assert_eq(read(out[0], &res[i], sizeof(res[i])), sizeof(res[i]));
        close(out[0]);
        for (int i = 0; i < N; i++)
                for (int j = 0; j < i; j++)
                        cr_assert_str_neq(res[i].ip4, res[j].ip4, "same address %s", res[i].ip4);
        /* Detach them all at once too: the last one takes the bridge. */
        for (int i = 0; i < N; i++) {
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] == 0) {
                        char name[16];
                        struct pr_error err = {};
                        snprintf(name, sizeof(name), "pod-%d", i);
                        _exit(net_pod_detach(&env.cfg, env.root, name, &err) < 0 ? 1 : 0);
                }
        }
        for (int i = 0; i < N; i++)
                cr_assert_eq(waitpid(pids[i], &statuses[i], 0), pids[i]);
        for (int i = 0; i < N; i++)
                cr_assert(WIFEXITED(statuses[i]) && WEXITSTATUS(statuses[i]) == 0,
                          "detach %d failed", i);
        net_assert_clean(&env);
        for (int i = 0; i < N; i++)
                free(paths[i]);
}

/* The attaching process dies without detaching; a later `podrun down`
 * knows only the pod's name. */
Test(net_pod, detach_after_a_crash_needs_only_the_name)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        _cleanup_free_ char *rules = NULL, *links = NULL;
        int status;
        pid_t pid;

        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                const struct net_host_port port = {
                    .host_port = 8080, .container_port = 80, .protocol = NET_PROTOCOL_TCP};
                struct net_pod pod = {.name = "web",
                                      .netns_path = a,
                                      .netns_fd = -1,
                                      .ports = &port,
                                      .n_ports = 1,
                                      .owner_pid = getpid()};
                struct net_pod_result res;
                struct pr_error err = {};

                _exit(net_pod_attach(&env.cfg, env.root, &pod, &res, &err) < 0 ? 1 : 0);
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        rules = net_sh_out("nft list chain ip podrun hostports");
        cr_assert(strstr(rules, "dport 8080"), "%s", rules);
        links = net_sh_out("ip -o link show");
        cr_assert(strstr(links, ": vp"), "%s", links);
        detach("web");
        net_assert_clean(&env);
}

Test(net_pod, the_hosts_namespace_or_a_taken_eth0_is_refused_cleanly)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        struct net_pod pod = {.name = "web", .netns_path = "/proc/self/ns/net", .netns_fd = -1};
        struct net_pod_result res;
        struct pr_error err = {};

        cr_assert_eq(net_pod_attach(&env.cfg, env.root, &pod, &res, &err), -EINVAL);
        cr_assert(strstr(err.msg, "is the host's own"), "%s", err.msg);
        cr_assert_eq(net_sh("nsenter --net=%s ip link add eth0 type veth peer name other", a), 0);
        pod.netns_path = a;
        cr_assert_eq(net_pod_attach(&env.cfg, env.root, &pod, &res, &err), -EEXIST);
        cr_assert(strstr(err.msg, "create veth"), "%s", err.msg);
        /* Undone: the lease, the bridge and the table are gone again. */
        net_assert_clean(&env);
}
