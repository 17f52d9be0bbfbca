/* The network's bridge in the host's namespace: created when the first pod
 * needs it, holding the gateway address(es), up. Removing it is the last
 * pod's detach (see netsetup.c), under the lease lock. Never adopts a link
 * of the same name that is not a bridge. */
#include "netsetup/netsetup-int.h"

#include <errno.h>
#include <string.h>

#include <netlink/route/link/bridge.h>

#include "pod/base/error.h"

static int create_bridge(struct nl_sock *sk, const struct net_config *cfg, struct pr_error *err)
{
        _cleanup_link_ struct rtnl_link *link = rtnl_link_bridge_alloc();
        int r;

        if (!link)
                return pr_err(err, ENOMEM, "bridge '%s'", cfg->bridge);
        rtnl_link_set_name(link, cfg->bridge);
        if (cfg->mtu > 0)
                rtnl_link_set_mtu(link, cfg->mtu);
        /* Two `podrun up` may race to create it: the loser's EEXIST is fine,
         * and the type check below catches a non-bridge of that name. */
        r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0 && net_nl_errno(r) != EEXIST)
                return net_nl_err(err, r, "create bridge '%s'", cfg->bridge);
        return 0;
}

static int check_bridge(struct nl_sock *sk, const struct net_config *cfg, int *ret_ifindex,
                        unsigned *ret_mtu, struct pr_error *err)
{
        _cleanup_link_ struct rtnl_link *link = NULL;
        const char *type;
        int r;

        r = rtnl_link_get_kernel(sk, 0, cfg->bridge, &link);
        if (r < 0)
                return net_nl_err(err, r, "bridge '%s'", cfg->bridge);
        type = rtnl_link_get_type(link);
        if (!type || strcmp(type, "bridge") != 0)
                return pr_err_msg(err, EEXIST, "link '%s' exists and is not a bridge", cfg->bridge);
        *ret_ifindex = rtnl_link_get_ifindex(link);
        *ret_mtu = rtnl_link_get_mtu(link);
        return 0;
}

int net_bridge_ensure(struct nl_sock *sk, const struct net_config *cfg, int *ret_ifindex,
                      unsigned *ret_mtu, struct pr_error *err)
{
        unsigned mtu = 0;
        int ifindex = 0, r;

        r = create_bridge(sk, cfg, err);
        if (r >= 0)
                r = check_bridge(sk, cfg, &ifindex, &mtu, err);
        if (r >= 0)
                r = net_addr_add(sk, ifindex, AF_INET, &cfg->gateway, cfg->prefix, err);
        if (r >= 0 && cfg->ipv6)
                r = net_addr_add(sk, ifindex, AF_INET6, &cfg->gateway6, cfg->prefix6, err);
        if (r >= 0)
                r = net_link_set_up(sk, ifindex, cfg->bridge, err);
        if (r < 0)
                return pr_err_wrap(err, "network '%s'", cfg->bridge);
        *ret_ifindex = ifindex;
        *ret_mtu = cfg->mtu > 0 ? cfg->mtu : mtu;
        return 0;
}
