/* Shared fixtures of the netsetup integration tests: a private network and
 * mount namespace per test, namespace files for pods and for an "outside"
 * network, and tiny TCP/UDP servers and clients that run in forked children
 * entering those namespaces. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netsetup/netsetup.h"

struct net_env {
        char root[64];      /* temp --root: network.conf, ipam/ */
        char netns_dir[96]; /* a tmpfs holding the namespace files */
        struct net_config cfg;
};

/* unshare(NEWNET|NEWNS), private mounts, lo up, a temp root with conf_text
 * as network.conf; skips the test when not root. */
void net_env_setup(struct net_env *env, const char *conf_text);
void net_env_teardown(struct net_env *env);

/* A new network namespace bound at <netns_dir>/<name>, lo up; caller frees. */
char *net_env_netns(struct net_env *env, const char *name);

/* system() of a formatted command; returns its exit status (or -1). */
int net_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Its stdout (at most 64 KiB); caller frees. */
char *net_sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A server in netns (NULL: the test's own) on port of every address, that
 * answers each TCP connection or UDP datagram with the peer's address and
 * a newline, until killed. Returns once it listens. */
pid_t net_server(const char *netns, bool udp, int family, uint16_t port);
/* Asks such a server at ip:port from netns (NULL: the test's own); the
 * answer (the address the server saw) goes to reply. 0 or -errno. */
int net_ask(const char *netns, bool udp, const char *ip, uint16_t port, char *reply, size_t n);
/* Kills and reaps a server. */
void net_server_stop(pid_t *pid);

/* Checks the host side holds nothing of the network: no vp* link, no
 * bridge, no podrun nftables table, no lease or port record. */
void net_assert_clean(struct net_env *env);
