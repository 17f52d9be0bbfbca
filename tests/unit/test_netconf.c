/* network.conf parsing and the names netsetup derives. Pure: no root. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netsetup/netsetup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"

TestSuite(netconf);

static const char *ip4(struct in_addr a, char *buf)
{
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const char *ip6(const struct in6_addr *a, char *buf)
{
        return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

Test(netconf, empty_file_gives_the_defaults)
{
        struct net_config cfg;
        struct pr_error err = {};
        char buf[INET6_ADDRSTRLEN];

        cr_assert_eq(net_config_parse("# nothing\n\n", "n.conf", &cfg, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cfg.bridge, "podrun0");
        cr_assert_str_eq(ip4(cfg.subnet, buf), "10.90.0.0");
        cr_assert_eq(cfg.prefix, 16);
        cr_assert_str_eq(ip4(cfg.gateway, buf), "10.90.0.1");
        cr_assert_not(cfg.ipv6);
        cr_assert_eq(cfg.mtu, 0);
        cr_assert_str_eq(cfg.path, "n.conf");
        net_config_done(&cfg);
}

Test(netconf, every_key)
{
        struct net_config cfg;
        struct pr_error err = {};
        char buf[INET6_ADDRSTRLEN];
        const char *text = "  bridge = br-test \n"
                           "subnet=172.31.8.0/22\t# trailing comment is not allowed? no: value\n";

        /* A '#' after a value is part of the value: strict means no guessing. */
        cr_assert_lt(net_config_parse(text, "n.conf", &cfg, &err), 0);
        cr_assert_str_eq(err.msg,
                         "n.conf:2: subnet: not an IPv4 CIDR '172.31.8.0/22\t# trailing comment "
                         "is not allowed? no: value'");

        text = "  bridge = br-test \n"
               "subnet=172.31.8.0/22\r\n"
               "gateway = 172.31.11.254\n"
               "subnet6 = fd00:90::/64\n"
               "mtu = 1400\n";
        cr_assert_eq(net_config_parse(text, "n.conf", &cfg, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cfg.bridge, "br-test");
        cr_assert_str_eq(ip4(cfg.subnet, buf), "172.31.8.0");
        cr_assert_eq(cfg.prefix, 22);
        cr_assert_str_eq(ip4(cfg.gateway, buf), "172.31.11.254");
        cr_assert(cfg.ipv6);
        cr_assert_str_eq(ip6(&cfg.subnet6, buf), "fd00:90::");
        cr_assert_eq(cfg.prefix6, 64);
        cr_assert_str_eq(ip6(&cfg.gateway6, buf), "fd00:90::1");
        cr_assert_eq(cfg.mtu, 1400);
        net_config_done(&cfg);
}

static void expect_error(const char *text, const char *msg)
{
        struct net_config cfg = {};
        struct pr_error err = {};

        cr_assert_eq(net_config_parse(text, "/etc/podrun/network.conf", &cfg, &err), -EINVAL,
                     "accepted: %s", text);
        cr_assert(err.usage);
        cr_assert_str_eq(err.msg, msg);
        cr_assert_null(cfg.path);
}

Test(netconf, errors_name_file_and_line)
{
        expect_error("bridge = a\n\n# c\nbrigde = b\n",
                     "/etc/podrun/network.conf:4: unknown key 'brigde'");
        expect_error("bridge = a\nbridge = b\n",
                     "/etc/podrun/network.conf:2: 'bridge' already set on line 1");
        expect_error("subnet\n", "/etc/podrun/network.conf:1: expected 'key = value'");
        expect_error("mtu =\n", "/etc/podrun/network.conf:1: 'mtu' has no value");
        expect_error("subnet = 10.90.0.1/16\n",
                     "/etc/podrun/network.conf:1: subnet: host bits set in '10.90.0.1/16'");
        expect_error("subnet = 10.90.0.0/31\n",
                     "/etc/podrun/network.conf:1: subnet: prefix length must be 8 to 30 "
                     "'10.90.0.0/31'");
        expect_error("subnet = 10.90.0.0\n",
                     "/etc/podrun/network.conf:1: subnet: not an IPv4 CIDR '10.90.0.0'");
        expect_error("subnet = 10.90.0.0/16x\n",
                     "/etc/podrun/network.conf:1: subnet: not an IPv4 CIDR '10.90.0.0/16x'");
        expect_error("subnet = 10.90.0.0/24\ngateway = 10.90.1.1\n",
                     "/etc/podrun/network.conf:2: gateway: not a host address of the subnet: "
                     "'10.90.1.1'");
        expect_error("gateway = 10.90.255.255\n",
                     "/etc/podrun/network.conf:1: gateway: not a host address of the subnet: "
                     "'10.90.255.255'");
        expect_error("gateway = nope\n",
                     "/etc/podrun/network.conf:1: gateway: not an IPv4 address 'nope'");
        expect_error("\ngateway6 = fd00::1\n",
                     "/etc/podrun/network.conf:2: 'gateway6' needs 'subnet6'");
        expect_error("subnet6 = fd00::/64\ngateway6 = fd01::1\n",
                     "/etc/podrun/network.conf:2: gateway6: not inside subnet6: 'fd01::1'");
        expect_error("subnet6 = fd00::/120\n",
                     "/etc/podrun/network.conf:1: subnet6: prefix length must be 8 to 96 "
                     "'fd00::/120'");
        expect_error("mtu = 70000\n",
                     "/etc/podrun/network.conf:1: mtu: not a number from 68 to 65535 '70000'");
        expect_error("bridge = this-name-is-too-long\n",
                     "/etc/podrun/network.conf:1: bridge: not an interface name (1-15 of "
                     "[A-Za-z0-9._-]) 'this-name-is-too-long'");
        expect_error("bridge = a/b\n",
                     "/etc/podrun/network.conf:1: bridge: not an interface name (1-15 of "
                     "[A-Za-z0-9._-]) 'a/b'");
}

Test(netconf, load_prefers_the_root_dir_file)
{
        char root[] = "/tmp/podrun-test-netconf-XXXXXX";
        _cleanup_free_ char *path = NULL;
        struct net_config cfg;
        struct pr_error err = {};
        FILE *f;

        cr_assert_not_null(mkdtemp(root));
        if (access(NET_CONFIG_PATH, F_OK) != 0) {
                cr_assert_eq(net_config_load(root, &cfg, &err), 0, "%s", err.msg);
                cr_assert_null(cfg.path, "defaults when no file exists");
                cr_assert_str_eq(cfg.bridge, NET_DEFAULT_BRIDGE);
                net_config_done(&cfg);
        }
        path = pr_asprintf("%s/network.conf", root);
        f = fopen(path, "we");
        cr_assert_not_null(f);
        fputs("bridge = podtest9\nsubnet = 10.77.0.0/24\nfoo = bar\n", f);
        fclose(f);
        cr_assert_eq(net_config_load(root, &cfg, &err), -EINVAL);
        cr_assert(strstr(err.msg, "network.conf:3: unknown key 'foo'"), "%s", err.msg);
        f = fopen(path, "we");
        cr_assert_not_null(f);
        fputs("bridge = podtest9\nsubnet = 10.77.0.0/24\n", f);
        fclose(f);
        cr_assert_eq(net_config_load(root, &cfg, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cfg.bridge, "podtest9");
        cr_assert_str_eq(cfg.path, path);
        net_config_done(&cfg);
        net_config_done(&cfg);
        cr_assert_eq(pr_rm_rf(root, &err), 0);
}

Test(netconf, protocol_round_trip)
{
        for (int p = 0; p < _NET_PROTOCOL_MAX; p++)
                cr_assert_eq(net_protocol_from_string(net_protocol_to_string(p)), p);
        cr_assert_eq(net_protocol_from_string("udp"), NET_PROTOCOL_UDP);
        cr_assert_eq(net_protocol_from_string("SCTP"), _NET_PROTOCOL_INVALID);
        cr_assert_eq(net_protocol_from_string(NULL), _NET_PROTOCOL_INVALID);
        cr_assert_null(net_protocol_to_string(_NET_PROTOCOL_MAX));
}

Test(netconf, host_ifname_is_short_stable_and_distinct)
{
        char a[NET_IFNAME_MAX], b[NET_IFNAME_MAX], c[NET_IFNAME_MAX];
        _cleanup_free_ char *longname = pr_strdup("");

        net_host_ifname("web", a);
        net_host_ifname("web", b);
        net_host_ifname("weB", c);
        cr_assert_str_eq(a, b);
        cr_assert_str_neq(a, c);
        cr_assert_eq(strlen(a), 14);
        cr_assert(pr_startswith(a, "vp"));
        /* FNV-1a 64 of "web", low 48 bits: a fixed value, so a changed
         * hash (which would orphan veths across an upgrade) fails here. */
        cr_assert_str_eq(a, "vpe11948721ef1");
        for (int i = 0; i < 250; i++) {
                char *n = pr_asprintf("%sx", longname);
                free(longname);
                longname = n;
        }
        net_host_ifname(longname, c);
        cr_assert_eq(strlen(c), 14);
}

/* Checked before any file or kernel object is touched, so no root needed. */
Test(netconf, attach_refuses_bad_input_before_anything)
{
        const struct net_host_port zero = {.host_port = 0, .container_port = 80};
        const struct net_host_port proto = {
            .host_port = 80, .container_port = 80, .protocol = _NET_PROTOCOL_MAX};
        const struct net_host_port v6 = {
            .host_port = 80, .container_port = 80, .protocol = NET_PROTOCOL_UDP, .host_ip = "::1"};
        struct net_pod pod = {.name = "web", .netns_path = "/nonexistent", .netns_fd = -1};
        struct net_config cfg;
        struct net_pod_result res;
        struct pr_error err = {};

        cr_assert_eq(net_config_parse("", NULL, &cfg, &err), 0);
        pod.ports = &zero;
        pod.n_ports = 1;
        cr_assert_eq(net_pod_attach(&cfg, "/nonexistent", &pod, &res, &err), -EINVAL);
        cr_assert_str_eq(err.msg, "pod 'web': hostPort 0 to 80: ports must be 1 to 65535");
        pod.ports = &proto;
        cr_assert_eq(net_pod_attach(&cfg, "/nonexistent", &pod, &res, &err), -EINVAL);
        cr_assert_str_eq(err.msg, "pod 'web': hostPort 80: protocol must be TCP or UDP");
        pod.ports = &v6;
        cr_assert_eq(net_pod_attach(&cfg, "/nonexistent", &pod, &res, &err), -EINVAL);
        cr_assert_str_eq(err.msg, "pod 'web': hostPort 80: hostIP '::1' is not an IPv4 address");
        pod.n_ports = 0;
        pod.name = "../etc";
        cr_assert_eq(net_pod_attach(&cfg, "/nonexistent", &pod, &res, &err), -EINVAL);
        cr_assert_str_eq(err.msg, "pod name '../etc': only [A-Za-z0-9._-] allowed");
        cr_assert_eq(net_pod_detach(&cfg, "/nonexistent", "a b", &err), -EINVAL);
        cr_assert(err.usage);
        net_config_done(&cfg);
}
