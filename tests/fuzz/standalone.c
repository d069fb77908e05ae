/* Runs a libFuzzer entry point over a seed corpus and deterministic mutations of it, without libFuzzer.
 *
 * Usage: fuzz_TARGET PATH... where each PATH is a folder of seed files or
 * one file. Every seed runs as it is, then as prefixes, with single bytes
 * flipped, and with tokens that parsers care about inserted, so the
 * sanitizer builds see malformed inputs on every test run. Exits 0 when
 * every input returned, 1 when no seed was found (a lost corpus must not
 * pass silently), 2 on a usage error. A crash ends the process, as it
 * would under libFuzzer. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Largest seed read; longer files are cut to this size. */
#define SEED_MAX_BYTES (1024 * 1024)

/* Maximum number of inputs run in one invocation, so a large corpus stays quick. */
#define RUN_MAX_INPUTS 200000

/* How many evenly spread positions get a flipped byte or an inserted token. */
#define FLIP_POSITIONS 8
#define INSERT_POSITIONS 5

static const char *const insert_tokens[] = {
    "{", "[", "\"", "\\", "$", ":", "\n", "!!", "\xff", "${", "*", "&", "<<", "- ", "'", "]",
};

static size_t runs;

/* Runs one input from a buffer of exactly its size, so reads past the
 * end are caught by AddressSanitizer. */
static void run_input(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size > 0 ? size : 1);

    if (copy == NULL) {
        perror("malloc");
        exit(2);
    }
    if (size > 0)
        memcpy(copy, data, size);
    LLVMFuzzerTestOneInput(copy, size);
    free(copy);
    runs++;
}

static void run_prefixes(const uint8_t *data, size_t size)
{
    size_t lengths[] = { 0, 1, size / 4, size / 2, size * 3 / 4, size > 0 ? size - 1 : 0 };

    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        if (lengths[i] < size && (i == 0 || lengths[i] != lengths[i - 1]))
            run_input(data, lengths[i]);
    }
}

static void run_flips(const uint8_t *data, size_t size)
{
    uint8_t *copy;

    if (size == 0)
        return;
    copy = malloc(size);
    if (copy == NULL) {
        perror("malloc");
        exit(2);
    }
    for (size_t k = 0; k < FLIP_POSITIONS; k++) {
        size_t at = k * size / FLIP_POSITIONS;
        memcpy(copy, data, size);
        copy[at] ^= 0xff;
        run_input(copy, size);
        memcpy(copy, data, size);
        copy[at] ^= 0x20;
        run_input(copy, size);
    }
    free(copy);
}

static void run_insertions(const uint8_t *data, size_t size)
{
    for (size_t t = 0; t < sizeof(insert_tokens) / sizeof(insert_tokens[0]); t++) {
        size_t token_len = strlen(insert_tokens[t]);
        uint8_t *copy = malloc(size + token_len);
        if (copy == NULL) {
            perror("malloc");
            exit(2);
        }
        for (size_t k = 0; k < INSERT_POSITIONS; k++) {
            size_t at = k * size / (INSERT_POSITIONS - 1);
            if (at > size)
                at = size;
            memcpy(copy, data, at);
            memcpy(copy + at, insert_tokens[t], token_len);
            memcpy(copy + at + token_len, data + at, size - at);
            run_input(copy, size + token_len);
        }
        free(copy);
    }
}

/* Reads a seed and runs it with all its mutations. Returns 1 when a seed ran, 0 otherwise. */
static int run_seed(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    size_t size;

    if (f == NULL) {
        fprintf(stderr, "fuzz: cannot open '%s'\n", path);
        return 0;
    }
    data = malloc(SEED_MAX_BYTES);
    if (data == NULL) {
        perror("malloc");
        exit(2);
    }
    size = fread(data, 1, SEED_MAX_BYTES, f);
    fclose(f);

    if (runs < RUN_MAX_INPUTS) {
        run_input(data, size);
        run_prefixes(data, size);
        run_flips(data, size);
        run_insertions(data, size);
    }
    free(data);
    return 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Runs every regular file of a folder, in name order so runs repeat exactly. */
static int run_folder(const char *folder)
{
    DIR *dir = opendir(folder);
    struct dirent *entry;
    char **names = NULL;
    size_t count = 0;
    int seeds = 0;

    if (dir == NULL)
        return 0;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (count + 1) * sizeof(*names));
        if (grown == NULL) {
            perror("realloc");
            exit(2);
        }
        names = grown;
        names[count] = malloc(strlen(folder) + strlen(entry->d_name) + 2);
        if (names[count] == NULL) {
            perror("malloc");
            exit(2);
        }
        sprintf(names[count], "%s/%s", folder, entry->d_name);
        count++;
    }
    closedir(dir);

    qsort(names, count, sizeof(*names), compare_names);
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            seeds += run_seed(names[i]);
        free(names[i]);
    }
    free(names);
    return seeds;
}

int main(int argc, char **argv)
{
    int seeds = 0;

    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_FOLDER_OR_FILE...\n", argv[0]);
        return 2;
    }

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz: '%s' does not exist\n", argv[i]);
            continue;
        }
        seeds += S_ISDIR(st.st_mode) ? run_folder(argv[i]) : run_seed(argv[i]);
    }

    if (seeds == 0) {
        fprintf(stderr, "fuzz: no seed files found; the corpus is missing or empty\n");
        return 1;
    }
    printf("fuzz: %d seeds, %zu inputs, no crash\n", seeds, runs);
    return 0;
}
