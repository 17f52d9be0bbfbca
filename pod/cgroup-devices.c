/* cgroup-devices.c owns the device allowlist of a container and, on cgroup
 * v2, the BPF program that enforces it (v2 has no devices.allow file: the
 * device controller is a BPF_PROG_TYPE_CGROUP_DEVICE program, as runc and
 * crun generate). It must never attach anything but to a container's own
 * cgroup, and never replace programs attached above it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/cgroup-int.h"

/* The character devices a container's /dev holds (REFERENCE.md). Anything
 * else, block devices above all, can be neither created nor opened. */
const struct cg_device_rule cg_allowed_devices[] = {
    {'c', 1, 3, "null"},    {'c', 1, 5, "zero"}, {'c', 1, 7, "full"}, {'c', 1, 8, "random"},
    {'c', 1, 9, "urandom"}, {'c', 5, 0, "tty"},  {'c', 5, 2, "ptmx"}, {'c', 136, -1, "pts"},
};
const size_t cg_n_allowed_devices = PR_ELEMENTSOF(cg_allowed_devices);

#define INSN(c, d, s, o, i)                                                                        \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_W | BPF_MEM, d, s, o, 0)
#define AND32(d, i) INSN(BPF_ALU | BPF_AND | BPF_K, d, 0, 0, i)
#define JNE(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define MOV64(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* 3 header instructions, at most 5 per rule, 2 at the end. */
#define MAX_INSNS (3 + 5 * 16 + 2)

/* r2 = device type, r4 = major, r5 = minor; each rule returns 1 (allow)
 * on a match, or jumps over itself; the end returns 0 (deny). Every rule
 * allows read, write and mknod, so the access bits are not looked at. */
static size_t build_program(struct bpf_insn *p)
{
        size_t n = 0;

        p[n++] = LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
        p[n++] = AND32(BPF_REG_2, 0xffff);
        p[n++] = LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major));
        p[n++] = LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor));
        for (size_t i = 0; i < cg_n_allowed_devices; i++) {
                const struct cg_device_rule *d = &cg_allowed_devices[i];
                int len = d->minor < 0 ? 4 : 5; /* instructions in this block */
                int type = d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;

                p[n++] = JNE(BPF_REG_2, type, len - 1);
                p[n++] = JNE(BPF_REG_4, (int)d->major, len - 2);
                if (d->minor >= 0)
                        p[n++] = JNE(BPF_REG_5, d->minor, len - 3);
                p[n++] = MOV64(BPF_REG_0, 1);
                p[n++] = EXIT();
        }
        p[n++] = MOV64(BPF_REG_0, 0);
        p[n++] = EXIT();
        return n;
}

int cg_devices_attach_bpf(const char *dir, struct pr_error *err)
{
        struct bpf_insn prog[MAX_INSNS + 1];
        _cleanup_close_ int cgfd = -1, progfd = -1;
        union bpf_attr attr;
        char log[4096] = "";
        size_t n;

        _Static_assert(PR_ELEMENTSOF(cg_allowed_devices) <= 16, "grow MAX_INSNS");
        n = build_program(prog);
        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)prog;
        attr.insn_cnt = (uint32_t)n;
        attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = sizeof(log);
        attr.log_level = 1;
        progfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
        if (progfd < 0)
                return pr_err(err, errno, "device filter: load the BPF program%s%s",
                              *log ? ": " : "", log);
        cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd < 0)
                return pr_err(err, errno, "device filter: open '%s'", dir);
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cgfd;
        attr.attach_bpf_fd = (uint32_t)progfd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0)
                return pr_err(err, errno, "device filter: attach to '%s'", dir);
        return 0;
}
