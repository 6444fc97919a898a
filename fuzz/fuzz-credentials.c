/* fuzz-credentials.c - a store's credentials file and a secret file. */

/*
 * A <store credentials-file="..."> names a file in the AWS shared
 * credentials format (or plain KEY=VALUE lines), and a webhook's
 * token-file a one-line secret; both come from outside the config. Each
 * input is written to one private (0600) file and read as both.
 */

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct cfg_store s;
	char *cause = NULL, *secret = NULL;

	memset(&s, 0, sizeof s);
	if (cfg_store_keys_from_file(&s, path, &cause) == 0) {
		if (s.access_key == NULL || s.secret_key == NULL)
			fuzz_broken("keys read, but one is missing");
	} else if (cause == NULL)
		fuzz_broken("keys refused without a cause");
	free(cause);
	cfg_store_clear(&s);

	cause = NULL;
	if (cfg_read_secret(path, &secret, &cause) == 0) {
		if (secret == NULL)
			fuzz_broken("a secret read as NULL");
	} else if (cause == NULL)
		fuzz_broken("a secret refused without a cause");
	free(secret);
	free(cause);
	return 0;
}
