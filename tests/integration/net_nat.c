/* Egress masquerade and hostPort DNAT against the real kernel, in a private
 * network namespace per test. A further namespace "ext" plays the outside
 * network: veth vout (192.0.2.1, the host's address) to its eth0
 * (192.0.2.2). Runs as root; skips otherwise. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netsetup/netsetup.h"
#include "pod/base/error.h"
#include "pod/base/util.h"
#include "tests/integration/net_common.h"

static struct net_env env;
static char *ext;

static void setup(void)
{
        net_env_setup(&env, "bridge = ptest1\nsubnet = 10.124.0.0/24\n");
        ext = net_env_netns(&env, "ext");
        cr_assert_eq(net_sh("ip link add vout type veth peer name eth0 netns %s && "
                            "ip addr add 192.0.2.1/24 dev vout && ip link set vout up",
                            ext),
                     0);
        cr_assert_eq(net_sh("nsenter --net=%s sh -c 'ip addr add 192.0.2.2/24 dev eth0 && "
                            "ip link set eth0 up'",
                            ext),
                     0);
}

static void teardown(void)
{
        free(ext);
        ext = NULL;
        net_env_teardown(&env);
}

TestSuite(net_nat, .init = setup, .fini = teardown, .timeout = 60);

static int attach(const char *name, const char *netns, const struct net_host_port *ports, size_t n,
                  struct net_pod_result *res, struct pr_error *err)
{
        struct net_pod pod = {
            .name = name, .netns_path = netns, .netns_fd = -1, .ports = ports, .n_ports = n};

        return net_pod_attach(&env.cfg, env.root, &pod, res, err);
}

static void detach(const char *name)
{
        struct pr_error err = {};

        cr_assert_eq(net_pod_detach(&env.cfg, env.root, name, &err), 0, "%s", err.msg);
}

Test(net_nat, egress_leaves_with_the_hosts_address)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        _cleanup_free_ char *fwd = NULL, *table = NULL;
        struct net_pod_result ra;
        struct pr_error err = {};
        char reply[64];
        pid_t srv;

        cr_assert_eq(attach("pod-a", a, NULL, 0, &ra, &err), 0, "%s", err.msg);
        fwd = net_sh_out("cat /proc/sys/net/ipv4/ip_forward");
        cr_assert_str_eq(fwd, "1\n");
        table = net_sh_out("nft list table ip podrun");
        cr_assert(strstr(table, "oifname != \"ptest1\" masquerade"), "%s", table);
        srv = net_server(ext, false, AF_INET, 7100);
        cr_assert_eq(net_ask(a, false, "192.0.2.2", 7100, reply, sizeof(reply)), 0);
        cr_assert_str_eq(reply, "192.0.2.1", "the outside sees the host, not %s", ra.ip4);
        net_server_stop(&srv);
        srv = net_server(ext, true, AF_INET, 7101);
        cr_assert_eq(net_ask(a, true, "192.0.2.2", 7101, reply, sizeof(reply)), 0);
        cr_assert_str_eq(reply, "192.0.2.1");
        net_server_stop(&srv);
        detach("pod-a");
        net_assert_clean(&env);
}

Test(net_nat, host_ports_from_outside_host_and_pods)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        _cleanup_free_ char *b = net_env_netns(&env, "b");
        const struct net_host_port ports[] = {
            {.host_port = 8080, .container_port = 80, .protocol = NET_PROTOCOL_TCP},
            {.host_port = 5353, .container_port = 53, .protocol = NET_PROTOCOL_UDP},
            {.host_port = 8081,
             .container_port = 80,
             .protocol = NET_PROTOCOL_TCP,
             .host_ip = "192.0.2.1"},
        };
        struct net_pod_result ra, rb;
        struct pr_error err = {};
        char reply[64];
        pid_t tcp, udp;

        cr_assert_eq(attach("pod-a", a, ports, PR_ELEMENTSOF(ports), &ra, &err), 0, "%s", err.msg);
        cr_assert_eq(attach("pod-b", b, NULL, 0, &rb, &err), 0, "%s", err.msg);
        tcp = net_server(a, false, AF_INET, 80);
        udp = net_server(a, true, AF_INET, 53);
        /* From outside: the pod sees the real client. */
        cr_assert_eq(net_ask(ext, false, "192.0.2.1", 8080, reply, sizeof(reply)), 0);
        cr_assert_str_eq(reply, "192.0.2.2");
        cr_assert_eq(net_ask(ext, true, "192.0.2.1", 5353, reply, sizeof(reply)), 0);
        cr_assert_str_eq(reply, "192.0.2.2");
        cr_assert_eq(net_ask(ext, false, "192.0.2.1", 8081, reply, sizeof(reply)), 0);
        /* From the host itself, to its address and to loopback. */
        cr_assert_eq(net_ask(NULL, false, "192.0.2.1", 8080, reply, sizeof(reply)), 0);
        cr_assert_eq(net_ask(NULL, false, "127.0.0.1", 8080, reply, sizeof(reply)), 0);
        cr_assert_str_eq(reply, "10.124.0.1", "loopback is masqueraded to the gateway");
        /* From a pod: another one, and itself (hairpin). */
        cr_assert_eq(net_ask(b, false, "192.0.2.1", 8080, reply, sizeof(reply)), 0);
        cr_assert_eq(net_ask(a, false, "192.0.2.1", 8080, reply, sizeof(reply)), 0);
        /* hostIP limits 8081 to 192.0.2.1: the gateway address is not it. */
        cr_assert_neq(net_ask(b, false, "10.124.0.1", 8081, reply, sizeof(reply)), 0);
        cr_assert_eq(net_ask(b, false, "10.124.0.1", 8080, reply, sizeof(reply)), 0);

        detach("pod-a");
        cr_assert_neq(net_ask(ext, false, "192.0.2.1", 8080, reply, sizeof(reply)), 0);
        {
                _cleanup_free_ char *rules = net_sh_out("nft list chain ip podrun hostports");
                cr_assert_null(strstr(rules, "dnat"), "pod-a's rules are gone: %s", rules);
        }
        net_server_stop(&tcp);
        net_server_stop(&udp);
        detach("pod-b");
        net_assert_clean(&env);
}

Test(net_nat, a_taken_host_port_is_refused_and_leaves_nothing)
{
        _cleanup_free_ char *a = net_env_netns(&env, "a");
        _cleanup_free_ char *b = net_env_netns(&env, "b");
        _cleanup_free_ char *links = NULL, *blinks = NULL;
        const struct net_host_port port = {
            .host_port = 8080, .container_port = 80, .protocol = NET_PROTOCOL_TCP};
        const struct net_host_port other = {
            .host_port = 8080, .container_port = 80, .protocol = NET_PROTOCOL_UDP};
        struct net_pod_result ra, rb;
        struct pr_error err = {};
        char reply[64];
        pid_t tcp;

        cr_assert_eq(attach("pod-a", a, &port, 1, &ra, &err), 0, "%s", err.msg);
        cr_assert_eq(attach("pod-b", b, &port, 1, &rb, &err), -EADDRINUSE);
        cr_assert_str_eq(err.msg, "pod 'pod-b': hostPort 8080/TCP is already taken by pod 'pod-a'");
        links = net_sh_out("ip -o link show");
        cr_assert_eq(strstr(strstr(links, ": vp") + 1, ": vp"), NULL, "only pod-a's veth: %s",
                     links);
        blinks = net_sh_out("nsenter --net=%s ip -o link show", b);
        cr_assert_null(strstr(blinks, "eth0"), "%s", blinks);
        /* pod-a is untouched by pod-b's failure. */
        tcp = net_server(a, false, AF_INET, 80);
        cr_assert_eq(net_ask(ext, false, "192.0.2.1", 8080, reply, sizeof(reply)), 0);
        net_server_stop(&tcp);
        /* The same port over UDP is another port. */
        cr_assert_eq(attach("pod-b", b, &other, 1, &rb, &err), 0, "%s", err.msg);
        detach("pod-a");
        detach("pod-b");
        net_assert_clean(&env);
}
