/* The pod state file: its JSON form, its atomic write and tolerant read, the
 * record of host side effects, the per-pod lock, the listing of pods, and the
 * check that a saved pid still names the process we started. It owns the
 * file format (docs/state.md); it must never signal a process whose start
 * time does not match, and never decide anything about a pod's lifecycle. */
#include "pod/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/proc.h"
#include "pod/base/util.h"

#define DEFINE_TABLE(name, type, max, invalid, ...)                                                \
        static const char *const name##_table[max] = {__VA_ARGS__};                                \
        const char *name##_to_string(type v)                                                       \
        {                                                                                          \
                if ((int)v < 0 || (int)v >= (int)(max))                                            \
                        return NULL;                                                               \
                return name##_table[v];                                                            \
        }                                                                                          \
        type name##_from_string(const char *s)                                                     \
        {                                                                                          \
                for (int i = 0; i < (int)(max); i++)                                               \
                        if (pr_streq(name##_table[i], s))                                          \
                                return (type)i;                                                    \
                return invalid;                                                                    \
        }

DEFINE_TABLE(state_phase, enum state_phase, _STATE_PHASE_MAX,
             _STATE_PHASE_INVALID, [STATE_PHASE_PENDING] = "Pending",
             [STATE_PHASE_RUNNING] = "Running", [STATE_PHASE_SUCCEEDED] = "Succeeded",
             [STATE_PHASE_FAILED] = "Failed", [STATE_PHASE_UNKNOWN] = "Unknown")
DEFINE_TABLE(state_ctr_state, enum state_ctr_state, _STATE_CTR_STATE_MAX,
             _STATE_CTR_STATE_INVALID, [STATE_CTR_WAITING] = "waiting",
             [STATE_CTR_RUNNING] = "running", [STATE_CTR_TERMINATED] = "terminated")
DEFINE_TABLE(state_cond, enum state_cond, _STATE_COND_MAX,
             _STATE_COND_INVALID, [STATE_COND_POD_SCHEDULED] = "PodScheduled",
             [STATE_COND_READY_TO_START] = "PodReadyToStartContainers",
             [STATE_COND_INITIALIZED] = "Initialized",
             [STATE_COND_CONTAINERS_READY] = "ContainersReady", [STATE_COND_READY] = "Ready")

static void instance_done(struct state_instance *in)
{
        free(in->reason);
        free(in->message);
        *in = (struct state_instance){};
}

struct pod_state *state_free(struct pod_state *st)
{
        if (!st)
                return NULL;
        for (size_t i = 0; i < st->n_containers; i++) {
                struct state_container *c = &st->containers[i];

                free(c->name);
                free(c->image);
                free(c->image_id);
                free(c->log_dir);
                free(c->probes);
                free(c->log_error);
                instance_done(&c->cur);
                instance_done(&c->last);
        }
        free(st->containers);
        for (size_t i = 0; i < st->n_resources; i++) {
                free(st->resources[i].kind);
                free(st->resources[i].id);
        }
        free(st->resources);
        free(st->name);
        free(st->namespace);
        free(st->uid);
        free(st->manifest);
        free(st->run_dir);
        free(st->root_dir);
        free(st->netns_dir);
        free(st->restart_policy);
        free(st->reason);
        free(st->message);
        free(st->pod_ip);
        free(st->host_ip);
        free(st);
        return NULL;
}

/* ---- writing -------------------------------------------------------- */

static json_object *jstr(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

static json_object *jtime(uint64_t usec)
{
        char buf[PR_RFC3339_MAX];

        if (!usec)
                return NULL;
        pr_format_rfc3339_usec(usec, buf);
        return json_object_new_string(buf);
}

static json_object *jproc(const struct state_proc *p)
{
        json_object *o;

        if (p->pid <= 0)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "pid", json_object_new_int(p->pid));
        json_object_object_add(o, "start_time", json_object_new_int64((int64_t)p->start_time));
        return o;
}

static void add_instance(json_object *o, const struct state_instance *in)
{
        json_object_object_add(o, "state", jstr(state_ctr_state_to_string(in->state)));
        json_object_object_add(o, "reason", jstr(in->reason));
        json_object_object_add(o, "message", jstr(in->message));
        json_object_object_add(o, "exitCode",
                               in->has_exit ? json_object_new_int(in->exit_code) : NULL);
        json_object_object_add(o, "signal", in->signal ? json_object_new_int(in->signal) : NULL);
        json_object_object_add(o, "startedAt", jtime(in->started_usec));
        json_object_object_add(o, "finishedAt", jtime(in->finished_usec));
}

static json_object *container_to_json(const struct state_container *c)
{
        json_object *o = json_object_new_object();
        json_object *p = jproc(&c->proc);

        json_object_object_add(o, "name", jstr(c->name));
        json_object_object_add(o, "init", json_object_new_boolean(c->init));
        json_object_object_add(o, "sidecar", json_object_new_boolean(c->sidecar));
        json_object_object_add(o, "image", jstr(c->image));
        json_object_object_add(o, "imageID", jstr(c->image_id));
        json_object_object_add(o, "pid",
                               p ? json_object_get(json_object_object_get(p, "pid")) : NULL);
        json_object_object_add(o, "start_time",
                               p ? json_object_get(json_object_object_get(p, "start_time")) : NULL);
        json_object_put(p);
        add_instance(o, &c->cur);
        json_object_object_add(o, "restartCount", json_object_new_int((int)c->restart_count));
        json_object_object_add(o, "ready", json_object_new_boolean(c->ready));
        json_object_object_add(o, "started", json_object_new_boolean(c->started));
        if (c->probes)
                json_object_object_add(o, "probes", jstr(c->probes));
        json_object_object_add(o, "done", json_object_new_boolean(c->done));
        json_object_object_add(o, "logDir", jstr(c->log_dir));
        if (c->log_error) {
                json_object_object_add(o, "logError", jstr(c->log_error));
                json_object_object_add(o, "logDroppedBytes",
                                       json_object_new_int64((int64_t)c->log_dropped));
        }
        if (c->has_last) {
                json_object *l = json_object_new_object();
                add_instance(l, &c->last);
                json_object_object_add(o, "lastState", l);
        }
        return o;
}

static void add_top(json_object *o, const struct pod_state *st)
{
        json_object_object_add(o, "version", json_object_new_int(STATE_VERSION));
        json_object_object_add(o, "name", jstr(st->name));
        json_object_object_add(o, "namespace", jstr(st->namespace));
        json_object_object_add(o, "uid", jstr(st->uid));
        json_object_object_add(o, "manifest", jstr(st->manifest));
        json_object_object_add(o, "runDir", jstr(st->run_dir));
        json_object_object_add(o, "rootDir", jstr(st->root_dir));
        json_object_object_add(o, "netnsDir", jstr(st->netns_dir));
        json_object_object_add(o, "created", jtime(st->created_usec));
        json_object_object_add(o, "startTime", jtime(st->start_usec));
        json_object_object_add(o, "supervisor", jproc(&st->supervisor));
        json_object_object_add(o, "infra", jproc(&st->infra));
        json_object_object_add(o, "restartPolicy", jstr(st->restart_policy));
        json_object_object_add(o, "phase", jstr(state_phase_to_string(st->phase)));
        json_object_object_add(o, "reason", jstr(st->reason));
        json_object_object_add(o, "message", jstr(st->message));
        json_object_object_add(o, "podIP", jstr(st->pod_ip));
        json_object_object_add(o, "hostIP", jstr(st->host_ip));
        json_object_object_add(o, "terminating", json_object_new_boolean(st->terminating));
        json_object_object_add(o, "finished", json_object_new_boolean(st->finished));
        json_object_object_add(o, "deletionTimestamp", jtime(st->deletion_usec));
}

char *state_to_json(const struct pod_state *st)
{
        json_object *o = json_object_new_object(), *cs = json_object_new_array(),
                    *rs = json_object_new_array(), *conds = json_object_new_array();
        char *text;

        add_top(o, st);
        for (int i = 0; i < _STATE_COND_MAX; i++) {
                json_object *c = json_object_new_object();

                json_object_object_add(c, "type", jstr(state_cond_to_string(i)));
                json_object_object_add(c, "status",
                                       jstr(st->conditions[i].status ? "True" : "False"));
                json_object_object_add(c, "lastTransitionTime",
                                       jtime(st->conditions[i].transition_usec));
                json_object_array_add(conds, c);
        }
        json_object_object_add(o, "conditions", conds);
        for (size_t i = 0; i < st->n_containers; i++)
                json_object_array_add(cs, container_to_json(&st->containers[i]));
        json_object_object_add(o, "containers", cs);
        for (size_t i = 0; i < st->n_resources; i++) {
                json_object *r = json_object_new_object();

                json_object_object_add(r, "kind", jstr(st->resources[i].kind));
                json_object_object_add(r, "id", jstr(st->resources[i].id));
                json_object_array_add(rs, r);
        }
        json_object_object_add(o, "resources", rs);
        text = pr_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return text;
}

/* Written to a temporary name and renamed, so a reader sees the old state or
 * the new one. Not fsynced: the run dir does not outlive a reboot by design,
 * and a crashed supervisor's writes are in the page cache, so a sync would
 * only add milliseconds to every state change. */
int state_write(const struct pod_state *st, const char *path, struct pr_error *err)
{
        _cleanup_free_ char *text = state_to_json(st);
        _cleanup_free_ char *tmp = pr_asprintf("%s.tmp.%d", path, (int)getpid());
        _cleanup_close_ int fd = -1;
        size_t len = strlen(text), off = 0;

        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return pr_err(err, errno, "pod '%s': create '%s'", st->name, tmp);
        while (off < len) {
                ssize_t n = write(fd, text + off, len - off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        (void)unlink(tmp);
                        return pr_err(err, r, "pod '%s': write '%s'", st->name, tmp);
                }
                off += (size_t)n;
        }
        if (rename(tmp, path) < 0) {
                int r = -errno;
                (void)unlink(tmp);
                return pr_err(err, r, "pod '%s': rename '%s'", st->name, tmp);
        }
        return 0;
}

/* ---- reading -------------------------------------------------------- */

int state_parse_time(const char *s, uint64_t *ret_usec)
{
        struct tm tm = {};
        int n = 0, off_h = 0, off_m = 0;
        uint64_t frac = 0, scale = 1000000;
        int64_t secs;
        const char *p;

        if (!s ||
            sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
            n != 19)
                return -EINVAL;
        p = s + n;
        if (*p == '.') {
                for (p++; *p >= '0' && *p <= '9'; p++)
                        if (scale > 1) {
                                scale /= 10;
                                frac += (uint64_t)(*p - '0') * scale;
                        }
        }
        if (*p == '+' || *p == '-') {
                int sign = *p == '-' ? -1 : 1;
                if (sscanf(p + 1, "%2d:%2d%n", &off_h, &off_m, &n) != 2 || p[1 + n] != '\0')
                        return -EINVAL;
                off_h *= sign, off_m *= sign;
        } else if (strcmp(p, "Z") != 0) {
                return -EINVAL;
        }
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        secs = (int64_t)timegm(&tm) - off_h * 3600 - off_m * 60;
        if (secs < 0)
                return -ERANGE;
        *ret_usec = (uint64_t)secs * PR_USEC_PER_SEC + frac;
        return 0;
}

static const char *gstr(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static char *dstr(json_object *o, const char *key)
{
        const char *s = gstr(o, key);
        return s ? pr_strdup(s) : NULL;
}

static bool gint(json_object *o, const char *key, int64_t *ret)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return false;
        *ret = json_object_get_int64(v);
        return true;
}

static bool gbool(json_object *o, const char *key)
{
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
               json_object_get_boolean(v);
}

static uint64_t gtime(json_object *o, const char *key)
{
        uint64_t t = 0;

        (void)state_parse_time(gstr(o, key), &t);
        return t;
}

static void read_proc_fields(json_object *o, struct state_proc *p)
{
        int64_t v;

        if (gint(o, "pid", &v) && v > 0 && v <= INT32_MAX)
                p->pid = (pid_t)v;
        if (gint(o, "start_time", &v) && v >= 0)
                p->start_time = (uint64_t)v;
}

static void read_proc(json_object *o, const char *key, struct state_proc *p)
{
        json_object *v;

        if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_object))
                read_proc_fields(v, p);
}

static void read_instance(json_object *o, struct state_instance *in)
{
        int64_t v;
        enum state_ctr_state s = state_ctr_state_from_string(gstr(o, "state"));

        in->state = s < 0 ? STATE_CTR_WAITING : s;
        in->reason = dstr(o, "reason");
        in->message = dstr(o, "message");
        if (gint(o, "exitCode", &v)) {
                in->has_exit = true;
                in->exit_code = (int)v;
        }
        if (gint(o, "signal", &v))
                in->signal = (int)v;
        in->started_usec = gtime(o, "startedAt");
        in->finished_usec = gtime(o, "finishedAt");
}

static int read_container(json_object *o, struct state_container *c, struct pr_error *err)
{
        json_object *l;
        int64_t v;

        if (!json_object_is_type(o, json_type_object) || !gstr(o, "name"))
                return pr_err_msg(err, EINVAL, "a container has no name");
        c->name = dstr(o, "name");
        c->init = gbool(o, "init");
        c->sidecar = gbool(o, "sidecar");
        c->image = dstr(o, "image");
        c->image_id = dstr(o, "imageID");
        read_proc_fields(o, &c->proc);
        read_instance(o, &c->cur);
        if (gint(o, "restartCount", &v) && v >= 0)
                c->restart_count = (unsigned)v;
        c->ready = gbool(o, "ready");
        c->started = gbool(o, "started");
        c->probes = dstr(o, "probes");
        c->done = gbool(o, "done");
        c->log_dir = dstr(o, "logDir");
        c->log_error = dstr(o, "logError");
        if (gint(o, "logDroppedBytes", &v) && v >= 0)
                c->log_dropped = (uint64_t)v;
        if (json_object_object_get_ex(o, "lastState", &l) &&
            json_object_is_type(l, json_type_object)) {
                c->has_last = true;
                read_instance(l, &c->last);
        }
        return 0;
}

static void read_top(json_object *o, struct pod_state *st)
{
        int64_t v;
        enum state_phase ph = state_phase_from_string(gstr(o, "phase"));

        st->version = gint(o, "version", &v) ? (int)v : STATE_VERSION;
        st->namespace = dstr(o, "namespace");
        st->uid = dstr(o, "uid");
        st->manifest = dstr(o, "manifest");
        st->run_dir = dstr(o, "runDir");
        st->root_dir = dstr(o, "rootDir");
        st->netns_dir = dstr(o, "netnsDir");
        st->created_usec = gtime(o, "created");
        st->start_usec = gtime(o, "startTime");
        read_proc(o, "supervisor", &st->supervisor);
        read_proc(o, "infra", &st->infra);
        st->restart_policy = dstr(o, "restartPolicy");
        st->phase = ph < 0 ? STATE_PHASE_UNKNOWN : ph;
        st->reason = dstr(o, "reason");
        st->message = dstr(o, "message");
        st->pod_ip = dstr(o, "podIP");
        st->host_ip = dstr(o, "hostIP");
        st->terminating = gbool(o, "terminating");
        st->finished = gbool(o, "finished");
        st->deletion_usec = gtime(o, "deletionTimestamp");
}

static void read_conditions(json_object *o, struct pod_state *st)
{
        json_object *a;

        if (!json_object_object_get_ex(o, "conditions", &a) ||
            !json_object_is_type(a, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *c = json_object_array_get_idx(a, i);
                enum state_cond t = state_cond_from_string(gstr(c, "type"));

                if (t < 0)
                        continue;
                st->conditions[t].status = pr_streq(gstr(c, "status"), "True");
                st->conditions[t].transition_usec = gtime(c, "lastTransitionTime");
        }
}

static int read_arrays(json_object *o, struct pod_state *st, struct pr_error *err)
{
        json_object *a;
        int r;

        if (json_object_object_get_ex(o, "containers", &a) &&
            json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        struct state_container *c =
                            pr_array_grow(&st->containers, &st->n_containers, sizeof(*c));
                        r = read_container(json_object_array_get_idx(a, i), c, err);
                        if (r < 0)
                                return r;
                }
        if (json_object_object_get_ex(o, "resources", &a) &&
            json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *e = json_object_array_get_idx(a, i);
                        if (gstr(e, "kind") && gstr(e, "id"))
                                state_add_resource(st, gstr(e, "kind"), gstr(e, "id"));
                }
        return 0;
}

int state_from_json(const char *text, struct pod_state **ret, struct pr_error *err)
{
        _cleanup_(state_freep) struct pod_state *st = NULL;
        json_object *o;
        int r;

        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object) || !gstr(o, "name")) {
                json_object_put(o);
                return pr_err_msg(err, EINVAL, "not a podrun state file");
        }
        st = pr_calloc(1, sizeof(*st));
        st->name = dstr(o, "name");
        read_top(o, st);
        read_conditions(o, st);
        r = read_arrays(o, st, err);
        json_object_put(o);
        if (r < 0)
                return r;
        *ret = PR_TAKE_PTR(st);
        return 0;
}

int state_read(const char *path, struct pod_state **ret, struct pr_error *err)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = pr_read_file(path, STATE_MAX_BYTES, &text, NULL, err);
        if (r < 0)
                return r;
        r = state_from_json(text, ret, err);
        if (r < 0)
                return pr_err_wrap(err, "state file '%s'", path);
        return 0;
}

/* ---- resources ------------------------------------------------------ */

bool state_has_resource(const struct pod_state *st, const char *kind, const char *id)
{
        for (size_t i = 0; i < st->n_resources; i++)
                if (pr_streq(st->resources[i].kind, kind) && pr_streq(st->resources[i].id, id))
                        return true;
        return false;
}

void state_add_resource(struct pod_state *st, const char *kind, const char *id)
{
        struct state_resource *r;

        if (state_has_resource(st, kind, id))
                return;
        r = pr_array_grow(&st->resources, &st->n_resources, sizeof(*r));
        r->kind = pr_strdup(kind);
        r->id = pr_strdup(id);
}

bool state_remove_resource(struct pod_state *st, const char *kind, const char *id)
{
        for (size_t i = 0; i < st->n_resources; i++) {
                if (!pr_streq(st->resources[i].kind, kind) || !pr_streq(st->resources[i].id, id))
                        continue;
                free(st->resources[i].kind);
                free(st->resources[i].id);
                memmove(&st->resources[i], &st->resources[i + 1],
                        (st->n_resources - i - 1) * sizeof(st->resources[0]));
                st->n_resources--;
                return true;
        }
        return false;
}

struct state_container *state_find_container(struct pod_state *st, const char *name)
{
        for (size_t i = 0; i < st->n_containers; i++)
                if (pr_streq(st->containers[i].name, name))
                        return &st->containers[i];
        return NULL;
}

/* ---- paths, lock, listing ------------------------------------------ */

char *state_pod_dir(const char *run_dir, const char *name)
{
        return pr_asprintf("%s/pods/%s", run_dir, name);
}

char *state_path(const char *run_dir, const char *name)
{
        return pr_asprintf("%s/pods/%s/state.json", run_dir, name);
}

/* One attempt: open, lock, and check that the locked inode is still the
 * one linked at path; 1 means "try again". */
static int lock_once(const char *path, bool create, bool wait, int *ret_fd, struct pr_error *err)
{
        _cleanup_close_ int fd = -1;
        struct stat a, b;

        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
        if (fd < 0)
                return pr_err(err, errno, "open lock '%s'", path);
        while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                if (errno == EINTR)
                        continue;
                if (errno == EWOULDBLOCK)
                        return pr_err_msg(err, EBUSY, "'%s' is held by another podrun", path);
                return pr_err(err, errno, "flock '%s'", path);
        }
        if (fstat(fd, &a) < 0)
                return pr_err(err, errno, "fstat '%s'", path);
        if (stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                return 1;
        *ret_fd = PR_TAKE_FD(fd);
        return 0;
}

int state_lock(const char *pod_dir, bool create, bool wait, struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/lock", pod_dir);
        int fd = -1, r;

        for (int attempt = 0; attempt < 100; attempt++) {
                if (create) {
                        r = pr_mkdir_p(pod_dir, 0700, err);
                        if (r < 0)
                                return r;
                }
                r = lock_once(path, create, wait, &fd, err);
                if (r < 0 && r == -ENOENT && !create)
                        return r;
                if (r <= 0)
                        return r < 0 ? r : fd;
        }
        return pr_err_msg(err, EAGAIN, "lock '%s': removed under us repeatedly", path);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(const char *run_dir, char ***ret, struct pr_error *err)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/pods", run_dir);
        _cleanup_strv_free_ char **names = NULL;
        DIR *d;
        struct dirent *de;

        d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return pr_err(err, errno, "open '%s'", dir);
                *ret = pr_calloc(1, sizeof(char *));
                return 0;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && de->d_type == DT_DIR)
                        pr_strv_push(&names, de->d_name);
        (void)closedir(d);
        if (!names)
                names = pr_calloc(1, sizeof(char *));
        qsort(names, pr_strv_len(names), sizeof(char *), cmp_str);
        *ret = PR_TAKE_PTR(names);
        return 0;
}

/* ---- processes ------------------------------------------------------ */

int state_proc_get(pid_t pid, struct state_proc *ret, struct pr_error *err)
{
        uint64_t t;
        int r = pr_proc_stat(pid, NULL, &t, err);

        if (r < 0)
                return r;
        ret->pid = pid;
        ret->start_time = t;
        return 0;
}

bool state_proc_alive(const struct state_proc *p)
{
        struct pr_error ignored = {};
        uint64_t t;
        char state;

        if (p->pid <= 0 || pr_proc_stat(p->pid, &state, &t, &ignored) < 0 || t != p->start_time)
                return false;
        /* A zombie has exited: it is not running anything any more. */
        return state != 'Z' && state != 'X';
}

int state_proc_kill(const struct state_proc *p, int sig)
{
        _cleanup_close_ int fd = -1;
        struct pr_error ignored = {};
        uint64_t t;

        if (p->pid <= 0)
                return -ESRCH;
        /* Pin the process with a pidfd first, then compare the start time:
         * the pid cannot be reused between the check and the signal. */
        fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
        if (fd < 0)
                return -errno;
        if (pr_proc_stat(p->pid, NULL, &t, &ignored) < 0 || t != p->start_time)
                return -ESRCH;
        if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}
