/*
 * attack.c: the hostile clients of bench_server_load (see attack.h).
 *
 * One thread keeps opt.half_open connections open, each sending nothing,
 * opening new ones (at most HALF_OPEN_BURST per tick) as the server closes
 * them, and sorts every close by when it came: at once (refused at accept),
 * after the header timeout, or in between. The body threads push
 * opt.body_bytes bodies over and over, half of them without a token and half
 * with the rogue device's, each from a source address of its own.
 */
#include "attack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* New half-open connections per second at most (a closed one is replaced as
 * soon as the rate allows), and the tick. */
#define HALF_OPEN_RATE 500
#define TICK_MS 50
/* A close within this of the connect counts as refused at accept. */
#define AT_ACCEPT_S 1.0
/* The pause of a body thread after each answer (bounds its request rate). */
#define BODY_PAUSE_MS 50
#define IO_TIMEOUT_S 10

typedef struct slot {
    int fd;
    double opened;
} slot;

struct attack {
    attack_opts o;
    atomic_bool stop;
    pthread_mutex_t lock;
    attack_figures fig;
    uint8_t *body; /* empty RecordStates: 0a 00 repeated */
    pthread_t half_open;
    pthread_t *bodies;
    unsigned nbodies;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* A TCP socket to 127.0.0.1:port from src; -1 when it cannot be made. */
static int connect_from(const char *src, unsigned port, bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &a.sin_addr);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ------------------------------------------------------------------------- */
/* Half-open connections */

static void closed(attack *a, double age)
{
    pthread_mutex_lock(&a->lock);
    if (age < AT_ACCEPT_S)
        a->fig.closed_at_accept++;
    else if (age >= a->o.header_timeout_s - 0.5)
        a->fig.closed_at_deadline++;
    else
        a->fig.closed_other++;
    pthread_mutex_unlock(&a->lock);
}

/* Opens connections into free slots, as many as the rate allows by now
 * (*credit: connections the rate has granted and not yet used). */
static void top_up(attack *a, slot *s, unsigned *next_src, double *credit, double *last)
{
    char src[32];
    const double most = HALF_OPEN_RATE * TICK_MS / 1000.0 * 4; /* what builds up while idle */
    double now = mono_s();
    if (*credit < most)
        *credit = fmin(*credit + (now - *last) * HALF_OPEN_RATE, most);
    *last = now;
    for (unsigned i = 0; i < a->o.half_open && *credit >= 1; i++) {
        if (s[i].fd >= 0)
            continue;
        snprintf(src, sizeof(src), "127.0.0.%u", 2 + (*next_src)++ % a->o.addresses);
        s[i].fd = connect_from(src, a->o.port, true);
        s[i].opened = mono_s();
        *credit -= 1;
        pthread_mutex_lock(&a->lock);
        a->fig.opened++;
        pthread_mutex_unlock(&a->lock);
        if (s[i].fd < 0)
            closed(a, 0);
    }
}

static void *half_open_main(void *arg)
{
    attack *a = arg;
    slot *s = calloc(a->o.half_open, sizeof(*s));
    struct pollfd *p = calloc(a->o.half_open, sizeof(*p));
    unsigned next_src = 0;
    double credit = a->o.half_open, last = mono_s(); /* the first wave opens at once */
    for (unsigned i = 0; i < a->o.half_open; i++)
        s[i].fd = -1;
    while (!atomic_load(&a->stop)) {
        top_up(a, s, &next_src, &credit, &last);
        for (unsigned i = 0; i < a->o.half_open; i++)
            p[i] = (struct pollfd){.fd = s[i].fd, .events = POLLIN | POLLRDHUP};
        poll(p, a->o.half_open, TICK_MS);
        double now = mono_s();
        unsigned held = 0;
        for (unsigned i = 0; i < a->o.half_open; i++) {
            char c;
            if (s[i].fd >= 0 && p[i].revents != 0 && recv(s[i].fd, &c, 1, MSG_DONTWAIT) <= 0) {
                closed(a, now - s[i].opened);
                close(s[i].fd);
                s[i].fd = -1;
            }
            /* past the accept, still open: the server holds it */
            held += s[i].fd >= 0 && now - s[i].opened >= AT_ACCEPT_S;
        }
        pthread_mutex_lock(&a->lock);
        if (held > a->fig.held_peak)
            a->fig.held_peak = held;
        pthread_mutex_unlock(&a->lock);
    }
    for (unsigned i = 0; i < a->o.half_open; i++)
        if (s[i].fd >= 0)
            close(s[i].fd);
    free(p);
    free(s);
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* HTTP */

static void set_timeouts(int fd)
{
    struct timeval tv = {IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n > 65536 ? 65536 : n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the server closed: it answered early, or gave up on us */
        c += w;
        n -= (size_t)w;
    }
}

/* Reads an answer: status and, with a Content-Length, the body. */
static int read_answer(int fd, void **resp, size_t *resp_len)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    char *end = NULL;
    ssize_t r;
    while (buf != NULL && len < cap && (r = recv(fd, buf + len, cap - len, 0)) > 0) {
        len += (size_t)r;
        buf[len] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) == NULL)
            continue;
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        size_t want = (size_t)(end + 4 - buf) + (cl != NULL ? strtoul(cl + 17, NULL, 10) : 0);
        if (len >= want || want > cap)
            break;
    }
    int status = 0;
    if (buf != NULL && len > 12 && strncmp(buf, "HTTP/1.1 ", 9) == 0)
        status = atoi(buf + 9);
    if (resp != NULL && end != NULL) {
        *resp_len = len - (size_t)(end + 4 - buf);
        *resp = malloc(*resp_len + 1);
        if (*resp != NULL)
            memcpy(*resp, end + 4, *resp_len);
    }
    free(buf);
    return status;
}

int attack_http(unsigned port, const char *src, const char *head, const void *body, size_t len,
                void **resp, size_t *resp_len)
{
    if (resp != NULL) {
        *resp = NULL;
        *resp_len = 0;
    }
    int fd = connect_from(src, port, false);
    if (fd < 0)
        return 0;
    set_timeouts(fd);
    send_all(fd, head, strlen(head));
    send_all(fd, body, len);
    int status = read_answer(fd, resp, resp_len);
    close(fd);
    return status;
}

/* ------------------------------------------------------------------------- */
/* Large bodies */

typedef struct body_thread {
    attack *a;
    unsigned index;
    bool with_token;
} body_thread;

static void count_body(attack *a, bool with_token, int status)
{
    pthread_mutex_lock(&a->lock);
    if (with_token) {
        a->fig.rogue[status == 413   ? 0
                     : status == 429 ? 1
                     : status == 503 ? 2
                     : status != 0   ? 3
                                     : 4]++;
        a->fig.rogue[5]++;
    } else {
        a->fig.anon[status == 401 ? 0 : status != 0 ? 1 : 2]++;
        a->fig.anon[3]++;
    }
    pthread_mutex_unlock(&a->lock);
}

static void *body_main(void *arg)
{
    body_thread *t = arg;
    attack *a = t->a;
    char src[32], head[512];
    snprintf(src, sizeof(src), "127.0.%u.%u", 1 + t->index / 200, 2 + t->index % 200);
    snprintf(head, sizeof(head),
             "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nFieldsync-Protocol: 1\r\n"
             "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n%s%s%s\r\n",
             a->o.body_bytes, t->with_token ? "Authorization: " : "",
             t->with_token ? a->o.bearer : "", t->with_token ? "\r\n" : "");
    while (!atomic_load(&a->stop)) {
        int status = attack_http(a->o.port, src, head, a->body, a->o.body_bytes, NULL, NULL);
        count_body(a, t->with_token, status);
        pause_ms(BODY_PAUSE_MS);
    }
    free(t);
    return NULL;
}

/* ------------------------------------------------------------------------- */

static void fail(const char *what)
{
    fprintf(stderr, "bench_server_load: %s\n", what);
    exit(1);
}

attack *attack_start(const attack_opts *o)
{
    attack *a = calloc(1, sizeof(*a));
    if (a == NULL || o->addresses == 0 || o->addresses > 250)
        fail("attack: bad options or out of memory");
    a->o = *o;
    pthread_mutex_init(&a->lock, NULL);
    if ((a->body = malloc(o->body_bytes)) == NULL)
        fail("attack: out of memory for the body");
    for (size_t i = 0; i < o->body_bytes; i++)
        a->body[i] = i % 2 == 0 ? 0x0a : 0x00;
    if (o->half_open > 0 && pthread_create(&a->half_open, NULL, half_open_main, a) != 0)
        fail("attack: cannot start a thread");
    a->bodies = calloc(2 * (size_t)o->body_threads + 1, sizeof(*a->bodies));
    for (unsigned i = 0; i < 2 * o->body_threads; i++) {
        body_thread *t = malloc(sizeof(*t));
        if (t == NULL)
            fail("attack: out of memory");
        *t = (body_thread){a, i, i % 2 == 1 && o->bearer != NULL};
        if (pthread_create(&a->bodies[a->nbodies++], NULL, body_main, t) != 0)
            fail("attack: cannot start a thread");
    }
    return a;
}

void attack_figures_get(attack *a, attack_figures *f)
{
    pthread_mutex_lock(&a->lock);
    *f = a->fig;
    pthread_mutex_unlock(&a->lock);
}

void attack_stop(attack *a, attack_figures *f)
{
    atomic_store(&a->stop, true);
    if (a->o.half_open > 0)
        pthread_join(a->half_open, NULL);
    for (unsigned i = 0; i < a->nbodies; i++)
        pthread_join(a->bodies[i], NULL);
    attack_figures_get(a, f);
    pthread_mutex_destroy(&a->lock);
    free(a->bodies);
    free(a->body);
    free(a);
}
