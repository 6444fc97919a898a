/* fuzz-cfg.c - config files, through the loader and the RELAX NG schema. */

/*
 * cfg_load takes a path, so each input is written to one private file
 * and loaded from it: libxml2's parser, the DTD refusal, the readers of
 * every element (units, names, choices, endpoints), the cross-references
 * and, for a config that reads, the validation against the built-in
 * schema. The errors are printed, as objtrigger check prints them.
 */

#include <stdio.h>
#include <stdlib.h>

#include "cfg.h"
#include "objtrigger.h"
#include "fuzz.h"

static FILE *fuzz_null;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_open(LEVEL_ERROR, "fuzz");
	if ((fuzz_null = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg *cfg = cfg_load(fuzz_file(data, size));
	size_t i;

	for (i = 0; i < cfg->nerrors; i++) {
		if (cfg->errors[i].message == NULL)
			fuzz_broken("an error without a message");
	}
	if (cfg->nerrors > 0) /* as check and the daemon print them */
		cfg_print_errors(cfg, fuzz_null);
	cfg_free(cfg);
	return 0;
}
