/*
 * bench_cipher.c: what the page cipher alone costs, the lower bound of the
 * encrypting VFS's overhead. Seals and opens 4 KiB pages (4096 - 40 bytes of
 * payload, 24 bytes of associated data like page number + database id, as the
 * VFS does) with XChaCha20-Poly1305 and, when the CPU supports it, AES-256-GCM,
 * and prints MB/s and microseconds per page for each and their ratio.
 *
 * usage: bench_cipher [pages]   (default 50000 pages per run, best of 3 runs;
 *                                env FS_BENCH_PAGES also sets it)
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_BYTES 4096
#define RESERVE_BYTES 40 /* 24-byte nonce + 16-byte tag in the page's reserve */
#define AD_BYTES 24
#define RUNS 3
#define DEFAULT_PAGES 50000L

typedef struct cipher {
    const char *name;
    size_t nonce_bytes;
    int (*seal)(unsigned char *c, unsigned long long *clen, const unsigned char *m,
                unsigned long long mlen, const unsigned char *ad, unsigned long long adlen,
                const unsigned char *nsec, const unsigned char *npub, const unsigned char *k);
    int (*open)(unsigned char *m, unsigned long long *mlen, unsigned char *nsec,
                const unsigned char *c, unsigned long long clen, const unsigned char *ad,
                unsigned long long adlen, const unsigned char *npub, const unsigned char *k);
} cipher;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One run: seal then open each page, as a page's write and later read would.
 * Returns seconds, or -1 if an open failed (a broken benchmark, not a figure). */
static double run(const cipher *c, long pages, const unsigned char *key)
{
    static unsigned char plain[PAGE_BYTES], sealed[PAGE_BYTES], back[PAGE_BYTES];
    unsigned char ad[AD_BYTES], nonce[24];
    size_t payload = PAGE_BYTES - RESERVE_BYTES;
    randombytes_buf(plain, sizeof(plain));
    randombytes_buf(ad, sizeof(ad));
    double t0 = now_s();
    for (long i = 0; i < pages; i++) {
        unsigned long long n;
        memcpy(ad, &i, sizeof(i)); /* page number */
        randombytes_buf(nonce, c->nonce_bytes);
        c->seal(sealed, &n, plain, payload, ad, sizeof(ad), NULL, nonce, key);
        if (c->open(back, &n, NULL, sealed, payload + 16, ad, sizeof(ad), nonce, key) != 0)
            return -1;
    }
    double t = now_s() - t0;
    return memcmp(back, plain, payload) == 0 ? t : -1;
}

static double best_of(const cipher *c, long pages)
{
    unsigned char key[32];
    randombytes_buf(key, sizeof(key));
    double best = -1;
    for (int r = 0; r < RUNS; r++) {
        double t = run(c, pages, key);
        if (t < 0)
            return -1;
        if (best < 0 || t < best)
            best = t;
    }
    sodium_memzero(key, sizeof(key));
    return best;
}

static void print(const char *name, long pages, double t)
{
    double mb = (double)pages * PAGE_BYTES / 1e6;
    printf("%-24s %9.1f MB/s  %7.2f us/page (seal+open)\n", name, mb / t, t * 1e6 / pages);
}

int main(int argc, char **argv)
{
    const char *env = getenv("FS_BENCH_PAGES");
    long pages = argc > 1 ? atol(argv[1]) : env != NULL ? atol(env) : DEFAULT_PAGES;
    if (pages <= 0 || sodium_init() < 0) {
        fprintf(stderr, "usage: %s [pages > 0] (libsodium must initialise)\n", argv[0]);
        return 2;
    }
    const cipher xchacha = {"XChaCha20-Poly1305", crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                            crypto_aead_xchacha20poly1305_ietf_encrypt,
                            crypto_aead_xchacha20poly1305_ietf_decrypt};
    const cipher aesgcm = {"AES-256-GCM", crypto_aead_aes256gcm_NPUBBYTES,
                           crypto_aead_aes256gcm_encrypt, crypto_aead_aes256gcm_decrypt};
    printf("libsodium %s; CPU: AES-NI %s, PCLMUL %s, AVX2 %s\n", sodium_version_string(),
           sodium_runtime_has_aesni() ? "yes" : "no", sodium_runtime_has_pclmul() ? "yes" : "no",
           sodium_runtime_has_avx2() ? "yes" : "no");
    printf("%ld pages of %d bytes per run, best of %d runs\n", pages, PAGE_BYTES, RUNS);
    double tx = best_of(&xchacha, pages);
    if (tx < 0) {
        fprintf(stderr, "XChaCha20-Poly1305: a sealed page failed to open\n");
        return 1;
    }
    print(xchacha.name, pages, tx);
    if (!crypto_aead_aes256gcm_is_available()) {
        printf("%-24s not available on this CPU (needs AES-NI and PCLMUL)\n", aesgcm.name);
        return 0;
    }
    double ta = best_of(&aesgcm, pages);
    if (ta < 0) {
        fprintf(stderr, "AES-256-GCM: a sealed page failed to open\n");
        return 1;
    }
    print(aesgcm.name, pages, ta);
    printf("ratio XChaCha20-Poly1305 / AES-256-GCM time: %.2f\n", tx / ta);
    return 0;
}
