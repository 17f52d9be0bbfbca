/* podrun image: import, ls and rm over the image store in --root. Parses
 * options and prints; every store operation is pod/image.c's, and nothing
 * here touches the store's files directly. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/cli/cli.h"
#include "pod/image.h"
#include "pod/state.h"

static const char image_help[] =
    "Commands:\n"
    "  import [OPTIONS] NAME[:TAG] PATH   import a root filesystem as an image\n"
    "  ls [--json]                        list the images\n"
    "  rm [-f] NAME...                    remove images\n\n"
    "Run 'podrun image COMMAND --help' for a command's options.\n";

static const char import_help[] =
    "Usage: podrun image import [OPTIONS] NAME[:TAG] PATH\n\n"
    "Imports a root filesystem as NAME[:TAG] (default tag 'latest'): PATH is a\n"
    "directory, a bundle directory (rootfs/ and an optional config.json in the OCI\n"
    "image config shape), or a tarball (.tar, .tar.gz, .tgz). The options set the\n"
    "image config; they override config.json, and --env adds to its Env by name.\n\n"
    "  --entrypoint ARG      a JSON array, or a word (repeat to add words)\n"
    "  --cmd ARG             a JSON array, or a word (repeat to add words)\n"
    "  --env NAME=VALUE      an environment variable (repeatable)\n"
    "  --workdir DIR         the working directory (default /)\n"
    "  --user USER           uid[:gid] or a name (default root)\n"
    "  --stop-signal SIG     the signal that stops a container (default SIGTERM)\n"
    "  --config FILE         take the config from FILE (OCI image config shape)\n"
    "  -f, --force           replace NAME even when a pod in --run-dir uses it\n"
    "  -h, --help            show this help\n";

static const char ls_help[] = "Usage: podrun image ls [--json]\n\n"
                              "Lists the images in the store.\n\n"
                              "  --json       print a JSON array\n"
                              "  -h, --help   show this help\n";

static const char rm_help[] =
    "Usage: podrun image rm [-f] NAME...\n\n"
    "Removes images (by name, or by an id prefix of 4 or more hex digits) from the\n"
    "store, stopping at the first failure. An image that a pod in --run-dir uses is\n"
    "kept unless --force is given.\n\n"
    "  -f, --force  remove even when a pod uses the image\n"
    "  -h, --help   show this help\n";

static void config_donep(struct image_config *c)
{
        image_config_done(c);
}

/* "--cmd '["sh","-c","x"]'" sets the whole vector; "--cmd sh --cmd -c" adds
 * one word each. Mixing the two is refused: the result would be a guess. */
static int add_words(const char *opt, const char *arg, char ***v, bool *from_json,
                     struct pr_error *err)
{
        struct json_object *o;
        size_t n;
        int r = 0;

        if (arg[0] != '[') {
                if (*from_json)
                        return cli_usage_error(err, "image", "--%s: a word after a JSON array",
                                               opt);
                pr_strv_push(v, arg);
                return 0;
        }
        if (*v)
                return cli_usage_error(err, "image", "--%s: a JSON array after other values", opt);
        o = json_tokener_parse(arg);
        if (!o || !json_object_is_type(o, json_type_array)) {
                (void)json_object_put(o);
                return cli_usage_error(err, "image", "--%s: '%s' is not a JSON array", opt, arg);
        }
        n = json_object_array_length(o);
        *v = pr_calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n && r == 0; i++) {
                struct json_object *s = json_object_array_get_idx(o, i);
                if (json_object_is_type(s, json_type_string))
                        (*v)[i] = pr_strdup(json_object_get_string(s));
                else
                        r = cli_usage_error(err, "image", "--%s: '%s' is not an array of strings",
                                            opt, arg);
        }
        (void)json_object_put(o);
        *from_json = true;
        return r;
}

/* A pod that has not been taken down may still run, or restart, on the
 * image's content: its state file names the content by id. */
static int find_user(const char *id, char **ret_pod, struct pr_error *err)
{
        _cleanup_strv_free_ char **pods = NULL;
        int r;

        r = state_list(arg_run_dir, &pods, err);
        if (r < 0)
                return r;
        for (size_t i = 0; pods && pods[i]; i++) {
                _cleanup_free_ char *path = state_path(arg_run_dir, pods[i]);
                _cleanup_(state_freep) struct pod_state *st = NULL;
                struct pr_error e = {};

                if (state_read(path, &st, &e) < 0)
                        continue; /* gone meanwhile, or not ours to judge */
                for (size_t j = 0; j < st->n_containers; j++) {
                        if (pr_streq(st->containers[j].image_id, id)) {
                                *ret_pod = pr_strdup(pods[i]);
                                return 1;
                        }
                }
        }
        return 0;
}

/* Removing an image, or importing over its name, deletes its content:
 * refused while a pod uses it. A name not in the store is -ENOENT. */
static int check_unused(const char *name, struct pr_error *err)
{
        _cleanup_free_ char *pod = NULL;
        struct image *img = NULL;
        int r;

        r = image_resolve(arg_root_dir, name, &img, err);
        if (r == -ENOENT)
                return pr_err_msg(err, ENOENT, "image '%s' not found", name);
        if (r < 0)
                return r;
        r = find_user(img->id, &pod, err);
        image_free(img);
        if (r < 0)
                return pr_err_wrap(err, "image '%s'", name);
        if (r > 0)
                return pr_err_msg(err, EBUSY,
                                  "image '%s' is in use by pod '%s'; run 'podrun down %s' first, "
                                  "or use --force",
                                  name, pod, pod);
        return 0;
}

static int remove_one(const char *name, bool force, struct pr_error *err)
{
        int r;

        if (!force) {
                r = check_unused(name, err);
                if (r < 0)
                        return r;
        }
        return image_remove(arg_root_dir, name, err);
}

enum {
        OPT_ENTRYPOINT = 0x100,
        OPT_CMD,
        OPT_ENV,
        OPT_WORKDIR,
        OPT_USER,
        OPT_STOP_SIGNAL,
        OPT_CONFIG,
        OPT_JSON,
};

static void set_str(char **dst, const char *src)
{
        free(*dst);
        *dst = pr_strdup(src);
}

struct import_args {
        struct image_config flags;
        bool json[2]; /* entrypoint, cmd came as a JSON array */
        const char *config_file;
        bool force;
};

static int import_option(int c, struct import_args *a, struct pr_error *err)
{
        switch (c) {
        case OPT_ENTRYPOINT:
                return add_words("entrypoint", optarg, &a->flags.entrypoint, &a->json[0], err);
        case OPT_CMD:
                return add_words("cmd", optarg, &a->flags.cmd, &a->json[1], err);
        case OPT_ENV:
                if (!strchr(optarg, '=') || optarg[0] == '=')
                        return cli_usage_error(err, "image", "--env: '%s' is not NAME=VALUE",
                                               optarg);
                pr_strv_push(&a->flags.env, optarg);
                return 0;
        case OPT_WORKDIR:
                if (optarg[0] != '/')
                        return cli_usage_error(err, "image", "--workdir: '%s' is not absolute",
                                               optarg);
                set_str(&a->flags.working_dir, optarg);
                return 0;
        case OPT_USER:
                set_str(&a->flags.user, optarg);
                return 0;
        case OPT_STOP_SIGNAL:
                set_str(&a->flags.stop_signal, optarg);
                return 0;
        case OPT_CONFIG:
                a->config_file = optarg;
                return 0;
        case 'f':
                a->force = true;
                return 0;
        default:
                return -EAGAIN;
        }
}

static void import_args_done(struct import_args *a)
{
        image_config_done(&a->flags);
}

static int image_import_cmd(int argc, char **argv, struct pr_error *err)
{
        static const struct option options[] = {
            {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
            {"cmd", required_argument, NULL, OPT_CMD},
            {"env", required_argument, NULL, OPT_ENV},
            {"workdir", required_argument, NULL, OPT_WORKDIR},
            {"user", required_argument, NULL, OPT_USER},
            {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
            {"config", required_argument, NULL, OPT_CONFIG},
            {"force", no_argument, NULL, 'f'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        _cleanup_(config_donep) struct image_config file = {};
        _cleanup_(import_args_done) struct import_args a = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "fh", options, NULL)) >= 0) {
                if (c == 'h') {
                        fputs(import_help, stdout);
                        return 0;
                }
                r = import_option(c, &a, err);
                if (r == -EAGAIN)
                        return cli_usage_error(err, "image", "import: unknown option '%s'",
                                               argv[optind - 1]);
                if (r < 0)
                        return r;
        }
        if (argc - optind != 2)
                return cli_usage_error(err, "image", "import: expected NAME[:TAG] PATH");
        if (a.config_file) {
                r = image_config_load(a.config_file, &file, err);
                if (r < 0)
                        return r;
                image_config_merge(&file, &a.flags);
        }
        /* Only a pod known to use the name blocks; a new name, or one
         * image_import() will refuse anyway, goes on to say so itself. */
        if (!a.force && check_unused(argv[optind], err) == -EBUSY)
                return -EBUSY;
        pr_error_clear(err);
        r = image_import(arg_root_dir, argv[optind], argv[optind + 1],
                         a.config_file ? &file : &a.flags, err);
        if (r < 0)
                return r;
        printf("%s\n", argv[optind]);
        return 0;
}

/* go-units' HumanDuration, as `docker images` prints CREATED. */
static void format_age(uint64_t usec, char *buf, size_t size)
{
        uint64_t s = usec / PR_USEC_PER_SEC,
                 h = (usec + 1800 * PR_USEC_PER_SEC) / 3600 / PR_USEC_PER_SEC;

        if (s < 1)
                (void)snprintf(buf, size, "Less than a second ago");
        else if (s == 1)
                (void)snprintf(buf, size, "1 second ago");
        else if (s < 60)
                (void)snprintf(buf, size, "%" PRIu64 " seconds ago", s);
        else if (s / 60 == 1)
                (void)snprintf(buf, size, "About a minute ago");
        else if (s / 60 < 60)
                (void)snprintf(buf, size, "%" PRIu64 " minutes ago", s / 60);
        else if (h == 1)
                (void)snprintf(buf, size, "About an hour ago");
        else if (h < 48)
                (void)snprintf(buf, size, "%" PRIu64 " hours ago", h);
        else if (h < 24 * 7 * 2)
                (void)snprintf(buf, size, "%" PRIu64 " days ago", h / 24);
        else if (h < 24 * 30 * 2)
                (void)snprintf(buf, size, "%" PRIu64 " weeks ago", h / 24 / 7);
        else if (h < 24 * 365 * 2)
                (void)snprintf(buf, size, "%" PRIu64 " months ago", h / 24 / 30);
        else
                (void)snprintf(buf, size, "%" PRIu64 " years ago", h / 24 / 365);
}

/* go-units' HumanSizeWithPrecision(size, 3): decimal units. */
static void format_size(uint64_t bytes, char *buf, size_t size)
{
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
        double v = (double)bytes;
        size_t i = 0;

        while (v >= 1000.0 && i + 1 < PR_ELEMENTSOF(units)) {
                v /= 1000.0;
                i++;
        }
        (void)snprintf(buf, size, "%.3g%s", v, units[i]);
}

static struct json_object *image_to_json(const struct image *img)
{
        _cleanup_free_ char *repo = NULL, *tag = NULL;
        struct json_object *o = json_object_new_object();
        char created[PR_RFC3339_MAX];

        image_ref_familiar(img->ref, &repo, &tag);
        pr_format_rfc3339_usec(img->created_usec, created);
        (void)json_object_object_add(o, "repository", json_object_new_string(repo));
        (void)json_object_object_add(o, "tag", json_object_new_string(tag));
        (void)json_object_object_add(o, "ref", json_object_new_string(img->ref));
        (void)json_object_object_add(o, "id", json_object_new_string(img->id));
        (void)json_object_object_add(o, "created", json_object_new_string(created));
        (void)json_object_object_add(o, "size", json_object_new_int64((int64_t)img->size_bytes));
        (void)json_object_object_add(o, "rootfs", json_object_new_string(img->rootfs));
        return o;
}

static void print_json(struct image **list, size_t n)
{
        struct json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++)
                (void)json_object_array_add(a, image_to_json(list[i]));
        printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
        (void)json_object_put(a);
}

static void print_table(struct image **list, size_t n)
{
        uint64_t now = pr_now_real_usec();
        int w = (int)strlen("REPOSITORY");

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *repo = NULL, *tag = NULL;
                image_ref_familiar(list[i]->ref, &repo, &tag);
                if ((int)strlen(repo) > w)
                        w = (int)strlen(repo);
        }
        printf("%-*s   %-10s %-14s %-23s %s\n", w, "REPOSITORY", "TAG", "IMAGE ID", "CREATED",
               "SIZE");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *repo = NULL, *tag = NULL;
                char age[64], size[32];

                image_ref_familiar(list[i]->ref, &repo, &tag);
                format_age(now > list[i]->created_usec ? now - list[i]->created_usec : 0, age,
                           sizeof(age));
                format_size(list[i]->size_bytes, size, sizeof(size));
                printf("%-*s   %-10s %-14.12s %-23s %s\n", w, repo, tag, list[i]->id, age, size);
        }
}

static int image_ls_cmd(int argc, char **argv, struct pr_error *err)
{
        static const struct option options[] = {
            {"json", no_argument, NULL, OPT_JSON},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        struct image **list = NULL;
        bool json = false;
        size_t n = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        fputs(ls_help, stdout);
                        return 0;
                }
                if (c != OPT_JSON)
                        return cli_usage_error(err, "image", "ls: unknown option '%s'",
                                               argv[optind - 1]);
                json = true;
        }
        if (optind < argc)
                return cli_usage_error(err, "image", "ls: unexpected argument '%s'", argv[optind]);
        r = image_list(arg_root_dir, &list, &n, err);
        if (r < 0)
                return r;
        if (json)
                print_json(list, n);
        else
                print_table(list, n);
        image_list_free(list, n);
        return 0;
}

static int image_rm_cmd(int argc, char **argv, struct pr_error *err)
{
        static const struct option options[] = {
            {"force", no_argument, NULL, 'f'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        bool force = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "fh", options, NULL)) >= 0) {
                if (c == 'h') {
                        fputs(rm_help, stdout);
                        return 0;
                }
                if (c != 'f')
                        return cli_usage_error(err, "image", "rm: unknown option '%s'",
                                               argv[optind - 1]);
                force = true;
        }
        if (optind >= argc)
                return cli_usage_error(err, "image", "rm: no image given");
        for (int i = optind; i < argc; i++) {
                r = remove_one(argv[i], force, err);
                if (r < 0)
                        return r;
                printf("Deleted: %s\n", argv[i]);
        }
        return 0;
}

int cmd_image(int argc, char **argv, struct pr_error *err)
{
        static const struct {
                const char *name;
                int (*run)(int argc, char **argv, struct pr_error *err);
        } subs[] = {
            {"import", image_import_cmd}, {"ls", image_ls_cmd},     {"list", image_ls_cmd},
            {"rm", image_rm_cmd},         {"remove", image_rm_cmd},
        };

        if (argc < 2)
                return cli_usage_error(err, "image", "no image command given");
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                cli_print_usage("image", image_help);
                return 0;
        }
        for (size_t i = 0; i < PR_ELEMENTSOF(subs); i++) {
                if (strcmp(argv[1], subs[i].name) != 0)
                        continue;
                optind = 0; /* glibc: reinitialise getopt for the subcommand */
                return subs[i].run(argc - 1, argv + 1, err);
        }
        return cli_usage_error(err, "image", "unknown image command '%s'", argv[1]);
}
