/* Import finder for Jupyter notebooks: the code cells, without IPython magics. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/imports.h"
#include "util/strbuf.h"

/* Cell magics whose body is still Python. */
static bool is_python_cell_magic(const char *line)
{
    static const char *const magics[] = { "time", "timeit", "capture", "prun", "debug" };
    const char *name = line + 2;
    size_t n = strcspn(name, " \t\n");

    for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
        if (strlen(magics[i]) == n && strncmp(name, magics[i], n) == 0)
            return true;
    }
    return false;
}

/* True for lines IPython rewrites: %magic, !shell, x = !shell, x = %magic, obj? help. */
static bool is_ipython_line(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i < len && (line[i] == '%' || line[i] == '!' || line[i] == '?'))
        return true;
    while (len > i && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    if (len > i && line[len - 1] == '?' && line[i] != '#')
        return true;

    size_t j = i;

    while (j < len && (line[j] == '_' || (line[j] >= 'a' && line[j] <= 'z') ||
                       (line[j] >= 'A' && line[j] <= 'Z') || (line[j] >= '0' && line[j] <= '9')))
        j++;
    if (j == i)
        return false;
    while (j < len && (line[j] == ' ' || line[j] == '\t'))
        j++;
    if (j >= len || line[j] != '=' || (j + 1 < len && line[j + 1] == '='))
        return false;
    j++;
    while (j < len && (line[j] == ' ' || line[j] == '\t'))
        j++;
    return j < len && (line[j] == '!' || line[j] == '%');
}

/* Joins a cell's source (string or list of strings) with magic lines blanked;
 * returns false when the cell is not Python (a cell magic such as %%bash). */
static bool cell_source(json_t *source, struct strbuf *code)
{
    struct strbuf raw = STRBUF_INIT;
    const char *text, *p;
    bool python = true;

    if (json_is_string(source)) {
        strbuf_add(&raw, json_string_value(source), json_string_length(source));
    } else if (json_is_array(source)) {
        size_t i;
        json_t *part;

        json_array_foreach(source, i, part) {
            if (json_is_string(part))
                strbuf_add(&raw, json_string_value(part), json_string_length(part));
        }
    }
    text = strbuf_str(&raw);
    p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (strncmp(p, "%%", 2) == 0 && !is_python_cell_magic(p))
        python = false;

    for (p = text; python && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        if (!is_ipython_line(p, len))
            strbuf_add(code, p, len);
        strbuf_addch(code, '\n');
        p += len + (nl ? 1 : 0);
    }
    strbuf_release(&raw);
    return python;
}

static void scan_cell(json_t *cell, int index, const struct py_scan_opts *opts,
                      struct py_imports *out)
{
    struct strbuf code = STRBUF_INIT;
    struct py_imports cell_imports = { 0 };
    json_t *source = json_object_get(cell, "source");
    const char *type = json_string_value(json_object_get(cell, "cell_type"));

    if (source == NULL)
        source = json_object_get(cell, "input");
    if (type == NULL || strcmp(type, "code") != 0 || !cell_source(source, &code)) {
        strbuf_release(&code);
        return;
    }

    /* Drop carriage returns, so lines end as the tokenizer expects. */
    size_t w = 0;

    for (size_t r = 0; r < code.len; r++) {
        if (code.buf[r] != '\r')
            code.buf[w++] = code.buf[r];
    }
    if (code.buf != NULL)
        code.buf[w] = '\0';
    code.len = w;

    if (py_find_imports(strbuf_str(&code), code.len, opts, &cell_imports) != 0) {
        if (out->error_msg[0] == '\0') {
            out->error_line = cell_imports.error_line;
            out->error_col = cell_imports.error_col;
            snprintf(out->error_msg, sizeof(out->error_msg), "cell %d: %.160s", index + 1,
                     cell_imports.error_msg);
        }
        py_imports_release(&cell_imports);
        strbuf_release(&code);
        return;
    }
    for (size_t i = 0; i < cell_imports.count; i++) {
        if (out->count == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            struct py_import *items = realloc(out->items, cap * sizeof(*items));

            if (items == NULL)
                break;
            out->items = items;
            out->cap = cap;
        }
        out->items[out->count] = cell_imports.items[i];
        out->items[out->count].cell = index;
        cell_imports.items[i].module = NULL;
        out->count++;
    }
    py_imports_release(&cell_imports);
    strbuf_release(&code);
}

int py_scan_notebook(const char *data, size_t len, const struct py_scan_opts *opts,
                     struct py_imports *out)
{
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, 0, &jerr);
    json_t *cells, *cell;
    size_t i;

    if (doc == NULL) {
        out->error_line = jerr.line;
        out->error_col = jerr.column;
        snprintf(out->error_msg, sizeof(out->error_msg), "invalid notebook JSON: %s", jerr.text);
        return -1;
    }
    cells = json_object_get(doc, "cells");
    if (cells == NULL) {
        /* nbformat 3 keeps cells inside worksheets. */
        json_t *sheets = json_object_get(doc, "worksheets");

        cells = json_is_array(sheets) ? json_object_get(json_array_get(sheets, 0), "cells")
                                      : NULL;
    }
    if (!json_is_array(cells)) {
        json_decref(doc);
        snprintf(out->error_msg, sizeof(out->error_msg), "invalid notebook: no \"cells\" list");
        return -1;
    }
    json_array_foreach(cells, i, cell) {
        if (json_is_object(cell))
            scan_cell(cell, (int)i, opts, out);
    }
    json_decref(doc);
    return 0;
}
