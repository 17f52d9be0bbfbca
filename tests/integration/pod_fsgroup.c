/* spec.securityContext.fsGroup through the real `podrun` binary: the pod's
 * emptyDir belongs to the group and is setgid, so what a non-root container
 * writes there stays in the group, and downward API files are readable by
 * it, as kubelet's SetVolumeOwnership() makes them. Runs in a mount and
 * network namespace of its own (made in .init) with its own --root,
 * --run-dir and netns dir, and leaves nothing behind. Root only. */
#include <criterion/criterion.h>
#include <string.h>

#include "pod/base/util.h"
#include "pod/state.h"
#include "tests/integration/e2e_common.h"

static void setup(void)
{
        e2e_setup("fsgroup");
}

TestSuite(pod_fsgroup, .init = setup, .fini = e2e_teardown, .timeout = 60);

static bool finished(const struct pod_state *st)
{
        return st->n_containers == 1 && st->containers[0].done;
}

static const char fsgroup_pod[] =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: grp\n  labels: {app: grp}\n"
    "spec:\n  restartPolicy: Never\n"
    "  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}\n"
    "  containers:\n  - name: c\n    image: busybox\n"
    "    command: [sh, -c, 'stat -c \"dir %g %A\" /data; touch /data/f && "
    "stat -c \"file %g\" /data/f; stat -L -c \"info %g %A\" /info/labels; id -G']\n"
    "    volumeMounts: [{name: data, mountPath: /data}, {name: info, mountPath: /info}]\n"
    "  volumes:\n  - name: data\n    emptyDir: {}\n"
    "  - name: info\n    downwardAPI:\n      items: [{path: labels, fieldRef: "
    "{fieldPath: metadata.labels}}]\n";

Test(pod_fsgroup, volumes_belong_to_the_fs_group)
{
        _cleanup_free_ char *file = e2e_write_manifest("grp", fsgroup_pod);
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct e2e_out up, logs;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "up: %s", up.text);
        st = e2e_wait_state("grp", finished, 20, "the container to finish");
        logs = e2e_podrun("logs grp");
        cr_assert_eq(logs.status, 0, "%s", logs.text);
        cr_expect(strstr(logs.text, "dir 2000 drwxrwsrwx\n"), "%s", logs.text);
        cr_expect(strstr(logs.text, "file 2000\n"), "%s", logs.text);
        cr_expect(strstr(logs.text, "info 2000 -rw-r--r--\n"), "%s", logs.text);
        cr_expect(strstr(logs.text, "3000 2000"), "supplementary groups: %s", logs.text);
        e2e_out_done(&up);
        e2e_out_done(&logs);
        e2e_down(e2e_root_dir, "grp", st);
}
