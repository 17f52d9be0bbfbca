/* The podrun-owned nftables table `table ip podrun`, through libnftables:
 * masquerade for pod traffic leaving by another interface than the bridge,
 * and hostPort DNAT rules tagged with a comment naming the pod's veth so
 * they can be found and deleted by handle after a crash. It never touches
 * any other table: the host's firewall is not ours. Also turns on the
 * sysctls the forwarding needs, in the current network namespace. */
#include "netsetup/netsetup-int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "pod/base/error.h"
#include "pod/base/util.h"

#define NAT_TABLE "ip podrun"
#define NAT_PORTS_CHAIN "hostports"
#define TAG_PREFIX "podrun:"

static void nft_ctx_freep(struct nft_ctx **ctx)
{
        if (*ctx)
                nft_ctx_free(*ctx);
}
#define _cleanup_nft_ _cleanup_(nft_ctx_freep)

static int nft_open(struct nft_ctx **ret, unsigned flags, struct pr_error *err)
{
        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

        if (!ctx)
                return pr_err(err, ENOMEM, "nftables");
        /* Buffered, so that nothing is ever printed by a library. */
        if (nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0) {
                nft_ctx_free(ctx);
                return pr_err(err, ENOMEM, "nftables");
        }
        nft_ctx_output_set_flags(ctx, flags);
        *ret = ctx;
        return 0;
}

/* libnftables reports "Error: ..." lines with the command echoed below;
 * the first line is the one a person needs. */
static int nft_fail(struct nft_ctx *ctx, const char *what, struct pr_error *err)
{
        const char *text = nft_ctx_get_error_buffer(ctx);
        size_t len = text ? strcspn(text, "\n") : 0;
        int code = text && strstr(text, "No such file or directory") ? ENOENT : EIO;

        if (len == 0)
                return pr_err(err, code, "nftables: %s", what);
        return pr_err_msg(err, code, "nftables: %s: %.*s", what, (int)len, text);
}

static int nft_run(struct nft_ctx *ctx, const char *cmd, const char *what, struct pr_error *err)
{
        if (nft_run_cmd_from_buffer(ctx, cmd) != 0)
                return nft_fail(ctx, what, err);
        return 0;
}

static bool table_exists(struct nft_ctx *ctx)
{
        return nft_run_cmd_from_buffer(ctx, "list table " NAT_TABLE) == 0;
}

static int enable_forwarding(const struct net_config *cfg, struct pr_error *err)
{
        _cleanup_free_ char *localnet =
            pr_asprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", cfg->bridge);
        int r;

        r = net_sysctl_write("/proc/sys/net/ipv4/ip_forward", "1", err);
        /* hostPort from the host itself to 127.0.0.1: the DNAT'd packet keeps
         * its loopback source, which the kernel refuses to route out of a
         * non-loopback device unless route_localnet is on there; the
         * postrouting rule then masquerades it to the gateway address. */
        if (r >= 0)
                r = net_sysctl_write(localnet, "1", err);
        return r;
}

int net_nat_ensure(const struct net_config *cfg, struct pr_error *err)
{
        _cleanup_nft_ struct nft_ctx *ctx = NULL;
        _cleanup_free_ char *cmd = NULL;
        char subnet[INET_ADDRSTRLEN];
        int r;

        r = enable_forwarding(cfg, err);
        if (r < 0)
                return r;
        r = nft_open(&ctx, 0, err);
        if (r < 0)
                return r;
        /* The caller holds the lease lock, so no one else is creating or
         * deleting the table now: check, then create, is not a race. */
        if (table_exists(ctx))
                return 0;
        (void)inet_ntop(AF_INET, &cfg->subnet, subnet, sizeof(subnet));
        cmd = pr_asprintf(
            "add table " NAT_TABLE "\n"
            "add chain " NAT_TABLE
            " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
            "add chain " NAT_TABLE
            " output { type nat hook output priority -100; policy accept; }\n"
            "add chain " NAT_TABLE
            " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
            "add chain " NAT_TABLE " " NAT_PORTS_CHAIN "\n"
            "add rule " NAT_TABLE " prerouting fib daddr type local jump " NAT_PORTS_CHAIN "\n"
            "add rule " NAT_TABLE " output fib daddr type local jump " NAT_PORTS_CHAIN "\n"
            "add rule " NAT_TABLE " postrouting ip saddr %s/%u oifname != \"%s\" masquerade\n"
            /* A pod reaching itself or a neighbour through a hostPort:
             * without this the reply would go pod to pod directly and
             * miss the reverse DNAT. */
            "add rule " NAT_TABLE
            " postrouting ct status dnat ip saddr %s/%u oifname \"%s\" masquerade\n"
            "add rule " NAT_TABLE " postrouting ct status dnat ip saddr 127.0.0.0/8 masquerade\n",
            subnet, cfg->prefix, cfg->bridge, subnet, cfg->prefix, cfg->bridge);
        return nft_run(ctx, cmd, "create table " NAT_TABLE, err);
}

int net_nat_add_ports(const char *tag, const char *pod_ip, const struct net_host_port *ports,
                      size_t n_ports, struct pr_error *err)
{
        _cleanup_nft_ struct nft_ctx *ctx = NULL;
        _cleanup_free_ char *cmd = pr_strdup("");
        int r;

        if (n_ports == 0)
                return 0;
        for (size_t i = 0; i < n_ports; i++) {
                const struct net_host_port *p = &ports[i];
                _cleanup_free_ char *match = NULL;
                char *next;
                struct in_addr a;

                if (p->host_ip && *p->host_ip && strcmp(p->host_ip, "0.0.0.0") != 0) {
                        /* Checked, so no text from a manifest reaches the
                         * nft parser unvalidated. */
                        if (inet_pton(AF_INET, p->host_ip, &a) != 1)
                                return pr_err_msg(err, EINVAL,
                                                  "hostPort %u: hostIP '%s' is not an IPv4 address",
                                                  p->host_port, p->host_ip);
                        match = pr_asprintf("ip daddr %s ", p->host_ip);
                }
                next = pr_asprintf("%sadd rule " NAT_TABLE " " NAT_PORTS_CHAIN
                                   " %s%s dport %u dnat to %s:%u comment \"" TAG_PREFIX "%s\"\n",
                                   cmd, match ? match : "",
                                   p->protocol == NET_PROTOCOL_UDP ? "udp" : "tcp", p->host_port,
                                   pod_ip, p->container_port, tag);
                free(cmd);
                cmd = next;
        }
        r = nft_open(&ctx, 0, err);
        if (r < 0)
                return r;
        return nft_run(ctx, cmd, "add hostPort rules", err);
}

/* Handles of the rules in the hostports chain whose comment is the tag. */
static size_t tagged_handles(const char *listing, const char *tag, uint64_t **ret)
{
        _cleanup_free_ char *needle = pr_asprintf("comment \"" TAG_PREFIX "%s\"", tag);
        uint64_t *handles = NULL;
        size_t n = 0;

        for (const char *line = listing; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                _cleanup_free_ char *l = pr_strndup(line, len);
                char *h = strstr(l, " # handle ");
                uint64_t handle;

                if (h && strstr(l, needle) && pr_parse_u64(h + strlen(" # handle "), &handle) >= 0)
                        *(uint64_t *)pr_array_grow(&handles, &n, sizeof(uint64_t)) = handle;
                line = end ? end + 1 : NULL;
        }
        *ret = handles;
        return n;
}

int net_nat_remove_tagged(const char *tag, struct pr_error *err)
{
        _cleanup_nft_ struct nft_ctx *ctx = NULL;
        _cleanup_free_ uint64_t *handles = NULL;
        _cleanup_free_ char *cmd = pr_strdup("");
        size_t n;
        int r;

        r = nft_open(&ctx, NFT_CTX_OUTPUT_HANDLE, err);
        if (r < 0)
                return r;
        r = nft_run(ctx, "list chain " NAT_TABLE " " NAT_PORTS_CHAIN, "list hostPort rules", err);
        if (r == -ENOENT)
                return 0; /* no table, no rules */
        if (r < 0)
                return r;
        n = tagged_handles(nft_ctx_get_output_buffer(ctx), tag, &handles);
        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                char *next = pr_asprintf("%sdelete rule " NAT_TABLE " " NAT_PORTS_CHAIN
                                         " handle %" PRIu64 "\n",
                                         cmd, handles[i]);
                free(cmd);
                cmd = next;
        }
        return nft_run(ctx, cmd, "delete hostPort rules", err);
}

int net_nat_remove_table(struct pr_error *err)
{
        _cleanup_nft_ struct nft_ctx *ctx = NULL;
        int r;

        r = nft_open(&ctx, 0, err);
        if (r < 0)
                return r;
        r = nft_run(ctx, "delete table " NAT_TABLE, "delete table " NAT_TABLE, err);
        return r == -ENOENT ? 0 : r;
}
