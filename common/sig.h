/* sig: a clean stop on SIGINT, SIGTERM and SIGHUP. A program that must not
 * die half-way through a record or a batch catches them, looks at
 * sig_caught() between units of work, finishes or undoes the one in hand
 * and exits with sig_status(). The signal's number is the one process-wide
 * state here: a handler can set nothing else. */
#ifndef RAGPIPE_SIG_H
#define RAGPIPE_SIG_H

#include <signal.h>

/* Catch the three signals. Their handler notes the first one and ends the
 * reading thread's wait for input: its read fails with EINTR (no
 * SA_RESTART; the signal is passed on to it as SIG_WAKE when another thread
 * took it). A second signal ends the program at once, as if nothing were
 * caught. The calling thread is the reading thread until another says so. */
void sig_catch(void);

/* The calling thread is the one that waits for input. */
void sig_reading_thread(void);

/* What ends a read in the reading thread; harmless anywhere else. */
#define SIG_WAKE SIGURG

/* The signal caught so far, or 0. */
int sig_caught(void);

/* Hold the three (and SIG_WAKE) off in the calling thread, while it writes
 * what must be whole or so that another thread, blocked in a read, is the
 * one they interrupt; and let them in again. */
void sig_hold(void);
void sig_release(void);

/* The conventional exit status after signal signo: 128 + signo. */
int sig_status(int signo);

#endif
