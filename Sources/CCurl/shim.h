#ifndef MDP_CCURL_SHIM_H
#define MDP_CCURL_SHIM_H

#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

// curl_easy_setopt / curl_easy_getinfo are variadic, which Swift cannot call:
// these typed wrappers are the only way the Sync target reaches them.

static inline CURLcode mdp_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode mdp_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode mdp_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode mdp_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

// The callbacks libcurl calls for response bytes, header lines and request bytes.
typedef size_t (*mdp_curl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);

static inline CURLcode mdp_curl_setopt_callback(CURL *handle, CURLoption option, mdp_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode mdp_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode mdp_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

// Called when libcurl must send a request body again (a reused connection that failed, a redirect).
typedef int (*mdp_curl_seek_callback)(void *userdata, curl_off_t offset, int origin);

static inline CURLcode mdp_curl_setopt_seek(CURL *handle, CURLoption option, mdp_curl_seek_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

// Returned from a read callback to abort the transfer (a macro Swift does not import).
static inline size_t mdp_curl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }

// Called before libcurl opens a socket to an address: the callback may refuse it (webhooks to private networks).
typedef curl_socket_t (*mdp_curl_opensocket_callback)(void *userdata, curlsocktype purpose, struct curl_sockaddr *address);

static inline CURLcode mdp_curl_setopt_opensocket(CURL *handle, mdp_curl_opensocket_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
}

// CURL_SOCKET_BAD is a macro Swift does not import.
static inline curl_socket_t mdp_curl_socket_bad(void) { return CURL_SOCKET_BAD; }

// The address libcurl is about to connect to, in network order: 4 bytes (IPv4) or 16 (IPv6) copied to `out`; 0 for
// any other family. (libcurl keeps room for the whole address behind `addr`, which Swift sees as a 16-byte sockaddr.)
static inline int mdp_curl_sockaddr_bytes(const struct curl_sockaddr *address, unsigned char out[16]) {
    if (address->family == AF_INET && address->addrlen >= sizeof(struct sockaddr_in)) {
        memcpy(out, &((const struct sockaddr_in *)&address->addr)->sin_addr, 4);
        return 4;
    }
    if (address->family == AF_INET6 && address->addrlen >= sizeof(struct sockaddr_in6)) {
        memcpy(out, &((const struct sockaddr_in6 *)&address->addr)->sin6_addr, 16);
        return 16;
    }
    return 0;
}

// CURLVERSION_NOW is a macro Swift does not import.
static inline curl_version_info_data *mdp_curl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

#endif
