/* End to end: the built `podrun validate` on every sample (valid, exit 0)
 * and on every manifest of tests/data/invalid and tests/data/bad (exit 2)
 * and tests/data/warnings (exit 0), stderr exactly the lines of its
 * NAME.err, each as "podrun: LINE", where the file is named from the
 * source root: tests/data/bad/NAME.yaml).
 * Needs no root and touches nothing but two unlinked temporary files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/util.h"

TestSuite(validate_cli);

struct run {
        int status; /* exit code, or -1 if killed */
        char *out;
        char *err;
};

static void run_done(struct run *r)
{
        free(r->out);
        free(r->err);
}

static const char *env_dir(const char *name)
{
        const char *d = getenv(name);

        cr_assert(d && *d, "%s is not set (run through meson test)", name);
        return d;
}

/* An anonymous file: created and unlinked at once, so nothing is left. */
static int anon_file(void)
{
        char path[] = "/tmp/podrun-validate-cli-XXXXXX";
        int fd = mkostemp(path, O_CLOEXEC);

        cr_assert(fd >= 0, "mkostemp: %s", strerror(errno));
        cr_assert_eq(unlink(path), 0);
        return fd;
}

static char *slurp_fd(int fd)
{
        struct stat st;
        char *buf;
        ssize_t n;

        cr_assert_eq(fstat(fd, &st), 0);
        buf = pr_malloc((size_t)st.st_size + 1);
        n = pread(fd, buf, (size_t)st.st_size, 0);
        cr_assert_eq(n, st.st_size);
        buf[n] = '\0';
        return buf;
}

static struct run run_podrun(const char *cwd, const char *const *args)
{
        _cleanup_free_ char *exe = pr_asprintf("%s/pod/cli/podrun", env_dir("PODRUN_BUILD_DIR"));
        _cleanup_close_ int out = anon_file(), err = anon_file();
        const char *argv[16] = {exe, "validate"};
        struct run r = {.status = -1};
        size_t n = 2;
        int status;
        pid_t pid;

        for (; *args && n < PR_ELEMENTSOF(argv) - 1; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                /* Child: no criterion calls from here on, only _exit. */
                if (chdir(cwd) < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
                        _exit(126);
                execv(exe, (char *const *)argv);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                cr_assert_eq(errno, EINTR);
        if (WIFEXITED(status))
                r.status = WEXITSTATUS(status);
        r.out = slurp_fd(out);
        r.err = slurp_fd(err);
        return r;
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int yaml_filter(const struct dirent *d)
{
        return has_suffix(d->d_name, ".yaml");
}

/* The sorted NAME.yaml entries of a directory; returns how many. */
static int list_yaml(const char *dir, struct dirent ***ret)
{
        int n = scandir(dir, ret, yaml_filter, alphasort);

        cr_assert(n >= 0, "scandir '%s': %s", dir, strerror(errno));
        return n;
}

static void free_list(struct dirent **list, int n)
{
        for (int i = 0; i < n; i++)
                free(list[i]);
        free(list);
}

/* "a\nb\n" becomes "podrun: a\npodrun: b\n". */
static char *prefix_lines(const char *text)
{
        char *out = pr_strdup("");

        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                char *next = pr_asprintf("%spodrun: %.*s\n", out, (int)len, p);

                free(out);
                out = next;
                p += len + (nl ? 1 : 0);
        }
        return out;
}

/* Runs from the source root on "tests/data/SUB/NAME.yaml", the path the
 * golden files name; every file must exit with want_status. */
static int check_golden_dir(const char *sub, int want_status)
{
        const char *src = env_dir("PODRUN_SOURCE_DIR");
        _cleanup_free_ char *dir = pr_asprintf("%s/tests/data/%s", src, sub);
        struct dirent **list;
        int n;

        if (access(dir, F_OK) < 0)
                return 0;
        n = list_yaml(dir, &list);
        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                _cleanup_free_ char *base = pr_strndup(name, strlen(name) - strlen(".yaml"));
                _cleanup_free_ char *err_path = pr_asprintf("%s/%s.err", dir, base);
                _cleanup_free_ char *expected = NULL, *want = NULL;
                _cleanup_close_ int fd = open(err_path, O_RDONLY | O_CLOEXEC);
                _cleanup_free_ char *rel = pr_asprintf("tests/data/%s/%s", sub, name);
                const char *args[] = {"--quiet", rel, NULL};
                struct run r;

                cr_expect(fd >= 0, "%s/%s has no %s.err", sub, name, base);
                if (fd < 0)
                        continue;
                expected = slurp_fd(fd);
                want = prefix_lines(expected);
                r = run_podrun(src, args);
                cr_expect_eq(r.status, want_status, "%s/%s: exit %d, want %d", sub, name, r.status,
                             want_status);
                cr_expect_str_eq(r.err, want, "%s/%s: stderr differs", sub, name);
                cr_expect_str_eq(r.out, "", "%s/%s: printed a summary", sub, name);
                run_done(&r);
        }
        free_list(list, n);
        return n;
}

Test(validate_cli, samples_are_valid)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/samples", env_dir("PODRUN_SOURCE_DIR"));
        struct dirent **list;
        int n = list_yaml(dir, &list);

        cr_assert(n >= 7, "only %d samples", n);
        for (int i = 0; i < n; i++) {
                const char *args[] = {list[i]->d_name, NULL};
                struct run r = run_podrun(dir, args);

                cr_expect_eq(r.status, 0, "%s: exit %d: %s", list[i]->d_name, r.status, r.err);
                cr_expect_str_eq(r.err, "", "%s: findings on stderr", list[i]->d_name);
                cr_expect(pr_startswith(r.out, "Name:"), "%s: no summary: %s", list[i]->d_name,
                          r.out);
                run_done(&r);
        }
        free_list(list, n);
}

Test(validate_cli, invalid_manifests_print_exactly_their_findings)
{
        cr_expect_gt(check_golden_dir("invalid", 2), 10);
}

Test(validate_cli, bad_manifests_print_exactly_their_findings)
{
        (void)check_golden_dir("bad", 2);
}

/* Valid manifests with fields podrun cannot honour: exit 0, and a warning
 * for each saying what podrun does instead. */
Test(validate_cli, unhonoured_fields_print_exactly_their_warnings)
{
        cr_expect_gt(check_golden_dir("warnings", 0), 0);
}

Test(validate_cli, any_invalid_file_fails_the_run_but_all_are_checked)
{
        _cleanup_free_ char *src = pr_strdup(env_dir("PODRUN_SOURCE_DIR"));
        const char *args[] = {"samples/hello.yaml", "tests/data/invalid/host-network.yaml",
                              "samples/probes.yaml", NULL};
        struct run r = run_podrun(src, args);

        cr_expect_eq(r.status, 2);
        cr_expect_str_eq(r.err, "podrun: tests/data/invalid/host-network.yaml:13:17: error: "
                                "spec.containers[0].ports[0].hostPort: Invalid value: 80: must "
                                "match `containerPort` when `hostNetwork` is true\n");
        cr_expect(strstr(r.out, "Name:           hello\n") != NULL, "%s", r.out);
        cr_expect(strstr(r.out, "Name:           probes\n") != NULL, "%s", r.out);
        run_done(&r);
}

Test(validate_cli, usage_and_io_errors)
{
        const char *none[] = {NULL};
        const char *missing[] = {"/nonexistent/pod.yaml", NULL};
        const char *bogus[] = {"--bogus", "x.yaml", NULL};
        const char *help[] = {"--help", NULL};
        struct run r;

        r = run_podrun("/", none);
        cr_expect_eq(r.status, 2);
        cr_expect(strstr(r.err, "no manifest given") != NULL, "%s", r.err);
        run_done(&r);
        r = run_podrun("/", bogus);
        cr_expect_eq(r.status, 2);
        cr_expect(strstr(r.err, "unknown option '--bogus'") != NULL, "%s", r.err);
        run_done(&r);
        /* A file that cannot be read is a runtime failure, not a manifest error. */
        r = run_podrun("/", missing);
        cr_expect_eq(r.status, 1);
        cr_expect_str_eq(r.err,
                         "podrun: open '/nonexistent/pod.yaml': No such file or directory\n");
        run_done(&r);
        r = run_podrun("/", help);
        cr_expect_eq(r.status, 0);
        cr_expect(pr_startswith(r.out, "Usage: podrun validate [--quiet] FILE..."), "%s", r.out);
        run_done(&r);
}

/* The summary, exactly, for a pod that uses most of what it shows. */
Test(validate_cli, summary_describes_the_pod)
{
        static const char yaml[] =
            "apiVersion: v1\n"
            "kind: Pod\n"
            "metadata: {name: demo, namespace: team-a}\n"
            "spec:\n"
            "  restartPolicy: OnFailure\n"
            "  terminationGracePeriodSeconds: 5\n"
            "  securityContext: {runAsUser: 1000, fsGroup: 2000}\n"
            "  initContainers:\n"
            "  - {name: setup, image: busybox, command: [sh, -c, 'echo \"a b\"']}\n"
            "  - name: proxy\n"
            "    image: busybox\n"
            "    restartPolicy: Always\n"
            "    args: [nc, -ll, -p, '9000', -e, cat]\n"
            "  containers:\n"
            "  - name: app\n"
            "    image: busybox:1.36\n"
            "    command: [httpd, -f, -p, '8080']\n"
            "    ports:\n"
            "    - {name: http, containerPort: 8080}\n"
            "    - {containerPort: 53, protocol: UDP, hostPort: 5353}\n"
            "    resources:\n"
            "      requests: {cpu: 0.1, memory: 1024Mi}\n"
            "      limits: {cpu: 2000m, memory: 2Gi}\n"
            "    readinessProbe:\n"
            "      httpGet: {path: /healthz, port: http}\n"
            "    livenessProbe:\n"
            "      tcpSocket: {port: 8080}\n"
            "      failureThreshold: 5\n"
            "    lifecycle:\n"
            "      preStop: {sleep: {seconds: 2}}\n"
            "    securityContext:\n"
            "      capabilities: {add: [NET_ADMIN], drop: [ALL]}\n"
            "    volumeMounts:\n"
            "    - {name: data, mountPath: /data, readOnly: true}\n"
            "    - {name: host, mountPath: /host, subPath: logs}\n"
            "  volumes:\n"
            "  - {name: data, emptyDir: {medium: Memory, sizeLimit: 1G}}\n"
            "  - {name: host, hostPath: {path: /var/log}}\n";
        static const char want[] =
            "Name:           demo\n"
            "Namespace:      team-a\n"
            "Restart Policy: OnFailure\n"
            "Grace Period:   5s\n"
            "Security:       user 1000, fsGroup 2000\n"
            "Init Containers:\n"
            "  setup:\n"
            "    Image:      busybox\n"
            "    Command:    sh -c 'echo \"a b\"'\n"
            "Sidecars:\n"
            "  proxy:\n"
            "    Image:      busybox\n"
            "    Args:       nc -ll -p 9000 -e cat\n"
            "Containers:\n"
            "  app:\n"
            "    Image:      busybox:1.36\n"
            "    Command:    httpd -f -p 8080\n"
            "    Ports:      8080/TCP (http), 53/UDP host 5353\n"
            "    Requests:   cpu 100m, memory 1Gi\n"
            "    Limits:     cpu 2, memory 2Gi\n"
            "    Liveness:   tcp-socket :8080 delay=0s timeout=1s period=10s #success=1 "
            "#failure=5\n"
            "    Readiness:  http-get http://:http/healthz delay=0s timeout=1s period=10s "
            "#success=1 #failure=3\n"
            "    PreStop:    sleep 2s\n"
            "    Security:   +NET_ADMIN, -ALL\n"
            "    Mounts:     /data from data (ro)\n"
            "                /host from host (subPath logs) (rw)\n"
            "Volumes:\n"
            "  data: emptyDir, medium Memory, sizeLimit 1G\n"
            "  host: hostPath /var/log\n";
        char path[] = "/tmp/podrun-validate-cli-XXXXXX.yaml";
        _cleanup_close_ int fd = mkostemps(path, 5, O_CLOEXEC);
        const char *args[] = {path, NULL};
        struct run r;

        cr_assert(fd >= 0);
        cr_expect_eq(write(fd, yaml, sizeof(yaml) - 1), (ssize_t)(sizeof(yaml) - 1));
        r = run_podrun("/", args);
        (void)unlink(path);
        cr_expect_eq(r.status, 0, "%s", r.err);
        cr_expect_str_eq(r.err, "");
        cr_expect_str_eq(r.out, want);
        run_done(&r);
}

/* The Kubernetes documentation's own examples pass; warnings are allowed
 * (a service account is ignored), errors are not. */
Test(validate_cli, kubernetes_documentation_examples_are_valid)
{
        const char *src = env_dir("PODRUN_SOURCE_DIR");
        _cleanup_free_ char *dir = pr_asprintf("%s/tests/data/kubernetes-examples", src);
        struct dirent **list;
        int n = list_yaml(dir, &list);

        cr_assert_geq(n, 10);
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *rel =
                    pr_asprintf("tests/data/kubernetes-examples/%s", list[i]->d_name);
                const char *args[] = {"--quiet", rel, NULL};
                struct run r = run_podrun(src, args);

                cr_expect_eq(r.status, 0, "%s: exit %d: %s", rel, r.status, r.err);
                cr_expect_null(strstr(r.err, ": error: "), "%s: %s", rel, r.err);
                run_done(&r);
        }
        free_list(list, n);
}
