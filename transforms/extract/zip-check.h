/* zip-check.h - a zip's central directory, checked before extracting. */

#ifndef ZIP_CHECK_H
#define ZIP_CHECK_H

#include <stdint.h>

/*
 * Reads the central directory of the zip in fd (size bytes, read with
 * pread: the file offset is left alone) and refuses a zip whose entries
 * share bytes, as the overlapping zip bombs do, one whose central
 * directory is damaged, and one that lists more than max_entries entries.
 * Only bytes that libarchive's streamable zip reader would take (those
 * that start with "PK\3\4" or another zip signature) are checked: others
 * are no zip to it. Memory is bounded by max_entries.
 *
 * Returns 0 when fd holds no zip or a zip that passes; -1 when the zip is
 * refused, with the reason in *cause; -2 when it could not be checked (a
 * read error, no memory), with what failed in *cause. *cause is allocated
 * (the caller frees it) and may be NULL when memory ran out.
 */
int zip_check(int fd, uint64_t size, uint64_t max_entries, char **cause);

#endif
