#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/image.h"
#include "pod/plan.h"
#include "specs/specs.h"

TestSuite(plan);

static char tmp[64];
static char *root_dir, *run_dir;

static void write_file(const char *path, const char *text)
{
        struct pr_error err = {};
        cr_assert_eq(pr_write_file_atomic(path, text, strlen(text), 0644, &err), 0, "%s", err.msg);
}

/* An image "app" with Entrypoint/Cmd/Env/User and its own passwd and group,
 * an image "bare" with nothing to run, and an image "evil" whose
 * /etc/passwd is a symlink pointing out of its root. */
static void make_images(void)
{
        struct pr_error err = {};
        struct image_config cfg = {};
        _cleanup_free_ char *src = pr_asprintf("%s/src", tmp), *etc = NULL, *p = NULL, *g = NULL,
                            *bare = NULL, *evil = NULL, *evil_etc = NULL, *link = NULL,
                            *host = NULL;

        etc = pr_asprintf("%s/etc", src);
        cr_assert_eq(pr_mkdir_p(etc, 0755, &err), 0, "%s", err.msg);
        p = pr_asprintf("%s/passwd", etc);
        write_file(p, "root:x:0:0:root:/root:/bin/sh\n"
                      "app:x:1000:1001:app:/home/app:/bin/sh\n"
                      "nobody:x:65534:65534::/:/bin/false\n");
        g = pr_asprintf("%s/group", etc);
        write_file(g, "root:x:0:\napp:x:1001:\nwheel:x:10:root,app\naudio:x:29:app\n");
        pr_strv_push(&cfg.entrypoint, "/bin/entry");
        pr_strv_push(&cfg.cmd, "default-arg");
        pr_strv_push(&cfg.env, "PATH=/image/bin");
        pr_strv_push(&cfg.env, "FROM_IMAGE=1");
        pr_strv_push(&cfg.env, "OVERRIDE=image");
        cfg.working_dir = pr_strdup("/srv");
        cfg.user = pr_strdup("app");
        cfg.stop_signal = pr_strdup("SIGQUIT");
        cr_assert_eq(image_import(root_dir, "app", src, &cfg, &err), 0, "%s", err.msg);
        image_config_done(&cfg);

        bare = pr_asprintf("%s/bare", tmp);
        cr_assert_eq(pr_mkdir_p(bare, 0755, &err), 0);
        cr_assert_eq(image_import(root_dir, "bare", bare, NULL, &err), 0, "%s", err.msg);

        evil = pr_asprintf("%s/evil", tmp);
        evil_etc = pr_asprintf("%s/etc", evil);
        cr_assert_eq(pr_mkdir_p(evil_etc, 0755, &err), 0);
        /* An absolute link to a passwd file of the host: inside the image
         * it names a file that does not exist. */
        host = pr_asprintf("%s/hostpasswd", tmp);
        write_file(host, "root:x:0:0:root:/root:/bin/sh\n");
        link = pr_asprintf("%s/passwd", evil_etc);
        cr_assert_eq(symlink(host, link), 0);
        cfg = (struct image_config){};
        pr_strv_push(&cfg.cmd, "sh");
        cfg.user = pr_strdup("root");
        cr_assert_eq(image_import(root_dir, "evil", evil, &cfg, &err), 0, "%s", err.msg);
        image_config_done(&cfg);
}

static void setup(void)
{
        struct pr_error err = {};

        snprintf(tmp, sizeof(tmp), "/tmp/podrun-plan-XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        root_dir = pr_asprintf("%s/root", tmp);
        run_dir = pr_asprintf("%s/run", tmp);
        cr_assert_eq(pr_mkdir_p(root_dir, 0755, &err), 0);
        make_images();
}

static void teardown(void)
{
        struct pr_error err = {};

        (void)pr_rm_rf(tmp, &err);
        free(root_dir);
        free(run_dir);
}

struct built {
        struct spec_file *file;
        struct pod_plan *plan;
        struct pr_error err;
        int r;
};

static void built_done(struct built *b)
{
        plan_free(b->plan);
        spec_file_free(b->file);
}

static struct built build(const char *yaml)
{
        struct built b = {};
        struct spec_diags diags = {};
        struct plan_options opts = {.root_dir = root_dir,
                                    .run_dir = run_dir,
                                    .netns_dir = "/tmp/netns-test",
                                    .node_name = "node1"};
        int r;

        r = spec_load_buffer("test.yaml", yaml, strlen(yaml), &b.file, &diags, &b.err);
        for (size_t i = 0; r < 0 && i < diags.n; i++) {
                _cleanup_free_ char *d = spec_diag_format(&diags.items[i]);
                fprintf(stderr, "%s\n", d);
        }
        spec_diags_done(&diags);
        cr_assert_eq(r, 0, "manifest: %s", b.err.msg);
        b.r = plan_build(&b.file->pods[0], &opts, &b.plan, &b.err);
        return b;
}

#define POD(spec)                                                                                  \
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: team\n"                   \
        "  labels:\n    app: web\n    tier: front\n"                                               \
        "  annotations:\n    note: 'say \"hi\"'\nspec:\n" spec

static const char *env_get(char **env, const char *name)
{
        size_t l = strlen(name);

        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, l) == 0 && env[i][l] == '=')
                        return env[i] + l + 1;
        return NULL;
}

static size_t env_index(char **env, const char *name)
{
        size_t l = strlen(name);

        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, l) == 0 && env[i][l] == '=')
                        return i;
        return SIZE_MAX;
}

static const char *lookup_ab(void *userdata, const char *name)
{
        (void)userdata;
        return pr_streq(name, "A") ? "alpha" : pr_streq(name, "B") ? "beta" : NULL;
}

Test(plan, expand_as_kubernetes)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
            {"$(A)", "alpha"},
            {"x$(A)y", "xalphay"},
            {"$$(A)", "$(A)"},
            {"$$$(A)", "$alpha"},
            {"$(UNKNOWN)", "$(UNKNOWN)"},
            {"$(A", "$(A"},
            {"$A", "$A"},
            {"a$", "a$"},
            {"$()", "$()"},
            {"$(A)$(B)", "alphabeta"},
            {"", ""},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = plan_expand(cases[i].in, lookup_ab, NULL);

                cr_assert_str_eq(out, cases[i].out, "expand '%s'", cases[i].in);
        }
}

Test(plan, signals)
{
        cr_assert_eq(plan_parse_signal("SIGTERM"), SIGTERM);
        cr_assert_eq(plan_parse_signal("QUIT"), SIGQUIT);
        cr_assert_eq(plan_parse_signal("9"), SIGKILL);
        cr_assert_eq(plan_parse_signal("SIGNOPE"), -EINVAL);
        cr_assert_eq(plan_parse_signal("0"), -EINVAL);
        cr_assert_eq(plan_parse_signal(""), -EINVAL);
        for (int i = 0; i < _PLAN_MOUNT_TYPE_MAX; i++)
                cr_assert_eq(plan_mount_type_from_string(plan_mount_type_to_string(i)), i);
}

Test(plan, paths_and_order, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  initContainers:\n  - name: i1\n    image: app\n"
                      "  - name: side\n    image: app\n    restartPolicy: Always\n"
                      "  - name: i2\n    image: app\n"
                      "  containers:\n  - name: a\n    image: app\n  - name: b\n    image: app\n"));
        const struct pod_plan *p = b.plan;
        static const char *const order[] = {"i1", "side", "i2", "a", "b"};
        _cleanup_free_ char *rd = NULL, *ro = NULL, *cd = NULL, *ld = NULL;

        cr_assert_eq(b.r, 0, "%s", b.err.msg);
        cr_assert_eq(p->n_containers, 5);
        cr_assert_eq(p->n_init, 3);
        for (size_t i = 0; i < 5; i++) {
                cr_assert_str_eq(p->containers[i].name, order[i]);
                cr_assert_eq(p->containers[i].index, i);
                cr_assert_eq(p->containers[i].init, i < 3);
        }
        rd = pr_asprintf("%s/pods/web", run_dir);
        ro = pr_asprintf("%s/pods/web", root_dir);
        cr_assert_str_eq(p->run_dir, rd);
        cr_assert_str_eq(p->root_dir, ro);
        cr_assert_str_eq(p->netns_path, "/tmp/netns-test/podrun-web");
        cr_assert(pr_endswith(p->state_path, "/pods/web/state.json"));
        cd = pr_asprintf("%s/containers/a", rd);
        cr_assert_str_eq(p->containers[3].dir, cd);
        cr_assert(pr_startswith(p->containers[3].rootfs, cd));
        ld = pr_asprintf("%s/logs/a", ro);
        cr_assert_str_eq(p->containers[3].log_dir, ld);
        cr_assert_str_eq(p->hostname, "web");
        cr_assert_null(p->fqdn);
        cr_assert_eq(strlen(p->uid), 36);
        /* Restart policies: sidecar Always; init OnFailure under Always; apps the pod's. */
        cr_assert(p->containers[1].sidecar);
        cr_assert_eq(p->containers[1].restart_policy, SPEC_RESTART_ALWAYS);
        cr_assert_not(p->containers[0].sidecar);
        cr_assert_eq(p->containers[0].restart_policy, SPEC_RESTART_ON_FAILURE);
        cr_assert_eq(p->containers[3].restart_policy, SPEC_RESTART_ALWAYS);
        cr_assert_eq(p->grace_period_usec, 30 * PR_USEC_PER_SEC);
}

Test(plan, never_policy_and_hostname, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  restartPolicy: Never\n  hostname: h1\n  subdomain: sub\n"
                      "  terminationGracePeriodSeconds: 5\n"
                      "  initContainers:\n  - name: i1\n    image: app\n"
                      "  containers:\n  - name: a\n    image: app\n"));

        cr_assert_eq(b.r, 0, "%s", b.err.msg);
        cr_assert_eq(b.plan->containers[0].restart_policy, SPEC_RESTART_NEVER);
        cr_assert_eq(b.plan->containers[1].restart_policy, SPEC_RESTART_NEVER);
        cr_assert_str_eq(b.plan->hostname, "h1");
        cr_assert_str_eq(b.plan->fqdn, "h1.sub.team.svc.cluster.local");
        cr_assert_eq(b.plan->containers[1].grace_period_usec, 5 * PR_USEC_PER_SEC);
}

/* netsetup/ forwards TCP and UDP only: an SCTP hostPort is refused by the
 * plan, before anything is made, rather than forwarded as TCP. */
Test(plan, sctp_host_port_refused, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  containers:\n  - name: a\n    image: app\n"
                      "  - name: b\n    image: app\n    ports:\n"
                      "    - containerPort: 80\n      hostPort: 8080\n"
                      "    - containerPort: 9\n      hostPort: 9999\n      protocol: SCTP\n"));
        _cleanup_(built_done) struct built own =
            build(POD("  containers:\n  - name: a\n    image: app\n    ports:\n"
                      "    - containerPort: 9\n      protocol: SCTP\n"));
        _cleanup_(built_done) struct built host =
            build(POD("  hostNetwork: true\n  containers:\n  - name: a\n    image: app\n"
                      "    ports:\n    - containerPort: 9\n      hostPort: 9\n"
                      "      protocol: SCTP\n"));

        cr_assert_eq(b.r, -EOPNOTSUPP, "%s", b.err.msg);
        cr_assert_str_eq(b.err.msg, "pod 'web': container 'b': hostPort 9999/SCTP: podrun forwards "
                                    "TCP and UDP hostPorts only");
        /* Without a hostPort, or with hostNetwork, no rule is made: fine. */
        cr_assert_eq(own.r, 0, "%s", own.err.msg);
        cr_assert_eq(host.r, 0, "%s", host.err.msg);
}

Test(plan, argv_semantics, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b = build(
            POD("  containers:\n"
                "  - name: image-only\n    image: app\n"
                "  - name: args-only\n    image: app\n    args: [x, z]\n"
                "  - name: command-only\n    image: app\n    command: [/bin/sh]\n"
                "  - name: both\n    image: app\n    command: [/bin/sh]\n    args: [-c, 'echo']\n"
                "  - name: expanded\n    image: app\n"
                "    command: ['$(CMD)', '$$(CMD)', '$(NOPE)']\n"
                "    env:\n    - name: CMD\n      value: /bin/run\n"));
        char **v;

        cr_assert_eq(b.r, 0, "%s", b.err.msg);
        v = b.plan->containers[0].argv;
        cr_assert_str_eq(v[0], "/bin/entry");
        cr_assert_str_eq(v[1], "default-arg");
        cr_assert_null(v[2]);
        v = b.plan->containers[1].argv;
        cr_assert_str_eq(v[0], "/bin/entry");
        cr_assert_str_eq(v[1], "x");
        cr_assert_str_eq(v[2], "z");
        cr_assert_null(v[3]);
        v = b.plan->containers[2].argv;
        cr_assert_str_eq(v[0], "/bin/sh");
        cr_assert_null(v[1], "command drops the image's Cmd");
        v = b.plan->containers[3].argv;
        cr_assert_eq(pr_strv_len(v), 3);
        v = b.plan->containers[4].argv;
        cr_assert_str_eq(v[0], "/bin/run");
        cr_assert_str_eq(v[1], "$(CMD)");
        cr_assert_str_eq(v[2], "$(NOPE)");
}

Test(plan, nothing_to_run_names_the_container, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  containers:\n  - name: idle\n    image: bare\n"));

        cr_assert_eq(b.r, -EINVAL);
        cr_assert(strstr(b.err.msg, "pod 'web': container 'idle': nothing to run"), "%s",
                  b.err.msg);
        cr_assert_null(b.plan);
}

Test(plan, missing_image_names_image_and_import, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  containers:\n  - name: app\n    image: nginx:1.25\n"));

        cr_assert_lt(b.r, 0);
        cr_assert(strstr(b.err.msg, "container 'app'"), "%s", b.err.msg);
        cr_assert(strstr(b.err.msg, "nginx"), "%s", b.err.msg);
        cr_assert(strstr(b.err.msg, "podrun image import"), "%s", b.err.msg);
}

Test(plan, env_order_and_sources, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  containers:\n  - name: app\n    image: app\n"
                      "    resources:\n      limits:\n        memory: 64Mi\n        cpu: 250m\n"
                      "    env:\n"
                      "    - name: OVERRIDE\n      value: manifest\n"
                      "    - name: GREETING\n      value: 'hi $(OVERRIDE) $(FROM_IMAGE) $$(X)'\n"
                      "    - name: POD\n      valueFrom:\n        fieldRef:\n"
                      "          fieldPath: metadata.name\n"
                      "    - name: NS\n      valueFrom:\n        fieldRef:\n"
                      "          fieldPath: metadata.namespace\n"
                      "    - name: UID\n      valueFrom:\n        fieldRef:\n"
                      "          fieldPath: metadata.uid\n"
                      "    - name: TIER\n      valueFrom:\n        fieldRef:\n"
                      "          fieldPath: metadata.labels['tier']\n"
                      "    - name: NOTE\n      valueFrom:\n        fieldRef:\n"
                      "          fieldPath: metadata.annotations['note']\n"
                      "    - name: NODE\n      valueFrom:\n        fieldRef:\n"
                      "          fieldPath: spec.nodeName\n"
                      "    - name: IP\n      valueFrom:\n        fieldRef:\n"
                      "          fieldPath: status.podIP\n"
                      "    - name: MEM_MI\n      valueFrom:\n        resourceFieldRef:\n"
                      "          resource: limits.memory\n          divisor: 1Mi\n"
                      "    - name: CPU\n      valueFrom:\n        resourceFieldRef:\n"
                      "          resource: limits.cpu\n"
                      "    - name: CPU_M\n      valueFrom:\n        resourceFieldRef:\n"
                      "          resource: limits.cpu\n          divisor: 1m\n"
                      "    - name: OPT\n      valueFrom:\n        configMapKeyRef:\n"
                      "          name: cm\n          key: k\n          optional: true\n"));
        struct plan_container *c;

        cr_assert_eq(b.r, 0, "%s", b.err.msg);
        c = &b.plan->containers[0];
        cr_assert(pr_startswith(c->env[0], "HOSTNAME=web"));
        cr_assert_str_eq(env_get(c->env, "PATH"), "/image/bin");
        cr_assert_str_eq(env_get(c->env, "OVERRIDE"), "manifest");
        cr_assert_lt(env_index(c->env, "OVERRIDE"), env_index(c->env, "GREETING"),
                     "an override keeps the image's position");
        /* The image's variables are not visible to $(VAR), as in kubelet. */
        cr_assert_str_eq(env_get(c->env, "GREETING"), "hi manifest $(FROM_IMAGE) $(X)");
        cr_assert_str_eq(env_get(c->env, "POD"), "web");
        cr_assert_str_eq(env_get(c->env, "NS"), "team");
        cr_assert_str_eq(env_get(c->env, "UID"), b.plan->uid);
        cr_assert_str_eq(env_get(c->env, "TIER"), "front");
        cr_assert_str_eq(env_get(c->env, "NOTE"), "say \"hi\"");
        cr_assert_str_eq(env_get(c->env, "NODE"), "node1");
        cr_assert_str_eq(env_get(c->env, "IP"), "");
        cr_assert_str_eq(env_get(c->env, "MEM_MI"), "64");
        cr_assert_str_eq(env_get(c->env, "CPU"), "1", "cpu rounds up to whole cores");
        cr_assert_str_eq(env_get(c->env, "CPU_M"), "250");
        cr_assert_null(env_get(c->env, "OPT"), "an optional missing key is left unset");
        plan_set_pod_ip(b.plan, "10.90.0.7", NULL);
        cr_assert_str_eq(env_get(c->env, "IP"), "10.90.0.7");
        cr_assert_str_eq(b.plan->pod_ip, "10.90.0.7");
}

Test(plan, config_map_refs_need_optional, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  containers:\n  - name: app\n    image: app\n    env:\n"
                      "    - name: K\n      valueFrom:\n        secretKeyRef:\n"
                      "          name: creds\n          key: password\n"));

        cr_assert_eq(b.r, -EINVAL);
        cr_assert(strstr(b.err.msg, "container 'app': env 'K': secretKeyRef 'creds'"), "%s",
                  b.err.msg);
        cr_assert(strstr(b.err.msg, "no API server"), "%s", b.err.msg);
}

Test(plan, user_from_image_and_security_context, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  securityContext:\n    supplementalGroups: [5000]\n    fsGroup: 6000\n"
                      "  containers:\n"
                      "  - name: image-user\n    image: app\n"
                      "  - name: run-as\n    image: app\n"
                      "    securityContext:\n      runAsUser: 65534\n"
                      "  - name: run-as-group\n    image: app\n"
                      "    securityContext:\n      runAsUser: 4242\n      runAsGroup: 99\n"));
        struct plan_container *c;
        bool has_wheel = false, has_audio = false, has_5000 = false, has_6000 = false;

        cr_assert_eq(b.r, 0, "%s", b.err.msg);
        c = &b.plan->containers[0];
        cr_assert_eq(c->uid, 1000);
        cr_assert_eq(c->gid, 1001);
        for (size_t i = 0; i < c->n_groups; i++) {
                has_wheel |= c->groups[i] == 10;
                has_audio |= c->groups[i] == 29;
                has_5000 |= c->groups[i] == 5000;
                has_6000 |= c->groups[i] == 6000;
        }
        cr_assert(has_wheel && has_audio, "the image's /etc/group memberships");
        cr_assert(has_5000 && has_6000, "supplementalGroups and fsGroup");
        cr_assert_str_eq(c->working_dir, "/srv");
        cr_assert_eq(c->stop_signal, SIGQUIT);
        c = &b.plan->containers[1];
        cr_assert_eq(c->uid, 65534);
        cr_assert_eq(c->gid, 65534, "the primary group of the uid's passwd entry");
        c = &b.plan->containers[2];
        cr_assert_eq(c->uid, 4242);
        cr_assert_eq(c->gid, 99);
}

Test(plan, run_as_non_root_refuses_root, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  containers:\n  - name: app\n    image: app\n"
                      "    securityContext:\n      runAsUser: 0\n      runAsNonRoot: true\n"));

        cr_assert_lt(b.r, 0);
        cr_assert(strstr(b.err.msg, "container 'app'"), "%s", b.err.msg);
}

Test(plan, passwd_symlink_stays_in_the_image, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  containers:\n  - name: app\n    image: evil\n"));

        /* The host has a root entry; the image (seen from inside) has none. */
        cr_assert_eq(b.r, -ENOENT, "%s", b.err.msg);
        cr_assert(strstr(b.err.msg, "user 'root' not found in image"), "%s", b.err.msg);
}

Test(plan, volumes_and_mounts, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b = build(
            POD("  containers:\n  - name: app\n    image: app\n"
                "    env:\n    - name: SUB\n      value: data\n"
                "    volumeMounts:\n"
                "    - name: scratch\n      mountPath: /scratch\n"
                "    - name: mem\n      mountPath: /mem\n"
                "    - name: host\n      mountPath: /host\n      readOnly: true\n"
                "    - name: scratch\n      mountPath: /sub\n      subPathExpr: $(SUB)/x\n"
                "    - name: info\n      mountPath: /etc/podinfo\n"
                "  volumes:\n"
                "  - name: scratch\n    emptyDir: {}\n"
                "  - name: mem\n    emptyDir:\n      medium: Memory\n      sizeLimit: 1Mi\n"
                "  - name: host\n    hostPath:\n      path: /var/tmp\n      type: Directory\n"
                "  - name: info\n    downwardAPI:\n      items:\n"
                "      - path: labels\n        fieldRef:\n          fieldPath: metadata.labels\n"
                "      - path: notes\n        fieldRef:\n"
                "          fieldPath: metadata.annotations\n"
                "      - path: name\n        fieldRef:\n          fieldPath: metadata.name\n"));
        const struct plan_container *c;
        const struct plan_volume *info;
        _cleanup_free_ char *scratch = NULL;

        cr_assert_eq(b.r, 0, "%s", b.err.msg);
        c = &b.plan->containers[0];
        cr_assert_eq(c->n_mounts, 5);
        scratch = pr_asprintf("%s/pods/web/volumes/scratch", root_dir);
        cr_assert_str_eq(c->mounts[0].source, scratch);
        cr_assert_eq(c->mounts[0].type, PLAN_MOUNT_BIND);
        cr_assert_not(c->mounts[0].read_only);
        cr_assert_eq(c->mounts[1].type, PLAN_MOUNT_TMPFS);
        cr_assert_eq(c->mounts[1].size_bytes, 1024 * 1024);
        cr_assert(pr_startswith(c->mounts[1].source, run_dir));
        cr_assert_str_eq(c->mounts[2].source, "/var/tmp");
        cr_assert(c->mounts[2].host_path);
        cr_assert_eq(c->mounts[2].host_path_type, SPEC_HOST_PATH_DIRECTORY);
        cr_assert(c->mounts[2].read_only);
        cr_assert_str_eq(c->mounts[3].sub_path, "data/x");
        cr_assert(c->mounts[4].read_only, "downwardAPI volumes are read-only");
        info = &b.plan->volumes[3];
        cr_assert_eq(info->n_files, 3);
        cr_assert_str_eq(info->files[0].path, "labels");
        cr_assert_str_eq(info->files[0].content, "app=\"web\"\ntier=\"front\"\n");
        cr_assert_str_eq(info->files[1].content, "note=\"say \\\"hi\\\"\"\n");
        cr_assert_str_eq(info->files[2].content, "web");
        cr_assert_eq(info->files[2].mode, 0644);
}

Test(plan, config_map_volume_needs_optional, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  containers:\n  - name: app\n    image: app\n"
                      "  volumes:\n  - name: cfg\n    configMap:\n      name: settings\n"));
        _cleanup_(built_done) struct built ok =
            build(POD("  containers:\n  - name: app\n    image: app\n"
                      "  volumes:\n  - name: cfg\n    configMap:\n      name: settings\n"
                      "      optional: true\n"));

        cr_assert_eq(b.r, -EINVAL);
        cr_assert(strstr(b.err.msg, "pod 'web': volume 'cfg': configMap 'settings'"), "%s",
                  b.err.msg);
        cr_assert_eq(ok.r, 0, "%s", ok.err.msg);
}

Test(plan, json_and_skeleton, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  containers:\n  - name: app\n    image: app\n"));
        _cleanup_free_ char *text = NULL;
        _cleanup_(plan_freep) struct pod_plan *sk = NULL;
        struct plan_options opts = {.root_dir = root_dir, .run_dir = run_dir};
        char *names[] = {(char *)"i", (char *)"app", NULL};
        bool init[] = {true, false};
        struct pr_error err = {};
        json_object *o, *cs, *c0, *v;

        cr_assert_eq(b.r, 0, "%s", b.err.msg);
        text = plan_to_json(b.plan);
        o = json_tokener_parse(text);
        cr_assert_not_null(o);
        cr_assert(json_object_object_get_ex(o, "containers", &cs));
        c0 = json_object_array_get_idx(cs, 0);
        cr_assert(json_object_object_get_ex(c0, "argv", &v));
        cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "/bin/entry");
        cr_assert(json_object_object_get_ex(c0, "uid", &v));
        cr_assert_eq(json_object_get_int(v), 1000);
        json_object_put(o);

        cr_assert_eq(plan_build_skeleton("web", names, init, &opts, &sk, &err), 0, "%s", err.msg);
        cr_assert_eq(sk->n_init, 1);
        cr_assert_str_eq(sk->containers[1].dir, b.plan->containers[0].dir);
        cr_assert_str_eq(sk->run_dir, b.plan->run_dir);
        cr_assert_str_eq(sk->netns_path, "/run/netns/podrun-web");
        cr_assert_eq(plan_build_skeleton("../x", names, init, &opts, &sk, &err), -EINVAL);
}

Test(plan, host_network_takes_the_nodes_hostname, .init = setup, .fini = teardown)
{
        _cleanup_(built_done) struct built b =
            build(POD("  hostNetwork: true\n  hostname: ignored\n  subdomain: sub\n"
                      "  containers:\n  - name: a\n    image: app\n"));
        _cleanup_(built_done) struct built own =
            build(POD("  hostname: mine\n  subdomain: sub\n"
                      "  containers:\n  - name: a\n    image: app\n"));

        cr_assert_eq(b.r, 0, "%s", b.err.msg);
        cr_assert_str_eq(b.plan->hostname, "node1");
        cr_assert_null(b.plan->fqdn);
        cr_assert_str_eq(env_get(b.plan->containers[0].env, "HOSTNAME"), "node1");
        cr_assert_eq(own.r, 0, "%s", own.err.msg);
        cr_assert_str_eq(own.plan->hostname, "mine");
        cr_assert_str_eq(own.plan->fqdn, "mine.sub.team.svc.cluster.local");
        cr_assert_str_eq(env_get(own.plan->containers[0].env, "HOSTNAME"), "mine");
}
