/* cmd-forget.c - "objtrigger forget": dismisses dead letters. */

#include "objtrigger.h"

/* The jobs stay in the journal, as forgotten: out of status and of the
 * dead-letter gauge, and back with "objtrigger retry ID". */
int
cmd_forget(int argc, char **argv)
{
	return status_dead_letters(argc, argv, "forget", journal_forget, 1,
	    "forgotten");
}
