/* broken.c - deliberately broken transforms for the loader and pool tests. */

/*
 * Built once per kind, with one of BROKEN_MAJOR2, BROKEN_MINOR, BROKEN_NOENTRY,
 * BROKEN_CRASH, BROKEN_HANG, BROKEN_SPIN or BROKEN_HOG defined; or with
 * BROKEN_OLD, as a plugin built for ABI 1.0 is (its descriptor ends
 * before the fields of 1.1), or BROKEN_OLD11, as one built for 1.1 is (it
 * knows nothing of 1.2's host functions): not broken, they must still
 * load and run.
 */

#include <stddef.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "objtrigger-transform.h"

static enum ot_status
broken_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
#if defined(BROKEN_CRASH)
	volatile int *volatile p = NULL;
	*p = 1;
#elif defined(BROKEN_HANG)
	for (;;)
		pause();
#elif defined(BROKEN_SPIN)
	volatile unsigned long n = 0;
	for (;;)
		n++;
#elif defined(BROKEN_HOG)
	for (;;) {
		char *p = malloc(1 << 20);
		if (p == NULL)
			abort();
		memset(p, 1, 1 << 20);
	}
#endif
	return OT_OK;
}

static const struct ot_transform broken __attribute__((unused)) = {
#if defined(BROKEN_MAJOR2)
	2,
	0,
#elif defined(BROKEN_MINOR)
	OT_ABI_MAJOR,
	OT_ABI_MINOR + 1,
#elif defined(BROKEN_OLD)
	OT_ABI_MAJOR,
	0,
#elif defined(BROKEN_OLD11)
	OT_ABI_MAJOR,
	1,
#else
	OT_ABI_MAJOR,
	OT_ABI_MINOR,
#endif
#if defined(BROKEN_OLD)
	offsetof(struct ot_transform, check),
#else
	sizeof(struct ot_transform),
#endif
	.name = "broken",
	.version = "1",
	.summary = "a transform that misbehaves on purpose",
	.run = broken_run,
};

#if defined(BROKEN_MAJOR2)
const struct ot_transform *objtrigger_transform_v2(void);
const struct ot_transform *
objtrigger_transform_v2(void)
{
	return &broken;
}
#elif !defined(BROKEN_NOENTRY)
const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &broken;
}
#endif
