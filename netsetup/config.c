/* The network configuration file (network.conf): parsing, defaults and
 * checks. Pure apart from reading the file; never touches the kernel. The
 * format is "key = value" lines, '#' comments and blank lines; unknown keys,
 * repeated keys and bad values are errors naming file and line. */
#include "netsetup/netsetup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"

#define CONFIG_MAX_BYTES (64 * 1024)

static const char *const protocol_table[_NET_PROTOCOL_MAX] = {
    [NET_PROTOCOL_TCP] = "TCP",
    [NET_PROTOCOL_UDP] = "UDP",
};

const char *net_protocol_to_string(enum net_protocol p)
{
        if (p < 0 || p >= _NET_PROTOCOL_MAX)
                return NULL;
        return protocol_table[p];
}

enum net_protocol net_protocol_from_string(const char *s)
{
        for (int i = 0; s && i < _NET_PROTOCOL_MAX; i++)
                if (strcasecmp(s, protocol_table[i]) == 0)
                        return (enum net_protocol)i;
        return _NET_PROTOCOL_INVALID;
}

enum {
        KEY_BRIDGE,
        KEY_SUBNET,
        KEY_GATEWAY,
        KEY_SUBNET6,
        KEY_GATEWAY6,
        KEY_MTU,
        _KEY_MAX,
};

static const char *const key_table[_KEY_MAX] = {
    [KEY_BRIDGE] = "bridge",   [KEY_SUBNET] = "subnet",     [KEY_GATEWAY] = "gateway",
    [KEY_SUBNET6] = "subnet6", [KEY_GATEWAY6] = "gateway6", [KEY_MTU] = "mtu",
};

/* Where a parse is: the file and line for messages, and what was seen. */
struct parse_ctx {
        const char *path;
        unsigned line;
        unsigned seen_line[_KEY_MAX];
        struct net_config *cfg;
        struct pr_error *err;
};

static int bad(struct parse_ctx *c, const char *what, const char *value)
{
        return pr_err_usage(c->err, "%s:%u: %s '%s'", c->path, c->line, what, value);
}

static bool valid_ifname(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n >= NET_IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                        return false;
        return true;
}

/* "a.b.c.d/n" or "x::/n" into bytes and prefix length. */
static bool parse_cidr(int family, const char *s, void *addr, unsigned *prefix)
{
        unsigned max = family == AF_INET ? 32 : 128;
        _cleanup_free_ char *copy = pr_strdup(s);
        char *slash = strchr(copy, '/');
        int p;

        if (!slash)
                return false;
        *slash = '\0';
        if (inet_pton(family, copy, addr) != 1)
                return false;
        if (pr_parse_int(slash + 1, 0, (int)max, &p) < 0)
                return false;
        *prefix = (unsigned)p;
        return true;
}

static uint32_t mask4(unsigned prefix)
{
        return prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
}

static int set_subnet4(struct parse_ctx *c, const char *value)
{
        struct in_addr a;
        unsigned prefix;

        if (!parse_cidr(AF_INET, value, &a, &prefix))
                return bad(c, "subnet: not an IPv4 CIDR", value);
        if (prefix < 8 || prefix > 30)
                return bad(c, "subnet: prefix length must be 8 to 30", value);
        if (ntohl(a.s_addr) & ~mask4(prefix))
                return bad(c, "subnet: host bits set in", value);
        c->cfg->subnet = a;
        c->cfg->prefix = prefix;
        return 0;
}

static int set_subnet6(struct parse_ctx *c, const char *value)
{
        struct in6_addr a;
        unsigned prefix;

        if (!parse_cidr(AF_INET6, value, &a, &prefix))
                return bad(c, "subnet6: not an IPv6 CIDR", value);
        /* A pod's IPv6 host part is its IPv4 host part (see docs/network.md),
         * so the prefix must leave at least 32 bits; the IPv4 check below
         * then holds for any IPv4 prefix. */
        if (prefix < 8 || prefix > 96)
                return bad(c, "subnet6: prefix length must be 8 to 96", value);
        for (unsigned bit = prefix; bit < 128; bit++)
                if (a.s6_addr[bit / 8] & (0x80 >> (bit % 8)))
                        return bad(c, "subnet6: host bits set in", value);
        c->cfg->subnet6 = a;
        c->cfg->prefix6 = prefix;
        c->cfg->ipv6 = true;
        return 0;
}

static int set_value(struct parse_ctx *c, int key, const char *value)
{
        struct net_config *cfg = c->cfg;
        int mtu;

        switch (key) {
        case KEY_BRIDGE:
                if (!valid_ifname(value))
                        return bad(c, "bridge: not an interface name (1-15 of [A-Za-z0-9._-])",
                                   value);
                (void)snprintf(cfg->bridge, sizeof(cfg->bridge), "%s", value);
                return 0;
        case KEY_SUBNET:
                return set_subnet4(c, value);
        case KEY_GATEWAY:
                if (inet_pton(AF_INET, value, &cfg->gateway) != 1)
                        return bad(c, "gateway: not an IPv4 address", value);
                return 0;
        case KEY_SUBNET6:
                return set_subnet6(c, value);
        case KEY_GATEWAY6:
                if (inet_pton(AF_INET6, value, &cfg->gateway6) != 1)
                        return bad(c, "gateway6: not an IPv6 address", value);
                return 0;
        case KEY_MTU:
                if (pr_parse_int(value, 68, 65535, &mtu) < 0)
                        return bad(c, "mtu: not a number from 68 to 65535", value);
                cfg->mtu = (unsigned)mtu;
                return 0;
        }
        return 0;
}

static char *strip(char *s)
{
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                *--end = '\0';
        return s;
}

static int parse_line(struct parse_ctx *c, char *line)
{
        char *eq, *key, *value;

        line = strip(line);
        if (*line == '\0' || *line == '#')
                return 0;
        eq = strchr(line, '=');
        if (!eq)
                return pr_err_usage(c->err, "%s:%u: expected 'key = value'", c->path, c->line);
        *eq = '\0';
        key = strip(line);
        value = strip(eq + 1);
        for (int k = 0; k < _KEY_MAX; k++) {
                if (strcmp(key, key_table[k]) != 0)
                        continue;
                if (c->seen_line[k])
                        return pr_err_usage(c->err, "%s:%u: '%s' already set on line %u", c->path,
                                            c->line, key, c->seen_line[k]);
                c->seen_line[k] = c->line;
                if (*value == '\0')
                        return pr_err_usage(c->err, "%s:%u: '%s' has no value", c->path, c->line,
                                            key);
                return set_value(c, k, value);
        }
        return pr_err_usage(c->err, "%s:%u: unknown key '%s'", c->path, c->line, key);
}

static void set_defaults(struct net_config *cfg)
{
        *cfg = (struct net_config){0};
        (void)snprintf(cfg->bridge, sizeof(cfg->bridge), "%s", NET_DEFAULT_BRIDGE);
        /* A constant that always parses. */
        (void)parse_cidr(AF_INET, NET_DEFAULT_SUBNET, &cfg->subnet, &cfg->prefix);
}

/* Gateways left out are the subnet's first address; given ones must be
 * usable host addresses of their subnet. */
static int finish(struct parse_ctx *c)
{
        struct net_config *cfg = c->cfg;
        uint32_t net = ntohl(cfg->subnet.s_addr), mask = mask4(cfg->prefix);
        uint32_t gw = ntohl(cfg->gateway.s_addr);
        char text[INET6_ADDRSTRLEN];

        if (!c->seen_line[KEY_GATEWAY]) {
                gw = net + 1;
                cfg->gateway.s_addr = htonl(gw);
        } else if ((gw & mask) != net || gw == net || gw == (net | ~mask)) {
                (void)inet_ntop(AF_INET, &cfg->gateway, text, sizeof(text));
                c->line = c->seen_line[KEY_GATEWAY];
                return bad(c, "gateway: not a host address of the subnet:", text);
        }
        if (c->seen_line[KEY_GATEWAY6] && !cfg->ipv6) {
                c->line = c->seen_line[KEY_GATEWAY6];
                return pr_err_usage(c->err, "%s:%u: 'gateway6' needs 'subnet6'", c->path, c->line);
        }
        if (cfg->ipv6 && !c->seen_line[KEY_GATEWAY6]) {
                cfg->gateway6 = cfg->subnet6;
                cfg->gateway6.s6_addr[15] |= 1;
        }
        if (cfg->ipv6 && c->seen_line[KEY_GATEWAY6]) {
                for (unsigned bit = 0; bit < cfg->prefix6; bit++) {
                        uint8_t m = (uint8_t)(0x80 >> (bit % 8));
                        if ((cfg->gateway6.s6_addr[bit / 8] ^ cfg->subnet6.s6_addr[bit / 8]) & m) {
                                (void)inet_ntop(AF_INET6, &cfg->gateway6, text, sizeof(text));
                                c->line = c->seen_line[KEY_GATEWAY6];
                                return bad(c, "gateway6: not inside subnet6:", text);
                        }
                }
        }
        return 0;
}

int net_config_parse(const char *text, const char *path, struct net_config *ret,
                     struct pr_error *err)
{
        _cleanup_free_ char *copy = pr_strdup(text);
        struct net_config cfg;
        struct parse_ctx c = {.path = path ? path : "network.conf", .cfg = &cfg, .err = err};
        char *line = copy;
        int r;

        set_defaults(&cfg);
        /* strtok_r would merge empty lines and lose the line numbers. */
        for (c.line = 1; line; c.line++) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                r = parse_line(&c, line);
                if (r < 0)
                        return r;
                line = nl ? nl + 1 : NULL;
        }
        r = finish(&c);
        if (r < 0)
                return r;
        cfg.path = path ? pr_strdup(path) : NULL;
        *ret = cfg;
        return 0;
}

int net_config_load(const char *root_dir, struct net_config *ret, struct pr_error *err)
{
        _cleanup_free_ char *local = root_dir ? pr_asprintf("%s/network.conf", root_dir) : NULL;
        _cleanup_free_ char *text = NULL;
        const char *path = NULL;
        int r;

        if (local && access(local, F_OK) == 0)
                path = local;
        else if (access(NET_CONFIG_PATH, F_OK) == 0)
                path = NET_CONFIG_PATH;
        if (!path)
                return net_config_parse("", NULL, ret, err);
        r = pr_read_file(path, CONFIG_MAX_BYTES, &text, NULL, err);
        if (r < 0)
                return pr_err_wrap(err, "network configuration");
        return net_config_parse(text, path, ret, err);
}

void net_config_done(struct net_config *cfg)
{
        if (!cfg)
                return;
        free(cfg->path);
        cfg->path = NULL;
}
