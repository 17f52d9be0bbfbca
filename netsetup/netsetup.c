/* net_pod_attach() and net_pod_detach(): the order of the steps, the lock
 * around the shared objects (bridge, nftables table, leases), and undoing a
 * half-done attach. The steps themselves live in the other files. It never
 * leaves the caller in another network namespace and never prints. */
#include "netsetup/netsetup-int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/log.h"
#include "pod/base/util.h"

void net_host_ifname(const char *pod_name, char ret[static NET_IFNAME_MAX])
{
        uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a 64 */

        for (const unsigned char *p = (const unsigned char *)pod_name; *p; p++) {
                h ^= *p;
                h *= UINT64_C(0x100000001b3);
        }
        (void)snprintf(ret, NET_IFNAME_MAX, "vp%012" PRIx64, h & UINT64_C(0xffffffffffff));
}

/* The name reaches file names, lease files and nftables comments. */
static int check_pod_name(const char *name, struct pr_error *err)
{
        size_t n = name ? strlen(name) : 0;

        if (n == 0 || n > 253)
                return pr_err_usage(err, "pod name '%s': must be 1 to 253 characters",
                                    name ? name : "");
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                        return pr_err_usage(err, "pod name '%s': only [A-Za-z0-9._-] allowed",
                                            name);
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return pr_err_usage(err, "pod name '%s' is not allowed", name);
        return 0;
}

/* Checked before anything changes, so a bad port never leaves half a pod. */
static int check_ports(const struct net_pod *pod, struct pr_error *err)
{
        for (size_t i = 0; i < pod->n_ports; i++) {
                const struct net_host_port *p = &pod->ports[i];
                struct in_addr a;

                if (p->host_port == 0 || p->container_port == 0)
                        return pr_err_usage(err,
                                            "pod '%s': hostPort %u to %u: ports must be 1 to 65535",
                                            pod->name, p->host_port, p->container_port);
                if (!net_protocol_to_string(p->protocol))
                        return pr_err_usage(err,
                                            "pod '%s': hostPort %u: protocol must be TCP or UDP",
                                            pod->name, p->host_port);
                if (p->host_ip && *p->host_ip && inet_pton(AF_INET, p->host_ip, &a) != 1)
                        return pr_err_usage(
                            err, "pod '%s': hostPort %u: hostIP '%s' is not an IPv4 address",
                            pod->name, p->host_port, p->host_ip);
        }
        return 0;
}

/* The pod's IPv6 address: subnet6 with the low 32 bits set to the IPv4
 * address's offset in its subnet, so one lease covers both families. */
static void pod_ip6(const struct net_config *cfg, struct in_addr ip4, struct in6_addr *ret)
{
        uint32_t host = ntohl(ip4.s_addr) - ntohl(cfg->subnet.s_addr);

        *ret = cfg->subnet6;
        for (int i = 0; i < 4; i++)
                ret->s6_addr[15 - i] |= (uint8_t)(host >> (8 * i));
}

/* With the lease lock held: the address and everything shared that a pod
 * needs before its own veth, so a concurrent last-pod detach cannot remove
 * the bridge or the table under us. *ret_changed is set once there is
 * something to undo. */
static int reserve(const struct net_config *cfg, const struct net_ipam *ipam, struct nl_sock *sk,
                   const struct net_pod *pod, struct in_addr *ret_ip, int *ret_bridge,
                   unsigned *ret_mtu, bool *ret_changed, struct pr_error *err)
{
        _cleanup_close_ int lock = -1;
        int r;

        r = net_ipam_lock(ipam, &lock, err);
        if (r < 0)
                return r;
        /* Under the lock, because the bridge is made and removed only under
         * it: outside, a concurrent first attach could create the bridge
         * between our lookup of it and our dump of the routes, and its own
         * route would read as a clash. */
        r = net_route_check_overlap(sk, cfg, err);
        if (r < 0)
                return r;
        r = net_ipam_allocate(ipam, pod->name, ret_ip, err);
        if (r < 0)
                return r;
        *ret_changed = true;
        r = net_bridge_ensure(sk, cfg, ret_bridge, ret_mtu, err);
        if (r >= 0)
                r = net_nat_ensure(cfg, err);
        for (size_t i = 0; r >= 0 && i < pod->n_ports; i++)
                r = net_ipam_reserve_port(ipam, pod->name, pod->ports[i].protocol,
                                          pod->ports[i].host_port, err);
        return r;
}

/* Runs inside the pod's namespace through a socket opened there. */
static int configure_pod(const struct net_config *cfg, int netns_fd, struct in_addr ip4,
                         struct pr_error *err)
{
        _cleanup_nl_sock_ struct nl_sock *sk = NULL;
        struct in6_addr ip6;
        int eth0, lo, r;

        r = net_netns_socket(netns_fd, &sk, err);
        if (r < 0)
                return r;
        r = net_link_index(sk, NET_POD_IFNAME, &eth0, err);
        if (r >= 0)
                r = net_link_index(sk, "lo", &lo, err);
        if (r >= 0)
                r = net_addr_add(sk, eth0, AF_INET, &ip4, cfg->prefix, err);
        if (r >= 0 && cfg->ipv6) {
                pod_ip6(cfg, ip4, &ip6);
                r = net_addr_add(sk, eth0, AF_INET6, &ip6, cfg->prefix6, err);
        }
        if (r >= 0)
                r = net_link_set_up(sk, lo, "lo", err);
        if (r >= 0)
                r = net_link_set_up(sk, eth0, NET_POD_IFNAME, err);
        if (r >= 0)
                r = net_route_add_default(sk, eth0, AF_INET, &cfg->gateway, err);
        if (r >= 0 && cfg->ipv6)
                r = net_route_add_default(sk, eth0, AF_INET6, &cfg->gateway6, err);
        if (r < 0)
                return pr_err_wrap(err, "inside the pod's network namespace");
        return 0;
}

static void fill_result(const struct net_config *cfg, struct in_addr ip4, const char *ifname,
                        unsigned mtu, struct net_pod_result *ret)
{
        struct in6_addr ip6;

        *ret = (struct net_pod_result){.prefix = cfg->prefix, .mtu = mtu};
        (void)inet_ntop(AF_INET, &ip4, ret->ip4, sizeof(ret->ip4));
        (void)inet_ntop(AF_INET, &cfg->gateway, ret->gateway4, sizeof(ret->gateway4));
        if (cfg->ipv6) {
                pod_ip6(cfg, ip4, &ip6);
                (void)inet_ntop(AF_INET6, &ip6, ret->ip6, sizeof(ret->ip6));
                (void)inet_ntop(AF_INET6, &cfg->gateway6, ret->gateway6, sizeof(ret->gateway6));
                ret->prefix6 = cfg->prefix6;
        }
        (void)snprintf(ret->host_ifname, sizeof(ret->host_ifname), "%s", ifname);
}

/* *ret_undo is set when a failure must be undone: not before anything
 * changed, and not when another attach of the same pod made the veth first
 * (that one owns the pod's network now). */
static int attach_steps(const struct net_config *cfg, const char *root_dir,
                        const struct net_pod *pod, struct nl_sock *sk, int netns_fd,
                        const char *ifname, bool *ret_undo, struct net_pod_result *ret,
                        struct pr_error *err)
{
        struct net_ipam ipam = {0};
        struct in_addr ip4;
        char ip_text[INET_ADDRSTRLEN];
        unsigned mtu;
        int bridge, winner, r;

        r = net_ipam_open(root_dir, cfg, &ipam, err);
        if (r < 0)
                return r;
        ipam.owner_pid = pod->owner_pid;
        ipam.pod_exists = pod->pod_exists;
        ipam.userdata = pod->userdata;
        r = reserve(cfg, &ipam, sk, pod, &ip4, &bridge, &mtu, ret_undo, err);
        net_ipam_done(&ipam);
        if (r < 0)
                return r;
        (void)inet_ntop(AF_INET, &ip4, ip_text, sizeof(ip_text));
        r = net_veth_create(sk, ifname, pod->name, bridge, netns_fd, mtu, err);
        /* EEXIST is also eth0 already in the pod's namespace; only our
         * veth name existing now means another attach won. */
        if (r == -EEXIST && net_link_index(sk, ifname, &winner, NULL) >= 0)
                *ret_undo = false;
        if (r >= 0)
                r = configure_pod(cfg, netns_fd, ip4, err);
        /* Rules a crashed earlier instance of this pod left behind would
         * point at its old address or double up. */
        if (r >= 0 && pod->n_ports > 0)
                r = net_nat_remove_tagged(ifname, err);
        if (r >= 0)
                r = net_nat_add_ports(ifname, ip_text, pod->ports, pod->n_ports, err);
        if (r < 0)
                return r;
        fill_result(cfg, ip4, ifname, mtu, ret);
        return 0;
}

int net_pod_attach(const struct net_config *cfg, const char *root_dir, const struct net_pod *pod,
                   struct net_pod_result *ret, struct pr_error *err)
{
        _cleanup_nl_sock_ struct nl_sock *sk = NULL;
        _cleanup_close_ int own_fd = -1;
        char ifname[NET_IFNAME_MAX];
        int netns_fd = pod->netns_fd, ifindex, r;
        bool undo = false;

        r = check_pod_name(pod->name, err);
        if (r < 0)
                return r;
        r = check_ports(pod, err);
        if (r < 0)
                return r;
        net_host_ifname(pod->name, ifname);
        if (netns_fd < 0) {
                r = net_netns_open(pod->netns_path, &own_fd, err);
                netns_fd = own_fd;
        } else
                r = net_netns_check(netns_fd, "(fd)", err);
        if (r < 0)
                return pr_err_wrap(err, "pod '%s'", pod->name);
        r = net_nl_open(&sk, err);
        if (r < 0)
                return pr_err_wrap(err, "pod '%s'", pod->name);
        /* An existing veth is this pod still attached (or, with odds of
         * 2^-48, a namesake): undoing anything would cut a live pod off. */
        if (net_link_index(sk, ifname, &ifindex, NULL) >= 0)
                return pr_err_msg(err, EEXIST, "pod '%s': already attached (veth '%s' exists)",
                                  pod->name, ifname);
        r = attach_steps(cfg, root_dir, pod, sk, netns_fd, ifname, &undo, ret, err);
        if (r < 0 && undo) {
                struct pr_error undo_err = {0};
                if (net_pod_detach(cfg, root_dir, pod->name, &undo_err) < 0)
                        pr_log_warn("pod '%s': undoing a failed network attach: %s; ignoring",
                                    pod->name, undo_err.msg);
        }
        if (r < 0)
                return pr_err_wrap(err, "pod '%s'", pod->name);
        return 0;
}

/* With the lease lock held: the pod's records, then the shared objects when
 * no pod is left. */
static int release(const struct net_config *cfg, const char *root_dir, const char *pod_name,
                   struct nl_sock *sk, struct pr_error *err)
{
        _cleanup_close_ int lock = -1;
        struct net_ipam ipam = {0};
        int r;

        r = net_ipam_open(root_dir, cfg, &ipam, err);
        if (r < 0)
                return r;
        r = net_ipam_lock(&ipam, &lock, err);
        if (r >= 0)
                r = net_ipam_release_ports(&ipam, pod_name, err);
        if (r >= 0)
                r = net_ipam_release(&ipam, pod_name, err);
        if (r >= 0)
                r = net_ipam_count(&ipam, err);
        if (r == 0) {
                r = net_nat_remove_table(err);
                if (r >= 0)
                        r = net_link_delete(sk, cfg->bridge, err);
        }
        net_ipam_done(&ipam);
        return r;
}

int net_pod_detach(const struct net_config *cfg, const char *root_dir, const char *pod_name,
                   struct pr_error *err)
{
        _cleanup_nl_sock_ struct nl_sock *sk = NULL;
        char ifname[NET_IFNAME_MAX];
        int r;

        r = check_pod_name(pod_name, err);
        if (r < 0)
                return r;
        net_host_ifname(pod_name, ifname);
        r = net_nl_open(&sk, err);
        if (r >= 0)
                r = net_nat_remove_tagged(ifname, err);
        /* Deleting the host end deletes the peer in the pod's namespace. */
        if (r >= 0)
                r = net_link_delete(sk, ifname, err);
        if (r >= 0)
                r = release(cfg, root_dir, pod_name, sk, err);
        if (r < 0)
                return pr_err_wrap(err, "pod '%s': network detach", pod_name);
        return 0;
}
