/* The netlink socket and libnl's error codes. This is the only file that
 * maps NLE_* to errno: everywhere else a libnl failure goes through
 * net_nl_err(), which keeps libnl's own text in the message. It never
 * changes any kernel state. */
#include "netsetup/netsetup-int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <netlink/errno.h>

#include "pod/base/error.h"

int net_nl_errno(int nle)
{
        static const int map[] = {
            [NLE_SUCCESS] = 0,
            [NLE_FAILURE] = EIO,
            [NLE_INTR] = EINTR,
            [NLE_BAD_SOCK] = EBADF,
            [NLE_AGAIN] = EAGAIN,
            [NLE_NOMEM] = ENOMEM,
            [NLE_EXIST] = EEXIST,
            [NLE_INVAL] = EINVAL,
            [NLE_RANGE] = ERANGE,
            [NLE_MSGSIZE] = EMSGSIZE,
            [NLE_OPNOTSUPP] = EOPNOTSUPP,
            [NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
            [NLE_OBJ_NOTFOUND] = ENOENT,
            [NLE_NOATTR] = ENODATA,
            [NLE_MISSING_ATTR] = EINVAL,
            [NLE_AF_MISMATCH] = EAFNOSUPPORT,
            [NLE_SEQ_MISMATCH] = EPROTO,
            [NLE_MSG_OVERFLOW] = EOVERFLOW,
            [NLE_MSG_TRUNC] = EMSGSIZE,
            [NLE_NOADDR] = EADDRNOTAVAIL,
            [NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP,
            [NLE_MSG_TOOSHORT] = EBADMSG,
            [NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP,
            [NLE_OBJ_MISMATCH] = EINVAL,
            [NLE_NOCACHE] = ENOENT,
            [NLE_BUSY] = EBUSY,
            [NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
            [NLE_NOACCESS] = EACCES,
            [NLE_PERM] = EPERM,
            [NLE_PKTLOC_FILE] = ENOENT,
            [NLE_PARSE_ERR] = EINVAL,
            [NLE_NODEV] = ENODEV,
            [NLE_IMMUTABLE] = EROFS,
            [NLE_DUMP_INTR] = EINTR,
            [NLE_ATTRSIZE] = EINVAL,
        };

        if (nle < 0)
                nle = -nle;
        if ((size_t)nle >= PR_ELEMENTSOF(map))
                return EIO;
        return map[nle];
}

int net_nl_err(struct pr_error *err, int nle, const char *fmt, ...)
{
        char what[PR_ERROR_MSG_MAX];
        va_list ap;
        int code = net_nl_errno(nle);

        va_start(ap, fmt);
        (void)vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return pr_err_msg(err, code ? code : EIO, "%s: %s", what,
                          nl_geterror(nle < 0 ? nle : -nle));
}

int net_nl_open(struct nl_sock **ret, struct pr_error *err)
{
        _cleanup_nl_sock_ struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk)
                return pr_err(err, ENOMEM, "netlink socket");
        /* libnl opens its socket with SOCK_CLOEXEC since 3.2.x; the pod's
         * children must never inherit a netlink socket of the host. */
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return net_nl_err(err, r, "netlink socket");
        *ret = PR_TAKE_PTR(sk);
        return 0;
}
