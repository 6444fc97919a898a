/* fuzz.h - what the libFuzzer targets of fuzz/ share. */

#ifndef OT_FUZZ_H
#define OT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);

/* The input as a string (allocated): the bytes and a NUL after them. */
char *fuzz_string(const uint8_t *, size_t);

/* A private (0600) temporary file holding the input, rewritten on each
 * call; its path is the same every time and stays valid until exit. */
const char *fuzz_file(const uint8_t *, size_t);

/* A memory file holding the input, its offset at 0; one descriptor,
 * rewritten on each call: the caller never closes it. */
int fuzz_memfd(const uint8_t *, size_t);

/* A temporary folder, made once, removed with what it holds at exit. */
const char *fuzz_folder(void);

/* Aborts, so the fuzzer keeps the input, when a documented promise of
 * the code under test is broken. */
__attribute__((noreturn)) void fuzz_broken(const char *, ...)
    __attribute__((format(printf, 1, 2)));

#endif
