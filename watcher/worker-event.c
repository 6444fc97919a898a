/* worker-event.c - what the event of a job's input said, for plugins. */

/*
 * A plugin that passes events on (the http transform, as CloudEvents)
 * gets them through host->event: an identity stable across attempts and
 * duplicates, S3's event name, the time, the watch as a URI, and an S3
 * event record. The record has the shape AWS, MinIO and Ceph RGW send
 * (one element of "Records"), with the key percent-encoded as AWS does.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "objtrigger.h"

/* FNV-1a, 64 bits, over a string and its NUL. */
static uint64_t
worker_event_hash(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++ != '\0');
	return h;
}

static char *
worker_event_record(const struct ot_input *in, const struct ot_event *ev,
    int folder)
{
	char *s = s3_event_record(folder ? "objtrigger:folder" :
					   "objtrigger:s3",
	    ev->name, ev->time, in->bucket, in->key, in->size, in->etag, NULL);

	return s != NULL ? s : xstrdup("{}");
}

/*
 * Fills ev for an input: source is the watch's URI from the daemon (NULL
 * for a folder, made from it here), time_ms when the event happened (0:
 * now), version what tells this version of the object from another (its
 * ETag, or a file's inode, size and time).
 */
void
worker_event_make(struct ot_event *ev, const struct ot_input *in,
    const char *source, int64_t time_ms, const char *version)
{
	struct timespec now;
	char *path, *s;
	uint64_t h = 0xcbf29ce484222325ULL;
	int folder = source == NULL;

	if (folder) {
		path = s3_encode(in->bucket, S3_ENCODE_SLASH);
		xasprintf(&s, "file://%s", path);
		ev->source = s;
		free(path);
	} else
		ev->source = xstrdup(source);
	if (time_ms == 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		time_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	}
	h = worker_event_hash(h, ev->source);
	h = worker_event_hash(h, in->key);
	h = worker_event_hash(h, in->event);
	h = worker_event_hash(h, version);
	xasprintf(&s, "%016" PRIx64, h);
	ev->id = s;
	ev->name = strcmp(in->event, "removed") == 0 ? "ObjectRemoved:Delete" :
						       "ObjectCreated:Put";
	ev->time = s3_event_time(time_ms);
	ev->record = worker_event_record(in, ev, folder);
	ev->content_type = s3_content_type(in->key);
}

void
worker_event_clear(struct ot_event *ev)
{
	free((char *)ev->id);
	free((char *)ev->time);
	free((char *)ev->source);
	free((char *)ev->record);
	memset(ev, 0, sizeof *ev);
}
