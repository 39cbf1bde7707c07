#include "http.h"
#include "msg.h"
#include "opt.h"
#include "sb.h"
#include "u8.h"

#include <curl/curl.h>
#include <json-c/json.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HTTP_BACKOFF_BASE 0.5	/* seconds before the first retry */
#define HTTP_BACKOFF_CAP 30.0
#define HTTP_RETRY_AFTER_CAP 60.0
#define HTTP_FAILS_TO_SET_ASIDE 3
#define HTTP_COOLDOWN_BASE 1.0
#define HTTP_COOLDOWN_CAP 60.0
#define HTTP_MSG_MAX 300	/* bytes of a server's error message kept */

struct http_req {
	struct http_req *prev, *next;	/* in exactly one of queue, active, done */
	char *path;
	char *body;
	size_t len;
	long tokens;
	void *tag;
	int attempts;
	long url;	/* of the current or last attempt; -1 before the first */
	double not_before;	/* monotonic time before which it must not be sent */

	/* the attempt in flight */
	CURL *easy;
	char *full_url;
	sb resp;
	size_t max;	/* of the body */
	int too_large, oom;
	http_stream_fn stream;	/* a 2xx body goes here, not into resp */
	void *stream_ctx;
	size_t streamed;	/* bytes given to stream */
	int stream_stopped;	/* stream said stop */
	double retry_after;	/* seconds asked for by the server; < 0: none */
	double retry_after_ms;	/* from retry-after-ms, preferred when present */
	char curl_err[CURL_ERROR_SIZE];

	/* the outcome */
	int ok;
	long status;
	char error[512];
};

struct http_list {
	struct http_req *head, *tail;
	size_t n;
};

struct http_url {
	char *base;	/* as given, minus trailing '/' */
	char *shown;	/* base without user:pass@, for messages and results */
	int inflight;
	int fails;	/* consecutive */
	int set_asides;	/* since the last success: how long the next cool-down is */
	/* fails and set_asides before the last success, restored when the
	 * caller rejects that answer: a server that always answers 200 with
	 * garbage must still reach the threshold. */
	int saved_fails, saved_set_asides;
	double until;	/* set aside or paused until this monotonic time */
	unsigned long last_start;	/* to break ties between equally loaded URLs */
};

struct http_client {
	CURLM *multi;
	struct http_url *urls;
	size_t nurls;
	struct curl_slist *headers;	/* one node carries the key: wiped on free */
	char *key;	/* to scrub from error texts; wiped on free */
	char *ca_file;
	char user_agent[64];
	int parallel, retries;
	long connect_ms, timeout_ms;
	size_t max_response;
	double rps, tpm;
	double rps_level, rps_time, tpm_level, tpm_time;
	struct http_list queue, active, done;
	unsigned long starts;
	uint64_t rng;
	int curl_inited;
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Jitter only needs to differ between processes, not to be unpredictable. */
static double rand01(http_client *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return (double)(c->rng >> 11) / (double)(1ULL << 53);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void list_push_back(struct http_list *l, struct http_req *r)
{
	r->next = NULL;
	r->prev = l->tail;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

static void list_push_front(struct http_list *l, struct http_req *r)
{
	r->prev = NULL;
	r->next = l->head;
	if (l->head)
		l->head->prev = r;
	else
		l->tail = r;
	l->head = r;
	l->n++;
}

static void list_remove(struct http_list *l, struct http_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
	l->n--;
}

static void req_free(struct http_req *r)
{
	if (r == NULL)
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	free(r->path);
	free(r->body);
	free(r->full_url);
	sb_free(&r->resp);
	free(r);
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* ---- options and setup ---------------------------------------------- */

void http_opts_init(http_opts *o)
{
	memset(o, 0, sizeof *o);
	o->parallel = 2;
	o->retries = 5;
	o->connect_timeout = 10;
	o->timeout = 600;
}

static int is_http_url(const char *u)
{
	return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* The URL with any user:pass@ removed: it goes into messages and results. */
static char *url_shown_new(const char *u)
{
	const char *auth = strstr(u, "://") + 3;
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL, *p;
	char *s;

	for (p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return strdup(u);
	s = malloc(strlen(u) + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, u, (size_t)(auth - u));
	strcpy(s + (auth - u), at + 1);
	return s;
}

static long secs_to_ms(double s)
{
	if (s <= 0)
		return 0;
	if (s > 1e9)
		return 1000000000000L;
	return (long)ceil(s * 1000);
}

static int add_header(http_client *c, const char *h)
{
	struct curl_slist *l = curl_slist_append(c->headers, h);

	if (l == NULL)
		return -1;
	c->headers = l;
	return 0;
}

http_client *http_new(const http_opts *o, char *err, size_t errlen)
{
	http_client *c;
	size_t i;

	if (o->urls == NULL || o->nurls == 0) {
		set_err(err, errlen, "no server URL given");
		return NULL;
	}
	for (i = 0; i < o->nurls; i++) {
		if (o->urls[i] == NULL || !is_http_url(o->urls[i])) {
			/* not printed when it might carry credentials */
			if (o->urls[i] && strchr(o->urls[i], '@') == NULL)
				set_err(err, errlen, "%.200s: not an http:// or https:// URL", o->urls[i]);
			else
				set_err(err, errlen, "server URL %zu is not an http:// or https:// URL", i + 1);
			return NULL;
		}
	}
	if (o->parallel < 1 || o->retries < 0 || o->connect_timeout < 0 || o->timeout < 0 || o->rps < 0 || o->tpm < 0
	    || isnan(o->rps) || isnan(o->tpm) || isnan(o->timeout) || isnan(o->connect_timeout)) {
		set_err(err, errlen, "invalid HTTP client options (parallel must be >= 1, the others >= 0)");
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL)
		goto oom;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		set_err(err, errlen, "libcurl failed to initialise");
		free(c);
		return NULL;
	}
	c->curl_inited = 1;
	c->urls = calloc(o->nurls, sizeof *c->urls);
	if (c->urls == NULL)
		goto oom;
	c->nurls = o->nurls;
	for (i = 0; i < o->nurls; i++) {
		size_t n = strlen(o->urls[i]);

		while (n > 0 && o->urls[i][n - 1] == '/')
			n--;
		c->urls[i].base = strndup(o->urls[i], n);
		if (c->urls[i].base == NULL)
			goto oom;
		c->urls[i].shown = url_shown_new(c->urls[i].base);
		if (c->urls[i].shown == NULL)
			goto oom;
	}
	c->parallel = o->parallel;
	c->retries = o->retries;
	c->connect_ms = secs_to_ms(o->connect_timeout);
	c->timeout_ms = secs_to_ms(o->timeout);
	c->max_response = o->max_response ? o->max_response : HTTP_MAX_RESPONSE;
	c->rps = o->rps;
	c->tpm = o->tpm;
	c->rps_time = c->tpm_time = now_mono();
	c->rps_level = c->rps > 1 ? c->rps : 1;
	c->tpm_level = c->tpm;
	c->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)c;
	if (c->rng == 0)
		c->rng = 0x9e3779b97f4a7c15ULL;
	snprintf(c->user_agent, sizeof c->user_agent, "ragpipe/%s", RAGPIPE_VERSION);
	if (o->ca_file && (c->ca_file = strdup(o->ca_file)) == NULL)
		goto oom;
	/* "Expect:" stops libcurl from waiting for a 100 Continue that many
	 * servers never send before a large body. */
	if (add_header(c, "Content-Type: application/json") < 0 || add_header(c, "Accept: application/json, text/event-stream") < 0
	    || add_header(c, "Expect:") < 0)
		goto oom;
	if (o->api_key && *o->api_key) {
		static const char pre[] = "Authorization: Bearer ";
		size_t klen = strlen(o->api_key);
		char *h;
		int r;

		if (strpbrk(o->api_key, "\r\n")) {
			set_err(err, errlen, "the API key contains a line break");
			http_free(c);
			return NULL;
		}
		c->key = strdup(o->api_key);
		h = malloc(sizeof pre + klen);
		if (c->key == NULL || h == NULL) {
			free(h);
			goto oom;
		}
		memcpy(h, pre, sizeof pre - 1);
		memcpy(h + sizeof pre - 1, o->api_key, klen + 1);
		r = add_header(c, h);
		wipe_free(h);
		if (r < 0)
			goto oom;
	}
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		set_err(err, errlen, "libcurl failed to initialise");
		http_free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)(c->nurls * (size_t)c->parallel + 4));
	return c;
oom:
	set_err(err, errlen, "out of memory");
	http_free(c);
	return NULL;
}

void http_free(http_client *c)
{
	struct curl_slist *h;
	struct http_list *lists[3];
	size_t i;

	if (c == NULL)
		return;
	lists[0] = &c->queue;
	lists[1] = &c->active;
	lists[2] = &c->done;
	for (i = 0; i < 3; i++) {
		while (lists[i]->head) {
			struct http_req *r = lists[i]->head;

			list_remove(lists[i], r);
			if (r->easy && c->multi)
				curl_multi_remove_handle(c->multi, r->easy);
			req_free(r);
		}
	}
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (h = c->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(c->headers);
	wipe_free(c->key);
	for (i = 0; i < c->nurls; i++) {
		free(c->urls[i].base);
		free(c->urls[i].shown);
	}
	free(c->urls);
	free(c->ca_file);
	if (c->curl_inited)
		curl_global_cleanup();
	free(c);
}

/* ---- submitting ------------------------------------------------------ */

int http_submit(http_client *c, const char *path, const char *body, size_t len, long tokens, void *tag)
{
	return http_submit_stream(c, path, body, len, tokens, tag, NULL, NULL);
}

int http_submit_stream(http_client *c, const char *path, const char *body, size_t len, long tokens, void *tag,
		       http_stream_fn fn, void *ctx)
{
	struct http_req *r = calloc(1, sizeof *r);

	if (r == NULL)
		return -1;
	r->path = strdup(path);
	/* +1 so an empty body still gets a buffer */
	r->body = malloc(len + 1);
	if (r->path == NULL || r->body == NULL) {
		req_free(r);
		errno = ENOMEM;
		return -1;
	}
	memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->len = len;
	r->tokens = tokens;
	r->tag = tag;
	r->url = -1;
	r->stream = fn;
	r->stream_ctx = ctx;
	list_push_back(&c->queue, r);
	return 0;
}

size_t http_pending(const http_client *c)
{
	return c->queue.n + c->active.n + c->done.n;
}

/* ---- one attempt ------------------------------------------------------ */

/* Memory stays bounded whatever the server sends. */
static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct http_req *r = ud;
	size_t bytes = size * n;

	if (r->stream) {
		long status = 0;

		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			if (bytes > r->max || r->streamed > r->max - bytes) {
				r->too_large = 1;
				return 0;
			}
			if (r->stream(r->stream_ctx, data, bytes) < 0) {
				r->stream_stopped = 1;
				return 0;
			}
			r->streamed += bytes;
			return bytes;
		}
	}
	if (bytes > r->max || r->resp.len > r->max - bytes) {
		r->too_large = 1;
		return 0;
	}
	if (sb_append(&r->resp, data, bytes) < 0) {
		r->oom = 1;
		return 0;
	}
	return bytes;
}

static double parse_retry_after(const char *v)
{
	char *end;
	double s;
	time_t when;

	if (isdigit((unsigned char)*v)) {
		errno = 0;
		s = strtod(v, &end);
		while (*end == ' ' || *end == '\t')
			end++;
		return *end == '\0' && errno == 0 ? s : -1;
	}
	when = curl_getdate(v, NULL);
	if (when == (time_t)-1)
		return -1;
	s = difftime(when, time(NULL));
	return s < 0 ? 0 : s;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct http_req *r = ud;
	size_t bytes = size * n, len = bytes;
	char line[256];
	char *v;

	/* Each response (a 100 Continue, a proxy's answer) starts afresh. */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		r->retry_after = r->retry_after_ms = -1;
		return bytes;
	}
	if (len >= sizeof line)
		return bytes;	/* not one we care about */
	memcpy(line, data, len);
	line[len] = '\0';
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
		line[--len] = '\0';
	v = strchr(line, ':');
	if (v == NULL)
		return bytes;
	*v++ = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	if (strcasecmp(line, "Retry-After") == 0)
		r->retry_after = parse_retry_after(v);
	else if (strcasecmp(line, "retry-after-ms") == 0) {
		double ms = parse_retry_after(v);

		r->retry_after_ms = ms >= 0 && isdigit((unsigned char)*v) ? ms / 1000 : -1;
	}
	return bytes;
}

static int req_start(http_client *c, struct http_req *r, long u)
{
	struct http_url *url = &c->urls[u];
	size_t blen = strlen(url->base), plen = strlen(r->path);
	int slash = plen > 0 && r->path[0] != '/';
	CURL *e;

	free(r->full_url);
	r->full_url = malloc(blen + plen + 2);
	if (r->full_url == NULL)
		return -1;
	memcpy(r->full_url, url->base, blen);
	if (slash)
		r->full_url[blen] = '/';
	memcpy(r->full_url + blen + slash, r->path, plen + 1);

	e = curl_easy_init();
	if (e == NULL)
		return -1;
	sb_truncate(&r->resp, 0);
	r->too_large = r->oom = 0;
	r->streamed = 0;
	r->stream_stopped = 0;
	r->max = c->max_response;
	r->retry_after = r->retry_after_ms = -1;
	r->curl_err[0] = '\0';
	r->status = 0;
	r->easy = e;
	r->url = u;

	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_URL, r->full_url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* Fails early when Content-Length announces too much; on_body
	 * catches the rest (chunked, or lying about its length). */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_err);
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		r->easy = NULL;
		return -1;
	}
	r->attempts++;
	url->inflight++;
	url->last_start = ++c->starts;
	return 0;
}

/* ---- outcomes --------------------------------------------------------- */

/* Copy s into out as one line: control characters become spaces, cut at a
 * character boundary. */
static void one_line(char *out, size_t outlen, const char *s, size_t len)
{
	size_t i, n = 0;

	if (len > outlen - 1)
		len = u8_back(s, outlen - 1);
	for (i = 0; i < len; i++)
		out[n++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* Replace every copy of the key in text with "[key]" (never longer). */
static void scrub_key(const http_client *c, char *text)
{
	static const char mask[] = "[key]";
	size_t klen, step;
	char *p = text;

	if (c->key == NULL || (klen = strlen(c->key)) == 0)
		return;
	while ((p = strstr(p, c->key)) != NULL) {
		if (klen < sizeof mask - 1) {
			/* too short for the mask to fit: blank it in place */
			memset(p, '*', klen);
			step = klen;
		} else {
			memcpy(p, mask, sizeof mask - 1);
			memmove(p + sizeof mask - 1, p + klen, strlen(p + klen) + 1);
			step = sizeof mask - 1;
		}
		p += step;
	}
}

static const char *json_str_member(json_object *o, const char *name)
{
	json_object *v;

	if (json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* One line from s, without the key: scrubbed before it is cut short, so
 * that no part of the key survives at the cut. */
static void scrubbed_line(const http_client *c, char *out, size_t outlen, const char *s, size_t len)
{
	char *copy = strndup(s, len);

	if (copy == NULL) {
		snprintf(out, outlen, "(message lost: out of memory)");
		return;
	}
	scrub_key(c, copy);
	one_line(out, outlen, copy, strlen(copy));
	free(copy);
}

/* The server's own words about an error status, from the shapes the
 * OpenAI-compatible servers use; "" when there are none. */
static void server_message(const http_client *c, const struct http_req *r, char *out, size_t outlen)
{
	const char *body = sb_str(&r->resp), *m = NULL;
	json_object *o, *e;

	out[0] = '\0';
	o = json_tokener_parse(body);
	if (o && json_object_is_type(o, json_type_object)) {
		if (json_object_object_get_ex(o, "error", &e)) {
			if (json_object_is_type(e, json_type_string))
				m = json_object_get_string(e);
			else if (json_object_is_type(e, json_type_object))
				m = json_str_member(e, "message");
		}
		if (m == NULL)
			m = json_str_member(o, "message");
		if (m == NULL)
			m = json_str_member(o, "detail");
		if (m)
			scrubbed_line(c, out, outlen, m, strlen(m));
	} else if (o == NULL && body[0] != '<' && body[0] != '{' && body[0] != '[') {
		/* plain text, but not an HTML error page or broken JSON */
		scrubbed_line(c, out, outlen, body, strcspn(body, "\r\n"));
	}
	json_object_put(o);
}

static int transient(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static double retry_delay(http_client *c, const struct http_req *r)
{
	double ra = r->retry_after_ms >= 0 ? r->retry_after_ms : r->retry_after, d;

	if (ra > 0) {
		if (ra > HTTP_RETRY_AFTER_CAP)
			ra = HTTP_RETRY_AFTER_CAP;
		return ra * (1 + 0.1 * rand01(c));
	}
	d = HTTP_BACKOFF_BASE * pow(2, r->attempts - 1);
	if (d > HTTP_BACKOFF_CAP)
		d = HTTP_BACKOFF_CAP;
	return d * (0.5 + 0.5 * rand01(c));
}

static int set_aside(const struct http_url *url, double now)
{
	return url->fails >= HTTP_FAILS_TO_SET_ASIDE && url->until > now;
}

static void url_failed(http_client *c, long u, double now)
{
	struct http_url *url = &c->urls[u];
	double cool;

	/* attempts started before it was set aside are no news */
	if (set_aside(url, now))
		return;
	if (++url->fails < HTTP_FAILS_TO_SET_ASIDE)
		return;
	cool = HTTP_COOLDOWN_BASE * pow(2, url->set_asides);
	if (cool > HTTP_COOLDOWN_CAP)
		cool = HTTP_COOLDOWN_CAP;
	url->set_asides++;
	if (url->until < now + cool)
		url->until = now + cool;
	msg_warn("%s: %d failures in a row; setting it aside for %g s", url->shown, url->fails, cool);
}

static int all_set_aside(const http_client *c, double now)
{
	size_t i;

	for (i = 0; i < c->nurls; i++)
		if (!set_aside(&c->urls[i], now))
			return 0;
	return 1;
}

/* The URL of a request as shown in messages (no credentials). */
static void shown_url(const http_client *c, const struct http_req *r, char *out, size_t outlen)
{
	const char *base = r->url >= 0 ? c->urls[r->url].shown : "";

	snprintf(out, outlen, "%s%s%s", base, r->path[0] == '/' || r->path[0] == '\0' ? "" : "/", r->path);
}

/* Every server is down: fail what is queued now rather than have each
 * request wait through the cool-downs in turn. */
static void fail_queued(http_client *c, const char *why)
{
	while (c->queue.head) {
		struct http_req *r = c->queue.head;

		list_remove(&c->queue, r);
		r->ok = 0;
		snprintf(r->error, sizeof r->error, "%s: every server is failing (%.400s)",
			 r->attempts ? "not sent again" : "not sent", why);
		list_push_back(&c->done, r);
	}
}

static void finish(http_client *c, struct http_req *r, CURLcode code)
{
	struct http_url *url = &c->urls[r->url];
	double now = now_mono(), wait;
	int retry = 0, unhealthy = 0;
	char why[400], msg[HTTP_MSG_MAX], where[256];

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	curl_multi_remove_handle(c->multi, r->easy);
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	list_remove(&c->active, r);
	url->inflight--;

	if (r->oom) {
		snprintf(why, sizeof why, "out of memory reading the answer");
	} else if (r->stream_stopped) {
		snprintf(why, sizeof why, "the reader stopped the answer after %zu bytes", r->streamed);
	} else if (code != CURLE_OK && r->streamed > 0 && !r->too_large && code != CURLE_FILESIZE_EXCEEDED) {
		const char *e = r->curl_err[0] ? r->curl_err : curl_easy_strerror(code);
		char cause[300];

		one_line(cause, sizeof cause, e, strlen(e));
		snprintf(why, sizeof why, "the answer broke off after %zu bytes: %s", r->streamed, cause);
		unhealthy = transient(code);
	} else if (r->too_large || code == CURLE_FILESIZE_EXCEEDED) {
		snprintf(why, sizeof why, "answer longer than %zu bytes, cut off there", c->max_response);
		sb_free(&r->resp);
		unhealthy = 1;
	} else if (code != CURLE_OK) {
		const char *e = r->curl_err[0] ? r->curl_err : curl_easy_strerror(code);

		one_line(why, sizeof why, e, strlen(e));
		retry = unhealthy = transient(code);
		sb_free(&r->resp);	/* whatever came is incomplete */
	} else if (r->status >= 200 && r->status < 300) {
		url->saved_fails = url->fails;
		url->saved_set_asides = url->set_asides;
		url->fails = url->set_asides = 0;
		r->ok = 1;
		list_push_back(&c->done, r);
		return;
	} else {
		server_message(c, r, msg, sizeof msg);
		snprintf(why, sizeof why, "HTTP %ld%s%s", r->status, msg[0] ? ": " : "", msg);
		if (r->status == 429)
			retry = 1;
		else if (r->status == 408 || r->status >= 500)
			retry = unhealthy = 1;
	}
	shown_url(c, r, where, sizeof where);
	if (unhealthy)
		url_failed(c, r->url, now);
	if (retry && r->attempts <= c->retries) {
		wait = retry_delay(c, r);
		/* The server said when it will take more from us: no point
		 * sending it anything else before then. */
		if (r->status == 429 && (r->retry_after > 0 || r->retry_after_ms > 0) && url->until < now + wait)
			url->until = now + wait;
		r->not_before = now + wait;
		msg_info("%s: %s; retrying in %.1f s (attempt %d of %d)", where, why, wait, r->attempts + 1, c->retries + 1);
		list_push_front(&c->queue, r);
		return;
	}
	if (retry)
		snprintf(r->error, sizeof r->error, "%.200s: %.260s (gave up after %d attempts)", where, why, r->attempts);
	else
		snprintf(r->error, sizeof r->error, "%.200s: %.300s", where, why);
	list_push_back(&c->done, r);
	if (unhealthy && all_set_aside(c, now))
		fail_queued(c, r->error);
}

/* ---- scheduling --------------------------------------------------------- */

static void refill(double *level, double *t, double per_s, double cap, double now)
{
	*level += (now - *t) * per_s;
	if (*level > cap)
		*level = cap;
	*t = now;
}

static int rate_allows(http_client *c, const struct http_req *r, double now, double *wake)
{
	double need;

	if (c->rps > 0) {
		refill(&c->rps_level, &c->rps_time, c->rps, c->rps > 1 ? c->rps : 1, now);
		if (c->rps_level < 1) {
			double w = now + (1 - c->rps_level) / c->rps;

			if (w < *wake)
				*wake = w;
			return 0;
		}
	}
	if (c->tpm > 0 && r->tokens > 0) {
		refill(&c->tpm_level, &c->tpm_time, c->tpm / 60, c->tpm, now);
		need = (double)r->tokens < c->tpm ? (double)r->tokens : c->tpm;
		if (c->tpm_level < need) {
			double w = now + (need - c->tpm_level) / (c->tpm / 60);

			if (w < *wake)
				*wake = w;
			return 0;
		}
	}
	if (c->rps > 0)
		c->rps_level -= 1;
	if (c->tpm > 0 && r->tokens > 0)
		c->tpm_level -= (double)r->tokens;
	return 1;
}

/* The least loaded URL with room, preferring one the request has not just
 * failed on, then the one that waited longest; -1 when none has room. */
static long pick_url(http_client *c, const struct http_req *r, double now, double *wake)
{
	long best = -1;
	size_t i;

	for (i = 0; i < c->nurls; i++) {
		struct http_url *u = &c->urls[i], *b;
		/* back from a cool-down: one request at a time until it answers */
		int limit = u->fails >= HTTP_FAILS_TO_SET_ASIDE ? 1 : c->parallel;

		if (u->until > now) {
			if (u->until < *wake)
				*wake = u->until;
			continue;
		}
		if (u->inflight >= limit)
			continue;
		if (best < 0) {
			best = (long)i;
			continue;
		}
		b = &c->urls[best];
		if (u->inflight != b->inflight) {
			if (u->inflight < b->inflight)
				best = (long)i;
		} else if ((best == r->url) != ((long)i == r->url)) {
			if (best == r->url)
				best = (long)i;
		} else if (u->last_start < b->last_start) {
			best = (long)i;
		}
	}
	return best;
}

static int start_ready(http_client *c, double *wake)
{
	for (;;) {
		double now = now_mono();
		struct http_req *r;
		long u;

		for (r = c->queue.head; r; r = r->next) {
			if (r->not_before <= now)
				break;
			if (r->not_before < *wake)
				*wake = r->not_before;
		}
		if (r == NULL)
			return 0;
		u = pick_url(c, r, now, wake);
		if (u < 0 || !rate_allows(c, r, now, wake))
			return 0;
		list_remove(&c->queue, r);
		if (req_start(c, r, u) < 0) {
			list_push_front(&c->queue, r);
			return -1;
		}
		list_push_back(&c->active, r);
	}
}

static int take_done(http_client *c, http_result *res)
{
	struct http_req *r = c->done.head;

	res->tag = r->tag;
	res->ok = r->ok;
	res->status = r->status;
	res->url = r->url >= 0 ? c->urls[r->url].shown : NULL;
	res->attempts = r->attempts;
	memcpy(res->error, r->error, sizeof res->error);
	if (r->stream && r->ok) {
		res->len = r->streamed;
	} else if (r->ok || r->resp.buf) {
		res->len = r->resp.len;
		res->body = sb_take(&r->resp);
		if (res->body == NULL)
			return -1;
	}
	list_remove(&c->done, r);
	req_free(r);
	return 0;
}

int http_next(http_client *c, http_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	for (;;) {
		double wake = INFINITY, ms;
		int running, left, reaped = 0;
		long timeout_ms = 1000;
		CURLMcode mc;
		CURLMsg *m;

		if (c->done.head) {
			/* a request waiting for the slot that just freed goes out
			 * now, while the caller works on this answer */
			if (c->queue.n > 0 && start_ready(c, &wake) == 0)
				curl_multi_perform(c->multi, &running);
			if (take_done(c, res) < 0) {
				set_err(err, errlen, "out of memory");
				return -1;
			}
			return 1;
		}
		if (c->queue.n == 0 && c->active.n == 0)
			return 0;
		if (start_ready(c, &wake) < 0) {
			set_err(err, errlen, "cannot start a transfer (out of memory?)");
			return -1;
		}
		mc = curl_multi_perform(c->multi, &running);
		if (mc != CURLM_OK) {
			set_err(err, errlen, "libcurl: %s", curl_multi_strerror(mc));
			return -1;
		}
		while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
			struct http_req *r = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			finish(c, r, m->data.result);
			reaped = 1;
		}
		if (reaped)
			continue;	/* a result, or room for the next request */
		if (wake < INFINITY) {
			ms = ceil((wake - now_mono()) * 1000);
			if (ms < (double)timeout_ms)
				timeout_ms = ms < 0 ? 0 : (long)ms;
		}
		mc = curl_multi_poll(c->multi, NULL, 0, (int)timeout_ms, NULL);
		if (mc != CURLM_OK) {
			set_err(err, errlen, "libcurl: %s", curl_multi_strerror(mc));
			return -1;
		}
	}
}

void http_reject(http_client *c, const http_result *res)
{
	size_t i;

	for (i = 0; i < c->nurls; i++) {
		struct http_url *u = &c->urls[i];

		if (res->url != u->shown)
			continue;
		if (u->fails < u->saved_fails)
			u->fails = u->saved_fails;
		if (u->set_asides < u->saved_set_asides)
			u->set_asides = u->saved_set_asides;
		url_failed(c, (long)i, now_mono());
		return;
	}
}

void http_result_free(http_result *res)
{
	free(res->body);
	res->body = NULL;
	res->len = 0;
}

int http_opt(int c, const char *arg, http_opts *o, const char **key_file, const char *help)
{
	long v;

	switch (c) {
	case HTTP_OPT_API_KEY_FILE:
		*key_file = arg;
		return OPT_GO_ON;
	case HTTP_OPT_API_KEY:
		/* not echoed: the value is the secret */
		opt_usage_error(help, "--api-key: a key is never taken from the command line, where ps shows it;"
				" set RAG_API_KEY or use --api-key-file");
		return EXIT_USAGE;
	case HTTP_OPT_RETRIES:
		if (opt_long("--retries", arg, 0, 100, &v) < 0)
			return EXIT_USAGE;
		o->retries = (int)v;
		return OPT_GO_ON;
	case HTTP_OPT_TIMEOUT:
		return opt_double("--timeout", arg, 0, 1e6, &o->timeout) < 0 ? EXIT_USAGE : OPT_GO_ON;
	case HTTP_OPT_CONNECT_TIMEOUT:
		return opt_double("--connect-timeout", arg, 0, 1e6, &o->connect_timeout) < 0 ? EXIT_USAGE : OPT_GO_ON;
	case HTTP_OPT_CACERT:
		o->ca_file = arg;
		return OPT_GO_ON;
	}
	return opt_std(c, help);
}

int http_key_load(const char *key_file, char **key, char *err, size_t errlen)
{
	const char *env;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	*key = NULL;
	if (key_file == NULL) {
		if (((env = getenv("RAG_API_KEY")) && *env) || ((env = getenv("OPENAI_API_KEY")) && *env)) {
			*key = strdup(env);
			if (*key == NULL) {
				set_err(err, errlen, "out of memory");
				return -1;
			}
		}
		return 0;
	}
	f = fopen(key_file, "r");
	if (f == NULL) {
		set_err(err, errlen, "%s: %s", key_file, strerror(errno));
		return -1;
	}
	n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && strchr("\r\n \t", line[n - 1]))
		line[--n] = '\0';
	if (n <= 0) {
		set_err(err, errlen, "%s: no key in the file", key_file);
		if (line)
			explicit_bzero(line, cap);
		free(line);
		return -1;
	}
	*key = line;
	return 0;
}

void http_key_free(char *key)
{
	wipe_free(key);
}

long http_env_urls(const char *var, const char **urls, size_t max, char **buf)
{
	const char *env = getenv(var);
	char *p, *save = NULL;
	long n = 0;

	*buf = NULL;
	if (env == NULL || *env == '\0')
		env = getenv("OPENAI_BASE_URL");
	if (env == NULL || *env == '\0')
		return 0;
	*buf = strdup(env);
	if (*buf == NULL)
		return -1;
	for (p = strtok_r(*buf, ", ", &save); p && (size_t)n < max; p = strtok_r(NULL, ", ", &save))
		urls[n++] = p;
	return n;
}

long http_estimate_tokens(const char *utf8, size_t len)
{
	long cjk = 0, other = 0;
	size_t i = 0;

	while (i < len) {
		int32_t cp;

		i += u8_decode(utf8 + i, len - i, &cp, NULL);
		if (u8_is_cjk(cp))
			cjk++;
		else
			other++;
	}
	return cjk + (other + 3) / 4;
}
