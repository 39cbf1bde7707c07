#include "sig.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t caught;
/* the thread whose read a signal must end, wherever it is delivered (a
 * library's worker thread may be the one the kernel picks) */
static pthread_t reader;
static volatile sig_atomic_t have_reader;

static void on_wake(int signo)
{
	(void)signo;	/* only for the EINTR */
}

static void on_signal(int signo)
{
	if (caught) {
		signal(signo, SIG_DFL);
		raise(signo);
		return;
	}
	caught = signo;
	if (have_reader && !pthread_equal(pthread_self(), reader))
		pthread_kill(reader, SIG_WAKE);
}

static void install(int signo, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: a blocked read returns */
	sigaction(signo, &sa, NULL);
}

void sig_catch(void)
{
	install(SIG_WAKE, on_wake);
	sig_reading_thread();
	install(SIGINT, on_signal);
	install(SIGTERM, on_signal);
	install(SIGHUP, on_signal);
}

void sig_reading_thread(void)
{
	have_reader = 0;
	reader = pthread_self();
	have_reader = 1;
}

int sig_caught(void)
{
	return caught;
}

static void mask(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIG_WAKE);
	pthread_sigmask(how, &set, NULL);
}

void sig_hold(void)
{
	mask(SIG_BLOCK);
}

void sig_release(void)
{
	mask(SIG_UNBLOCK);
}

int sig_status(int signo)
{
	return 128 + signo;
}
