/* The built-in healing rules, in the order they are tried.
 *
 * Order matters because the first rule that matches wins. Verdicts come
 * first, so nothing else can turn a finding into a retry. Failures that a
 * retry cannot change (permission, syntax) come next, then causes that a
 * strategy removes (dependency, injection, resource, health), and the
 * transient ones (network, timeout) last, because their messages often
 * appear as side effects of a deeper cause.
 *
 * Patterns are written in the subset that PCRE2 and GNU grep -E read the
 * same way (no \d, no (?:...), no lazy quantifiers), so bench/heal can hand
 * them to grep unchanged. They are case-sensitive: the messages they match
 * come from programs with fixed spelling. */
#include <stdlib.h>
#include <string.h>

#include "heal/rules.h"

/* A rule as data; lists end with NULL or a range whose low is -1. */
struct builtin_rule {
    const char *name;
    enum heal_category category;
    const char *patterns[16];
    struct heal_code_range exit_codes[4];
    const char *command_pattern;
    enum heal_strategy strategy;
    int max_attempts;
};

#define NO_CODES { { -1, -1 } }

/* The command line of `aftershock run` or `aftershock verify`, with global options. */
#define AFTERSHOCK_JUDGING_COMMAND "(^|[[:space:]/;&|(])aftershock([[:space:]]+-[^[:space:]]+)*" \
                                   "[[:space:]]+(run|verify)([[:space:]]|$)"
#define AFTERSHOCK_COMMAND "(^|[[:space:]/;&|(])aftershock([[:space:]]|$)"

static const struct builtin_rule builtin_rules[] = {
    /* Verdicts: a steady state that deviated, or a judging command's exit 1. */
    { "aftershock-deviated", HEAL_VERDICT,
      { "^  status +[a-z]+, deviated", "steady state deviated during the method", NULL },
      NO_CODES, NULL, STRATEGY_STOP, 1 },
    /* A steady state not met before any fault means the service was not up yet. */
    { "aftershock-not-ready", HEAL_HEALTH,
      { "steady state not met before the method", "^  steady state before +not met", NULL },
      { { 1, 1 }, { -1, -1 } }, AFTERSHOCK_JUDGING_COMMAND, STRATEGY_DEFAULT, 0 },
    { "aftershock-finding", HEAL_VERDICT, { NULL }, { { 1, 1 }, { -1, -1 } },
      AFTERSHOCK_JUDGING_COMMAND, STRATEGY_STOP, 1 },

    /* Faults that a killed run left behind. */
    { "aftershock-leftover-fault", HEAL_INJECTION,
      { "the fault ledger '[^']*' contains [0-9]+ faults? of run pid",
        "run 'aftershock rollback' to undo them", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "toxiproxy-toxic-exists", HEAL_INJECTION,
      { "toxic already exists", "\"error\": *\"toxic [^\"]* already exists", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },

    /* Nothing a retry changes. */
    { "permission-denied", HEAL_CONFIG,
      { "[Pp]ermission denied", "PermissionError", "EACCES", "Operation not permitted",
        "AccessDeniedException", "java\\.nio\\.file\\.AccessDeniedException", NULL },
      NO_CODES, NULL, STRATEGY_STOP, 1 },
    { "yaml-syntax-error", HEAL_CONFIG,
      { "yaml\\.(scanner|parser|constructor|composer)\\.[A-Za-z]+Error",
        "YAMLException", "mapping values are not allowed (here|in this context)",
        "could not find expected ':'", "did not find expected (key|node content|'-' indicator)",
        "found character that cannot start any token", "yaml: line [0-9]+:",
        "found undefined tag handle", "while parsing a (block|flow) (mapping|sequence)", NULL },
      NO_CODES, NULL, STRATEGY_STOP, 1 },
    { "json-syntax-error", HEAL_CONFIG,
      { "JSONDecodeError", "Unexpected token .* in JSON", "Unexpected end of JSON input",
        "JsonParseException", "invalid character '.' (looking for beginning|after)",
        "Expecting (value|property name enclosed in double quotes|',' delimiter)",
        "unexpected end of JSON input", "JSON\\.parse: ", NULL },
      NO_CODES, NULL, STRATEGY_STOP, 1 },
    { "toml-syntax-error", HEAL_CONFIG,
      { "TOMLDecodeError", "TomlDecodeError", "TOML parse error", "toml: line [0-9]+",
        "toml::de::Error", NULL },
      NO_CODES, NULL, STRATEGY_STOP, 1 },
    { "source-syntax-error", HEAL_CONFIG,
      { "^ *(File \"[^\"]*\", line [0-9]+.*)?SyntaxError: ", "IndentationError: ",
        "TabError: ", "syntax error near unexpected token", "Syntax error: ",
        "syntax error: unexpected", "error: expected '[^']+' (before|at end of)",
        "SyntaxError: (Unexpected|Invalid|missing)", NULL },
      NO_CODES, NULL, STRATEGY_STOP, 1 },
    { "missing-environment-variable", HEAL_CONFIG,
      { "[Ee]nvironment variable [\"'`$]*[A-Z][A-Z0-9_]*[\"'`]* (is )?(not set|missing|required|"
        "undefined|empty)",
        "env var [\"'`$]*[A-Z][A-Z0-9_]*[\"'`]* (is )?(not set|missing|required|undefined|empty)",
        "[Mm]issing (required )?environment variable", "parameter (null or )?not set",
        ": unbound variable", "os\\.environ\\[[\"'][A-Z][A-Z0-9_]*[\"']\\]",
        "required key [A-Z][A-Z0-9_]* missing value", "KeyError: '[A-Z][A-Z0-9_]{2,}'$", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 2 },

    /* Missing modules, packages, programs and libraries. */
    { "python-module-missing", HEAL_DEPENDENCY,
      { "ModuleNotFoundError: No module named", "ImportError: No module named",
        "ImportError: cannot import name", "pkg_resources\\.DistributionNotFound",
        "importlib\\.metadata\\.PackageNotFoundError", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "node-module-missing", HEAL_DEPENDENCY,
      { "Error: Cannot find module '", "ERR_MODULE_NOT_FOUND", "Cannot find package '",
        "Module not found: Error: Can't resolve", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "go-package-missing", HEAL_DEPENDENCY,
      { "no required module provides package", "cannot find package \"",
        "missing go\\.sum entry", "cannot find module providing package", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "java-class-missing", HEAL_DEPENDENCY,
      { "java\\.lang\\.(NoClassDefFoundError|ClassNotFoundException)",
        "Could not resolve dependencies for project", "Could not find artifact ",
        "error: package [a-z][A-Za-z0-9_.]* does not exist",
        "Could not resolve all (files|dependencies) for configuration", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "native-library-missing", HEAL_DEPENDENCY,
      { "fatal error: [^ ]+\\.h(pp)?: No such file or directory",
        "cannot find -l[A-Za-z0-9_+.-]+", "error while loading shared libraries: ",
        "cannot open shared object file", "Package [^ ]+ was not found in the pkg-config",
        "Library not loaded: ", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "package-not-found", HEAL_DEPENDENCY,
      { "Could not find a version that satisfies the requirement",
        "No matching distribution found for", "E: Unable to locate package",
        "npm (ERR!|error) code E404", "npm (ERR!|error) 404 Not Found",
        "Gem::MissingSpecError", "cannot load such file -- ",
        "error: no matching package named", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "command-not-found", HEAL_DEPENDENCY,
      { "command not found", "^[^ ]*sh: [0-9]+: [^ ]+: not found", "executable file not found in",
        "is not recognized as an internal or external command", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "exit-127", HEAL_DEPENDENCY, { NULL }, { { 127, 127 }, { -1, -1 } }, NULL,
      STRATEGY_DEFAULT, 0 },

    /* Exhausted or taken resources. */
    { "no-space-left", HEAL_RESOURCE,
      { "No space left on device", "ENOSPC", "[Dd]isk quota exceeded", "EDQUOT",
        "could not extend file .*: No space", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "out-of-memory", HEAL_RESOURCE,
      { "MemoryError", "java\\.lang\\.OutOfMemoryError", "Cannot allocate memory",
        "JavaScript heap out of memory", "runtime: out of memory", "[Oo]ut of memory",
        "std::bad_alloc", "oom-kill", "OOMKilled", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "address-in-use", HEAL_RESOURCE,
      { "[Aa]ddress already in use", "EADDRINUSE", "port is already allocated", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "too-many-open-files", HEAL_RESOURCE,
      { "Too many open files", "EMFILE", NULL }, NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "killed-exit-137", HEAL_RESOURCE, { NULL }, { { 137, 137 }, { -1, -1 } }, NULL,
      STRATEGY_DEFAULT, 0 },

    /* A service that is not accepting or not ready. */
    { "connection-refused", HEAL_HEALTH,
      { "[Cc]onnection refused", "ECONNREFUSED", "Couldn't connect to server",
        "Failed to connect to ", "could not connect to server", "Is the server running on",
        "Error 111 connecting", "Can't connect to (local )?MySQL server",
        "actively refused", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "service-unavailable", HEAL_HEALTH,
      { "502 Bad Gateway", "503 Service (Temporarily )?Unavailable", "504 Gateway Time-?out",
        "HTTP/[0-9.]+\" 50[234] ", "HTTP/[0-9.]+ 50[234] ", "returned error: 50[234]",
        "status code:? 50[234]",
        "the database system is (starting up|shutting down|in recovery mode)",
        "LOADING Redis is loading the dataset", "ServiceUnavailable", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },

    /* Transient network failures. */
    { "connection-reset", HEAL_NETWORK,
      { "[Cc]onnection reset", "ECONNRESET", "ConnectionResetError", "socket hang up",
        "RemoteDisconnected", "[Cc]onnection aborted", "IncompleteRead",
        "unexpected EOF", "SSL_ERROR_SYSCALL", "[Bb]roken pipe", "EPIPE", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "name-resolution-failed", HEAL_NETWORK,
      { "Temporary failure in name resolution", "Name or service not known",
        "Could not resolve host", "getaddrinfo (ENOTFOUND|EAI_AGAIN)", "EAI_AGAIN",
        "no such host", "nodename nor servname provided", "UnknownHostException",
        "Could not resolve hostname", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "network-unreachable", HEAL_NETWORK,
      { "[Nn]etwork is unreachable", "[Nn]o route to host", "ENETUNREACH", "EHOSTUNREACH",
        NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },

    /* Timeouts. */
    { "timed-out", HEAL_TIMEOUT,
      { "[Tt]imed out", "TimeoutError", "ETIMEDOUT", "ESOCKETTIMEDOUT", "[Dd]eadline exceeded",
        "DeadlineExceeded", "SocketTimeoutException", "i/o timeout", "curl: \\(28\\)",
        "TimeoutException", "ReadTimeout", "ConnectTimeout", NULL },
      NO_CODES, NULL, STRATEGY_DEFAULT, 0 },
    { "exit-124", HEAL_TIMEOUT, { NULL }, { { 124, 124 }, { -1, -1 } }, NULL,
      STRATEGY_DEFAULT, 0 },

    /* aftershock could not run: the environment, not the service. */
    { "aftershock-could-not-run", HEAL_UNKNOWN, { NULL }, { { 3, 3 }, { -1, -1 } },
      AFTERSHOCK_COMMAND, STRATEGY_DEFAULT, 0 },
};

#define BUILTIN_COUNT (sizeof(builtin_rules) / sizeof(builtin_rules[0]))

static char *copy_string(const char *text)
{
    char *copy = text != NULL ? strdup(text) : NULL;

    if (text != NULL && copy == NULL)
        abort();
    return copy;
}

/* Builds rule from its table entry, compiling every pattern. */
static int build_rule(const struct builtin_rule *b, struct heal_rule *rule, struct err *err)
{
    size_t n_patterns = 0, n_codes = 0;

    memset(rule, 0, sizeof(*rule));
    rule->name = copy_string(b->name);
    rule->category = b->category;
    rule->strategy = b->strategy;
    rule->max_attempts = b->max_attempts;
    rule->builtin = true;
    while (b->patterns[n_patterns] != NULL)
        n_patterns++;
    while (n_codes < 4 && b->exit_codes[n_codes].low >= 0)
        n_codes++;

    rule->patterns = calloc(n_patterns + 1, sizeof(*rule->patterns));
    rule->compiled = calloc(n_patterns + 1, sizeof(*rule->compiled));
    rule->exit_codes = calloc(n_codes + 1, sizeof(*rule->exit_codes));
    if (rule->patterns == NULL || rule->compiled == NULL || rule->exit_codes == NULL)
        abort();
    for (size_t i = 0; i < n_patterns; i++) {
        rule->patterns[i] = copy_string(b->patterns[i]);
        rule->pattern_count++;
    }
    memcpy(rule->exit_codes, b->exit_codes, n_codes * sizeof(*rule->exit_codes));
    rule->exit_code_count = n_codes;
    if (b->command_pattern != NULL) {
        rule->command_pattern = copy_string(b->command_pattern);
        rule->command_compiled = heal_pattern_compile(b->command_pattern, err);
        if (rule->command_compiled == NULL)
            return -1;
    }
    return 0;
}

int heal_rules_builtin(struct heal_rules *rules, struct err *err)
{
    rules->items = calloc(BUILTIN_COUNT, sizeof(*rules->items));
    rules->count = 0;
    if (rules->items == NULL)
        abort();
    for (size_t i = 0; i < BUILTIN_COUNT; i++) {
        rules->count++;
        if (build_rule(&builtin_rules[i], &rules->items[i], err) != 0) {
            heal_rules_release(rules);
            return -1;
        }
    }
    return 0;
}
