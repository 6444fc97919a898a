/* hookload.c - the webhook benchmark's load generator (libcurl multi). */

/*
 * hookload URL CONNECTIONS SECONDS LEVEL [TOKEN]
 *
 * Keeps CONNECTIONS POSTs of a recorded Ceph RGW notification in flight
 * on as many keep-alive connections for SECONDS, then starts no more and
 * waits for every one in flight to be answered (or to time out, after
 * 30 s): unlike wrk, which drops what is in flight when its time is up,
 * every request sent is counted, so the answers can be checked against
 * the journal to the event. Each request is another object: its key
 * (incoming/bench/L<LEVEL>/<n>.jpg), eTag and eventId are its own, and
 * its sequencer, RGW's (the hex of a little-endian utime_t), is a time
 * that grows with n, 1 us a request, from LEVEL * 1,000 s after the
 * recorded one: LEVEL, a small integer, keeps the runs of one benchmark
 * apart and their sequencers growing from one to the next.
 * TOKEN, if given, is sent as "Authorization: Bearer TOKEN".
 *
 * Prints NAME=VALUE lines: requests sent, 200 answers and the sum of
 * their "accepted", other answers by class, transfer errors, the run's
 * length (first request to last answer, drain included) in seconds, and
 * latency percentiles of every answer (send to last byte), in ms, and
 * this process's CPU seconds.
 */

#define _GNU_SOURCE
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

#define SEC 1000000000LL
#define MAX_CONNECTIONS 4096
#define RECORDED_SEC 1795715168UL /* the recorded event's time */

/* The recorded event (RGW 19, HTTP endpoint), with its request id, key,
 * eTag, sequencer and eventId (time and eTag) made printf conversions. */
static const char event[] =
    "{\"Records\":[{\"eventVersion\":\"2.2\",\"eventSource\":\"ceph:s3\","
    "\"awsRegion\":\"\",\"eventTime\":\"2026-11-26T17:46:08.019569Z\","
    "\"eventName\":\"ObjectCreated:Put\","
    "\"userIdentity\":{\"principalId\":\"tester\"},"
    "\"requestParameters\":{\"sourceIPAddress\":\"\"},"
    "\"responseElements\":{\"x-amz-request-id\":"
    "\"2ef0fd56-f6d6-42bf-80a0-59f9bdd7974d.4116.%d%09ld\","
    "\"x-amz-id-2\":\"1014-default-default\"},"
    "\"s3\":{\"s3SchemaVersion\":\"1.0\",\"configurationId\":\"created-http\","
    "\"bucket\":{\"name\":\"notifbucket\",\"ownerIdentity\":"
    "{\"principalId\":\"tester\"},\"arn\":\"arn:aws:s3:::notifbucket\","
    "\"id\":\"2ef0fd56-f6d6-42bf-80a0-59f9bdd7974d.4118.4\"},"
    "\"object\":{\"key\":\"incoming/bench/L%d/%ld.jpg\",\"size\":10,"
    "\"eTag\":\"%08x0000000000000000%08lx\",\"versionId\":\"\","
    "\"sequencer\":\"%s\",\"metadata\":[{\"key\":\"x-amz-meta-origin\","
    "\"val\":\"camera1\"}],\"tags\":[]}},"
    "\"eventId\":\"%lu.%06lu.%08x0000000000000000%08lx\","
    "\"opaqueData\":\"\"}]}";

struct conn {
	CURL *h;
	int64_t sent; /* when the request was added */
	char body[2048]; /* the request's */
	char answer[512]; /* the answer's first bytes */
	size_t alen;
};

static int level;
static long body_bytes, nsent, nok, naccepted, n4xx, n503, nother, nerrors;
static char last_bad[256];
static int64_t *lat; /* ns, one per answer */
static size_t nlat, lat_cap;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static size_t
keep(char *p, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = size * n, room = sizeof c->answer - 1 - c->alen;

	memcpy(c->answer + c->alen, p, len < room ? len : room);
	c->alen += len < room ? len : room;
	c->answer[c->alen] = '\0';
	return len;
}

/* Starts the next request on c. */
static void
start(CURLM *m, struct conn *c)
{
	long n = ++nsent;
	unsigned long usec = (unsigned long)n % 1000000;
	unsigned long sec = RECORDED_SEC + 1000UL * (unsigned long)level +
	    (unsigned long)n / 1000000;
	char seq[17];
	int i, len;

	for (i = 0; i < 4; i++) /* {uint32 sec, nsec}, little-endian */
		snprintf(seq + 2 * i, 3, "%02lX", sec >> (8 * i) & 0xff);
	for (i = 0; i < 4; i++)
		snprintf(seq + 8 + 2 * i, 3, "%02lX",
		    usec * 1000 >> (8 * i) & 0xff);
	len = snprintf(c->body, sizeof c->body, event, level, n, level, n,
	    (unsigned)level, (unsigned long)n, seq, sec, usec, (unsigned)level,
	    (unsigned long)n);
	if (len < 0 || (size_t)len >= sizeof c->body)
		errx(1, "the event does not fit");
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)len);
	body_bytes = len;
	c->alen = 0;
	c->answer[0] = '\0';
	c->sent = now_ns();
	if (curl_multi_add_handle(m, c->h) != CURLM_OK)
		errx(1, "curl_multi_add_handle failed");
}

static void
done(CURLMsg *msg, struct conn *c)
{
	long code = 0;
	const char *a;

	if (nlat == lat_cap) {
		lat_cap = lat_cap ? lat_cap * 2 : 65536;
		if ((lat = realloc(lat, lat_cap * sizeof *lat)) == NULL)
			err(1, "realloc");
	}
	if (msg->data.result != CURLE_OK) {
		nerrors++;
		snprintf(last_bad, sizeof last_bad, "%s",
		    curl_easy_strerror(msg->data.result));
		return;
	}
	lat[nlat++] = now_ns() - c->sent;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (code == 200) {
		nok++;
		if ((a = strstr(c->answer, "\"accepted\":")) != NULL)
			naccepted += strtol(a + 11, NULL, 10);
		return;
	}
	if (code == 503)
		n503++;
	else if (code >= 400 && code < 500)
		n4xx++;
	else
		nother++;
	snprintf(last_bad, sizeof last_bad, "%ld %.200s", code, c->answer);
}

static int
cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double q)
{
	size_t i = (size_t)(q * (double)nlat);

	if (nlat == 0)
		return 0;
	return (double)lat[i < nlat ? i : nlat - 1] / 1e6;
}

int
main(int argc, char **argv)
{
	struct curl_slist *hdrs = NULL;
	struct conn *conns;
	struct rusage ru;
	char auth[1024], *p;
	int64_t t0, end, last = 0;
	long nconn, secs;
	int i, running, left;
	CURLMsg *msg;
	CURLM *m;

	if (argc < 5 || argc > 6)
		errx(2,
		    "usage: hookload URL CONNECTIONS SECONDS LEVEL [TOKEN]");
	nconn = strtol(argv[2], NULL, 10);
	secs = strtol(argv[3], NULL, 10);
	level = (int)strtol(argv[4], NULL, 10);
	if (nconn < 1 || nconn > MAX_CONNECTIONS || secs < 1 || level < 0)
		errx(2, "bad CONNECTIONS, SECONDS or LEVEL");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		errx(1, "curl_global_init failed");
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue */
	if (argc == 6 && argv[5][0] != '\0') {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s",
		    argv[5]);
		if ((p = strchr(auth, '\n')) != NULL)
			*p = '\0';
		hdrs = curl_slist_append(hdrs, auth);
	}
	if ((m = curl_multi_init()) == NULL ||
	    (conns = calloc((size_t)nconn, sizeof *conns)) == NULL)
		errx(1, "out of memory");
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, nconn);
	for (i = 0; i < nconn; i++) {
		struct conn *c = &conns[i];

		if ((c->h = curl_easy_init()) == NULL)
			errx(1, "curl_easy_init failed");
		curl_easy_setopt(c->h, CURLOPT_URL, argv[1]);
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, keep);
		curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
		curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	}
	t0 = now_ns();
	end = t0 + secs * SEC;
	for (i = 0; i < nconn; i++)
		start(m, &conns[i]);
	do {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			errx(1, "curl_multi_perform failed");
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct conn *c;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&c);
			done(msg, c);
			last = now_ns();
			curl_multi_remove_handle(m, c->h);
			if (last < end) {
				start(m, c);
				running++;
			}
		}
		if (running > 0 &&
		    curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			errx(1, "curl_multi_poll failed");
	} while (running > 0);

	qsort(lat, nlat, sizeof *lat, cmp);
	getrusage(RUSAGE_SELF, &ru);
	printf("sent=%ld\nok=%ld\naccepted=%ld\ns4xx=%ld\ns503=%ld\n"
	       "other=%ld\nerrors=%ld\nseconds=%.3f\np50_ms=%.2f\n"
	       "p99_ms=%.2f\nmax_ms=%.2f\ncpu_s=%.2f\nbody_bytes=%ld\n",
	    nsent, nok, naccepted, n4xx, n503, nother, nerrors,
	    (double)(last - t0) / 1e9, pct(0.5), pct(0.99),
	    nlat ? (double)lat[nlat - 1] / 1e6 : 0.0,
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	    body_bytes);
	if (last_bad[0] != '\0') {
		for (p = last_bad; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r' || *p == '\'')
				*p = ' ';
		printf("last_bad='%s'\n", last_bad);
	}
	for (i = 0; i < nconn; i++) {
		curl_multi_remove_handle(m, conns[i].h);
		curl_easy_cleanup(conns[i].h);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	curl_global_cleanup();
	free(conns);
	free(lat);
	return 0;
}
