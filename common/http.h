/* http: POST JSON bodies to one or more equivalent OpenAI-compatible servers
 * (Ollama, llama.cpp, vLLM, TEI, OpenAI) and get the answers back, many at a
 * time, on libcurl's multi interface in the calling thread (no threads, no
 * signals: the program should ignore SIGPIPE, as every ragpipe program does).
 *
 *	http_opts o;
 *	http_opts_init(&o);
 *	o.urls = urls; o.nurls = 1; o.api_key = getenv("RAG_API_KEY");
 *	c = http_new(&o, err, sizeof err);
 *	http_submit(c, "/embeddings", body, len, http_estimate_tokens(...), tag);
 *	while ((r = http_next(c, &res, err, sizeof err)) == 1) {
 *		... res.ok ? use res.body : report res.error ...
 *		http_result_free(&res);
 *	}
 *
 * Results come back in the order they finish, not the order submitted; the tag
 * says which is which. Keep the queue short (submit while http_pending() is
 * below a few times nurls * parallel, then take a result) so that memory stays
 * bounded however long the input is.
 *
 * Retry policy, per request:
 *   - retried: 429, 408, 5xx, a timeout, a refused, reset or dropped
 *     connection, a reply that stops early, a failed TLS handshake;
 *   - not retried: any other status (the server's own message is taken from a
 *     JSON body {"error":{"message":...}}, {"error":"..."}, {"message":...} or
 *     {"detail":"..."}), a response longer than max_response (cut off there:
 *     a misbehaving server does not get better by asking again), a TLS
 *     certificate that does not verify;
 *   - wait before attempt n+1: Retry-After (seconds or HTTP-date) or
 *     retry-after-ms when the server sent one, capped at 60 s, plus up to 10%;
 *     otherwise 0.5 s * 2^(n-1), capped at 30 s, with jitter taking it down to
 *     as little as half (so that clients that failed together do not all
 *     come back together). A 429 with Retry-After also pauses that URL.
 *   - a retry prefers a URL other than the one that just failed.
 *
 * Health, per URL: 3 failures in a row (connection errors, timeouts, 408,
 * 5xx, oversize answers, or answers the caller rejected with
 * http_reject) set the URL aside for a cool-down of 1 s, doubling each
 * time it fails again after coming back, up to 60 s; the other URLs carry
 * on. When the cool-down ends the URL gets one request at a time until it
 * answers well again. When every URL is set aside requests wait for the
 * earliest to come back; and when a request then runs out of retries the
 * servers are taken to be down: the requests still queued fail at once with
 * the same error instead of each waiting through the cool-downs.
 *
 * The API key is sent only in the Authorization header. It is never printed,
 * logged or put in an error text (a server that echoes it back in its error
 * message has it replaced by "[key]"), and the client's copy is wiped when
 * freed. Credentials in a URL (user:pass@) are left out of http_result.url
 * and of error texts. */
#ifndef RAGPIPE_HTTP_H
#define RAGPIPE_HTTP_H

#include <stddef.h>

#define HTTP_MAX_RESPONSE ((size_t)256 << 20)	/* default max_response */

typedef struct http_client http_client;

typedef struct {
	/* Base URLs, each ending where the API paths begin, e.g.
	 * "http://127.0.0.1:11434/v1" (a trailing '/' is ignored). Copied. */
	const char *const *urls;
	size_t nurls;
	/* Sent as "Authorization: Bearer KEY"; NULL or "" sends none. Copied. */
	const char *api_key;
	int parallel;	/* requests in flight per URL, >= 1 (default 2) */
	int retries;	/* attempts after the first, >= 0 (default 5) */
	double connect_timeout;	/* seconds per connection; 0: libcurl's own (300 s). Default 10 */
	double timeout;	/* seconds for one whole attempt; 0: none. Default 600 */
	/* Token buckets over all URLs together; 0: unlimited (the default).
	 * rps holds up to one second's worth of requests (at least one); tpm
	 * holds a minute's worth of tokens, and a request estimated at more
	 * than that waits for a full bucket and then takes it below zero. */
	double rps;	/* requests started per second, retries included */
	double tpm;	/* estimated input tokens per minute (see http_estimate_tokens) */
	const char *ca_file;	/* PEM certificates to verify servers with; NULL: the system's. Copied. */
	size_t max_response;	/* longest response body kept, in bytes; 0: HTTP_MAX_RESPONSE */
} http_opts;

typedef struct {
	void *tag;	/* as given to http_submit */
	int ok;	/* 1: a 2xx answer is in body; 0: failed, see error */
	long status;	/* HTTP status of the last attempt; 0 when no answer came */
	char *body;	/* owned: the last answer's body, NUL-terminated; NULL when there was none */
	size_t len;
	const char *url;	/* base URL of the last attempt (borrowed from the client); NULL if never sent */
	int attempts;	/* requests actually sent */
	char error[512];	/* why it failed, one line naming the URL; "" when ok */
} http_result;

/* The defaults above, no URLs. */
void http_opts_init(http_opts *o);

/* NULL with the reason in err on bad options or when libcurl cannot start. */
http_client *http_new(const http_opts *o, char *err, size_t errlen);
/* Abandons whatever is still queued or in flight. */
void http_free(http_client *c);

/* Queue a POST of body (copied; sent as application/json) to {base}{path}
 * on whichever URL has room when its turn comes. tokens is the request's
 * estimated input size for the tpm limit (<= 0: none). 0, or -1 when memory
 * ran out (errno set). */
int http_submit(http_client *c, const char *path, const char *body, size_t len, long tokens, void *tag);

/* A streamed request: the body of a 2xx answer goes to fn piece by piece as
 * it arrives instead of being kept (res.body is then NULL and res.len counts
 * the bytes streamed); an error status's body is kept as usual. fn returns
 * 0 to go on, or -1 to stop reading: the request then fails at once, not
 * retried, with an error saying so (the caller has its own reason). Once
 * fn has had a byte, a failure is not retried either, since whatever fn
 * did with the first part cannot be undone: the error says how many bytes
 * came. max_response bounds the bytes streamed. */
typedef int (*http_stream_fn)(void *ctx, const char *data, size_t len);
int http_submit_stream(http_client *c, const char *path, const char *body, size_t len, long tokens, void *tag,
		       http_stream_fn fn, void *ctx);

/* Drive the transfers until one request has finished for good and move it
 * to *res (1); 0 when nothing is queued or in flight; -1 with err when
 * libcurl or memory failed (the client cannot go on). A request that failed
 * is a result with ok == 0, not -1. */
int http_next(http_client *c, http_result *res, char *err, size_t errlen);

/* Requests submitted and not yet returned by http_next. */
size_t http_pending(const http_client *c);

/* The caller found a 2xx answer unusable (not the JSON promised, wrong
 * number of vectors...). That request is not retried — it is the caller's
 * error to report — but it counts against the URL that sent it, so that a
 * misconfigured server among several is set aside like a failing one. */
void http_reject(http_client *c, const http_result *res);

void http_result_free(http_result *res);

/* The command-line options every program that talks to servers shares:
 * --api-key-file F, --retries N, --timeout S, --connect-timeout S,
 * --cacert FILE, and --api-key, which is refused (ps shows argv). List
 * HTTP_OPT_LONG in the long options and hand each option to http_opt(). */
enum {
	HTTP_OPT_API_KEY_FILE = 0x2000, HTTP_OPT_API_KEY, HTTP_OPT_RETRIES, HTTP_OPT_TIMEOUT,
	HTTP_OPT_CONNECT_TIMEOUT, HTTP_OPT_CACERT
};
#define HTTP_OPT_LONG \
	{ "api-key-file", required_argument, NULL, HTTP_OPT_API_KEY_FILE }, \
	{ "api-key", required_argument, NULL, HTTP_OPT_API_KEY }, \
	{ "retries", required_argument, NULL, HTTP_OPT_RETRIES }, \
	{ "timeout", required_argument, NULL, HTTP_OPT_TIMEOUT }, \
	{ "connect-timeout", required_argument, NULL, HTTP_OPT_CONNECT_TIMEOUT }, \
	{ "cacert", required_argument, NULL, HTTP_OPT_CACERT }

/* One of those (its value into o, or *key_file), or else a standard option
 * (opt_std): OPT_GO_ON, or the status to exit with now (EXIT_USAGE for a bad
 * value or --api-key, said on stderr). help is the program's, for the usage
 * line. */
int http_opt(int c, const char *arg, http_opts *o, const char **key_file, const char *help);

/* The API key: the first line of key_file when one is given (its line end
 * and trailing blanks dropped), else $RAG_API_KEY, else $OPENAI_API_KEY;
 * *key NULL when there is none. 0, or -1 with the reason in err (the file
 * cannot be read or holds no key). http_key_free wipes it. */
int http_key_load(const char *key_file, char **key, char *err, size_t errlen);
void http_key_free(char *key);

/* The servers the environment names: $var, else $OPENAI_BASE_URL, split at
 * commas and spaces. At most max go into urls, pointing into *buf, which the
 * caller frees (NULL when there are none). The number of URLs, or -1 when
 * memory ran out. */
long http_env_urls(const char *var, const char **urls, size_t max, char **buf);

/* The estimate used for tpm: 1 token per CJK character (Han, kana,
 * hangul and their punctuation) plus 1 per 4 other characters, rounded up;
 * invalid UTF-8 counts 1 character per byte. Real tokenizers give about as
 * much for English and CJK text; the point is a stable, cheap bound to pace
 * by, not an exact count. */
long http_estimate_tokens(const char *utf8, size_t len);

#endif
