/* netsetup: the pod network. One bridge per network holding the gateway
 * address, one veth pair per pod (the peer is the pod's eth0), an address
 * per pod from a lease directory, routes, and an nftables table for egress
 * masquerade and hostPort DNAT. It knows nothing of YAML or containers: it
 * takes a pod name, a network configuration and a network namespace, and
 * returns an address. Every kernel object lives in the caller's current
 * network namespace, apart from what is configured inside the pod's.
 *
 * How the runtime calls it:
 *
 *   struct net_config cfg;
 *   struct net_pod_result res;
 *   struct net_pod pod = { .name = "web", .netns_path = "/run/netns/podrun-web",
 *                          .netns_fd = -1, .ports = ports, .n_ports = n };
 *
 *   r = net_config_load(root_dir, &cfg, err);
 *   r = net_pod_attach(&cfg, root_dir, &pod, &res, err);   (podrun up, once the infra
 *                                                            holds the namespace)
 *   ... res.ip4 is the pod IP, res.host_ifname the veth to record ...
 *   r = net_pod_detach(&cfg, root_dir, "web", err);        (podrun down, also after a crash)
 *   net_config_done(&cfg);
 *
 * Detach needs nothing but the pod name: the host veth name is derived from
 * it, the lease and hostPort records carry it, and the nftables rules are
 * tagged with it. See docs/network.md. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pr_error;

#define NET_CONFIG_PATH "/etc/podrun/network.conf"
#define NET_DEFAULT_BRIDGE "podrun0"
#define NET_DEFAULT_SUBNET "10.90.0.0/16"
#define NET_DEFAULT_MTU 1500
/* The interface name the pod sees. */
#define NET_POD_IFNAME "eth0"
/* IFNAMSIZ: 15 characters and the NUL. */
#define NET_IFNAME_MAX 16

struct net_config {
        char *path;                  /* the file read, NULL when defaults were used */
        char bridge[NET_IFNAME_MAX]; /* also the network's name (lease dir, messages) */
        struct in_addr subnet;       /* network address, host bits zero */
        unsigned prefix;             /* 8..30 */
        struct in_addr gateway;
        bool ipv6; /* subnet6 configured: dual stack */
        struct in6_addr subnet6;
        unsigned prefix6;
        struct in6_addr gateway6;
        unsigned mtu; /* 0: the bridge's when it exists, else 1500 */
};

/* Reads <root_dir>/network.conf when it exists, else /etc/podrun/network.conf
 * when it exists, else uses the defaults. root_dir may be NULL. Errors name
 * the file and line. */
int net_config_load(const char *root_dir, struct net_config *ret, struct pr_error *err);

/* Parses the text of a configuration file; path is used in messages only. */
int net_config_parse(const char *text, const char *path, struct net_config *ret,
                     struct pr_error *err);

/* Releases what net_config_load() allocated; safe on a zeroed struct. */
void net_config_done(struct net_config *cfg);

enum net_protocol {
        NET_PROTOCOL_TCP,
        NET_PROTOCOL_UDP,
        _NET_PROTOCOL_MAX,
        _NET_PROTOCOL_INVALID = -1,
};

const char *net_protocol_to_string(enum net_protocol p);
/* "TCP"/"tcp", "UDP"/"udp"; _NET_PROTOCOL_INVALID otherwise. */
enum net_protocol net_protocol_from_string(const char *s);

/* A ports[].hostPort of the pod: host_ip:host_port (host_ip NULL or "" for
 * every address of the host) forwarded to podIP:container_port. */
struct net_host_port {
        uint16_t host_port;
        uint16_t container_port;
        enum net_protocol protocol;
        const char *host_ip;
};

struct net_pod {
        const char *name;       /* the pod name: [A-Za-z0-9._-], at most 253 characters */
        const char *netns_path; /* the pod's network namespace file, used when netns_fd < 0 */
        int netns_fd;           /* an open network namespace fd, or -1 */
        const struct net_host_port *ports;
        size_t n_ports;
        /* Recorded in the lease: the process that owns the pod (its supervisor),
         * 0 for none. Without a pod_exists callback, a lease whose owner process
         * (pid and start time) is gone is stale and reclaimed. */
        pid_t owner_pid;
        /* Whether a pod still exists, to reclaim leases and hostPorts of pods
         * that do not. NULL: only leases from an earlier boot, and those whose
         * owner process is gone, are reclaimed. */
        bool (*pod_exists)(const char *pod, void *userdata);
        void *userdata;
};

#define NET_ADDR4_MAX 16 /* INET_ADDRSTRLEN */
#define NET_ADDR6_MAX 46 /* INET6_ADDRSTRLEN */

struct net_pod_result {
        char ip4[NET_ADDR4_MAX]; /* the pod IP, "10.90.0.2" */
        unsigned prefix;
        char gateway4[NET_ADDR4_MAX];
        char ip6[NET_ADDR6_MAX]; /* "" unless dual stack */
        unsigned prefix6;
        char gateway6[NET_ADDR6_MAX];
        char host_ifname[NET_IFNAME_MAX]; /* the host end of the veth */
        unsigned mtu;
};

/* Wires the pod: checks the subnet against the host's routes (refused, before
 * any change, when it overlaps a route not on the bridge), leases an address,
 * creates the bridge when missing, creates the veth pair with its peer inside
 * the pod's namespace as eth0, addresses and routes, lo up, IP forwarding on,
 * the masquerade table, and the hostPort DNAT rules. On failure what this call
 * made is undone. Errors: -EINVAL (usage flag set) for a bad pod name or
 * hostPort; -EINVAL for a namespace file that is not one, or is the caller's
 * own; -EEXIST when the subnet overlaps a host route, or when the pod is
 * already attached (its veth exists: detach first, e.g. after a crash);
 * -EADDRINUSE for a hostPort held by another pod; -ENOSPC when no address
 * is free. res is set only on success. */
int net_pod_attach(const struct net_config *cfg, const char *root_dir, const struct net_pod *pod,
                   struct net_pod_result *ret, struct pr_error *err);

/* Removes the pod's veth, hostPort rules, hostPort records and lease; with the
 * last pod of the network also the nftables table and the bridge. Works with
 * only the pod name, after a crash, and twice: what is already gone is
 * success. */
int net_pod_detach(const struct net_config *cfg, const char *root_dir, const char *pod_name,
                   struct pr_error *err);

/* The host end's name for a pod: "vp" and 12 hex digits of a 64-bit FNV-1a
 * hash of the name (48 bits: a collision needs ~16 million pods to reach even
 * odds). Pure; for the state file and tests. */
void net_host_ifname(const char *pod_name, char ret[static NET_IFNAME_MAX]);
