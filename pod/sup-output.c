/* The supervisor's container output: the stdout and stderr pipes of an
 * instance, drained to its log writer and to the foreground (on_output), and
 * output lost to a full disk recorded in the state. It must never buffer
 * more than one read of a pipe: the container is held back by its own writes
 * instead. */
#include "pod/supervisor-int.h"

#include <errno.h>
#include <unistd.h>
#include <uv.h>

#include "pod/base/error.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/logs.h"
#include "pod/plan.h"
#include "pod/state.h"

#define READ_CHUNK (64 * 1024)

/* Output lost to a full disk is reported in the state, where inspect
 * shows it as the pod's message: the failure at once, the growing count of
 * dropped bytes at most once a second (save forces it, for the last count). */
void sup_record_log_loss(struct sup_inst *inst, const struct pr_error *err, bool save)
{
        struct state_container *c = sup_ctr_state(inst->ctr);
        uint64_t dropped = logs_writer_dropped(inst->log), now = pr_now_mono_usec();

        if (err)
                sup_set_str(&c->log_error, err->msg);
        c->log_dropped += dropped - inst->log_dropped_seen;
        inst->log_dropped_seen = dropped;
        if (err || save || now - inst->log_saved_usec >= PR_USEC_PER_SEC) {
                inst->log_saved_usec = now;
                sup_save(inst->ctr->sup);
        }
}

static void emit(struct sup_inst *inst, enum logs_stream s, const char *buf, size_t n)
{
        struct supervisor *sup = inst->ctr->sup;
        struct pr_error err = {};

        /* Synchronous on purpose: while this write is in progress nothing
         * more is read from the pipe, so a container that writes faster
         * than the disk takes blocks in its own write(2) (back-pressure)
         * and the supervisor holds at most one read's worth of output. */
        if (inst->log && logs_writer_write(inst->log, s, buf, n, &err) < 0) {
                pr_log_warn("container '%s': %s; dropping output", inst->ctr->pc->name, err.msg);
                sup_record_log_loss(inst, &err, false);
        } else if (inst->log && logs_writer_dropped(inst->log) != inst->log_dropped_seen) {
                sup_record_log_loss(inst, NULL, false);
        }
        if (sup->opts->on_output)
                sup->opts->on_output(sup->opts->userdata, inst->ctr->pc->name, s, buf, n);
}

/* Reads what the pipe holds now. Returns 1 at EOF (or a read error), 0
 * when the pipe is empty but open. */
int sup_drain(struct sup_inst *inst, int fd, enum logs_stream s)
{
        char buf[READ_CHUNK];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n > 0) {
                        emit(inst, s, buf, (size_t)n);
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                return 1;
        }
}

void sup_on_stream(uv_poll_t *p, int status, int events)
{
        struct sup_inst *inst = p->data;
        bool is_out = p == &inst->out_poll;
        int fd = is_out ? inst->proc.stdout_fd : inst->proc.stderr_fd;
        char buf[READ_CHUNK];
        ssize_t n;

        (void)events;
        /* One chunk per wakeup, so one chatty container cannot starve the
         * loop; the poll calls again while data remains. */
        n = status < 0 ? 0 : read(fd, buf, sizeof(buf));
        if (n > 0) {
                emit(inst, is_out ? LOGS_STDOUT : LOGS_STDERR, buf, (size_t)n);
                return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        sup_close_poll(inst, p, is_out ? &inst->out_open : &inst->err_open);
}
