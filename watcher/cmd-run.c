/* cmd-run.c - "objtrigger run": the daemon. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objtrigger.h"

#define RUN_USAGE "usage: objtrigger run [-c FILE] [--log-format text|json]\n"

int
cmd_run(int argc, char **argv)
{
	static const struct option options[] = { { "config", required_argument,
						     NULL, 'c' },
		{ "log-format", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 } };
	const char *file = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'L':
			if (strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "text") != 0) {
				fprintf(stderr,
				    "objtrigger: run: --log-format "
				    "is text or json\n");
				return 2;
			}
			/* Workers read it too: they log as the daemon does. */
			setenv("OBJTRIGGER_LOG_FORMAT", optarg, 1);
			log_set_json(strcmp(optarg, "json") == 0);
			break;
		default:
			fprintf(stderr, RUN_USAGE);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, RUN_USAGE);
		return 2;
	}
	return daemon_run(file != NULL ? file : config_default_file());
}
