/* One run of a probe or hook handler (probe.c's, and nobody else's): an
 * exec command in the container through exec_spawn(), a tcpSocket or
 * httpGet connection made in the pod's network namespace, or a sleep. It
 * runs on the supervisor's loop and must never block, wait for a child,
 * resolve a name or use libuv's thread pool; it knows nothing of the
 * supervisor, only the target it is given. */
#include "pod/probe-int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/exec.h"
#include "pod/plan.h"
#include "pod/probe.h"

/* kubelet keeps at most 10 KiB of an exec probe's output; a message is less. */
#define OUTPUT_MAX 1024
#define RESPONSE_MAX 4096

/* Appends add (taken) to *s. */
static void append_take(char **s, char *add)
{
        char *joined = pr_asprintf("%s%s", *s, add);

        free(*s);
        free(add);
        *s = joined;
}

/* One handler at work: an exec command, a connection, or a sleep. It ends
 * once, through cb (unless cancelled), and is freed in the close callback
 * of its last handle, after its fds. */
struct probe_action {
        struct probe_target t;
        probe_action_cb cb; /* NULL once ended or cancelled */
        void *owner;
        const struct spec_handler *h;
        uv_timer_t timer; /* the timeout, or the sleep */
        uv_poll_t poll;   /* the exec helper's pidfd, or the socket */
        bool timer_open, poll_open;
        unsigned refs;
        struct exec_child child;
        int fd;
        bool connected;
        char *request;
        size_t req_len, sent;
        char resp[RESPONSE_MAX];
        size_t got;
        char target[64]; /* "10.0.0.2:8080" */
        char *what;      /* for messages: `command "test -e /x"`, `Get "http://.../"` */
        char *fail_msg;  /* a failure found before anything ran, delivered async */
};

static void on_action_closed(uv_handle_t *h)
{
        struct probe_action *a = h->data;

        if (--a->refs > 0)
                return;
        /* Every watcher is gone: the fds can go (and the helper, killed
         * already, is reaped). */
        exec_child_close(&a->child);
        if (a->fd >= 0)
                (void)close(a->fd);
        free(a->request);
        free(a->what);
        free(a->fail_msg);
        free(a);
}

void probe_action_cancel(struct probe_action *a)
{
        a->cb = NULL;
        if (a->child.pid > 0)
                (void)kill(a->child.pid, SIGKILL);
        if (a->poll_open) {
                a->poll_open = false;
                a->refs++;
                uv_close((uv_handle_t *)&a->poll, on_action_closed);
        }
        if (a->timer_open) {
                a->timer_open = false;
                a->refs++;
                uv_close((uv_handle_t *)&a->timer, on_action_closed);
        }
        a->refs--;
        if (a->refs == 0) {
                a->refs = 1;
                on_action_closed((uv_handle_t *)&a->timer);
        }
}

static void action_finish(struct probe_action *a, bool ok, const char *msg)
{
        probe_action_cb cb = a->cb;
        void *owner = a->owner;
        _cleanup_free_ char *copy = pr_strdup(msg ? msg : "");

        probe_action_cancel(a);
        if (cb)
                cb(owner, ok, copy);
}

static void lower_first(char *s)
{
        if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
                s[0] = (char)(s[0] - 'A' + 'a');
}

/* ---- exec ---- */

static char *quote_command(char **argv)
{
        char *s = pr_strdup("");

        for (size_t i = 0; argv && argv[i]; i++)
                append_take(&s, pr_asprintf("%s%s", i ? " " : "", argv[i]));
        return s;
}

static void on_exec_poll(uv_poll_t *p, int status, int events)
{
        struct probe_action *a = p->data;
        char out[OUTPUT_MAX];
        struct pr_error err = {};
        _cleanup_free_ char *msg = NULL;
        int code = 0, r;

        (void)status, (void)events;
        r = exec_child_reap(&a->child, &code, out, sizeof(out), &err);
        if (r == -EAGAIN)
                return;
        /* kubelet's message is the output; an empty one says nothing, so
         * say how it ended. */
        while (*out && (out[strlen(out) - 1] == '\n' || out[strlen(out) - 1] == '\r'))
                out[strlen(out) - 1] = '\0';
        if (r < 0)
                msg = pr_asprintf("%s: %s", a->what, err.msg);
        else if (code != 0 && err.msg[0])
                msg = pr_strdup(err.msg);
        else if (code != 0 && !*out)
                msg = pr_asprintf("%s exited with %d", a->what, code);
        else
                msg = pr_strdup(out);
        action_finish(a, r >= 0 && code == 0, msg);
}

static int start_exec(struct probe_action *a, struct pr_error *err)
{
        struct exec_options o = {.pid = a->t.pid,
                                 .start_time = a->t.start_time,
                                 .argv = a->h->exec_command,
                                 .in_fd = -1,
                                 .out_fd = -1};
        _cleanup_free_ char *cmd = quote_command(a->h->exec_command);
        int r;

        a->what = pr_asprintf("command \"%s\"", cmd);
        if (!a->h->exec_command || !a->h->exec_command[0])
                return pr_err_msg(err, EINVAL, "exec: no command");
        r = exec_spawn(&o, &a->child, err);
        if (r < 0)
                return r;
        r = uv_poll_init(a->t.loop, &a->poll, a->child.pidfd);
        if (r < 0)
                return pr_err(err, -r, "watch the command");
        a->poll.data = a;
        a->poll_open = true;
        r = uv_poll_start(&a->poll, UV_READABLE, on_exec_poll);
        return r < 0 ? pr_err(err, -r, "watch the command") : 0;
}

/* ---- tcpSocket and httpGet ---- */

/* Makes a TCP socket in the pod's network namespace. The supervisor has
 * one thread, so switching that thread's namespace for this one socket()
 * call and back changes nothing anyone else can see (libuv's signal
 * handlers only write to a pipe). A socket keeps the namespace it was made
 * in for life: the connect() that follows, from our own namespace, goes
 * through the pod's. Failing to come back would leave the supervisor in
 * the pod's namespace: abort rather than go on there. */
static int socket_in_pod(const struct pod_plan *plan, int *ret, struct pr_error *err)
{
        _cleanup_close_ int self = -1, pod = -1;
        int fd, saved;

        if (plan->host_network) {
                fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return pr_err(err, errno, "socket");
                *ret = fd;
                return 0;
        }
        self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return pr_err(err, errno, "open our network namespace");
        pod = open(plan->netns_path, O_RDONLY | O_CLOEXEC);
        if (pod < 0)
                return pr_err(err, errno, "open the pod's network namespace '%s'",
                              plan->netns_path);
        if (setns(pod, CLONE_NEWNET) < 0)
                return pr_err(err, errno, "enter the pod's network namespace");
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        saved = errno;
        if (setns(self, CLONE_NEWNET) < 0)
                abort();
        if (fd < 0)
                return pr_err(err, saved, "socket");
        *ret = fd;
        return 0;
}

static void on_sock_poll(uv_poll_t *p, int status, int events);

static void sock_fail(struct probe_action *a, int code, const char *op)
{
        _cleanup_free_ char *e = pr_strdup(strerror(code));
        _cleanup_free_ char *msg = NULL;

        lower_first(e);
        /* Go's net errors, as kubelet reports them. */
        if (a->request)
                msg = pr_asprintf("%s: dial tcp %s: %s: %s", a->what, a->target, op, e);
        else
                msg = pr_asprintf("dial tcp %s: %s: %s", a->target, op, e);
        action_finish(a, false, msg);
}

static void on_connected(struct probe_action *a)
{
        a->connected = true;
        if (!a->request) {
                action_finish(a, true, "");
                return;
        }
        (void)uv_poll_start(&a->poll, UV_READABLE | UV_WRITABLE, on_sock_poll);
}

static void http_read(struct probe_action *a)
{
        _cleanup_free_ char *msg = NULL;
        ssize_t n;
        int code = 0, r;

        n = recv(a->fd, a->resp + a->got, sizeof(a->resp) - 1 - a->got, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n < 0) {
                sock_fail(a, errno, "read");
                return;
        }
        a->got += (size_t)n;
        r = probe_http_status(a->resp, a->got, &code);
        if (r == -EAGAIN && n > 0 && a->got < sizeof(a->resp) - 1)
                return;
        if (r < 0) {
                msg = pr_asprintf("%s: %s", a->what,
                                  n == 0 && a->got == 0 ? "EOF" : "malformed HTTP response");
                action_finish(a, false, msg);
                return;
        }
        /* kubelet: 200-399 succeed (a redirect counts as success). */
        if (code >= 200 && code < 400) {
                action_finish(a, true, "");
                return;
        }
        msg = pr_asprintf("HTTP probe failed with statuscode: %d", code);
        action_finish(a, false, msg);
}

static void on_sock_poll(uv_poll_t *p, int status, int events)
{
        struct probe_action *a = p->data;
        int e = 0;
        socklen_t len = sizeof(e);

        if (!a->connected) {
                if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
                        e = errno;
                if (e == 0 && status < 0)
                        e = -status;
                if (e) {
                        sock_fail(a, e, "connect");
                        return;
                }
                on_connected(a);
                return;
        }
        if ((events & UV_WRITABLE) && a->sent < a->req_len) {
                ssize_t n = send(a->fd, a->request + a->sent, a->req_len - a->sent, MSG_NOSIGNAL);

                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                        sock_fail(a, errno, "write");
                        return;
                }
                if (n > 0)
                        a->sent += (size_t)n;
                if (a->sent == a->req_len)
                        (void)uv_poll_start(&a->poll, UV_READABLE, on_sock_poll);
                return;
        }
        if (events & UV_READABLE)
                http_read(a);
}

/* The pod's IP (kubelet probes it from the node), or 127.0.0.1 in the pod's
 * namespace when it has none; an explicit host must be an IPv4 address. */
static int target_addr(struct probe_action *a, const char *host, int port, struct sockaddr_in *sa,
                       struct pr_error *err)
{
        const struct pod_plan *plan = a->t.plan;
        const char *ip = host && *host ? host : plan->pod_ip ? plan->pod_ip : "127.0.0.1";

        *sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        (void)snprintf(a->target, sizeof(a->target), "%s:%d", ip, port);
        if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
                return pr_err_msg(
                    err, EINVAL, "host '%s' is not an IPv4 address (podrun resolves no names)", ip);
        return 0;
}

static int start_socket(struct probe_action *a, struct pr_error *err)
{
        const struct spec_handler *h = a->h;
        bool http = h->type == SPEC_HANDLER_HTTP_GET;
        const struct spec_int_or_string *port = http ? &h->http_get.port : &h->tcp_socket.port;
        const char *host = http ? h->http_get.host : h->tcp_socket.host;
        struct sockaddr_in sa;
        int num = 0, r;

        r = probe_port(port, a->t.spec, &num, err);
        if (r >= 0)
                r = target_addr(a, host, num, &sa, err);
        if (r < 0)
                return r;
        if (http) {
                const char *path = h->http_get.path && *h->http_get.path ? h->http_get.path : "/";

                if (h->http_get.scheme == SPEC_SCHEME_HTTPS)
                        return pr_err_msg(err, ENOTSUP, "httpGet: scheme HTTPS is not supported");
                a->request =
                    probe_http_request(path, a->target, h->http_get.headers, h->http_get.n_headers);
                a->req_len = strlen(a->request);
                a->what =
                    pr_asprintf("Get \"http://%s%s%s\"", a->target, *path == '/' ? "" : "/", path);
        } else {
                a->what = pr_asprintf("dial tcp %s", a->target);
        }
        r = socket_in_pod(a->t.plan, &a->fd, err);
        if (r < 0)
                return r;
        r = uv_poll_init_socket(a->t.loop, &a->poll, a->fd);
        if (r < 0)
                return pr_err(err, -r, "watch the socket");
        a->poll.data = a;
        a->poll_open = true;
        if (connect(a->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                /* Refused at once (loopback): the error is ours now, not
                 * the socket's, so the poll would never see it. */
                _cleanup_free_ char *e = pr_strdup(strerror(errno));

                lower_first(e);
                if (http)
                        return pr_err_msg(err, errno, "%s: dial tcp %s: connect: %s", a->what,
                                          a->target, e);
                return pr_err_msg(err, errno, "dial tcp %s: connect: %s", a->target, e);
        }
        r = uv_poll_start(&a->poll, UV_WRITABLE, on_sock_poll);
        return r < 0 ? pr_err(err, -r, "watch the socket") : 0;
}

/* ---- start, timeout ---- */

static void on_action_timer(uv_timer_t *t)
{
        struct probe_action *a = t->data;
        _cleanup_free_ char *msg = NULL;

        if (a->fail_msg) {
                msg = PR_TAKE_PTR(a->fail_msg);
                action_finish(a, false, msg);
                return;
        }
        switch (a->h->type) {
        case SPEC_HANDLER_SLEEP:
                action_finish(a, true, "");
                return;
        case SPEC_HANDLER_EXEC:
                msg = pr_asprintf("%s timed out", a->what);
                break;
        case SPEC_HANDLER_HTTP_GET:
                msg = pr_asprintf("%s: context deadline exceeded (Client.Timeout exceeded while "
                                  "awaiting headers)",
                                  a->what);
                break;
        default:
                msg = pr_asprintf("dial tcp %s: i/o timeout", a->target);
                break;
        }
        action_finish(a, false, msg);
}

struct probe_action *probe_action_start(const struct probe_target *t, const struct spec_handler *h,
                                        uint64_t timeout_usec, probe_action_cb cb, void *owner)
{
        struct probe_action *a = pr_calloc(1, sizeof(*a));
        struct pr_error err = {};
        int r = 0;

        a->t = *t;
        a->h = h;
        a->cb = cb;
        a->owner = owner;
        a->refs = 1;
        a->fd = -1;
        a->child = (struct exec_child){.pidfd = -1, .err_fd = -1, .out_fd = -1};
        uv_timer_init(t->loop, &a->timer);
        a->timer.data = a;
        a->timer_open = true;
        switch (h->type) {
        case SPEC_HANDLER_EXEC:
                r = start_exec(a, &err);
                break;
        case SPEC_HANDLER_HTTP_GET:
        case SPEC_HANDLER_TCP_SOCKET:
                r = start_socket(a, &err);
                break;
        case SPEC_HANDLER_SLEEP:
                timeout_usec =
                    h->sleep_seconds > 0 ? (uint64_t)h->sleep_seconds * PR_USEC_PER_SEC : 0;
                uv_timer_start(&a->timer, on_action_timer, timeout_usec / 1000, 0);
                return a;
        default:
                r = pr_err_msg(&err, ENOTSUP, "%s handlers are not supported",
                               spec_handler_type_to_string(h->type));
                break;
        }
        if (r < 0) {
                a->fail_msg = pr_strdup(err.msg);
                timeout_usec = 1000; /* as soon as the loop turns */
        }
        if (timeout_usec > 0)
                uv_timer_start(&a->timer, on_action_timer, (timeout_usec + 999) / 1000, 0);
        return a;
}
