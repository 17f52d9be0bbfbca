/* Replays fuzz inputs without libFuzzer: every regular file of the given
 * directories (or the files themselves) goes through
 * LLVMFuzzerTestOneInput(), so the corpus also runs under the gcc sanitizer
 * build. Test code: it prints what it runs and exits non-zero on trouble. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        _cleanup_free_ char *data = NULL;
        struct pr_error err = {0};
        size_t len = 0;

        /* Larger than any manifest may be, so the size limit runs too. */
        if (pr_read_file(path, 8u << 20, &data, &len, &err) < 0) {
                fprintf(stderr, "replay: %s\n", err.msg);
                return -1;
        }
        (void)LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        return 0;
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count)
{
        _cleanup_strv_free_ char **names = NULL;
        DIR *d = opendir(dir);
        struct dirent *de;
        int r = 0;

        if (!d) {
                fprintf(stderr, "replay: opendir '%s': %s\n", dir, strerror(errno));
                return -1;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        pr_strv_push_take(&names, pr_asprintf("%s/%s", dir, de->d_name));
        (void)closedir(d);
        if (!names)
                return 0;
        qsort(names, pr_strv_len(names), sizeof(char *), compare_names);
        for (size_t i = 0; names[i]; i++) {
                struct stat st;
                if (stat(names[i], &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (run_file(names[i]) < 0)
                        r = -1;
                (*count)++;
        }
        return r;
}

int main(int argc, char **argv)
{
        size_t count = 0;
        int r = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "replay: stat '%s': %s\n", argv[i], strerror(errno));
                        r = -1;
                } else if (S_ISDIR(st.st_mode)) {
                        if (run_dir(argv[i], &count) < 0)
                                r = -1;
                } else {
                        if (run_file(argv[i]) < 0)
                                r = -1;
                        count++;
                }
        }
        printf("replay: %zu inputs\n", count);
        if (count == 0) {
                fprintf(stderr, "replay: no inputs found\n");
                return 1;
        }
        return r < 0 ? 1 : 0;
}
