/* fuzz-wire.c - the framed messages between the daemon and its workers. */

/*
 * A worker reads what the daemon sends, and the daemon what a worker
 * answers: a crashed or hostile plugin's process can write anything on
 * that socket. The first byte of an input picks how the rest is read: as
 * a whole frame, its 32-bit length included (odd), or as the fields of a
 * frame whose length is right (even). A message that parses must come
 * back byte for byte when its fields are added again, and is handed to
 * the readers of plugin descriptions and of S3 job settings.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "objtrigger.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_open(LEVEL_ERROR, "fuzz");
	return 0;
}

/* Adds the fields again: the same bytes, or the codec loses something. */
static void
fuzz_round_trip(const struct wire_msg *m, const uint8_t *fields, size_t len)
{
	struct wire_msg again;
	size_t i;

	wire_init(&again);
	for (i = 0; i < m->nfields; i++)
		wire_add(&again, m->fields[i].name, "%s", m->fields[i].value);
	if (again.len != len ||
	    (len > 0 && memcmp(again.buf, fields, len) != 0))
		fuzz_broken("%zu bytes of fields came back as %zu", len,
		    again.len);
	wire_clear(&again);
}

static void
fuzz_readers(const struct wire_msg *m)
{
	struct plugin_info *info;
	struct worker_s3 *ws;
	struct cfg_store *store;
	size_t i;

	(void)wire_get(m, "op");
	(void)wire_get(m, "status");
	info = plugin_info_from_wire(m);
	plugin_info_free(info);
	ws = worker_s3_parse(m);
	worker_s3_free(ws);
	for (i = 0; i < m->nfields; i++) {
		if (strcmp(m->fields[i].name, "store") == 0 &&
		    (store = s3_store_from_wire(m, &i)) != NULL)
			s3_store_free(store);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg m;
	uint8_t *frame;
	uint32_t len;
	int fd, raw;

	if (size == 0)
		return 0;
	raw = data[0] & 1;
	data++;
	size--;
	if (raw)
		fd = fuzz_memfd(data, size);
	else {
		if ((frame = malloc(sizeof len + size)) == NULL)
			abort();
		len = (uint32_t)size;
		memcpy(frame, &len, sizeof len);
		if (size > 0)
			memcpy(frame + sizeof len, data, size);
		fd = fuzz_memfd(frame, sizeof len + size);
		free(frame);
	}
	wire_init(&m);
	if (wire_recv(fd, &m) == 0) {
		if (raw) {
			memcpy(&len, data, sizeof len);
			fuzz_round_trip(&m, data + sizeof len, len);
		} else
			fuzz_round_trip(&m, data, size);
		fuzz_readers(&m);
	} else if (!raw && errno != EPROTO)
		fuzz_broken("a whole frame refused, errno %d", errno);
	wire_clear(&m);
	return 0;
}
