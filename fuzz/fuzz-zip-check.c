/* fuzz-zip-check.c - a zip's central directory, checked before extracting. */

/*
 * zip_check reads with pread from the file the extract transform was
 * given; here each input is such a file, in memory. Its answer must be
 * one of the three it documents, with a reason when it refuses.
 */

#include <stdlib.h>

#include "zip-check.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfd(data, size), rc;
	char *cause = NULL;

	rc = zip_check(fd, size, 1000, &cause);
	if (rc != 0 && rc != -1 && rc != -2)
		fuzz_broken("zip_check returned %d", rc);
	if (rc == -2)
		fuzz_broken("zip_check could not check a file in memory: %s",
		    cause != NULL ? cause : "(no cause)");
	if (rc == 0 && cause != NULL)
		fuzz_broken("zip_check passed with a cause: %s", cause);
	free(cause);
	cause = NULL;
	/* A smaller cap: the entry count is checked before memory is. */
	rc = zip_check(fd, size, 2, &cause);
	if (rc == -1 && cause == NULL)
		fuzz_broken("zip_check refused without a cause");
	free(cause);
	return 0;
}
