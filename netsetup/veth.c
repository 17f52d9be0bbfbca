/* Links in the host's namespace: lookups, up, delete, and the pod's veth
 * pair. The peer is created directly inside the pod's namespace, so the pod
 * end never exists in the host's namespace, not even for a moment, and a
 * name clash with a host interface called eth0 cannot happen. Never touches
 * a link it did not name: deletion is by the pod's derived name only. */
#include "netsetup/netsetup-int.h"

#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/link/veth.h>

#include "pod/base/error.h"

static bool link_missing(int nle)
{
        int e = net_nl_errno(nle);
        return e == ENODEV || e == ENOENT;
}

int net_link_index(struct nl_sock *sk, const char *name, int *ret, struct pr_error *err)
{
        _cleanup_link_ struct rtnl_link *link = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &link);

        if (r < 0) {
                if (link_missing(r))
                        return pr_err(err, ENODEV, "link '%s'", name);
                return net_nl_err(err, r, "link '%s'", name);
        }
        *ret = rtnl_link_get_ifindex(link);
        return 0;
}

int net_link_mtu(struct nl_sock *sk, const char *name, unsigned *ret, struct pr_error *err)
{
        _cleanup_link_ struct rtnl_link *link = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &link);

        if (r < 0) {
                if (link_missing(r))
                        return pr_err(err, ENODEV, "link '%s'", name);
                return net_nl_err(err, r, "link '%s'", name);
        }
        *ret = rtnl_link_get_mtu(link);
        return 0;
}

int net_link_set_up(struct nl_sock *sk, int ifindex, const char *name, struct pr_error *err)
{
        _cleanup_link_ struct rtnl_link *orig = rtnl_link_alloc();
        _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
        int r;

        if (!orig || !change)
                return pr_err(err, ENOMEM, "link '%s'", name);
        rtnl_link_set_ifindex(orig, ifindex);
        rtnl_link_set_flags(change, IFF_UP);
        r = rtnl_link_change(sk, orig, change, 0);
        if (r < 0)
                return net_nl_err(err, r, "set link '%s' up", name);
        return 0;
}

int net_link_delete(struct nl_sock *sk, const char *name, struct pr_error *err)
{
        _cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
        int r;

        if (!link)
                return pr_err(err, ENOMEM, "link '%s'", name);
        rtnl_link_set_name(link, name);
        r = rtnl_link_delete(sk, link);
        if (r < 0) {
                if (link_missing(r))
                        return 0;
                return net_nl_err(err, r, "delete link '%s'", name);
        }
        return 1;
}

/* libnl has no setter for a bridge port's flags on an existing port that
 * works without a cached bridge object, so the RTM_SETLINK of family
 * AF_BRIDGE is built by hand: IFLA_PROTINFO { IFLA_BRPORT_MODE = 1 }. */
static int set_hairpin(struct nl_sock *sk, int ifindex, const char *name, struct pr_error *err)
{
        struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
        struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, 0);
        struct nlattr *protinfo;
        int r;

        if (!msg)
                return pr_err(err, ENOMEM, "link '%s': hairpin", name);
        if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
            !(protinfo = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) ||
            nla_put_u8(msg, IFLA_BRPORT_MODE, 1) < 0) {
                nlmsg_free(msg);
                return pr_err(err, EMSGSIZE, "link '%s': hairpin", name);
        }
        nla_nest_end(msg, protinfo);
        r = nl_send_sync(sk, msg); /* frees msg */
        if (r < 0)
                return net_nl_err(err, r, "link '%s': set hairpin mode", name);
        return 0;
}

int net_veth_create(struct nl_sock *sk, const char *host_name, const char *pod_name,
                    int bridge_ifindex, int netns_fd, unsigned mtu, struct pr_error *err)
{
        _cleanup_link_ struct rtnl_link *veth = rtnl_link_veth_alloc();
        _cleanup_link_ struct rtnl_link *peer = NULL;
        int ifindex, r;

        if (!veth)
                return pr_err(err, ENOMEM, "veth '%s'", host_name);
        peer = rtnl_link_veth_get_peer(veth);
        rtnl_link_set_name(veth, host_name);
        rtnl_link_set_mtu(veth, mtu);
        rtnl_link_set_master(veth, bridge_ifindex);
        rtnl_link_set_flags(veth, IFF_UP);
        rtnl_link_set_name(peer, NET_POD_IFNAME);
        rtnl_link_set_mtu(peer, mtu);
        rtnl_link_set_ns_fd(peer, netns_fd);
        r = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0)
                return net_nl_err(err, r, "create veth '%s' for pod '%s'", host_name, pod_name);
        r = net_link_index(sk, host_name, &ifindex, err);
        if (r >= 0)
                r = set_hairpin(sk, ifindex, host_name, err);
        if (r < 0) {
                (void)net_link_delete(sk, host_name, NULL);
                return r;
        }
        return 0;
}
