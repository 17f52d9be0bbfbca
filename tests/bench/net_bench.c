/* Network set-up cost per pod: attach and detach times through netsetup,
 * one pod at a time and N pods on one bridge. It unshares its own network
 * and mount namespaces before touching anything, so the host's network is
 * never changed; everything it makes dies with it. Not a test: it prints
 * figures. Usage: net_bench ROOT_DIR [N] */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netsetup/netsetup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"

static int make_netns(const char *path)
{
        int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        int r = 0;

        if (self < 0 || fd < 0)
                return -errno;
        (void)close(fd);
        if (unshare(CLONE_NEWNET) < 0 ||
            mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                r = -errno;
        if (setns(self, CLONE_NEWNET) < 0)
                abort(); /* would leave the bench in a pod's namespace */
        (void)close(self);
        return r;
}

static int fail(const char *what, const struct pr_error *err)
{
        fprintf(stderr, "net_bench: %s: %s\n", what, err->msg);
        return 1;
}

static int attach(const struct net_config *cfg, const char *root, const char *name,
                  const char *netns, uint64_t *usec, struct pr_error *err)
{
        struct net_pod pod = {.name = name, .netns_path = netns, .netns_fd = -1};
        struct net_pod_result res;
        uint64_t t0 = pr_now_mono_usec();
        int r = net_pod_attach(cfg, root, &pod, &res, err);

        *usec = pr_now_mono_usec() - t0;
        return r;
}

static int detach(const struct net_config *cfg, const char *root, const char *name, uint64_t *usec,
                  struct pr_error *err)
{
        uint64_t t0 = pr_now_mono_usec();
        int r = net_pod_detach(cfg, root, name, err);

        *usec = pr_now_mono_usec() - t0;
        return r;
}

int main(int argc, char **argv)
{
        const char *root = argc > 1 ? argv[1] : NULL;
        int n = 100;
        struct net_config cfg;
        struct pr_error err = {};
        _cleanup_free_ char *nsdir = NULL, *conf = NULL;
        uint64_t t, first, attach_sum = 0, detach_sum = 0, cycle_sum = 0, t_all;
        FILE *f;

        if (!root || (argc > 2 && pr_parse_int(argv[2], 1, 250, &n) < 0)) {
                fprintf(stderr, "usage: net_bench ROOT_DIR [N<=250]\n");
                return 2;
        }
        if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0 ||
            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                perror("net_bench: unshare");
                return 1;
        }
        nsdir = pr_asprintf("%s/netns", root);
        conf = pr_asprintf("%s/network.conf", root);
        if (pr_mkdir_p(nsdir, 0700, &err) < 0)
                return fail("mkdir", &err);
        if (mount("tmpfs", nsdir, "tmpfs", 0, "mode=0700") < 0) {
                perror("net_bench: tmpfs");
                return 1;
        }
        f = fopen(conf, "we");
        if (!f)
                return 1;
        fputs("bridge = pbench0\nsubnet = 10.125.0.0/16\n", f);
        fclose(f);
        if (net_config_load(root, &cfg, &err) < 0)
                return fail("config", &err);
        for (int i = 0; i <= n; i++) {
                _cleanup_free_ char *p = pr_asprintf("%s/ns%d", nsdir, i);
                if (make_netns(p) < 0) {
                        fprintf(stderr, "net_bench: netns %d: %s\n", i, strerror(errno));
                        return 1;
                }
        }

        /* One pod alone: bridge and table are made and removed with it. */
        {
                _cleanup_free_ char *p = pr_asprintf("%s/ns%d", nsdir, n);
                if (attach(&cfg, root, "solo", p, &first, &err) < 0)
                        return fail("attach solo", &err);
                if (detach(&cfg, root, "solo", &t, &err) < 0)
                        return fail("detach solo", &err);
                printf("first pod (creates bridge + table): attach %.2f ms, detach (removes "
                       "them) %.2f ms\n",
                       (double)first / 1000, (double)t / 1000);
        }
        t_all = pr_now_mono_usec();
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *name = pr_asprintf("pod-%d", i);
                _cleanup_free_ char *p = pr_asprintf("%s/ns%d", nsdir, i);
                if (attach(&cfg, root, name, p, &t, &err) < 0)
                        return fail("attach", &err);
                attach_sum += t;
        }
        t_all = pr_now_mono_usec() - t_all;
        printf("%d pods on one bridge: %.1f ms in all, %.2f ms per attach\n", n,
               (double)t_all / 1000, (double)attach_sum / n / 1000);
        /* A pod coming and going while the others stay. */
        for (int i = 0; i < 20; i++) {
                _cleanup_free_ char *p = pr_asprintf("%s/ns%d", nsdir, n);
                uint64_t a, d;
                if (attach(&cfg, root, "cycle", p, &a, &err) < 0)
                        return fail("attach cycle", &err);
                if (detach(&cfg, root, "cycle", &d, &err) < 0)
                        return fail("detach cycle", &err);
                cycle_sum += a + d;
        }
        printf("attach+detach of one pod beside %d others: %.2f ms\n", n,
               (double)cycle_sum / 20 / 1000);
        t_all = pr_now_mono_usec();
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *name = pr_asprintf("pod-%d", i);
                if (detach(&cfg, root, name, &t, &err) < 0)
                        return fail("detach", &err);
                detach_sum += t;
        }
        t_all = pr_now_mono_usec() - t_all;
        printf("detach of %d pods: %.1f ms in all, %.2f ms per detach\n", n, (double)t_all / 1000,
               (double)detach_sum / n / 1000);
        net_config_done(&cfg);
        return 0;
}
