/* Import names to distribution names: normalisation and the table of well-known mismatches. */
#include "deps/distmap.h"

#include <ctype.h>
#include <string.h>

void dist_normalize(const char *name, char *out, size_t size)
{
    size_t n = 0;
    bool sep = false;

    if (size == 0)
        return;
    for (const char *p = name; *p != '\0' && n + 1 < size; p++) {
        if (*p == '-' || *p == '_' || *p == '.') {
            sep = true;
            continue;
        }
        if (sep && n > 0 && n + 2 < size)
            out[n++] = '-';
        sep = false;
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
}

bool dist_is_valid_name(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len >= DIST_NAME_MAX || !isalnum((unsigned char)name[0]) ||
        !isalnum((unsigned char)name[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!(isascii(c) && (isalnum(c) || c == '.' || c == '-' || c == '_')))
            return false;
    }
    return true;
}

/* Import names whose distribution is named otherwise (after PEP 503
 * normalisation), from the projects' own packaging metadata. */
static const char *const known_mismatches[][2] = {
    { "Bio", "biopython" },
    { "Crypto", "pycryptodome" },
    { "Cryptodome", "pycryptodomex" },
    { "Levenshtein", "python-Levenshtein" },
    { "MySQLdb", "mysqlclient" },
    { "OpenGL", "PyOpenGL" },
    { "OpenSSL", "pyOpenSSL" },
    { "PIL", "Pillow" },
    { "RPi", "RPi.GPIO" },
    { "Xlib", "python-xlib" },
    { "_cffi_backend", "cffi" },
    { "_pytest", "pytest" },
    { "apiclient", "google-api-python-client" },
    { "attr", "attrs" },
    { "bs4", "beautifulsoup4" },
    { "bson", "pymongo" },
    { "cairo", "pycairo" },
    { "cassandra", "cassandra-driver" },
    { "community", "python-louvain" },
    { "consul", "python-consul" },
    { "corsheaders", "django-cors-headers" },
    { "crispy_forms", "django-crispy-forms" },
    { "cv2", "opencv-python" },
    { "dateutil", "python-dateutil" },
    { "debug_toolbar", "django-debug-toolbar" },
    { "decouple", "python-decouple" },
    { "django_filters", "django-filter" },
    { "dns", "dnspython" },
    { "docx", "python-docx" },
    { "dotenv", "python-dotenv" },
    { "engineio", "python-engineio" },
    { "environ", "django-environ" },
    { "fitz", "PyMuPDF" },
    { "gi", "PyGObject" },
    { "git", "GitPython" },
    { "github", "PyGithub" },
    { "gitlab", "python-gitlab" },
    { "google_auth_httplib2", "google-auth-httplib2" },
    { "googleapiclient", "google-api-python-client" },
    { "gridfs", "pymongo" },
    { "grpc", "grpcio" },
    { "jenkins", "python-jenkins" },
    { "jose", "python-jose" },
    { "jwt", "PyJWT" },
    { "kafka", "kafka-python" },
    { "ldap", "python-ldap" },
    { "magic", "python-magic" },
    { "memcache", "python-memcached" },
    { "mpl_toolkits", "matplotlib" },
    { "multipart", "python-multipart" },
    { "nacl", "PyNaCl" },
    { "nmap", "python-nmap" },
    { "paho", "paho-mqtt" },
    { "pkg_resources", "setuptools" },
    { "pptx", "python-pptx" },
    { "psycopg2", "psycopg2-binary" },
    { "pydispatch", "PyDispatcher" },
    { "pylab", "matplotlib" },
    { "pythoncom", "pywin32" },
    { "pywintypes", "pywin32" },
    { "rest_framework", "djangorestframework" },
    { "ruamel", "ruamel.yaml" },
    { "serial", "pyserial" },
    { "skimage", "scikit-image" },
    { "sklearn", "scikit-learn" },
    { "slugify", "python-slugify" },
    { "snappy", "python-snappy" },
    { "snowflake", "snowflake-connector-python" },
    { "socketio", "python-socketio" },
    { "speech_recognition", "SpeechRecognition" },
    { "storages", "django-storages" },
    { "telegram", "python-telegram-bot" },
    { "umap", "umap-learn" },
    { "usb", "pyusb" },
    { "vlc", "python-vlc" },
    { "websocket", "websocket-client" },
    { "whois", "python-whois" },
    { "win32api", "pywin32" },
    { "win32con", "pywin32" },
    { "win32gui", "pywin32" },
    { "wx", "wxPython" },
    { "xdist", "pytest-xdist" },
    { "yaml", "PyYAML" },
    { "zmq", "pyzmq" },
};

#define KNOWN_COUNT (sizeof(known_mismatches) / sizeof(known_mismatches[0]))

const char *distmap_known(const char *import_name)
{
    size_t lo = 0, hi = KNOWN_COUNT;

    /* The table is sorted by import name (byte order), so a binary search finds it. */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(known_mismatches[mid][0], import_name);

        if (cmp == 0)
            return known_mismatches[mid][1];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void distmap_known_imports(const char *normalized_dist, void (*fn)(const char *, void *),
                           void *ctx)
{
    char normal[DIST_NAME_MAX];

    for (size_t i = 0; i < KNOWN_COUNT; i++) {
        dist_normalize(known_mismatches[i][1], normal, sizeof(normal));
        if (strcmp(normal, normalized_dist) == 0)
            fn(known_mismatches[i][0], ctx);
    }
}

size_t distmap_known_count(void)
{
    return KNOWN_COUNT;
}
