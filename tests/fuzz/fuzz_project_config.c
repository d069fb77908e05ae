/* Fuzz target: the project configuration file, aftershock.yaml.
 *
 * The input is parsed as a configuration. When it parses, every list must
 * be non-NULL where it counts items, the defaults must be set, and every
 * path must resolve against the root. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config/project.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct project_config cfg;
    struct err err;
    char *path;

    if (project_config_parse((const char *)data, size, PROJECT_CONFIG_NAME, "/repo", &cfg,
                             &err) != 0)
        return 0;
    if (cfg.experiments.count == 0 || cfg.reports_dir == NULL || cfg.root == NULL)
        abort();
    for (size_t i = 0; i < cfg.experiments.count; i++) {
        path = project_config_path(&cfg, cfg.experiments.items[i]);
        if (path == NULL || path[0] != '/')
            abort();
        free(path);
    }
    for (size_t i = 0; i < cfg.requirements.count; i++) {
        if (cfg.requirements.items[i] == NULL || cfg.requirements.items[i][0] == '\0')
            abort();
    }
    project_config_free(&cfg);
    return 0;
}
