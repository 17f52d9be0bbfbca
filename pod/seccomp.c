/* seccomp.c owns Localhost seccomp profiles: the OCI/Docker JSON format
 * (defaultAction, defaultErrnoRet, architectures, syscalls with names,
 * action, errnoRet, args, includes/excludes caps) compiled with libseccomp
 * in the parent. It must never load a filter itself, and never accept a
 * profile it does not fully understand: an unknown action, operator or
 * syscall-independent key is an error, not a silently weaker filter. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/security-int.h"
#include "pod/security.h"

#define PROFILE_MAX_BYTES (1u << 20)

static void json_putp(struct json_object **o)
{
        if (*o)
                (void)json_object_put(*o);
}

static int parse_action(const char *s, int errnum, uint32_t *ret)
{
        static const struct {
                const char *name;
                uint32_t action;
        } table[] = {
            {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
            {"SCMP_ACT_KILL", SCMP_ACT_KILL},
            {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
            {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
            {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
            {"SCMP_ACT_LOG", SCMP_ACT_LOG},
        };

        if (pr_streq(s, "SCMP_ACT_ERRNO")) {
                *ret = SCMP_ACT_ERRNO((uint32_t)errnum);
                return 0;
        }
        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++)
                if (pr_streq(s, table[i].name)) {
                        *ret = table[i].action;
                        return 0;
                }
        return -EINVAL;
}

static int parse_op(const char *s, enum scmp_compare *ret)
{
        static const struct {
                const char *name;
                enum scmp_compare op;
        } table[] = {
            {"SCMP_CMP_NE", SCMP_CMP_NE},
            {"SCMP_CMP_LT", SCMP_CMP_LT},
            {"SCMP_CMP_LE", SCMP_CMP_LE},
            {"SCMP_CMP_EQ", SCMP_CMP_EQ},
            {"SCMP_CMP_GE", SCMP_CMP_GE},
            {"SCMP_CMP_GT", SCMP_CMP_GT},
            {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++)
                if (pr_streq(s, table[i].name)) {
                        *ret = table[i].op;
                        return 0;
                }
        return -EINVAL;
}

static const char *get_string(struct json_object *o, const char *key)
{
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int get_int(struct json_object *o, const char *key, int def)
{
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return def;
        return json_object_get_int(v);
}

/* Docker's includes/excludes: {"caps": [...]} lifts or adds a rule by the
 * container's capabilities. Anything else there (arches, minKernel) is
 * not understood, so the rule is refused. */
static int rule_applies(struct json_object *rule, uint64_t caps, bool *ret, struct pr_error *err)
{
        static const char *const keys[] = {"includes", "excludes"};

        *ret = true;
        for (size_t k = 0; k < PR_ELEMENTSOF(keys); k++) {
                struct json_object *cond, *list;
                bool any = false;

                if (!json_object_object_get_ex(rule, keys[k], &cond) ||
                    json_object_object_length(cond) == 0)
                        continue;
                if (!json_object_object_get_ex(cond, "caps", &list) ||
                    json_object_object_length(cond) != 1 ||
                    !json_object_is_type(list, json_type_array))
                        return pr_err_msg(err, EINVAL, "'%s' other than caps is not supported",
                                          keys[k]);
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        int c = sec_cap_from_name(
                            json_object_get_string(json_object_array_get_idx(list, i)));

                        if (c >= 0 && (caps & (UINT64_C(1) << c)))
                                any = true;
                }
                if (k == 0 ? !any : any)
                        *ret = false;
        }
        return 0;
}

static int parse_args(struct json_object *rule, struct scmp_arg_cmp *args, unsigned *ret_n,
                      struct pr_error *err)
{
        struct json_object *list;
        size_t n;

        *ret_n = 0;
        if (!json_object_object_get_ex(rule, "args", &list) ||
            json_object_is_type(list, json_type_null))
                return 0;
        if (!json_object_is_type(list, json_type_array) || (n = json_object_array_length(list)) > 6)
                return pr_err_msg(err, EINVAL, "'args' must be a list of at most 6");
        for (size_t i = 0; i < n; i++) {
                struct json_object *a = json_object_array_get_idx(list, i), *v;
                enum scmp_compare op;
                int index = get_int(a, "index", -1);

                if (index < 0 || index > 5 || parse_op(get_string(a, "op"), &op) < 0)
                        return pr_err_msg(err, EINVAL, "args[%zu]: bad index or op", i);
                args[i] = (struct scmp_arg_cmp){.arg = (unsigned)index, .op = op};
                if (json_object_object_get_ex(a, "value", &v))
                        args[i].datum_a = (scmp_datum_t)json_object_get_uint64(v);
                if (json_object_object_get_ex(a, "valueTwo", &v))
                        args[i].datum_b = (scmp_datum_t)json_object_get_uint64(v);
        }
        *ret_n = (unsigned)n;
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, struct json_object *rule, int def_errno, uint64_t caps,
                    struct pr_error *err)
{
        struct scmp_arg_cmp args[6];
        struct json_object *names;
        uint32_t action;
        unsigned n_args;
        bool applies;
        int r;

        r = rule_applies(rule, caps, &applies, err);
        if (r < 0 || !applies)
                return r;
        if (parse_action(get_string(rule, "action"), get_int(rule, "errnoRet", def_errno),
                         &action) < 0)
                return pr_err_msg(err, EINVAL, "unknown action '%s'",
                                  get_string(rule, "action") ? get_string(rule, "action") : "");
        r = parse_args(rule, args, &n_args, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(rule, "names", &names) ||
            !json_object_is_type(names, json_type_array))
                return pr_err_msg(err, EINVAL, "a rule without 'names'");
        for (size_t i = 0; i < json_object_array_length(names); i++) {
                const char *name = json_object_get_string(json_object_array_get_idx(names, i));
                int nr = seccomp_syscall_resolve_name(name);

                /* As runc: a name this architecture lacks is skipped. */
                if (nr == __NR_SCMP_ERROR) {
                        pr_log_debug("seccomp: no syscall '%s' here; skipping", name);
                        continue;
                }
                r = seccomp_rule_add_array(ctx, action, nr, n_args, args);
                /* -EACCES: the rule's action is the default one (libseccomp
                 * refuses such no-op rules). */
                if (r < 0 && r != -EACCES && r != -EDOM)
                        return pr_err(err, r, "rule for '%s'", name);
        }
        return 0;
}

static int add_arches(scmp_filter_ctx ctx, struct json_object *root, struct pr_error *err)
{
        struct json_object *list;

        if (!json_object_object_get_ex(root, "architectures", &list) ||
            !json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0) {
                sec_seccomp_add_compat_arches(ctx);
                return 0;
        }
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(list, i));
                _cleanup_free_ char *lower = NULL;
                uint32_t arch;
                int r;

                if (!s || !pr_startswith(s, "SCMP_ARCH_"))
                        return pr_err_msg(err, EINVAL, "unknown architecture '%s'", s ? s : "");
                lower = pr_strdup(s + strlen("SCMP_ARCH_"));
                for (char *c = lower; *c; c++)
                        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
                arch = seccomp_arch_resolve_name(lower);
                if (arch == 0)
                        return pr_err_msg(err, EINVAL, "unknown architecture '%s'", s);
                r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return pr_err(err, r, "architecture '%s'", s);
        }
        return 0;
}

static int compile(struct json_object *root, uint64_t caps, struct sock_filter **ret, size_t *ret_n,
                   struct pr_error *err)
{
        int def_errno = get_int(root, "defaultErrnoRet", EPERM);
        struct json_object *rules;
        scmp_filter_ctx ctx;
        uint32_t def;
        int r;

        if (parse_action(get_string(root, "defaultAction"), def_errno, &def) < 0)
                return pr_err_msg(err, EINVAL, "missing or unknown defaultAction");
        ctx = seccomp_init(def);
        if (!ctx)
                return pr_err_msg(err, ENOMEM, "seccomp_init failed");
        r = add_arches(ctx, root, err);
        if (r >= 0 && json_object_object_get_ex(root, "syscalls", &rules)) {
                if (!json_object_is_type(rules, json_type_array))
                        r = pr_err_msg(err, EINVAL, "'syscalls' must be a list");
                for (size_t i = 0; r >= 0 && i < json_object_array_length(rules); i++) {
                        r = add_rule(ctx, json_object_array_get_idx(rules, i), def_errno, caps,
                                     err);
                        if (r < 0)
                                r = pr_err_wrap(err, "syscalls[%zu]", i);
                }
        }
        if (r >= 0)
                r = sec_seccomp_export(ctx, ret, ret_n, err);
        seccomp_release(ctx);
        return r;
}

int sec_seccomp_localhost(const char *path, uint64_t caps, struct sock_filter **ret, size_t *ret_n,
                          struct pr_error *err)
{
        _cleanup_(json_putp) struct json_object *root = NULL;
        _cleanup_free_ char *data = NULL;
        enum json_tokener_error jerr = json_tokener_success;
        int r;

        r = pr_read_file(path, PROFILE_MAX_BYTES, &data, NULL, err);
        if (r < 0)
                return pr_err_wrap(err, "seccomp profile '%s'", path);
        root = json_tokener_parse_verbose(data, &jerr);
        if (!root || !json_object_is_type(root, json_type_object))
                return pr_err_msg(err, EINVAL, "seccomp profile '%s': not a JSON object: %s", path,
                                  json_tokener_error_desc(jerr));
        r = compile(root, caps, ret, ret_n, err);
        return r < 0 ? pr_err_wrap(err, "seccomp profile '%s'", path) : 0;
}
