/* Failure signatures: a failure message with its variable parts replaced,
 * so that one cause seen with different numbers, addresses, paths and ids
 * is counted as one. */
#ifndef AFTERSHOCK_REPORT_SIGNATURE_H
#define AFTERSHOCK_REPORT_SIGNATURE_H

#include <stddef.h>

/* Maximum size of a signature in bytes, including the terminating NUL. */
#define SIGNATURE_MAX 256

/* Writes the signature of message into out (at most size bytes, always
 * NUL-terminated, cut on a UTF-8 character boundary). Replacements, tried
 * at the start of each word:
 *   URL (scheme://...)                       <url>
 *   UUID                                     <id>
 *   ISO 8601 date or date and time           <time>
 *   IPv4 address, [IPv6] address, with port  <addr>
 *   0x hexadecimal number                    <hex>
 *   absolute or ./ ../ ~/ relative path      <path>  (at the start, or after
 *                                                     white space, a quote,
 *                                                     ( [ { = : or ,)
 *   8 or more hex digits with a digit        <id>
 *   number (digits, optional fraction)       <n>
 * Letters after a number stay ("250ms" becomes "<n>ms"), digits inside a
 * word stay ("http2"), and runs of white space become one space. A
 * signature normalised again does not change. Returns its length. */
size_t signature_normalize(const char *message, char *out, size_t size);

#endif
