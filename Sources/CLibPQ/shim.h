#include <libpq-fe.h>
/* The replication stream is read from libpq's TLS session directly (PGClient.ReplicationSocket). */
#include <openssl/ssl.h>
#include <openssl/err.h>
