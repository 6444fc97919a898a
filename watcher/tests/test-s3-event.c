/* test-s3-event.c - bucket notifications as AWS, MinIO, RGW and SNS send
 * them, and as a broken or hostile sender might. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objtrigger.h"

/* The samples in watcher/tests/events, found through the source tree. */
static char *
sample(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *buf;
	long size;
	FILE *f;

	if (top == NULL)
		fail_msg("top_srcdir is not set (run through make check)");
	snprintf(path, sizeof path, "%s/watcher/tests/events/%s", top, name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((size = ftell(f)) > 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	buf[size] = '\0';
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static void
decode(const char *body, size_t len, struct s3_events *evs)
{
	char *why = NULL;

	if (s3_events_decode(body, len, evs, &why) != 0)
		fail_msg("decode failed: %s", why);
	assert_null(why);
}

static void
decode_sample(const char *name, struct s3_events *evs)
{
	size_t len;
	char *body = sample(name, &len);

	decode(body, len, evs);
	free(body);
}

static void
check_event(const struct s3_event *e, const char *bucket, const char *key,
    const char *event, const char *etag, uint64_t size)
{
	assert_string_equal(e->bucket, bucket);
	assert_string_equal(e->key, key);
	assert_string_equal(e->event, event);
	assert_string_equal(e->etag, etag);
	assert_int_equal(e->size, size);
}

/* A sample holding one record, which decodes to the event given. */
static void
check_sample(const char *name, const char *bucket, const char *key,
    const char *event, const char *etag, uint64_t size, const char *sequencer)
{
	struct s3_events evs;

	decode_sample(name, &evs);
	assert_int_equal(evs.kind, S3_EVENTS_RECORDS);
	assert_int_equal(evs.n, 1);
	assert_int_equal(evs.nrejected, 0);
	assert_int_equal(evs.ignored, 0);
	check_event(&evs.records[0], bucket, key, event, etag, size);
	assert_string_equal(evs.records[0].sequencer, sequencer);
	assert_null(evs.topic_arn);
	assert_null(evs.subscribe_url);
	s3_events_clear(&evs);
}

/* A body that is no notification: -1, a one-line why, nothing kept. */
static void
expect_fail(const char *body, size_t len, const char *words)
{
	struct s3_events evs;
	char *why = NULL;

	assert_int_equal(s3_events_decode(body, len, &evs, &why), -1);
	assert_non_null(why);
	if (strstr(why, words) == NULL)
		fail_msg("why '%s' lacks '%s'", why, words);
	assert_null(strchr(why, '\n'));
	assert_null(evs.records);
	assert_null(evs.rejected);
	assert_null(evs.topic_arn);
	free(why);
}

static void
expect_fail_text(const char *body, const char *words)
{
	expect_fail(body, strlen(body), words);
}

/* A body of one record, its fields given as JSON text. */
static char *
one_record(const char *source, const char *name, const char *bucket,
    const char *object)
{
	char *body;

	xasprintf(&body,
	    "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":%s,"
	    "\"eventName\":%s,\"s3\":{\"bucket\":{\"name\":%s},"
	    "\"object\":{%s}}}]}",
	    source, name, bucket, object);
	return body;
}

/* A record that decodes alone, to the key given (the sequencer too, if
 * given). */
static void
expect_key(const char *source, const char *object, const char *key,
    const char *sequencer)
{
	char *body =
	    one_record(source, "\"ObjectCreated:Put\"", "\"b\"", object);
	struct s3_events evs;

	decode(body, strlen(body), &evs);
	if (evs.n != 1)
		fail_msg("%s: %s", body,
		    evs.nrejected > 0 ? evs.rejected[0] : "ignored");
	assert_string_equal(evs.records[0].key, key);
	if (sequencer != NULL)
		assert_string_equal(evs.records[0].sequencer, sequencer);
	s3_events_clear(&evs);
	free(body);
}

/* A record refused alone, for the reason given. */
static void
expect_rejected(const char *body, const char *words)
{
	struct s3_events evs;

	decode(body, strlen(body), &evs);
	assert_int_equal(evs.kind, S3_EVENTS_RECORDS);
	assert_int_equal(evs.n, 0);
	assert_int_equal(evs.ignored, 0);
	if (evs.nrejected != 1)
		fail_msg("%s: not rejected", body);
	if (strncmp(evs.rejected[0], "record 0: ", 10) != 0 ||
	    strstr(evs.rejected[0], words) == NULL)
		fail_msg("'%s' lacks '%s'", evs.rejected[0], words);
	assert_null(strchr(evs.rejected[0], '\n'));
	s3_events_clear(&evs);
}

static void
expect_rejected_record(const char *source, const char *name, const char *bucket,
    const char *object, const char *words)
{
	char *body = one_record(source, name, bucket, object);

	expect_rejected(body, words);
	free(body);
}

static void
test_aws_put(void **state)
{
	check_sample("aws-s3-put.json", "photos-in",
	    "uploads/red flower (1).jpg", "created",
	    "d41d8cd98f00b204e9800998ecf8427e", 1024,
	    "0000000000000000"
	    "55AED6DCD90281E5");
}

static void
test_aws_test_event(void **state)
{
	struct s3_events evs;

	decode_sample("aws-s3-test-event.json", &evs);
	assert_int_equal(evs.kind, S3_EVENTS_TEST);
	assert_int_equal(evs.n, 0);
	assert_int_equal(evs.nrejected, 0);
	s3_events_clear(&evs);
}

/* MinIO encodes '/' too, and wraps its records with fields of its own. */
static void
test_minio_put(void **state)
{
	check_sample("minio-put.json", "images", "uploads/my photo.jpg",
	    "created", "430f89010c77aa34fc8760696da62d08", 6474,
	    "0000000000000000"
	    "17C9B2A6C1A07E55");
}

/* RGW sends keys raw: its '+' is a '+', its '%' a '%'. */
static void
test_ceph_raw_key(void **state)
{
	check_sample("ceph-rgw-http-ObjectCreated-Put-key-with-space.json",
	    "spacekeys", "dir/my photo+1 \xc3\xa9.jpg", "created",
	    "9023402ddf388851d184bb3a6a077928", 10,
	    "0000000000000000"
	    "6B087507"
	    "02653340");
	expect_key("\"ceph:s3\"", "\"key\":\"a%41+b%\"", "a%41+b%", NULL);
}

static void
test_ceph_samples(void **state)
{
	check_sample("ceph-rgw-http-ObjectCreated-CompleteMultipartUpload.json",
	    "notifbucket", "incoming/big-multipart.bin", "created",
	    "4d9de7c3991015436b079730eead97b8-3", 20000000,
	    "0000000000000000"
	    "6B087359"
	    "19D7AB43");
	check_sample("ceph-rgw-http-ObjectCreated-Copy.json", "notifbucket",
	    "incoming/photo1-copy.jpg", "created",
	    "9023402ddf388851d184bb3a6a077928", 10,
	    "0000000000000000"
	    "6B08735E"
	    "053C1E58");
	check_sample("ceph-rgw-http-ObjectRemoved-Delete.json", "notifbucket",
	    "incoming/photo1-copy.jpg", "removed",
	    "9023402ddf388851d184bb3a6a077928", 10,
	    "0000000000000000"
	    "6B08735E"
	    "18A79DB2");
	check_sample("ceph-rgw-http-put.json", "notifbucket",
	    "incoming/photo1.jpg", "created",
	    "9023402ddf388851d184bb3a6a077928", 10,
	    "0000000000000000"
	    "6B087060"
	    "014C558A");
	check_sample("ceph-rgw-amqp-put.json", "amqpbucket", "in/a1.png",
	    "created", "9023402ddf388851d184bb3a6a077928", 10,
	    "0000000000000000"
	    "6B08734A"
	    "11CF7903");
}

static char *
sequencer_of(const char *name)
{
	struct s3_events evs;
	char *seq;

	decode_sample(name, &evs);
	assert_int_equal(evs.n, 1);
	seq = xstrdup(evs.records[0].sequencer);
	s3_events_clear(&evs);
	return seq;
}

/* RGW's sequencer is little-endian: as sent, a put at 17:46 compares
 * after a copy at 17:58; normalised, events order as they happened. */
static void
test_ceph_sequencer_order(void **state)
{
	char *put = sequencer_of("ceph-rgw-http-put.json");
	char *copy = sequencer_of("ceph-rgw-http-ObjectCreated-Copy.json");
	char *del = sequencer_of("ceph-rgw-http-ObjectRemoved-Delete.json");

	/* One key, put (copied to) then deleted, 0.33 s apart. */
	assert_true(strcmp("5E73086B581E3C05", "5E73086BB29DA718") < 0);
	assert_true(strcmp(copy, del) < 0);
	/* Where the bytes as sent would mislead. */
	assert_true(strcmp("6070086B8A554C01", "5E73086B581E3C05") > 0);
	assert_true(strcmp(put, copy) < 0);
	free(put);
	free(copy);
	free(del);
}

static void
test_sequencers(void **state)
{
	const char *zeros = "0000000000000000";
	char want[64];

	snprintf(want, sizeof want, "%s%s", zeros, "00000000000000AB");
	expect_key("\"aws:s3\"", "\"key\":\"k\",\"sequencer\":\"ab\"", "k",
	    want);
	expect_key("\"minio:s3\"", "\"key\":\"k\",\"sequencer\":\"000ab\"", "k",
	    want);
	/* Longer than 32 digits, only zeros beyond. */
	expect_key("\"aws:s3\"",
	    "\"key\":\"k\",\"sequencer\":"
	    "\"000000000000000000000000000000000000000000ab\"",
	    "k", want);
	expect_key("\"aws:s3\"",
	    "\"key\":\"k\",\"sequencer\":"
	    "\"100000000000000000000000000000000\"",
	    "k", "");
	expect_key("\"aws:s3\"", "\"key\":\"k\",\"sequencer\":\"12G4\"", "k",
	    "");
	expect_key("\"aws:s3\"", "\"key\":\"k\",\"sequencer\":\"\"", "k", "");
	expect_key("\"aws:s3\"", "\"key\":\"k\"", "k", "");
	expect_key("\"aws:s3\"", "\"key\":\"k\",\"sequencer\":null", "k", "");
	/* RGW's: 16 hex digits of {sec, nsec}, nsec under 10^9. */
	snprintf(want, sizeof want, "%s%s", zeros, "6B08735E053C1E58");
	expect_key("\"ceph:s3\"",
	    "\"key\":\"k\",\"sequencer\":\"5e73086b581e3c05\"", "k", want);
	expect_key("\"ceph:s3\"",
	    "\"key\":\"k\",\"sequencer\":\"5E73086B581E\"", "k", "");
	expect_key("\"ceph:s3\"",
	    "\"key\":\"k\",\"sequencer\":\"5E73086B581E3C0500\"", "k", "");
	expect_key("\"ceph:s3\"",
	    "\"key\":\"k\",\"sequencer\":\"5E73086BFFFFFFFF\"", "k", "");
	expect_key("\"ceph:s3\"",
	    "\"key\":\"k\",\"sequencer\":\"5E73086B581E3C0Z\"", "k", "");
}

static void
test_keys(void **state)
{
	expect_key("\"aws:s3\"", "\"key\":\"a%2fb%2F+c%25%2B\"", "a/b/ c%+",
	    NULL);
	expect_key("\"aws:s3\"", "\"key\":\"%C3%A9t%c3%a9\"",
	    "\xc3\xa9t\xc3\xa9", NULL);
	/* A key, never a path: callers deal with that. */
	expect_key("\"aws:s3\"", "\"key\":\"../../etc/passwd\"",
	    "../../etc/passwd", NULL);
	expect_key("\"ceph:s3\"", "\"key\":\"../../etc/passwd\"",
	    "../../etc/passwd", NULL);
	expect_key("\"aws:s3\"", "\"key\":\"+\"", " ", NULL);
}

/* What a watch confined to bucket and prefix makes of the record that
 * source sends for key (as the store writes it in the JSON): want 0
 * (taken), 1 (outside the prefix) or -1 (refused, why holding reason). */
static void
check_confine(const char *source, const char *key, const char *bucket,
    const char *prefix, int want, const char *reason)
{
	char object[256], *body, *why;
	struct s3_events evs;
	int rc;

	snprintf(object, sizeof object, "\"key\":\"%s\"", key);
	body = one_record(source, "\"ObjectCreated:Put\"", "\"photos-in\"",
	    object);
	decode(body, strlen(body), &evs);
	assert_int_equal(evs.n, 1);
	rc = s3_event_confine(&evs.records[0], bucket, prefix, &why);
	if (rc != want)
		fail_msg("key '%s', bucket %s, prefix '%s': %d, not %d (%s)",
		    key, bucket != NULL ? bucket : "(any)", prefix, rc, want,
		    why != NULL ? why : "no reason");
	if (want == -1) {
		assert_non_null(why);
		if (strstr(why, reason) == NULL)
			fail_msg("'%s' does not say '%s'", why, reason);
	} else
		assert_null(why);
	free(why);
	s3_events_clear(&evs);
	free(body);
}

/* A confined watch judges the key as given, and refuses one with a dot
 * segment, which a path would resolve out of its prefix or bucket. */
static void
test_confine(void **state)
{
	const char *dots = "key has a dot segment";

	check_confine("\"ceph:s3\"", "uploads/../../other-bucket/x",
	    "photos-in", "uploads/", -1, dots);
	/* AWS and MinIO encode the key: judged once decoded. */
	check_confine("\"aws:s3\"", "uploads/%2E%2E/%2e%2E/other-bucket/x",
	    "photos-in", "uploads/", -1, dots);
	check_confine("\"minio:s3\"", "uploads%2F..%2F..%2Fother-bucket%2Fx",
	    "photos-in", "uploads/", -1, dots);
	check_confine("\"ceph:s3\"", "uploads/./x", "photos-in", "uploads/", -1,
	    dots);
	check_confine("\"ceph:s3\"", "uploads/x/..", "photos-in", "uploads/",
	    -1, dots);
	check_confine("\"ceph:s3\"", "uploads//../x", "photos-in", "uploads/",
	    -1, dots);
	/* Outside the prefix as given, and a dot segment: refused too. */
	check_confine("\"ceph:s3\"", "other/../uploads/x", "photos-in",
	    "uploads/", -1, dots);
	/* Confined by the bucket alone, or by the prefix alone. */
	check_confine("\"ceph:s3\"", "../other-bucket/x", "photos-in", "", -1,
	    dots);
	check_confine("\"ceph:s3\"", "uploads/../x", NULL, "uploads/", -1,
	    dots);
	/* Dots that are no segment are names like others. */
	check_confine("\"ceph:s3\"", "uploads/..a/.b/c../.../x.", "photos-in",
	    "uploads/", 0, NULL);
	check_confine("\"ceph:s3\"", "uploads/a.jpg", "photos-in", "uploads/",
	    0, NULL);
	check_confine("\"ceph:s3\"", "other/a.jpg", "photos-in", "uploads/", 1,
	    NULL);
	check_confine("\"ceph:s3\"", "uploads/a.jpg", "other-bucket",
	    "uploads/", -1, "is not the watch's bucket 'other-bucket'");
	/* An unconfined watch: a key is a key. */
	check_confine("\"ceph:s3\"", "../../etc/passwd", NULL, "", 0, NULL);
}

static void
check_kind(const char *name, const char *event)
{
	char *body = one_record("\"ceph:s3\"", name, "\"b\"", "\"key\":\"k\"");
	struct s3_events evs;

	decode(body, strlen(body), &evs);
	assert_int_equal(evs.nrejected, 0);
	if (event == NULL) {
		assert_int_equal(evs.n, 0);
		assert_int_equal(evs.ignored, 1);
	} else {
		assert_int_equal(evs.n, 1);
		assert_string_equal(evs.records[0].event, event);
	}
	s3_events_clear(&evs);
	free(body);
}

static void
test_event_names(void **state)
{
	check_kind("\"ObjectCreated:Put\"", "created");
	check_kind("\"s3:ObjectCreated:CompleteMultipartUpload\"", "created");
	check_kind("\"ObjectRemoved:Delete\"", "removed");
	check_kind("\"s3:ObjectRemoved:DeleteMarkerCreated\"", "removed");
	check_kind("\"s3:ObjectTagging:Put\"", NULL);
	check_kind("\"ObjectRestore:Completed\"", NULL);
	check_kind("\"s3:Replication:OperationFailedReplication\"", NULL);
	check_kind("\"ObjectLifecycle:Expiration:Current\"", NULL);
	check_kind("\"ObjectCreated\"", NULL);
	check_kind("\"S3:ObjectCreated:Put\"", NULL);
}

static void
test_fields(void **state)
{
	char *body =
	    one_record("\"aws:s3\"", "\"ObjectRemoved:Delete\"", "\"b\"",
		"\"key\":\"k\",\"etag\":\"\\\"abc-2\\\"\","
		"\"versionId\":\"v1\"");
	struct s3_events evs;

	decode(body, strlen(body), &evs);
	assert_int_equal(evs.n, 1);
	check_event(&evs.records[0], "b", "k", "removed", "abc-2", 0);
	assert_string_equal(evs.records[0].version, "v1");
	s3_events_clear(&evs);
	s3_events_clear(&evs);
	free(body);

	body = one_record("\"minio:s3\"", "\"ObjectCreated:Put\"", "\"b\"",
	    "\"key\":\"k\",\"size\":18446744073709551615");
	expect_fail_text(body, "not JSON");
	free(body);
	body = one_record("\"minio:s3\"", "\"ObjectCreated:Put\"", "\"b\"",
	    "\"key\":\"k\",\"size\":9223372036854775807,\"eTag\":null");
	decode(body, strlen(body), &evs);
	assert_int_equal(evs.n, 1);
	check_event(&evs.records[0], "b", "k", "created", "", INT64_MAX);
	assert_string_equal(evs.records[0].version, "");
	assert_string_equal(evs.records[0].sequencer, "");
	s3_events_clear(&evs);
	free(body);
}

/* Duplicate names are no error: the last one holds. */
static void
test_duplicates(void **state)
{
	const char *body = "{\"Records\":[{\"eventSource\":\"aws:s3\","
			   "\"eventName\":\"ObjectCreated:Put\","
			   "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":"
			   "{\"key\":\"one\",\"key\":\"two\"}}}]}";
	struct s3_events evs;

	decode(body, strlen(body), &evs);
	assert_int_equal(evs.n, 1);
	assert_string_equal(evs.records[0].key, "two");
	s3_events_clear(&evs);
}

static void
test_sns_notification(void **state)
{
	struct s3_events evs;

	decode_sample("sns-notification-aws-put.json", &evs);
	assert_int_equal(evs.kind, S3_EVENTS_RECORDS);
	assert_int_equal(evs.n, 1);
	check_event(&evs.records[0], "photos-in", "uploads/red flower (1).jpg",
	    "created", "d41d8cd98f00b204e9800998ecf8427e", 1024);
	assert_string_equal(evs.topic_arn,
	    "arn:aws:sns:us-west-2:123456789012:photos-in-events");
	assert_null(evs.subscribe_url);
	s3_events_clear(&evs);
}

static void
test_sns_confirmation(void **state)
{
	const char *url = "https://sns.us-west-2.amazonaws.com/"
			  "?Action=ConfirmSubscription&TopicArn=";
	struct s3_events evs;

	decode_sample("sns-subscription-confirmation.json", &evs);
	assert_int_equal(evs.kind, S3_EVENTS_SNS_CONFIRM);
	assert_int_equal(evs.n, 0);
	assert_non_null(evs.subscribe_url);
	assert_true(strncmp(evs.subscribe_url, url, strlen(url)) == 0);
	assert_string_equal(evs.topic_arn,
	    "arn:aws:sns:us-west-2:123456789012:photos-in-events");
	s3_events_clear(&evs);
}

static void
test_sns_test_event(void **state)
{
	struct s3_events evs;

	decode_sample("sns-notification-test-event.json", &evs);
	assert_int_equal(evs.kind, S3_EVENTS_TEST);
	assert_int_equal(evs.n, 0);
	assert_non_null(evs.topic_arn);
	s3_events_clear(&evs);
}

static void
test_sns_other(void **state)
{
	const char *body = "{\"Type\":\"UnsubscribeConfirmation\","
			   "\"TopicArn\":\"arn:aws:sns:r:1:t\","
			   "\"SubscribeURL\":\"https://x/\"}";
	struct s3_events evs;

	decode(body, strlen(body), &evs);
	assert_int_equal(evs.kind, S3_EVENTS_SNS_OTHER);
	assert_string_equal(evs.topic_arn, "arn:aws:sns:r:1:t");
	assert_null(evs.subscribe_url);
	s3_events_clear(&evs);
}

static void
test_sns_bad(void **state)
{
	expect_fail_text("{\"Type\":\"Notification\",\"Message\":\"{oops\"}",
	    "SNS Message is not JSON: line 1, column ");
	expect_fail_text("{\"Type\":\"Notification\"}",
	    "SNS Notification without a Message");
	expect_fail_text("{\"Type\":\"Notification\",\"Message\":{}}",
	    "SNS Notification without a Message");
	expect_fail_text("{\"Type\":\"Notification\",\"Message\":\"{}\"}",
	    "SNS Message: not an S3 notification");
	expect_fail_text("{\"Type\":\"Notification\",\"Message\":\"[]\"}",
	    "SNS Message: not an S3 notification: the JSON is an array");
	/* An envelope in an envelope is no notification. */
	expect_fail_text("{\"Type\":\"Notification\",\"Message\":"
			 "\"{\\\"Type\\\":\\\"Notification\\\","
			 "\\\"Message\\\":\\\"{}\\\"}\"}",
	    "SNS Message: not an S3 notification");
	expect_fail_text("{\"Type\":\"SubscriptionConfirmation\"}",
	    "without a SubscribeURL");
	expect_fail_text("{\"Type\":\"SubscriptionConfirmation\","
			 "\"SubscribeURL\":\"\"}",
	    "without a SubscribeURL");
	expect_fail_text("{\"Type\":\"Surprise\\n\\u0001\"}",
	    "unknown SNS Type \"Surprise??\"");
	expect_fail_text("{\"Type\":null}", "SNS Type is null");
	expect_fail_text("{\"Type\":3}", "SNS Type is not a string");
	expect_fail_text("{\"Type\":\"Notification\",\"TopicArn\":7,"
			 "\"Message\":\"{}\"}",
	    "SNS TopicArn is not a string");
}

static void
test_not_json(void **state)
{
	expect_fail_text("",
	    "not JSON: line 1, column 0: unexpected token near end of file");
	expect_fail_text("nope", "not JSON: line 1, column 4: invalid token");
	expect_fail_text("{\"Records\":[",
	    "not JSON: line 1, column 12: ']' expected near end of file");
	expect_fail_text("{\"Records\":[]}\n{}",
	    "not JSON: line 2, column 1: ");
	expect_fail_text("{\"a\":\"\xff\"}", "unable to decode byte 0xff");
	/* The sender's bytes in jansson's text stay on one line. */
	expect_fail_text("{\"Records\":[]\n\n\x01\xff}",
	    "not JSON: line 3, column 1: '}' expected near '?'");
	expect_fail(NULL, 0, "not JSON");
	expect_fail("{}", 1, "not JSON");
}

static void
test_bad_shapes(void **state)
{
	expect_fail_text("{}",
	    "not an S3 notification: an object with no "
	    "Records, s3:TestEvent or SNS Type");
	expect_fail_text("{\"a\":1}", "not an S3 notification");
	expect_fail_text("[]",
	    "not an S3 notification: the JSON is an array, not an object");
	expect_fail_text("42", "the JSON is a number");
	expect_fail_text("\"Records\"", "the JSON is a string");
	expect_fail_text("{\"Records\":{}}",
	    "not an S3 notification: Records is an object, not an array");
	expect_fail_text("{\"Records\":null}", "Records is null");
	expect_fail_text("{\"Event\":\"s3:Other\"}", "not an S3 notification");
}

static void
test_empty_records(void **state)
{
	const char *body = "{\"Records\":[]}";
	struct s3_events evs;

	decode(body, strlen(body), &evs);
	assert_int_equal(evs.kind, S3_EVENTS_RECORDS);
	assert_int_equal(evs.n, 0);
	assert_int_equal(evs.nrejected, 0);
	assert_int_equal(evs.ignored, 0);
	s3_events_clear(&evs);
}

static void
test_bad_keys(void **state)
{
	const char *put = "\"ObjectCreated:Put\"";

	expect_rejected_record("\"aws:s3\"", put, "\"b\"", "\"key\":\"a%00b\"",
	    "s3.object.key holds %00 (a NUL) at byte 1");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"", "\"key\":\"\"",
	    "s3.object.key is empty");
	expect_rejected_record("\"ceph:s3\"", put, "\"b\"", "\"key\":\"\"",
	    "s3.object.key is empty");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"", "\"key\":\"ab%G1\"",
	    "s3.object.key has a malformed %-escape at byte 2");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"", "\"key\":\"a%1G\"",
	    "malformed %-escape at byte 1");
	expect_rejected_record("\"minio:s3\"", put, "\"b\"", "\"key\":\"a%\"",
	    "malformed %-escape at byte 1");
	expect_rejected_record("\"minio:s3\"", put, "\"b\"", "\"key\":\"a%4\"",
	    "malformed %-escape at byte 1");
	expect_rejected_record("\"ceph:s3\"", put, "\"b\"",
	    "\"key\":\"a\\u0000b\"", "s3.object.key holds a NUL byte");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"",
	    "\"key\":\"a\\u0000b\"", "s3.object.key holds a NUL byte");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"", "\"key\":7",
	    "s3.object.key is not a string");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"", "\"size\":1",
	    "no s3.object.key");
}

static void
test_bad_records(void **state)
{
	const char *put = "\"ObjectCreated:Put\"", *key = "\"key\":\"k\"";

	expect_rejected_record("\"gcs\"", put, "\"b\"", key,
	    "unknown eventSource \"gcs\" (known: aws:s3, minio:s3, ceph:s3)");
	expect_rejected_record("null", put, "\"b\"", key,
	    "no eventSource (known: aws:s3, minio:s3, ceph:s3)");
	expect_rejected_record("[]", put, "\"b\"", key,
	    "eventSource is not a string");
	expect_rejected_record("\"aws:s3\"", "null", "\"b\"", key,
	    "no eventName");
	expect_rejected_record("\"aws:s3\"", "{}", "\"b\"", key,
	    "eventName is not a string");
	expect_rejected_record("\"aws:s3\"", put, "null", key,
	    "no s3.bucket.name");
	expect_rejected_record("\"aws:s3\"", put, "\"\"", key,
	    "s3.bucket.name is empty");
	expect_rejected_record("\"aws:s3\"", put, "\"b\\u0000\"", key,
	    "s3.bucket.name holds a NUL byte");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"",
	    "\"key\":\"k\",\"size\":-1", "s3.object.size is not a whole");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"",
	    "\"key\":\"k\",\"size\":\"10\"", "s3.object.size is not a whole");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"",
	    "\"key\":\"k\",\"size\":1.5", "s3.object.size is not a whole");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"",
	    "\"key\":\"k\",\"eTag\":[]", "s3.object.eTag is not a string");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"",
	    "\"key\":\"k\",\"versionId\":1", "s3.object.versionId is not");
	expect_rejected_record("\"aws:s3\"", put, "\"b\"",
	    "\"key\":\"k\",\"sequencer\":1", "s3.object.sequencer is not");
	expect_rejected("{\"Records\":[7]}", "is a number, not an object");
	expect_rejected("{\"Records\":[{\"eventSource\":\"aws:s3\","
			"\"eventName\":\"ObjectCreated:Put\"}]}",
	    "no s3.bucket.name");
	expect_rejected("{\"Records\":[{\"eventSource\":\"aws:s3\","
			"\"eventName\":\"ObjectCreated:Put\",\"s3\":"
			"{\"bucket\":\"b\",\"object\":\"k\"}}]}",
	    "no s3.bucket.name");
	expect_rejected("{\"Records\":[{\"eventSource\":\"\\u00e9\\n\","
			"\"eventName\":\"ObjectCreated:Put\"}]}",
	    "unknown eventSource \"???\"");
}

/* Good records decode, bad ones are listed by index, others counted. */
static void
test_mixed(void **state)
{
	const char *body =
	    "{\"Records\":["
	    "{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\","
	    "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"one\"}}}"
	    ","
	    "{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\","
	    "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"%00\"}}}"
	    ","
	    "{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectTagging:Put\","
	    "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"t\"}}},"
	    "{\"eventSource\":\"ceph:s3\",\"eventName\":\"ObjectRemoved:"
	    "Delete\","
	    "\"s3\":{\"bucket\":{\"name\":\"c\"},\"object\":{\"key\":\"a+b\"}}}"
	    ","
	    "\"junk\","
	    "{\"eventSource\":\"x:s3\",\"eventName\":\"ObjectCreated:Put\"},"
	    "{\"eventSource\":\"minio:s3\",\"eventName\":\"s3:ObjectCreated:"
	    "Put\","
	    "\"s3\":{\"bucket\":{\"name\":\"m\"},\"object\":{\"key\":\"a%2Fb\","
	    "\"size\":3}}}"
	    "]}";
	struct s3_events evs;

	decode(body, strlen(body), &evs);
	assert_int_equal(evs.kind, S3_EVENTS_RECORDS);
	assert_int_equal(evs.n, 3);
	check_event(&evs.records[0], "b", "one", "created", "", 0);
	check_event(&evs.records[1], "c", "a+b", "removed", "", 0);
	check_event(&evs.records[2], "m", "a/b", "created", "", 3);
	assert_int_equal(evs.ignored, 1);
	assert_int_equal(evs.nrejected, 3);
	assert_string_equal(evs.rejected[0],
	    "record 1: s3.object.key holds %00 (a NUL) at byte 0");
	assert_string_equal(evs.rejected[1],
	    "record 4: is a string, not an object");
	assert_true(
	    strncmp(evs.rejected[2], "record 5: unknown eventSource", 29) == 0);
	s3_events_clear(&evs);
}

/* A large body: every third record bad. */
static void
test_many(void **state)
{
	const size_t count = 10000;
	size_t i, len = 0, cap = count * 160 + 64;
	char *body = malloc(cap);
	struct s3_events evs;
	char key[32];

	len += snprintf(body + len, cap - len, "{\"Records\":[");
	for (i = 0; i < count; i++) {
		len += snprintf(body + len, cap - len,
		    "%s{\"eventSource\":\"aws:s3\",\"eventName\":"
		    "\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
		    "\"object\":{\"key\":\"dir/k+%zu%s\",\"size\":%zu,"
		    "\"sequencer\":\"%zX\"}}}",
		    i == 0 ? "" : ",", i, i % 3 == 2 ? "%" : "", i, i);
		assert_true(len < cap);
	}
	len += snprintf(body + len, cap - len, "]}");
	decode(body, len, &evs);
	assert_int_equal(evs.n, count - count / 3);
	assert_int_equal(evs.nrejected, count / 3);
	assert_string_equal(evs.records[0].key, "dir/k 0");
	snprintf(key, sizeof key, "dir/k %zu", count - 1);
	assert_string_equal(evs.records[evs.n - 1].key, key);
	assert_int_equal(evs.records[evs.n - 1].size, count - 1);
	for (i = 1; i < evs.n; i++) {
		assert_true(strcmp(evs.records[i - 1].sequencer,
				evs.records[i].sequencer) < 0);
	}
	assert_true(
	    strncmp(evs.rejected[evs.nrejected - 1], "record 9998: ", 13) == 0);
	s3_events_clear(&evs);
	free(body);
}

/* Every prefix of a real body, and a deep one: no crash, no leak. */
static void
test_hostile(void **state)
{
	const char *names[] = { "sns-notification-aws-put.json",
		"minio-put.json", "ceph-rgw-http-ObjectRemoved-Delete.json" };
	struct s3_events evs;
	size_t i, k, len, depth = 100000;
	char *body, *why;

	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		body = sample(names[k], &len);
		for (i = 0; i < len; i++) {
			why = NULL;
			if (s3_events_decode(body, i, &evs, &why) == 0)
				s3_events_clear(&evs);
			free(why);
		}
		free(body);
	}
	body = malloc(depth);
	memset(body, '[', depth);
	expect_fail(body, depth, "not JSON");
	memset(body, '{', depth);
	expect_fail(body, depth, "not JSON");
	free(body);
}

/* Only SNS's own URL is fetched: the whole host, no port or user, and a
 * URL too short to hold it is read no further than its end. */
static void
test_sns_url(void **state)
{
	static const char *const good[] = {
		"https://sns.us-west-2.amazonaws.com/"
		"?Action=ConfirmSubscription",
		"https://sns.cn-north-1.amazonaws.com.cn/?Action=x",
		"https://sns.eu-central-1.amazonaws.com/path", NULL
	};
	static const char *const bad[] = { "", "h", "https://", "https://sns.",
		"https://sns.x", "https://sns.x.s3.amazonaws.com/",
		"https://sns.us-east-1.amazonaws.com.evil.example/",
		"https://sns.us-east-1.amazonaws.com:444/",
		"https://sns.us-east-1.amazonaws.com@evil.example/",
		"https://sns..amazonaws.com/",
		"http://sns.us-east-1.amazonaws.com/",
		"https://sns.us-east-1.amazonaws.com", NULL };
	char *one;
	size_t i;

	(void)state;
	for (i = 0; good[i] != NULL; i++)
		assert_true(s3_event_sns_url_ok(good[i]));
	for (i = 0; bad[i] != NULL; i++) {
		/* Each bad one on the heap, exactly its size, for ASan. */
		one = xstrdup(bad[i]);
		if (s3_event_sns_url_ok(one))
			fail_msg("accepted: %s", bad[i]);
		free(one);
	}
}

/* A body of tiny elements costs jansson some 50 bytes a byte: it is
 * refused past the memory budget, while 10,000 real records pass. */
static void
test_json_budget(void **state)
{
	size_t n = 1 << 20, i;
	char *body = xmalloc(n + 4), *why = NULL;
	struct s3_events evs;

	(void)state;
	body[0] = '[';
	for (i = 1; i + 2 < n; i += 2)
		memcpy(body + i, "0,", 2);
	memcpy(body + i, "0]", 2);
	body[i + 2] = '\0';
	assert_int_equal(s3_events_decode(body, i + 2, &evs, &why), -1);
	if (strstr(why, "times its size in memory") == NULL)
		fail_msg("refused for another reason: %s", why);
	free(why);
	free(body);
}

/* What a publishing watch sends decodes back to its event, whatever
 * bytes the key holds. */
static void
test_encode_round_trip(void **state)
{
	static const char *const keys[] = { "a b+c%2F/d.jpg", "é/ü 1.txt",
		"\x01\xff\x80 raw", "./../x", "~-_.", NULL };
	struct journal_event e = { "w", "photos", NULL, "created", 0, 12345, 0,
		"0123abcd", 0, "00000000000000000000000000ABCDEF" };
	struct s3_events evs;
	size_t i, len;
	char *body;

	(void)state;
	for (i = 0; keys[i] != NULL; i++) {
		e.key = keys[i];
		e.event = i % 2 == 0 ? "created" : "removed";
		body = s3_event_encode(&e, 1700000000123LL, &len);
		assert_non_null(body);
		assert_int_equal(strlen(body), len);
		decode(body, len, &evs);
		assert_int_equal(evs.n, 1);
		check_event(&evs.records[0], "photos", keys[i], e.event,
		    "0123abcd", 12345);
		assert_string_equal(evs.records[0].sequencer, e.sequencer);
		s3_events_clear(&evs);
		free(body);
	}
	/* No sequencer, and the stand-in of a removal's missing ETag. */
	e.key = "k";
	e.sequencer = NULL;
	e.etag = "seq:00000000000000000000000000000001";
	body = s3_event_encode(&e, 0, &len);
	decode(body, len, &evs);
	check_event(&evs.records[0], "photos", "k", e.event, "", 12345);
	assert_string_equal(evs.records[0].sequencer, "");
	s3_events_clear(&evs);
	free(body);
}

int
main(void)
{
	s3_events_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_put),
		cmocka_unit_test(test_encode_round_trip),
		cmocka_unit_test(test_aws_test_event),
		cmocka_unit_test(test_minio_put),
		cmocka_unit_test(test_ceph_raw_key),
		cmocka_unit_test(test_ceph_samples),
		cmocka_unit_test(test_ceph_sequencer_order),
		cmocka_unit_test(test_sequencers),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_confine),
		cmocka_unit_test(test_sns_url),
		cmocka_unit_test(test_json_budget),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_sns_notification),
		cmocka_unit_test(test_sns_confirmation),
		cmocka_unit_test(test_sns_test_event),
		cmocka_unit_test(test_sns_other),
		cmocka_unit_test(test_sns_bad),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_bad_shapes),
		cmocka_unit_test(test_empty_records),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
