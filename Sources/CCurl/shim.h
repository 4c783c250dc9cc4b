#ifndef MDP_CCURL_SHIM_H
#define MDP_CCURL_SHIM_H

#include <curl/curl.h>

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

// CURLVERSION_NOW is a macro Swift does not import.
static inline curl_version_info_data *mdp_curl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

#endif
