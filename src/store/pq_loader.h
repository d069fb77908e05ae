/* libpq, loaded with dlopen when a PostgreSQL store is first opened. */
#ifndef AFTERSHOCK_STORE_PQ_LOADER_H
#define AFTERSHOCK_STORE_PQ_LOADER_H

/* Loads libpq once. Returns NULL when it is loaded, else a message with the
 * cause and what to install. */
const char *pq_library_error(void);

#endif
