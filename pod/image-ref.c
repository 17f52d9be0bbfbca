/* Owns the image reference rules: Docker's grammar and normaliser
 * (distribution/reference), and the short names `image ls` shows. Pure
 * string work: it must never touch the file system. */
#include "pod/image.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/util.h"

/* Docker's limits (distribution/reference): a name of at most 255
 * characters, a tag of at most 128. */
#define NAME_TOTAL_MAX 255
#define TAG_MAX 128
#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool valid_path_component(const char *s, size_t n)
{
        size_t i = 0;

        for (;;) {
                size_t start = i, sep;

                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == start)
                        return false;
                if (i == n)
                        return true;
                sep = i;
                while (i < n && s[i] == '-')
                        i++;
                if (i == sep) {
                        if (s[i] == '.')
                                i++;
                        else if (s[i] == '_')
                                i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                        else
                                return false;
                }
        }
}

/* domain := component ('.' component)* (':' port)?, component :=
 * [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]; or an IPv6 address in
 * brackets. */
static bool valid_domain(const char *s, size_t n)
{
        const char *colon;
        size_t host_n = n;

        if (n > 0 && s[0] == '[') {
                const char *close = memchr(s, ']', n);
                if (!close || close == s + 1)
                        return false;
                for (const char *p = s + 1; p < close; p++)
                        if (!strchr("0123456789abcdefABCDEF:", *p))
                                return false;
                host_n = (size_t)(close - s) + 1;
        } else {
                colon = memchr(s, ':', n);
                if (colon)
                        host_n = (size_t)(colon - s);
                for (size_t i = 0, start = 0; i <= host_n; i++) {
                        if (i < host_n && s[i] != '.') {
                                if (!is_alnum(s[i]) && s[i] != '-')
                                        return false;
                                continue;
                        }
                        if (i == start || s[start] == '-' || s[i - 1] == '-')
                                return false;
                        start = i + 1;
                }
        }
        if (host_n == n)
                return true;
        if (s[host_n] != ':' || host_n + 1 == n)
                return false;
        for (size_t i = host_n + 1; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* tag := [\w][\w.-]{0,127} */
static bool valid_tag(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > TAG_MAX || s[0] == '.' || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

static bool is_lower_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/* The digests go-digest accepts: a registered algorithm and its exact
 * length of lowercase hex. */
static bool valid_digest(const char *s)
{
        static const struct {
                const char *alg;
                size_t hex;
        } algs[] = {{"sha256:", 64}, {"sha384:", 96}, {"sha512:", 128}};

        for (size_t i = 0; i < PR_ELEMENTSOF(algs); i++) {
                size_t l = strlen(algs[i].alg);
                if (strncmp(s, algs[i].alg, l) == 0)
                        return strlen(s + l) == algs[i].hex && is_lower_hex(s + l, algs[i].hex);
        }
        return false;
}

static bool valid_remote(const char *s)
{
        for (;;) {
                const char *slash = strchr(s, '/');
                size_t n = slash ? (size_t)(slash - s) : strlen(s);

                if (!valid_path_component(s, n))
                        return false;
                if (!slash)
                        return true;
                s = slash + 1;
        }
}

static bool has_upper(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] >= 'A' && s[i] <= 'Z')
                        return true;
        return false;
}

/* As Docker's splitDockerDomain: the first component names a registry when
 * it has a '.' or a ':', is "localhost", or has an uppercase letter. */
static void split_domain(const char *name, char **ret_domain, char **ret_remote)
{
        const char *slash = strchr(name, '/');
        size_t n = slash ? (size_t)(slash - name) : 0;
        char *domain, *remote;

        if (!slash || (!memchr(name, '.', n) && !memchr(name, ':', n) &&
                       !(n == 9 && strncmp(name, "localhost", 9) == 0) && !has_upper(name, n))) {
                domain = pr_strdup(DEFAULT_DOMAIN);
                remote = pr_strdup(name);
        } else {
                domain = pr_strndup(name, n);
                remote = pr_strdup(slash + 1);
        }
        if (strcmp(domain, LEGACY_DEFAULT_DOMAIN) == 0) {
                free(domain);
                domain = pr_strdup(DEFAULT_DOMAIN);
        }
        if (strcmp(domain, DEFAULT_DOMAIN) == 0 && !strchr(remote, '/')) {
                char *r = pr_asprintf(OFFICIAL_PREFIX "%s", remote);
                free(remote);
                remote = r;
        }
        *ret_domain = domain;
        *ret_remote = remote;
}

static int check_name(const char *ref, const char *domain, const char *remote, struct pr_error *err)
{
        if (!valid_domain(domain, strlen(domain)))
                return pr_err_usage(err, "image reference '%s': invalid registry '%s'", ref,
                                    domain);
        if (has_upper(remote, strlen(remote)))
                return pr_err_usage(err, "image reference '%s': repository name must be lowercase",
                                    ref);
        if (!valid_remote(remote))
                return pr_err_usage(err, "image reference '%s': invalid repository name '%s'", ref,
                                    remote);
        if (strlen(domain) + 1 + strlen(remote) > NAME_TOTAL_MAX)
                return pr_err_usage(err, "image reference '%s': name longer than %d characters",
                                    ref, NAME_TOTAL_MAX);
        return 0;
}

int image_ref_normalize(const char *ref, char **ret, struct pr_error *err)
{
        _cleanup_free_ char *name = NULL, *domain = NULL, *remote = NULL;
        const char *at, *digest = NULL, *tag = NULL, *last_slash;
        char *colon;
        int r;

        if (!ref || !*ref)
                return pr_err_usage(err, "image reference is empty");
        at = strchr(ref, '@');
        name = at ? pr_strndup(ref, (size_t)(at - ref)) : pr_strdup(ref);
        if (at) {
                digest = at + 1;
                if (!valid_digest(digest))
                        return pr_err_usage(err, "image reference '%s': invalid digest '%s'", ref,
                                            digest);
        }
        last_slash = strrchr(name, '/');
        colon = strrchr(last_slash ? last_slash : name, ':');
        if (colon) {
                *colon = '\0';
                tag = colon + 1;
                if (!valid_tag(tag))
                        return pr_err_usage(err, "image reference '%s': invalid tag '%s'", ref,
                                            tag);
        }
        if (!*name)
                return pr_err_usage(err, "image reference '%s': no repository name", ref);
        /* Docker refuses these: they read as image ids, not names. */
        if (strlen(name) == 64 && is_lower_hex(name, 64))
                return pr_err_usage(err,
                                    "image reference '%s': a 64-digit hex string is an id, "
                                    "not a name",
                                    ref);
        split_domain(name, &domain, &remote);
        r = check_name(ref, domain, remote, err);
        if (r < 0)
                return r;
        *ret = pr_asprintf("%s/%s%s%s%s%s", domain, remote, tag || !digest ? ":" : "",
                           tag ? tag : (digest ? "" : "latest"), digest ? "@" : "",
                           digest ? digest : "");
        return 0;
}

void image_ref_familiar(const char *normalized, char **ret_repo, char **ret_tag)
{
        _cleanup_free_ char *name = NULL;
        const char *at = strchr(normalized, '@'), *repo;
        char *colon, *slash;

        name = at ? pr_strndup(normalized, (size_t)(at - normalized)) : pr_strdup(normalized);
        slash = strrchr(name, '/');
        colon = strrchr(slash ? slash : name, ':');
        if (colon)
                *colon = '\0';
        *ret_tag = pr_strdup(colon ? colon + 1 : "<none>");
        repo = name;
        if (pr_startswith(repo, DEFAULT_DOMAIN "/")) {
                repo += strlen(DEFAULT_DOMAIN "/");
                if (pr_startswith(repo, OFFICIAL_PREFIX))
                        repo += strlen(OFFICIAL_PREFIX);
        }
        *ret_repo = pr_strdup(repo);
}
