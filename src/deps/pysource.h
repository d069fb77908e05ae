/* Python source decoding: BOM, PEP 263 coding lines, strict UTF-8, universal newlines. */
#ifndef AFTERSHOCK_DEPS_PYSOURCE_H
#define AFTERSHOCK_DEPS_PYSOURCE_H

#include <stdbool.h>
#include <stddef.h>

/* A decoding failure, placed where Python's compiler reports it. */
struct pysource_error {
    int line;       /* 1-based; 0 when the whole file is at fault */
    int col;        /* 1-based byte column, 0 when unknown */
    char msg[160];
};

/* Decodes raw file bytes into UTF-8 with "\n" line ends, as Python's compiler
 * reads a file. A UTF-8 BOM is dropped. A coding declaration on line 1 or 2
 * selects the codec, through iconv for codecs other than UTF-8 and Latin-1.
 * UTF-8 input is validated strictly: overlong forms, surrogates and NUL
 * bytes are errors. data[len] must be a NUL byte. UTF-8 text is decoded in
 * place (data is modified, *allocated is false); other codecs produce a new
 * buffer the caller frees (*allocated is true). Returns the NUL-terminated
 * text with its length in *out_len, or NULL with *error filled. */
char *pysource_decode(char *data, size_t len, size_t *out_len, bool *allocated,
                      struct pysource_error *error);

/* Returns the offset of the first invalid UTF-8 sequence in data, or len when
 * the whole buffer is valid. NUL bytes count as invalid. */
size_t pysource_utf8_check(const char *data, size_t len);

#endif
