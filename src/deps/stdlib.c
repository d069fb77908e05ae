/* Top-level standard-library module names per Python 3 minor version.
 *
 * Taken from sys.stdlib_module_names of CPython 3.11.2 (Debian 12), with
 * the modules removed in 3.12 (PEP 594's first wave: asynchat, asyncore,
 * distutils, imp, smtpd) and 3.13 (the rest of PEP 594, and lib2to3) bounded
 * by version, and the modules added or removed in other versions listed
 * with their range. */
#include "deps/stdlib.h"

#include <string.h>

struct stdlib_entry {
    const char *name;
    int first_minor; /* first 3.x version that has the module */
    int last_minor;  /* last 3.x version that has it; 99 while it exists */
};

static const struct stdlib_entry stdlib_modules[] = {
    { "__future__", 0, 99 }, { "_abc", 0, 99 }, { "_aix_support", 0, 99 }, { "_ast", 0, 99 },
    { "_asyncio", 0, 99 }, { "_bisect", 0, 99 }, { "_blake2", 0, 99 },
    { "_bootsubprocess", 0, 99 }, { "_bz2", 0, 99 }, { "_codecs", 0, 99 },
    { "_codecs_cn", 0, 99 }, { "_codecs_hk", 0, 99 }, { "_codecs_iso2022", 0, 99 },
    { "_codecs_jp", 0, 99 }, { "_codecs_kr", 0, 99 }, { "_codecs_tw", 0, 99 },
    { "_collections", 0, 99 }, { "_collections_abc", 0, 99 }, { "_compat_pickle", 0, 99 },
    { "_compression", 0, 99 }, { "_contextvars", 0, 99 }, { "_crypt", 0, 99 },
    { "_csv", 0, 99 }, { "_ctypes", 0, 99 }, { "_curses", 0, 99 }, { "_curses_panel", 0, 99 },
    { "_datetime", 0, 99 }, { "_dbm", 0, 99 }, { "_decimal", 0, 99 },
    { "_dummy_thread", 0, 8 }, { "_elementtree", 0, 99 }, { "_frozen_importlib", 0, 99 },
    { "_frozen_importlib_external", 0, 99 }, { "_functools", 0, 99 }, { "_gdbm", 0, 99 },
    { "_hashlib", 0, 99 }, { "_heapq", 0, 99 }, { "_imp", 0, 99 }, { "_interpreters", 13, 99 },
    { "_io", 0, 99 }, { "_json", 0, 99 }, { "_locale", 0, 99 }, { "_lsprof", 0, 99 },
    { "_lzma", 0, 99 }, { "_markupbase", 0, 99 }, { "_md5", 0, 99 }, { "_msi", 0, 99 },
    { "_multibytecodec", 0, 99 }, { "_multiprocessing", 0, 99 }, { "_opcode", 0, 99 },
    { "_operator", 0, 99 }, { "_osx_support", 0, 99 }, { "_overlapped", 0, 99 },
    { "_pickle", 0, 99 }, { "_posixshmem", 0, 99 }, { "_posixsubprocess", 0, 99 },
    { "_py_abc", 0, 99 }, { "_pydecimal", 0, 99 }, { "_pyio", 0, 99 }, { "_queue", 0, 99 },
    { "_random", 0, 99 }, { "_scproxy", 0, 99 }, { "_sha1", 0, 99 }, { "_sha256", 0, 99 },
    { "_sha3", 0, 99 }, { "_sha512", 0, 99 }, { "_signal", 0, 99 }, { "_sitebuiltins", 0, 99 },
    { "_socket", 0, 99 }, { "_sqlite3", 0, 99 }, { "_sre", 0, 99 }, { "_ssl", 0, 99 },
    { "_stat", 0, 99 }, { "_statistics", 0, 99 }, { "_string", 0, 99 }, { "_strptime", 0, 99 },
    { "_struct", 0, 99 }, { "_symtable", 0, 99 }, { "_thread", 0, 99 },
    { "_threading_local", 0, 99 }, { "_tkinter", 0, 99 }, { "_tokenize", 0, 99 },
    { "_tracemalloc", 0, 99 }, { "_typing", 0, 99 }, { "_uuid", 0, 99 },
    { "_warnings", 0, 99 }, { "_weakref", 0, 99 }, { "_weakrefset", 0, 99 },
    { "_winapi", 0, 99 }, { "_zoneinfo", 0, 99 }, { "abc", 0, 99 }, { "aifc", 0, 12 },
    { "annotationlib", 14, 99 }, { "antigravity", 0, 99 }, { "argparse", 0, 99 },
    { "array", 0, 99 }, { "ast", 0, 99 }, { "asynchat", 0, 11 }, { "asyncio", 0, 99 },
    { "asyncore", 0, 11 }, { "atexit", 0, 99 }, { "audioop", 0, 12 }, { "base64", 0, 99 },
    { "bdb", 0, 99 }, { "binascii", 0, 99 }, { "bisect", 0, 99 }, { "builtins", 0, 99 },
    { "bz2", 0, 99 }, { "cProfile", 0, 99 }, { "calendar", 0, 99 }, { "cgi", 0, 12 },
    { "cgitb", 0, 12 }, { "chunk", 0, 12 }, { "cmath", 0, 99 }, { "cmd", 0, 99 },
    { "code", 0, 99 }, { "codecs", 0, 99 }, { "codeop", 0, 99 }, { "collections", 0, 99 },
    { "colorsys", 0, 99 }, { "compileall", 0, 99 }, { "compression", 14, 99 },
    { "concurrent", 0, 99 }, { "configparser", 0, 99 }, { "contextlib", 0, 99 },
    { "contextvars", 7, 99 }, { "copy", 0, 99 }, { "copyreg", 0, 99 }, { "crypt", 0, 12 },
    { "csv", 0, 99 }, { "ctypes", 0, 99 }, { "curses", 0, 99 }, { "dataclasses", 7, 99 },
    { "datetime", 0, 99 }, { "dbm", 0, 99 }, { "decimal", 0, 99 }, { "difflib", 0, 99 },
    { "dis", 0, 99 }, { "distutils", 0, 11 }, { "doctest", 0, 99 },
    { "dummy_threading", 0, 8 }, { "email", 0, 99 }, { "encodings", 0, 99 },
    { "ensurepip", 0, 99 }, { "enum", 0, 99 }, { "errno", 0, 99 }, { "faulthandler", 0, 99 },
    { "fcntl", 0, 99 }, { "filecmp", 0, 99 }, { "fileinput", 0, 99 }, { "fnmatch", 0, 99 },
    { "formatter", 0, 9 }, { "fractions", 0, 99 }, { "ftplib", 0, 99 }, { "functools", 0, 99 },
    { "gc", 0, 99 }, { "genericpath", 0, 99 }, { "getopt", 0, 99 }, { "getpass", 0, 99 },
    { "gettext", 0, 99 }, { "glob", 0, 99 }, { "graphlib", 9, 99 }, { "grp", 0, 99 },
    { "gzip", 0, 99 }, { "hashlib", 0, 99 }, { "heapq", 0, 99 }, { "hmac", 0, 99 },
    { "html", 0, 99 }, { "http", 0, 99 }, { "idlelib", 0, 99 }, { "imaplib", 0, 99 },
    { "imghdr", 0, 12 }, { "imp", 0, 11 }, { "importlib", 0, 99 }, { "inspect", 0, 99 },
    { "io", 0, 99 }, { "ipaddress", 0, 99 }, { "itertools", 0, 99 }, { "json", 0, 99 },
    { "keyword", 0, 99 }, { "lib2to3", 0, 12 }, { "linecache", 0, 99 }, { "locale", 0, 99 },
    { "logging", 0, 99 }, { "lzma", 0, 99 }, { "macpath", 0, 7 }, { "mailbox", 0, 99 },
    { "mailcap", 0, 12 }, { "marshal", 0, 99 }, { "math", 0, 99 }, { "mimetypes", 0, 99 },
    { "mmap", 0, 99 }, { "modulefinder", 0, 99 }, { "msilib", 0, 12 }, { "msvcrt", 0, 99 },
    { "multiprocessing", 0, 99 }, { "netrc", 0, 99 }, { "nis", 0, 12 }, { "nntplib", 0, 12 },
    { "nt", 0, 99 }, { "ntpath", 0, 99 }, { "nturl2path", 0, 99 }, { "numbers", 0, 99 },
    { "opcode", 0, 99 }, { "operator", 0, 99 }, { "optparse", 0, 99 }, { "os", 0, 99 },
    { "ossaudiodev", 0, 12 }, { "parser", 0, 9 }, { "pathlib", 0, 99 }, { "pdb", 0, 99 },
    { "pickle", 0, 99 }, { "pickletools", 0, 99 }, { "pipes", 0, 12 }, { "pkgutil", 0, 99 },
    { "platform", 0, 99 }, { "plistlib", 0, 99 }, { "poplib", 0, 99 }, { "posix", 0, 99 },
    { "posixpath", 0, 99 }, { "pprint", 0, 99 }, { "profile", 0, 99 }, { "pstats", 0, 99 },
    { "pty", 0, 99 }, { "pwd", 0, 99 }, { "py_compile", 0, 99 }, { "pyclbr", 0, 99 },
    { "pydoc", 0, 99 }, { "pydoc_data", 0, 99 }, { "pyexpat", 0, 99 }, { "queue", 0, 99 },
    { "quopri", 0, 99 }, { "random", 0, 99 }, { "re", 0, 99 }, { "readline", 0, 99 },
    { "reprlib", 0, 99 }, { "resource", 0, 99 }, { "rlcompleter", 0, 99 }, { "runpy", 0, 99 },
    { "sched", 0, 99 }, { "secrets", 0, 99 }, { "select", 0, 99 }, { "selectors", 0, 99 },
    { "shelve", 0, 99 }, { "shlex", 0, 99 }, { "shutil", 0, 99 }, { "signal", 0, 99 },
    { "site", 0, 99 }, { "smtpd", 0, 11 }, { "smtplib", 0, 99 }, { "sndhdr", 0, 12 },
    { "socket", 0, 99 }, { "socketserver", 0, 99 }, { "spwd", 0, 12 }, { "sqlite3", 0, 99 },
    { "sre_compile", 0, 99 }, { "sre_constants", 0, 99 }, { "sre_parse", 0, 99 },
    { "ssl", 0, 99 }, { "stat", 0, 99 }, { "statistics", 0, 99 }, { "string", 0, 99 },
    { "stringprep", 0, 99 }, { "struct", 0, 99 }, { "subprocess", 0, 99 }, { "sunau", 0, 12 },
    { "symbol", 0, 9 }, { "symtable", 0, 99 }, { "sys", 0, 99 }, { "sysconfig", 0, 99 },
    { "syslog", 0, 99 }, { "tabnanny", 0, 99 }, { "tarfile", 0, 99 }, { "telnetlib", 0, 12 },
    { "tempfile", 0, 99 }, { "termios", 0, 99 }, { "textwrap", 0, 99 }, { "this", 0, 99 },
    { "threading", 0, 99 }, { "time", 0, 99 }, { "timeit", 0, 99 }, { "tkinter", 0, 99 },
    { "token", 0, 99 }, { "tokenize", 0, 99 }, { "tomllib", 11, 99 }, { "trace", 0, 99 },
    { "traceback", 0, 99 }, { "tracemalloc", 0, 99 }, { "tty", 0, 99 }, { "turtle", 0, 99 },
    { "turtledemo", 0, 99 }, { "types", 0, 99 }, { "typing", 0, 99 }, { "unicodedata", 0, 99 },
    { "unittest", 0, 99 }, { "urllib", 0, 99 }, { "uu", 0, 12 }, { "uuid", 0, 99 },
    { "venv", 0, 99 }, { "warnings", 0, 99 }, { "wave", 0, 99 }, { "weakref", 0, 99 },
    { "webbrowser", 0, 99 }, { "winreg", 0, 99 }, { "winsound", 0, 99 }, { "wsgiref", 0, 99 },
    { "xdrlib", 0, 12 }, { "xml", 0, 99 }, { "xmlrpc", 0, 99 }, { "zipapp", 0, 99 },
    { "zipfile", 0, 99 }, { "zipimport", 0, 99 }, { "zlib", 0, 99 }, { "zoneinfo", 9, 99 },
};

bool stdlib_has(const char *name, size_t len, int python_minor)
{
    size_t lo = 0, hi = sizeof(stdlib_modules) / sizeof(stdlib_modules[0]);

    /* The table is sorted by name, so a binary search finds the entry. */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *entry = stdlib_modules[mid].name;
        int cmp = strncmp(entry, name, len);

        if (cmp == 0 && entry[len] != '\0')
            cmp = 1;
        if (cmp == 0)
            return python_minor >= stdlib_modules[mid].first_minor &&
                   python_minor <= stdlib_modules[mid].last_minor;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}
