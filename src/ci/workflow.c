/* Rendering, writing and checking the CI workflow. */
#include "ci/workflow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ci/workflow_internal.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

const struct ci_stage ci_stages[CI_STAGE_COUNT] = {
    { "dependency", { "aftershock deps", NULL } },
    { "config", { "aftershock check", NULL } },
    { "chaos", { "aftershock heal", "aftershock run" } },
    { "resilience", { "aftershock verify", NULL } },
    { "report", { "aftershock report", NULL } },
    { "summary", { "aftershock ci summary", NULL } },
};

int ci_provider_parse(const char *name, enum ci_provider *out)
{
    if (strcmp(name, "github") == 0)
        *out = CI_GITHUB;
    else if (strcmp(name, "gitlab") == 0)
        *out = CI_GITLAB;
    else
        return -1;
    return 0;
}

const char *ci_workflow_path(enum ci_provider provider)
{
    return provider == CI_GITHUB ? CI_GITHUB_WORKFLOW_PATH : CI_GITLAB_WORKFLOW_PATH;
}

static bool is_shell_safe(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_-./,+=:@%", c) != NULL;
}

static bool is_glob_char(char c)
{
    return c == '*' || c == '?' || c == '[' || c == ']';
}

/* Appends path as one shell word that still expands its glob characters;
 * every other special character is escaped with a backslash. */
static void add_shell_word(struct strbuf *sb, const char *path)
{
    for (const char *p = path; *p != '\0'; p++) {
        if (!is_shell_safe(*p) && !is_glob_char(*p))
            strbuf_addch(sb, '\\');
        strbuf_addch(sb, *p);
    }
}

/* Appends path for a message inside double quotes: characters the shell
 * would still interpret there become '?'. */
static void add_message_word(struct strbuf *sb, const char *path)
{
    for (const char *p = path; *p != '\0'; p++)
        strbuf_addch(sb, strchr("\"$`\\\n", *p) != NULL ? '?' : *p);
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);

    return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

/* A configured entry is a glob, an experiment file, or a folder whose
 * JSON and YAML files are the experiments. */
static void add_experiment_patterns(const struct project_config *cfg, struct strbuf *words,
                                    struct strbuf *text)
{
    static const char *const extensions[] = { "*.yaml", "*.yml", "*.json" };

    for (size_t i = 0; i < cfg->experiments.count; i++) {
        const char *entry = cfg->experiments.items[i];
        char *full = project_config_path(cfg, entry);
        struct stat st;
        bool folder = strpbrk(entry, "*?[") == NULL &&
                      ((stat(full, &st) == 0 && S_ISDIR(st.st_mode)) ||
                       (!has_suffix(entry, ".json") && !has_suffix(entry, ".yaml") &&
                        !has_suffix(entry, ".yml")));

        free(full);
        for (size_t e = 0; e < (folder ? 3u : 1u); e++) {
            struct strbuf pattern = STRBUF_INIT;

            strbuf_addstr(&pattern, entry);
            if (folder) {
                while (pattern.len > 1 && pattern.buf[pattern.len - 1] == '/')
                    pattern.buf[--pattern.len] = '\0';
                strbuf_addf(&pattern, "/%s", extensions[e]);
            }
            if (words->len > 0) {
                strbuf_addch(words, ' ');
                strbuf_addch(text, ' ');
            }
            add_shell_word(words, strbuf_str(&pattern));
            add_message_word(text, strbuf_str(&pattern));
            strbuf_release(&pattern);
        }
    }
}

/* Appends template to out with every "@NAME@" of the table replaced. */
static void expand(struct strbuf *out, const char *template, const char *const *names,
                   const char *const *values, size_t n)
{
    const char *p = template;

    while (*p != '\0') {
        size_t i;

        for (i = 0; i < n; i++) {
            size_t len = strlen(names[i]);
            if (strncmp(p, names[i], len) == 0) {
                strbuf_addstr(out, values[i]);
                p += len;
                break;
            }
        }
        if (i == n)
            strbuf_addch(out, *p++);
    }
}

char *ci_workflow_render(const struct project_config *cfg, enum ci_provider provider)
{
    struct strbuf words = STRBUF_INIT, text = STRBUF_INIT, out = STRBUF_INIT;
    const char *names[] = { "@EXPERIMENTS_TEXT@", "@EXPERIMENTS@", "@INSTALL@", "@DOWNLOAD@" };

    add_experiment_patterns(cfg, &words, &text);
    const char *values[] = { strbuf_str(&text), strbuf_str(&words), ci_github_install_step,
                             ci_github_download_steps };
    expand(&out, provider == CI_GITHUB ? ci_github_template : ci_gitlab_template, names, values,
           4);
    strbuf_release(&words);
    strbuf_release(&text);
    return strbuf_detach(&out);
}

int ci_workflow_write(const struct project_config *cfg, enum ci_provider provider, bool force,
                      char **path, struct err *err)
{
    struct stat st;
    char *text;
    int rc;

    *path = project_config_path(cfg, ci_workflow_path(provider));
    if (!force && lstat(*path, &st) == 0)
        return 1;

    if (fs_mkdirs_for_file(*path, err) != 0)
        return -1;

    text = ci_workflow_render(cfg, provider);
    rc = fs_write_atomic(*path, text, strlen(text), err);
    free(text);
    return rc;
}

/* Appends the text of a `run` or `script` value (a string or a list of strings). */
static void add_commands(struct strbuf *sb, const json_t *value)
{
    size_t i;
    const json_t *item;

    if (json_is_string(value)) {
        strbuf_addstr(sb, json_string_value(value));
        strbuf_addch(sb, '\n');
        return;
    }
    json_array_foreach(value, i, item) {
        if (json_is_string(item)) {
            strbuf_addstr(sb, json_string_value(item));
            strbuf_addch(sb, '\n');
        }
    }
}

static void check_stage_commands(const struct ci_stage *stage, const char *commands,
                                 const char *where, struct problems *problems)
{
    for (int c = 0; c < 2 && stage->commands[c] != NULL; c++) {
        if (strstr(commands, stage->commands[c]) == NULL)
            problems_add(problems, where, "the %s stage does not run '%s'", stage->name,
                         stage->commands[c]);
    }
}

static bool has_trigger(const json_t *on, const char *name)
{
    size_t i;
    const json_t *item;

    if (json_is_string(on))
        return strcmp(json_string_value(on), name) == 0;
    if (json_is_object(on))
        return json_object_get(on, name) != NULL;
    json_array_foreach(on, i, item) {
        if (json_is_string(item) && strcmp(json_string_value(item), name) == 0)
            return true;
    }
    return false;
}

static int verify_github(json_t *workflow, struct problems *problems)
{
    static const char *const triggers[] = { "push", "pull_request", "schedule",
                                            "workflow_dispatch" };
    /* What 'ci init' writes under `on` for each trigger. */
    static const char *const trigger_text[] = {
        "push:", "pull_request: {branches: [main, dev]}",
        "schedule: [{cron: \"0 3 * * 0\"}] (every Sunday at 03:00 UTC)",
        "workflow_dispatch: with the boolean input auto_fix" };
    size_t before = problems->count;
    /* YAML 1.1 reads an unquoted `on` key as the boolean true. */
    json_t *on = json_object_get(workflow, "on");
    json_t *jobs = json_object_get(workflow, "jobs");

    if (on == NULL)
        on = json_object_get(workflow, "true");
    if (on == NULL)
        problems_add(problems, "on", "missing: the workflow has no triggers");
    for (size_t i = 0; on != NULL && i < sizeof(triggers) / sizeof(triggers[0]); i++) {
        if (!has_trigger(on, triggers[i]))
            problems_add(problems, "on", "missing the '%s' trigger: add %s under `on`",
                         triggers[i], trigger_text[i]);
    }
    if (!json_is_object(jobs)) {
        problems_add(problems, "jobs", "missing: the workflow defines no jobs");
        return (int)(problems->count - before);
    }

    for (int s = 0; s < CI_STAGE_COUNT; s++) {
        json_t *job = json_object_get(jobs, ci_stages[s].name);
        struct strbuf commands = STRBUF_INIT;
        char where[64];
        size_t i;
        json_t *step;

        snprintf(where, sizeof(where), "jobs.%s", ci_stages[s].name);
        if (!json_is_object(job)) {
            problems_add(problems, where, "missing: there is no %s stage", ci_stages[s].name);
            continue;
        }
        json_array_foreach(json_object_get(job, "steps"), i, step)
            add_commands(&commands, json_object_get(step, "run"));
        check_stage_commands(&ci_stages[s], strbuf_str(&commands), where, problems);
        strbuf_release(&commands);
    }
    return (int)(problems->count - before);
}

static int verify_gitlab(json_t *workflow, struct problems *problems)
{
    size_t before = problems->count;
    json_t *stages = json_object_get(workflow, "stages");

    for (int s = 0; s < CI_STAGE_COUNT; s++) {
        struct strbuf commands = STRBUF_INIT;
        bool declared = false, found = false;
        const char *name;
        json_t *job, *item;
        size_t i;

        json_array_foreach(stages, i, item) {
            if (json_is_string(item) && strcmp(json_string_value(item), ci_stages[s].name) == 0)
                declared = true;
        }
        if (!declared)
            problems_add(problems, "stages", "missing the '%s' stage", ci_stages[s].name);

        json_object_foreach(workflow, name, job) {
            const char *stage = json_string_value(json_object_get(job, "stage"));
            if (stage == NULL || strcmp(stage, ci_stages[s].name) != 0)
                continue;
            found = true;
            add_commands(&commands, json_object_get(job, "script"));
        }
        if (!found)
            problems_add(problems, "", "no job runs in the '%s' stage", ci_stages[s].name);
        else
            check_stage_commands(&ci_stages[s], strbuf_str(&commands), ci_stages[s].name,
                                 problems);
        strbuf_release(&commands);
    }
    return (int)(problems->count - before);
}

int ci_workflow_verify(json_t *workflow, enum ci_provider provider, struct problems *problems)
{
    if (!json_is_object(workflow)) {
        problems_add(problems, "", "the workflow must be a mapping");
        return 1;
    }
    return provider == CI_GITHUB ? verify_github(workflow, problems)
                                 : verify_gitlab(workflow, problems);
}
