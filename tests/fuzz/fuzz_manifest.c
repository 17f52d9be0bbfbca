/* The manifest parser under libFuzzer: any bytes through spec_load_buffer()
 * and back out, formatting every diagnostic on the way. It owns no logic of
 * its own and must never hide a failure: a crash, a leak or a hang here is a
 * bug in specs/. The same function runs under the replay driver. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/error.h"
#include "specs/specs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct spec_diags diags = {0};
        struct spec_file *file = NULL;
        struct pr_error err = {0};
        int r;

        r = spec_load_buffer("fuzz.yaml", (const char *)data, size, &file, &diags, &err);
        if ((r == 0) != (file != NULL) || (r < 0 && diags.n_errors == 0 && err.usage))
                abort(); /* the contract: a manifest error always comes with a diagnostic */
        for (size_t i = 0; i < diags.n; i++)
                free(spec_diag_format(&diags.items[i]));
        for (size_t i = 0; file && i < file->n_pods; i++) {
                const struct spec_pod *pod = &file->pods[i];
                for (size_t j = 0; j < pod->n_field_pos; j++)
                        (void)spec_pod_field_pos(pod, pod->field_pos[j].path);
                (void)spec_pod_field_pos(pod, "spec.containers[0].no.such[3]");
        }
        spec_file_free(file);
        spec_diags_done(&diags);
        return 0;
}
