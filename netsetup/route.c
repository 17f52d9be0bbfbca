/* Routes: the pod's default route, and the check that the pod subnet is not
 * already routed somewhere on the host. It reads the host's routing table
 * but never changes it: the only route it adds is inside a pod's namespace. */
#include "netsetup/netsetup-int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <netlink/cache.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "pod/base/error.h"

static void route_putp(struct rtnl_route **r)
{
        if (*r)
                rtnl_route_put(*r);
}

int net_route_add_default(struct nl_sock *sk, int ifindex, int family, const void *gateway,
                          struct pr_error *err)
{
        _cleanup_(route_putp) struct rtnl_route *route = rtnl_route_alloc();
        _cleanup_nl_addr_ struct nl_addr *dst = NULL, *gw = NULL;
        size_t len = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
        struct rtnl_nexthop *nh;
        char text[INET6_ADDRSTRLEN] = "";
        int r;

        (void)inet_ntop(family, gateway, text, sizeof(text));
        if (!route)
                return pr_err(err, ENOMEM, "default route via %s", text);
        dst = nl_addr_alloc(len);
        gw = nl_addr_build(family, gateway, len);
        nh = rtnl_route_nh_alloc();
        if (!dst || !gw || !nh) {
                if (nh)
                        rtnl_route_nh_free(nh);
                return pr_err(err, ENOMEM, "default route via %s", text);
        }
        /* An all-zero address of prefix length 0 is "default". */
        nl_addr_set_family(dst, family);
        nl_addr_set_prefixlen(dst, 0);
        (void)rtnl_route_set_family(route, (uint8_t)family);
        r = rtnl_route_set_dst(route, dst);
        if (r < 0) {
                rtnl_route_nh_free(nh);
                return net_nl_err(err, r, "default route via %s", text);
        }
        rtnl_route_set_table(route, RT_TABLE_MAIN);
        rtnl_route_set_protocol(route, RTPROT_STATIC);
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, gw);
        rtnl_route_add_nexthop(route, nh); /* the route owns nh now */
        r = rtnl_route_add(sk, route, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0 && net_nl_errno(r) != EEXIST)
                return net_nl_err(err, r, "add default route via %s", text);
        return 0;
}

/* Two prefixes overlap when they agree on the bits of the shorter one. */
static bool prefixes_overlap(const uint8_t *a, unsigned alen, const uint8_t *b, unsigned blen)
{
        unsigned bits = alen < blen ? alen : blen;
        unsigned bytes = bits / 8, rest = bits % 8;

        if (memcmp(a, b, bytes) != 0)
                return false;
        if (rest == 0)
                return true;
        return ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int route_ifindex(struct rtnl_route *route)
{
        struct rtnl_nexthop *nh;

        if (rtnl_route_get_nnexthops(route) < 1)
                return 0;
        nh = rtnl_route_nexthop_n(route, 0);
        return nh ? rtnl_route_nh_get_ifindex(nh) : 0;
}

static int check_family(struct nl_sock *sk, const struct net_config *cfg, int family,
                        const void *subnet, unsigned prefix, int bridge_ifindex,
                        struct pr_error *err)
{
        _cleanup_nl_cache_ struct nl_cache *cache = NULL;
        char net_text[INET6_ADDRSTRLEN] = "";
        int r;

        r = rtnl_route_alloc_cache(sk, family, 0, &cache);
        if (r < 0)
                return net_nl_err(err, r, "list the host's routes");
        (void)inet_ntop(family, subnet, net_text, sizeof(net_text));
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_route *route = (struct rtnl_route *)o;
                struct nl_addr *dst = rtnl_route_get_dst(route);
                char dst_text[INET6_ADDRSTRLEN + 8], dev[IF_NAMESIZE] = "?";
                int ifindex = route_ifindex(route);

                if (rtnl_route_get_table(route) != RT_TABLE_MAIN || !dst ||
                    nl_addr_get_prefixlen(dst) == 0 || nl_addr_get_family(dst) != family)
                        continue;
                /* The connected route of our own bridge is ours, not a clash. */
                if (bridge_ifindex > 0 && ifindex == bridge_ifindex)
                        continue;
                if (!prefixes_overlap(nl_addr_get_binary_addr(dst), nl_addr_get_prefixlen(dst),
                                      subnet, prefix))
                        continue;
                (void)nl_addr2str(dst, dst_text, sizeof(dst_text));
                if (ifindex > 0)
                        (void)if_indextoname((unsigned)ifindex, dev);
                return pr_err_msg(err, EEXIST,
                                  "network '%s': subnet %s/%u overlaps the host route %s dev %s",
                                  cfg->bridge, net_text, prefix, dst_text, dev);
        }
        return 0;
}

int net_route_check_overlap(struct nl_sock *sk, const struct net_config *cfg, struct pr_error *err)
{
        int bridge_ifindex = 0, r;

        r = net_link_index(sk, cfg->bridge, &bridge_ifindex, err);
        if (r < 0 && r != -ENODEV)
                return r;
        r = check_family(sk, cfg, AF_INET, &cfg->subnet, cfg->prefix, bridge_ifindex, err);
        if (r < 0 || !cfg->ipv6)
                return r;
        return check_family(sk, cfg, AF_INET6, &cfg->subnet6, cfg->prefix6, bridge_ifindex, err);
}
