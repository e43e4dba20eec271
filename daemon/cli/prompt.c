/*
 * prompt.c: reading passphrases (prompt.h).
 *
 * On a terminal, echo is turned off for the read and always turned back on,
 * also when the user presses Ctrl-C: SIGINT/SIGTERM/SIGHUP interrupt the read
 * (no SA_RESTART), the terminal is restored, and the signal is raised again
 * with its old disposition so the shell sees the usual exit status.
 */
#include "prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

static int pass_new(fs_pass **out, fs_err *err)
{
    fs_pass *p = calloc(1, sizeof(*p));
    char *buf = calloc(1, FS_PASS_MAX + 2);
    if (p == NULL || buf == NULL) {
        free(p);
        free(buf);
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    }
    (void)mlock(buf, FS_PASS_MAX + 2); /* best effort: RLIMIT_MEMLOCK may refuse */
    p->buf = buf;
    *out = p;
    return 0;
}

void fs_pass_free(fs_pass *p)
{
    if (p == NULL)
        return;
    explicit_bzero(p->buf, FS_PASS_MAX + 2);
    munlock(p->buf, FS_PASS_MAX + 2);
    free(p->buf);
    free(p);
}

/* Reads one line into p; sets *interrupted on EINTR. */
static int read_line(fs_pass *p, int fd, const char *what, volatile sig_atomic_t *interrupted,
                     fs_err *err)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR && (interrupted == NULL || !*interrupted))
            continue;
        if (r < 0)
            return fs_err_set(err, FS_EIO, "cannot read the passphrase from %s: %s", what,
                              errno == EINTR ? "interrupted" : strerror(errno));
        if (r == 0 || c == '\n')
            break;
        if (n >= FS_PASS_MAX)
            return fs_err_set(err, FS_EINVAL, "the passphrase from %s is longer than %d bytes",
                              what, FS_PASS_MAX);
        p->buf[n++] = c;
    }
    if (n > 0 && p->buf[n - 1] == '\r')
        n--;
    p->buf[n] = '\0';
    p->len = n;
    if (n == 0)
        return fs_err_set(err, FS_EINVAL, "the passphrase from %s is empty", what);
    return 0;
}

int fs_pass_from_fd(fs_pass **out, int fd, const char *what, fs_err *err)
{
    *out = NULL;
    fs_pass *p = NULL;
    int rc = pass_new(&p, err);
    if (rc == 0)
        rc = read_line(p, fd, what, NULL, err);
    if (rc != 0) {
        fs_pass_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int fs_pass_from_file(fs_pass **out, const char *path, fs_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fs_err_set(err, errno == ENOENT ? FS_ENOTFOUND : FS_EIO,
                          "cannot open passphrase file %s: %s", path, strerror(errno));
    char what[300];
    snprintf(what, sizeof(what), "file %s", path);
    int rc = fs_pass_from_fd(out, fd, what, err);
    close(fd);
    return rc;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NCAUGHT (sizeof(caught) / sizeof(caught[0]))

static int prompt_tty(fs_pass *p, int tty, const char *prompt, fs_err *err)
{
    struct termios old, quiet;
    if (tcgetattr(tty, &old) != 0)
        return fs_err_set(err, FS_ENOTFOUND, "cannot use the terminal: %s", strerror(errno));
    struct sigaction sa = {.sa_handler = on_signal}, saved[NCAUGHT];
    sigemptyset(&sa.sa_mask);
    got_signal = 0;
    for (size_t i = 0; i < NCAUGHT; i++)
        sigaction(caught[i], &sa, &saved[i]);
    quiet = old;
    quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    int rc = 0;
    /* Echo goes off before the prompt shows, so nothing typed after it is echoed. */
    if (tcsetattr(tty, TCSAFLUSH, &quiet) != 0 || write(tty, prompt, strlen(prompt)) < 0)
        rc = fs_err_set(err, FS_EIO, "cannot prepare the terminal: %s", strerror(errno));
    if (rc == 0)
        rc = read_line(p, tty, "the terminal", &got_signal, err);
    tcsetattr(tty, TCSAFLUSH, &old);
    if (write(tty, "\n", 1) < 0) { /* the Enter the user typed was not echoed */
    }
    for (size_t i = 0; i < NCAUGHT; i++)
        sigaction(caught[i], &saved[i], NULL);
    if (got_signal != 0) {
        explicit_bzero(p->buf, FS_PASS_MAX + 2);
        raise(got_signal);
        return fs_err_set(err, FS_EIO, "interrupted");
    }
    return rc;
}

int fs_pass_prompt(fs_pass **out, const char *prompt, fs_err *err)
{
    *out = NULL;
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (tty < 0)
        return fs_err_set(err, FS_ENOTFOUND,
                          "there is no terminal to ask for the passphrase: use --passphrase-file "
                          "FILE or --passphrase-fd N");
    fs_pass *p = NULL;
    int rc = pass_new(&p, err);
    if (rc == 0)
        rc = prompt_tty(p, tty, prompt, err);
    close(tty);
    if (rc != 0) {
        fs_pass_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
