/* netsetup's private contracts between its files. Only netsetup/ and its
 * tests include this. libnl types appear here and never in netsetup.h. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "netsetup/netsetup.h"
#include "pod/base/cleanup.h"

struct pr_error;

/* nl.c: the one place that turns libnl's NLE_* codes into errno. */
int net_nl_errno(int nle);
/* Sets err to "<fmt>: <libnl's text>" and returns the mapped -errno. */
int net_nl_err(struct pr_error *err, int nle, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A NETLINK_ROUTE socket in the caller's current network namespace. */
int net_nl_open(struct nl_sock **ret, struct pr_error *err);

static inline void net_nl_sock_freep(struct nl_sock **sk)
{
        if (*sk)
                nl_socket_free(*sk);
}
static inline void net_link_putp(struct rtnl_link **l)
{
        if (*l)
                rtnl_link_put(*l);
}
static inline void net_nl_addr_putp(struct nl_addr **a)
{
        if (*a)
                nl_addr_put(*a);
}
static inline void net_nl_cache_freep(struct nl_cache **c)
{
        if (*c)
                nl_cache_free(*c);
}
#define _cleanup_nl_sock_ _cleanup_(net_nl_sock_freep)
#define _cleanup_link_ _cleanup_(net_link_putp)
#define _cleanup_nl_addr_ _cleanup_(net_nl_addr_putp)
#define _cleanup_nl_cache_ _cleanup_(net_nl_cache_freep)

/* netns.c */
/* Checks that fd is a network namespace and not the caller's own; what
 * names it in messages. */
int net_netns_check(int fd, const char *what, struct pr_error *err);
/* Opens a network namespace file and checks it. */
int net_netns_open(const char *path, int *ret_fd, struct pr_error *err);
/* A NETLINK_ROUTE socket bound inside the namespace netns_fd: the calling
 * thread enters it only for socket(2) and returns, since a netlink socket
 * stays in the namespace it was made in. */
int net_netns_socket(int netns_fd, struct nl_sock **ret, struct pr_error *err);
/* Writes a sysctl under /proc/sys of the current network namespace. */
int net_sysctl_write(const char *path, const char *value, struct pr_error *err);

/* veth.c (links) */
/* The link's ifindex; -ENODEV when it does not exist. */
int net_link_index(struct nl_sock *sk, const char *name, int *ret, struct pr_error *err);
int net_link_mtu(struct nl_sock *sk, const char *name, unsigned *ret, struct pr_error *err);
int net_link_set_up(struct nl_sock *sk, int ifindex, const char *name, struct pr_error *err);
/* Deletes a link by name; a missing one is success (returns 0, else 1). */
int net_link_delete(struct nl_sock *sk, const char *name, struct pr_error *err);
/* Creates host_name (a port of bridge_ifindex, hairpin on, up) and its peer
 * named NET_POD_IFNAME directly inside netns_fd, both with mtu. */
int net_veth_create(struct nl_sock *sk, const char *host_name, const char *pod_name,
                    int bridge_ifindex, int netns_fd, unsigned mtu, struct pr_error *err);

/* bridge.c */
/* Creates the bridge when missing (a concurrent creator is fine), puts the
 * gateway address(es) on it and sets it up. */
int net_bridge_ensure(struct nl_sock *sk, const struct net_config *cfg, int *ret_ifindex,
                      unsigned *ret_mtu, struct pr_error *err);

/* addr.c: an existing identical address is success. */
int net_addr_add(struct nl_sock *sk, int ifindex, int family, const void *addr, unsigned prefix,
                 struct pr_error *err);

/* route.c */
int net_route_add_default(struct nl_sock *sk, int ifindex, int family, const void *gateway,
                          struct pr_error *err);
/* -EEXIST naming the route when a main-table route other than the default
 * and other than routes on cfg->bridge overlaps the subnet(s). */
int net_route_check_overlap(struct nl_sock *sk, const struct net_config *cfg, struct pr_error *err);

/* ipam.c: host-local leases under <root>/ipam/<network>/. Plain files, no
 * netlink, so it is unit-tested in a temp dir. */
struct net_ipam {
        char *dir;
        const char *network; /* for messages */
        uint32_t subnet;     /* host byte order */
        unsigned prefix;
        uint32_t gateway;
        pid_t owner_pid;
        bool (*pod_exists)(const char *pod, void *userdata);
        void *userdata;
};

int net_ipam_open(const char *root_dir, const struct net_config *cfg, struct net_ipam *ret,
                  struct pr_error *err);
void net_ipam_done(struct net_ipam *ipam);
/* flock(2) on <dir>/lock, exclusive; the returned fd holds it until closed. */
int net_ipam_lock(const struct net_ipam *ipam, int *ret_fd, struct pr_error *err);
/* With the lock held: the pod's existing lease, else the next free address
 * after last_reserved_ip, reclaiming stale leases. -ENOSPC when full. */
int net_ipam_allocate(const struct net_ipam *ipam, const char *pod, struct in_addr *ret,
                      struct pr_error *err);
/* With the lock held: removes the pod's leases; returns how many. */
int net_ipam_release(const struct net_ipam *ipam, const char *pod, struct pr_error *err);
/* With the lock held: how many pods hold a lease that is not stale; stale
 * leases are removed on the way. Corrupt files are not counted. */
int net_ipam_count(const struct net_ipam *ipam, struct pr_error *err);
/* With the lock held: records <proto>/<port> for the pod; -EADDRINUSE when
 * another pod that is not stale holds it. */
int net_ipam_reserve_port(const struct net_ipam *ipam, const char *pod, enum net_protocol proto,
                          uint16_t port, struct pr_error *err);
int net_ipam_release_ports(const struct net_ipam *ipam, const char *pod, struct pr_error *err);

/* nat.c: the `table ip podrun`, through libnftables. */
/* Creates the table, its chains and the masquerade rule when missing, turns
 * on net.ipv4.ip_forward and the bridge's route_localnet. */
int net_nat_ensure(const struct net_config *cfg, struct pr_error *err);
/* DNAT rules for the pod's hostPorts, each tagged with the pod's tag. */
int net_nat_add_ports(const char *tag, const char *pod_ip, const struct net_host_port *ports,
                      size_t n_ports, struct pr_error *err);
/* Deletes the rules tagged tag; a missing table is success. */
int net_nat_remove_tagged(const char *tag, struct pr_error *err);
/* Deletes the table; a missing table is success. */
int net_nat_remove_table(struct pr_error *err);
