/* http-driver: exercise common/http.c from the shell (tests/http.bats).
 *
 * Reads lines "PATH<TAB>BODY" from stdin, submits them all, and prints one
 * line per result in the order they finish:
 *
 *	TAG STATUS ATTEMPTS URL		on success (TAG: the input line number)
 *	TAG fail STATUS ATTEMPTS ERROR	on failure
 *
 * The API key comes from RAG_API_KEY, as in the real programs: never argv. */
#include "http.h"
#include "msg.h"
#include "opt.h"

#include <json-c/json.h>

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: http-driver [-hqvbj] -u URL [-u URL]... [-p N] [-r N] [-c S] [-t S] [-m BYTES] [--rps N] [--tpm N] [--ca FILE]\n"
	"POST each stdin line PATH<TAB>BODY to the servers; print TAG STATUS ATTEMPTS URL per result.\n"
	"\n"
	"  -u, --url URL          a base URL (repeat for several)\n"
	"  -p, --parallel N       requests in flight per URL\n"
	"  -r, --retries N        retries per request\n"
	"  -c, --connect-timeout S\n"
	"  -t, --timeout S        per attempt\n"
	"  -m, --max-response N   bytes\n"
	"      --rps N, --tpm N   rate limits\n"
	"      --ca FILE          CA certificates\n"
	"  -b, --body             print each answer's body after its line, tab-separated\n"
	"  -j, --json             reject (http_reject) a 2xx answer that is not a JSON object\n"
	"The API key is taken from RAG_API_KEY.\n";

enum { OPT_RPS = OPT_FIRST_PRIVATE, OPT_TPM, OPT_CA };

static int parse_secs(const char *name, const char *arg, double *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (*arg == '\0' || *end != '\0' || !(v >= 0) || v > 1e9) {
		opt_usage_error(help, "%s: not a number of seconds >= 0: %s", name, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		OPT_STD_LONG,
		{ "url", required_argument, NULL, 'u' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "retries", required_argument, NULL, 'r' },
		{ "connect-timeout", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-response", required_argument, NULL, 'm' },
		{ "rps", required_argument, NULL, OPT_RPS },
		{ "tpm", required_argument, NULL, OPT_TPM },
		{ "ca", required_argument, NULL, OPT_CA },
		{ "body", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *urls[16];
	http_opts o;
	http_client *c;
	http_result res;
	char err[512], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0, v;
	int opt, print_body = 0, check_json = 0, status = 0, r;

	msg_init(argv);
	signal(SIGPIPE, SIG_IGN);
	http_opts_init(&o);
	o.urls = urls;
	while ((opt = getopt_long(argc, argv, OPT_STD_SHORT "u:p:r:c:t:m:bj", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			if (o.nurls == sizeof urls / sizeof urls[0]) {
				opt_usage_error(help, "too many URLs");
				return EXIT_USAGE;
			}
			urls[o.nurls++] = optarg;
			break;
		case 'p':
			if (opt_long("--parallel", optarg, 1, 1000, &v) < 0)
				return EXIT_USAGE;
			o.parallel = (int)v;
			break;
		case 'r':
			if (opt_long("--retries", optarg, 0, 100, &v) < 0)
				return EXIT_USAGE;
			o.retries = (int)v;
			break;
		case 'm':
			if (opt_long("--max-response", optarg, 1, 1L << 40, &v) < 0)
				return EXIT_USAGE;
			o.max_response = (size_t)v;
			break;
		case 'c':
			if (parse_secs("--connect-timeout", optarg, &o.connect_timeout) < 0)
				return EXIT_USAGE;
			break;
		case 't':
			if (parse_secs("--timeout", optarg, &o.timeout) < 0)
				return EXIT_USAGE;
			break;
		case OPT_RPS:
			if (parse_secs("--rps", optarg, &o.rps) < 0)
				return EXIT_USAGE;
			break;
		case OPT_TPM:
			if (parse_secs("--tpm", optarg, &o.tpm) < 0)
				return EXIT_USAGE;
			break;
		case OPT_CA:
			o.ca_file = optarg;
			break;
		case 'b':
			print_body = 1;
			break;
		case 'j':
			check_json = 1;
			break;
		default:
			if ((r = opt_std(opt, help)) != OPT_GO_ON)
				return r;
		}
	}
	if (optind < argc || o.nurls == 0) {
		opt_usage_error(help, optind < argc ? "unexpected argument: %s" : "no URL given (-u)", argv[optind]);
		return EXIT_USAGE;
	}
	o.api_key = getenv("RAG_API_KEY");
	c = http_new(&o, err, sizeof err);
	if (c == NULL) {
		msg_error("%s", err);
		return EXIT_USAGE;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		char *tab;

		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		tab = strchr(line, '\t');
		if (tab == NULL) {
			msg_error("stdin:%ld: expected PATH<TAB>BODY", lineno);
			status = EXIT_SOME_FAILED;
			continue;
		}
		*tab = '\0';
		if (http_submit(c, line, tab + 1, (size_t)(line + n - tab - 1),
				http_estimate_tokens(tab + 1, (size_t)(line + n - tab - 1)), (void *)(intptr_t)lineno) < 0) {
			msg_error("out of memory");
			return EXIT_SOME_FAILED;
		}
	}
	free(line);
	while ((r = http_next(c, &res, err, sizeof err)) == 1) {
		long tag = (long)(intptr_t)res.tag;

		if (res.ok && check_json) {
			json_object *j = json_tokener_parse(res.body);

			if (j == NULL || !json_object_is_type(j, json_type_object)) {
				res.ok = 0;
				snprintf(res.error, sizeof res.error, "%s: the answer is not a JSON object", res.url);
				http_reject(c, &res);
			}
			json_object_put(j);
		}
		if (res.ok) {
			printf("%ld %ld %d %s", tag, res.status, res.attempts, res.url);
			if (print_body)
				printf("\t%s", res.body);
			putchar('\n');
		} else {
			printf("%ld fail %ld %d %s\n", tag, res.status, res.attempts, res.error);
			status = EXIT_SOME_FAILED;
		}
		fflush(stdout);
		http_result_free(&res);
	}
	if (r < 0) {
		msg_error("%s", err);
		status = EXIT_SOME_FAILED;
	}
	http_free(c);
	return status;
}
