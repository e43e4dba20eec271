/*
 * driver.c: runs a fuzz target without libFuzzer, so every ordinary build and
 * CI exercise it. Replays each file of the corpus directories given, then feeds
 * seeded random mutations of them (bit flips, truncations, splices, random
 * bytes) for --iterations rounds. A crash or sanitizer report fails the test;
 * the seed and round are printed first so a failure can be replayed with
 * --seed S --iterations N.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUTS 4096
#define MAX_INPUT_SIZE (1u << 20)

struct input {
    uint8_t *data;
    size_t size;
};

static struct input inputs[MAX_INPUTS];
static size_t ninputs;

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* splitmix64: small, seedable, good enough to pick mutations */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL || ninputs == MAX_INPUTS) {
        if (f != NULL)
            fclose(f);
        return;
    }
    uint8_t *buf = malloc(MAX_INPUT_SIZE);
    size_t n = buf ? fread(buf, 1, MAX_INPUT_SIZE, f) : 0;
    fclose(f);
    if (buf == NULL)
        return;
    inputs[ninputs].data = buf;
    inputs[ninputs].size = n;
    ninputs++;
}

static void add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        add_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *e;
    char full[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        add_file(full);
    }
    closedir(d);
}

static size_t mutate(uint8_t *buf, size_t size, size_t cap)
{
    int rounds = 1 + (int)(rng_next() % 4);
    for (int r = 0; r < rounds; r++) {
        switch (rng_next() % 6) {
        case 0: /* flip a bit */
            if (size > 0)
                buf[rng_next() % size] ^= (uint8_t)(1u << (rng_next() % 8));
            break;
        case 1: /* truncate */
            if (size > 0)
                size = rng_next() % size;
            break;
        case 2: /* random byte */
            if (size > 0)
                buf[rng_next() % size] = (uint8_t)rng_next();
            break;
        case 3: /* append random bytes */
            for (int i = 0, n = (int)(rng_next() % 16); i < n && size < cap; i++)
                buf[size++] = (uint8_t)rng_next();
            break;
        case 4: /* splice in a piece of another input */
            if (ninputs > 0) {
                struct input *o = &inputs[rng_next() % ninputs];
                if (o->size > 0 && size > 0) {
                    size_t from = rng_next() % o->size, to = rng_next() % size;
                    size_t n = rng_next() % (o->size - from + 1);
                    if (to + n > cap)
                        n = cap - to;
                    memcpy(buf + to, o->data + from, n);
                    if (to + n > size)
                        size = to + n;
                }
            }
            break;
        default: /* interesting values: 0x00, 0xff, 0x7f, 0x80 */
            if (size > 0) {
                static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x01};
                buf[rng_next() % size] = vals[rng_next() % sizeof(vals)];
            }
            break;
        }
    }
    return size;
}

int main(int argc, char **argv)
{
    long iterations = 10000;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
            iterations = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else
            add_path(argv[i]);
    }
    for (size_t i = 0; i < ninputs; i++)
        LLVMFuzzerTestOneInput(inputs[i].data, inputs[i].size);
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);

    printf("fuzz: %zu corpus inputs replayed; %ld mutations, seed %llu\n", ninputs, iterations,
           (unsigned long long)seed);
    fflush(stdout);
    rng_state = seed;
    uint8_t *buf = malloc(MAX_INPUT_SIZE);
    if (buf == NULL)
        return 1;
    for (long it = 0; it < iterations; it++) {
        size_t size = 0;
        if (ninputs > 0) {
            struct input *in = &inputs[rng_next() % ninputs];
            memcpy(buf, in->data, in->size);
            size = in->size;
        }
        size = mutate(buf, size, 65536 < MAX_INPUT_SIZE ? 65536 : MAX_INPUT_SIZE);
        LLVMFuzzerTestOneInput(buf, size);
    }
    free(buf);
    for (size_t i = 0; i < ninputs; i++)
        free(inputs[i].data);
    printf("fuzz: done, no crash\n");
    return 0;
}
