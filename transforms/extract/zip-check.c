/* zip-check.c - refuses zips whose entries overlap, from their directory. */

/*
 * An overlapping zip bomb (David Fifield, "A better zip bomb", 2019) lists
 * many entries in its central directory whose data all end in one shared
 * compressed kernel: each entry is small, together they expand without
 * bound. libarchive does not tell whether entries share bytes, so this
 * file reads the central directory itself, with pread: the end record
 * (and the zip64 one), then for each entry its central header (where its
 * local header is, how many compressed bytes it has) and its local header
 * (where its data starts). Sorted by offset, each entry must end before
 * the next begins, and the last before the central directory. A zip never
 * needs otherwise; one that does is refused before anything is written.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zip-check.h"

#define ZIP_LOCAL_SIG 0x04034b50 /* "PK\3\4" */
#define ZIP_CENTRAL_SIG 0x02014b50
#define ZIP_END_SIG 0x06054b50
#define ZIP64_END_SIG 0x06064b50
#define ZIP64_LOCATOR_SIG 0x07064b50

#define ZIP_LOCAL_LEN 30
#define ZIP_CENTRAL_LEN 46
#define ZIP_END_LEN 22
#define ZIP64_END_LEN 56
#define ZIP64_LOCATOR_LEN 20
#define ZIP_FIELD_MAX 65535 /* a comment, a name or an extra field */
#define ZIP_BUF (ZIP_END_LEN + ZIP_FIELD_MAX)

#define ZIP_FF32 0xffffffffU /* "in the zip64 extra field" */
#define ZIP_EXTRA_ZIP64 0x0001

/* One zip being checked. */
struct zip_check {
	int fd;
	uint64_t size;
	char **cause;
	unsigned char *buf; /* ZIP_BUF bytes: the tail, an extra field */
};

/* The central directory, as the end records place it. */
struct zip_check_dir {
	uint64_t entries;
	uint64_t offset; /* of its first header */
	uint64_t size;
	uint64_t limit; /* where the end records begin */
};

/* The bytes of one entry: its local header and its compressed data. */
struct zip_check_entry {
	uint64_t start; /* its local header */
	uint64_t end; /* just past its data */
	uint64_t header; /* its central header */
};

static uint32_t
zip_le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
zip_le32(const unsigned char *p)
{
	return zip_le16(p) | zip_le16(p + 2) << 16;
}

static uint64_t
zip_le64(const unsigned char *p)
{
	return zip_le32(p) | (uint64_t)zip_le32(p + 4) << 32;
}

/* Sets the reason and returns rc: -1 refused, -2 not checked. */
static int __attribute__((format(printf, 3, 4)))
zip_check_fail(struct zip_check *zc, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(zc->cause, fmt, ap) < 0)
		*zc->cause = NULL;
	va_end(ap);
	return rc;
}

/* Reads len bytes at off, which must lie within the file. */
static int
zip_check_read(struct zip_check *zc, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	if (off > zc->size || len > zc->size - off)
		return zip_check_fail(zc, -1,
		    "a damaged zip: it points past its end (offset %llu)",
		    (unsigned long long)off);
	while (done < len) {
		n = pread(zc->fd, (char *)buf + done, len - done,
		    (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return zip_check_fail(zc, -2, "reading the zip: %s",
			    strerror(errno));
		if (n == 0)
			return zip_check_fail(zc, -1,
			    "the zip changed while read: it ends at %llu",
			    (unsigned long long)(off + done));
		done += (size_t)n;
	}
	return 0;
}

/* An entry's name for a message, on one line; "?" when unreadable. */
static const char *
zip_check_name(struct zip_check *zc, uint64_t header, char *name, size_t len)
{
	unsigned char h[ZIP_CENTRAL_LEN];
	char *cause = NULL, **saved = zc->cause;
	size_t n, i;

	zc->cause = &cause;
	snprintf(name, len, "?");
	if (zip_check_read(zc, h, sizeof h, header) == 0) {
		n = zip_le16(h + 28) < len - 1 ? zip_le16(h + 28) : len - 1;
		if (zip_check_read(zc, name, n, header + sizeof h) == 0) {
			name[n] = '\0';
			for (i = 0; i < n; i++) {
				if ((unsigned char)name[i] < 0x20 ||
				    name[i] == 0x7f)
					name[i] = '?';
			}
		}
	}
	free(cause);
	zc->cause = saved;
	return name;
}

/* Whether bytes start with a signature that libarchive's streamable zip
 * reader takes: the bytes it would read as a zip. */
static int
zip_check_signed(const unsigned char *p)
{
	/* 1 2, 3 4, 5 6, 6 6, 7 8 and "00", after "PK" */
	static const char pairs[] = "\1\2\3\4\5\6\6\6\7\01000";
	size_t i;

	if (p[0] != 'P' || p[1] != 'K')
		return 0;
	for (i = 0; i + 1 < sizeof pairs; i += 2) {
		if (p[2] == pairs[i] && p[3] == pairs[i + 1])
			return 1;
	}
	return 0;
}

/*
 * Finds the end of central directory record of bytes that start as a zip
 * does: the one that ends them, else the last before junk. Returns 1 with
 * its offset in *at, 0 when the bytes are no zip, -1 or -2 on failure.
 */
static int
zip_check_find_end(struct zip_check *zc, uint64_t *at)
{
	unsigned char *tail = zc->buf;
	uint64_t from;
	size_t len, i, comment;
	int loose = 0, rc;

	if (zc->size < 4)
		return 0;
	if ((rc = zip_check_read(zc, tail, 4, 0)) != 0)
		return rc;
	if (!zip_check_signed(tail))
		return 0;
	len = zc->size < ZIP_BUF ? (size_t)zc->size : ZIP_BUF;
	from = zc->size - len;
	if ((rc = zip_check_read(zc, tail, len, from)) != 0)
		return rc;
	for (i = len >= ZIP_END_LEN ? len - ZIP_END_LEN + 1 : 0; i-- > 0;) {
		if (zip_le32(tail + i) != ZIP_END_SIG)
			continue;
		comment = zip_le16(tail + i + 20);
		if (i + ZIP_END_LEN + comment == len) {
			*at = from + i;
			return 1;
		}
		if (i + ZIP_END_LEN + comment < len && !loose) {
			*at = from + i;
			loose = 1;
		}
	}
	if (loose)
		return 1;
	return zip_check_fail(zc, -1,
	    "a damaged zip: no end of central directory record");
}

/* Reads the zip64 end record its locator, at loc, points to. */
static int
zip_check_end64(struct zip_check *zc, uint64_t loc, struct zip_check_dir *dir)
{
	unsigned char l[ZIP64_LOCATOR_LEN], e[ZIP64_END_LEN];
	uint64_t at;
	int rc;

	if ((rc = zip_check_read(zc, l, sizeof l, loc)) != 0)
		return rc;
	if (zip_le32(l) != ZIP64_LOCATOR_SIG)
		return 0;
	at = zip_le64(l + 8);
	if (loc < ZIP64_END_LEN || at > loc - ZIP64_END_LEN)
		return zip_check_fail(zc, -1,
		    "a damaged zip: its zip64 end record (offset %llu) is not "
		    "before its locator",
		    (unsigned long long)at);
	if ((rc = zip_check_read(zc, e, sizeof e, at)) != 0)
		return rc;
	if (zip_le32(e) != ZIP64_END_SIG)
		return zip_check_fail(zc, -1,
		    "a damaged zip: no zip64 end record at offset %llu",
		    (unsigned long long)at);
	dir->entries = zip_le64(e + 32);
	dir->size = zip_le64(e + 40);
	dir->offset = zip_le64(e + 48);
	dir->limit = at;
	return 0;
}

/* Reads the end records, at the offset found: where the directory is. */
static int
zip_check_end(struct zip_check *zc, uint64_t at, struct zip_check_dir *dir)
{
	unsigned char e[ZIP_END_LEN];
	int rc;

	if ((rc = zip_check_read(zc, e, sizeof e, at)) != 0)
		return rc;
	dir->entries = zip_le16(e + 10);
	dir->size = zip_le32(e + 12);
	dir->offset = zip_le32(e + 16);
	dir->limit = at;
	if (at >= ZIP64_LOCATOR_LEN &&
	    (rc = zip_check_end64(zc, at - ZIP64_LOCATOR_LEN, dir)) != 0)
		return rc;
	if (dir->offset > dir->limit || dir->size > dir->limit - dir->offset)
		return zip_check_fail(zc, -1,
		    "a damaged zip: its central directory (%llu bytes at "
		    "offset %llu) is not before its end record",
		    (unsigned long long)dir->size,
		    (unsigned long long)dir->offset);
	if (dir->entries > dir->size / ZIP_CENTRAL_LEN)
		return zip_check_fail(zc, -1,
		    "a damaged zip: %llu entries cannot fit in a central "
		    "directory of %llu bytes",
		    (unsigned long long)dir->entries,
		    (unsigned long long)dir->size);
	return 0;
}

/* Takes the compressed size and the local header's offset that the
 * central header h leaves to its zip64 extra field, of len bytes at off. */
static int
zip_check_zip64(struct zip_check *zc, const unsigned char *h, uint64_t off,
    size_t len, uint64_t *csize, uint64_t *start)
{
	unsigned char *x = zc->buf;
	size_t i, n, k = 0;
	int rc;

	if ((rc = zip_check_read(zc, x, len, off)) != 0)
		return rc;
	for (i = 0; i + 4 <= len; i += 4 + n) {
		n = zip_le16(x + i + 2);
		if (zip_le16(x + i) != ZIP_EXTRA_ZIP64)
			continue;
		if (n > len - i - 4)
			break;
		if (zip_le32(h + 24) == ZIP_FF32) /* the size, not needed */
			k += 8;
		if (zip_le32(h + 20) == ZIP_FF32 && k + 8 <= n) {
			*csize = zip_le64(x + i + 4 + k);
			k += 8;
		} else if (zip_le32(h + 20) == ZIP_FF32)
			break;
		if (zip_le32(h + 42) == ZIP_FF32 && k + 8 <= n)
			*start = zip_le64(x + i + 4 + k);
		else if (zip_le32(h + 42) == ZIP_FF32)
			break;
		return 0;
	}
	return zip_check_fail(zc, -1,
	    "a damaged zip: the central header at offset %llu lacks "
	    "its zip64 fields",
	    (unsigned long long)(off - ZIP_CENTRAL_LEN - zip_le16(h + 28)));
}

/* Finds where the data of entry e starts, from its local header, and so
 * where it ends; all of it must come before the central directory. */
static int
zip_check_local(struct zip_check *zc, const struct zip_check_dir *dir,
    struct zip_check_entry *e, uint64_t csize)
{
	unsigned char h[ZIP_LOCAL_LEN];
	char name[256];
	uint64_t data;
	int rc;

	if (e->start > dir->offset || dir->offset - e->start < sizeof h)
		return zip_check_fail(zc, -1,
		    "a damaged zip: entry %s: its local header (offset %llu) "
		    "is not before the central directory",
		    zip_check_name(zc, e->header, name, sizeof name),
		    (unsigned long long)e->start);
	if ((rc = zip_check_read(zc, h, sizeof h, e->start)) != 0)
		return rc;
	if (zip_le32(h) != ZIP_LOCAL_SIG)
		return zip_check_fail(zc, -1,
		    "a damaged zip: entry %s: no local header at offset %llu",
		    zip_check_name(zc, e->header, name, sizeof name),
		    (unsigned long long)e->start);
	data = e->start + sizeof h + zip_le16(h + 26) + zip_le16(h + 28);
	if (data > dir->offset || csize > dir->offset - data)
		return zip_check_fail(zc, -1,
		    "a damaged zip: entry %s: its data (%llu bytes at offset "
		    "%llu) runs into the central directory",
		    zip_check_name(zc, e->header, name, sizeof name),
		    (unsigned long long)csize, (unsigned long long)data);
	e->end = data + csize;
	return 0;
}

/* Reads the central header at *pos into e, then its local header; moves
 * *pos past the central header. */
static int
zip_check_central(struct zip_check *zc, const struct zip_check_dir *dir,
    uint64_t *pos, struct zip_check_entry *e)
{
	unsigned char h[ZIP_CENTRAL_LEN];
	uint64_t left = dir->offset + dir->size - *pos, len, csize;
	int rc;

	if (left < sizeof h)
		return zip_check_fail(zc, -1,
		    "a damaged zip: its central directory ends at offset %llu, "
		    "amid its headers",
		    (unsigned long long)(dir->offset + dir->size));
	if ((rc = zip_check_read(zc, h, sizeof h, *pos)) != 0)
		return rc;
	if (zip_le32(h) != ZIP_CENTRAL_SIG)
		return zip_check_fail(zc, -1,
		    "a damaged zip: no central header at offset %llu",
		    (unsigned long long)*pos);
	len = sizeof h + zip_le16(h + 28) + zip_le16(h + 30) + zip_le16(h + 32);
	if (len > left)
		return zip_check_fail(zc, -1,
		    "a damaged zip: the central header at offset %llu runs "
		    "past the central directory",
		    (unsigned long long)*pos);
	e->header = *pos;
	e->start = zip_le32(h + 42);
	csize = zip_le32(h + 20);
	if ((csize == ZIP_FF32 || e->start == ZIP_FF32) &&
	    (rc = zip_check_zip64(zc, h, *pos + sizeof h + zip_le16(h + 28),
		 zip_le16(h + 30), &csize, &e->start)) != 0)
		return rc;
	*pos += len;
	return zip_check_local(zc, dir, e, csize);
}

static int
zip_check_cmp(const void *a, const void *b)
{
	const struct zip_check_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->header < y->header ? -1 : x->header > y->header;
}

/* Sorts the entries by offset: each must end before the next begins. */
static int
zip_check_overlap(struct zip_check *zc, struct zip_check_entry *e, size_t n)
{
	char one[256], two[256];
	size_t i;

	if (n < 2)
		return 0;
	qsort(e, n, sizeof *e, zip_check_cmp);
	for (i = 1; i < n; i++) {
		if (e[i].start >= e[i - 1].end)
			continue;
		return zip_check_fail(zc, -1,
		    "entries %s and %s overlap at offset %llu: not a "
		    "well-formed zip (an overlapping zip bomb)",
		    zip_check_name(zc, e[i - 1].header, one, sizeof one),
		    zip_check_name(zc, e[i].header, two, sizeof two),
		    (unsigned long long)e[i].start);
	}
	return 0;
}

/* Reads every entry of the central directory, then looks for overlaps. */
static int
zip_check_entries(struct zip_check *zc, const struct zip_check_dir *dir,
    uint64_t max_entries)
{
	struct zip_check_entry *e;
	uint64_t pos = dir->offset, i;
	int rc = 0;

	if (dir->entries > max_entries)
		return zip_check_fail(zc, -1,
		    "more than max-entries (%llu) entries: the zip lists %llu",
		    (unsigned long long)max_entries,
		    (unsigned long long)dir->entries);
	if (dir->entries == 0)
		return 0;
	if (dir->entries > SIZE_MAX / sizeof *e ||
	    (e = calloc((size_t)dir->entries, sizeof *e)) == NULL)
		return zip_check_fail(zc, -2, "out of memory");
	for (i = 0; rc == 0 && i < dir->entries; i++)
		rc = zip_check_central(zc, dir, &pos, &e[i]);
	if (rc == 0 && pos != dir->offset + dir->size)
		rc = zip_check_fail(zc, -1,
		    "a damaged zip: its %llu central headers take %llu bytes, "
		    "its end record says %llu",
		    (unsigned long long)dir->entries,
		    (unsigned long long)(pos - dir->offset),
		    (unsigned long long)dir->size);
	if (rc == 0)
		rc = zip_check_overlap(zc, e, (size_t)dir->entries);
	free(e);
	return rc;
}

int
zip_check(int fd, uint64_t size, uint64_t max_entries, char **cause)
{
	struct zip_check zc = { fd, size, cause, NULL };
	struct zip_check_dir dir;
	uint64_t at;
	int rc;

	*cause = NULL;
	if ((zc.buf = malloc(ZIP_BUF)) == NULL)
		return zip_check_fail(&zc, -2, "out of memory");
	rc = zip_check_find_end(&zc, &at);
	if (rc == 1 && (rc = zip_check_end(&zc, at, &dir)) == 0)
		rc = zip_check_entries(&zc, &dir, max_entries);
	free(zc.buf);
	return rc;
}
