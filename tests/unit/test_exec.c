#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/exec.h"

TestSuite(exec);

static const char status_text[] = "Name:\tsleep\n"
                                  "Umask:\t0022\n"
                                  "State:\tS (sleeping)\n"
                                  "Uid:\t1000\t1001\t1002\t1003\n"
                                  "Gid:\t2000\t2001\t2002\t2003\n"
                                  "FDSize:\t64\n"
                                  "Groups:\t10 20 30 \n"
                                  "NStgid:\t5\t1\n"
                                  "CapInh:\t0000000000000000\n"
                                  "CapPrm:\t00000000a80425fb\n"
                                  "CapEff:\t00000000a80425fb\n"
                                  "CapBnd:\t00000000a80425fb\n"
                                  "CapAmb:\t0000000000000400\n"
                                  "NoNewPrivs:\t1\n"
                                  "Seccomp:\t2\n"
                                  "Seccomp_filters:\t1\n";

Test(exec, parses_identity_and_capabilities)
{
        struct exec_identity id;
        struct pr_error err = {};

        cr_assert_eq(exec_parse_status(status_text, &id, &err), 0, "%s", err.msg);
        cr_assert_eq(id.uid, 1001); /* the effective one */
        cr_assert_eq(id.gid, 2001);
        cr_assert_eq(id.n_groups, 3);
        cr_assert_eq(id.groups[0], 10);
        cr_assert_eq(id.groups[2], 30);
        cr_assert_eq(id.cap_inh, 0);
        cr_assert_eq(id.cap_prm, 0xa80425fb);
        cr_assert_eq(id.cap_eff, 0xa80425fb);
        cr_assert_eq(id.cap_bnd, 0xa80425fb);
        cr_assert_eq(id.cap_amb, 0x400);
        cr_assert(id.no_new_privs);
        cr_assert_eq(id.seccomp, 2);
}

Test(exec, no_groups_and_old_kernels)
{
        static const char text[] = "Name:\tx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n"
                                   "CapInh:\t0\nCapPrm:\t1ff\nCapEff:\t1ff\nCapBnd:\t1ff\n";
        struct exec_identity id;
        struct pr_error err = {};

        cr_assert_eq(exec_parse_status(text, &id, &err), 0, "%s", err.msg);
        cr_assert_eq(id.uid, 0);
        cr_assert_eq(id.n_groups, 0);
        cr_assert_eq(id.cap_prm, 0x1ff);
        cr_assert_eq(id.cap_amb, 0);
        cr_assert_not(id.no_new_privs);
        cr_assert_eq(id.seccomp, 0);
}

Test(exec, refuses_a_status_without_ids_or_caps)
{
        struct exec_identity id;
        struct pr_error err = {};

        cr_assert_eq(exec_parse_status("Name:\tx\n", &id, &err), -EINVAL);
        cr_assert_eq(exec_parse_status("Name:\tx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", &id, &err),
                     -EINVAL);
        cr_assert(strstr(err.msg, "capability"), "%s", err.msg);
        cr_assert_eq(
            exec_parse_status("Name:\tx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
                              "Groups:\tx\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n",
                              &id, &err),
            -EINVAL);
}
