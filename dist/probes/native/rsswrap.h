/* What rsswrap.c and its part rsswrap-exited.c share. */
#ifndef RSSWRAP_H
#define RSSWRAP_H
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* Appends s to the JSON text in out as a string literal (quotes, backslashes and controls escaped). */
void json_string(char *out, size_t cap, const char *s);
/* Notes pid, dead and not yet reaped, in the result's "exited" list (rsswrap-exited.c). */
void note_exited(const char *probe_dir, pid_t pid, const siginfo_t *info, int stopping);
/* The result text with the "exited" list appended and closed. */
char *with_exited(char *json, size_t cap);

#endif
