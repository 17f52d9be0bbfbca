/* Interface addresses. Adds only: an address goes away with its link (the
 * veth) or its bridge, so nothing here removes one. */
#include "netsetup/netsetup-int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>

#include <netlink/route/addr.h>

#include "pod/base/error.h"

static void addr_putp(struct rtnl_addr **a)
{
        if (*a)
                rtnl_addr_put(*a);
}

int net_addr_add(struct nl_sock *sk, int ifindex, int family, const void *addr, unsigned prefix,
                 struct pr_error *err)
{
        _cleanup_(addr_putp) struct rtnl_addr *ra = rtnl_addr_alloc();
        _cleanup_nl_addr_ struct nl_addr *local = NULL;
        char text[INET6_ADDRSTRLEN] = "";
        int r;

        (void)inet_ntop(family, addr, text, sizeof(text));
        if (!ra)
                return pr_err(err, ENOMEM, "address %s/%u", text, prefix);
        local = nl_addr_build(family, addr,
                              family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr));
        if (!local)
                return pr_err(err, ENOMEM, "address %s/%u", text, prefix);
        nl_addr_set_prefixlen(local, (int)prefix);
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_family(ra, family);
        r = rtnl_addr_set_local(ra, local);
        if (r < 0)
                return net_nl_err(err, r, "address %s/%u", text, prefix);
        rtnl_addr_set_prefixlen(ra, (int)prefix);
        /* Duplicate address detection would hold a fresh IPv6 address in
         * "tentative" for a second or more; IPAM already guarantees it is
         * unique on the bridge. */
        if (family == AF_INET6)
                rtnl_addr_set_flags(ra, IFA_F_NODAD);
        r = rtnl_addr_add(sk, ra, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0 && net_nl_errno(r) != EEXIST)
                return net_nl_err(err, r, "add address %s/%u", text, prefix);
        return 0;
}
