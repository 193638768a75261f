/* testutil.h - tiny check macros and a sparse fake memory for the nt/stack
 * unit tests. */
#ifndef TESTS_NT_TESTUTIL_H
#define TESTS_NT_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); g_failures++; } } while (0)
#define CHECK_EQ(a, b) do { unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
	if (_a != _b) { fprintf(stderr, "%s:%d: %s == %s failed: %llx != %llx\n", __FILE__, __LINE__, #a, #b, _a, _b); g_failures++; } } while (0)
#define TEST_END() do { if (g_failures) { fprintf(stderr, "%d failure(s)\n", g_failures); return 1; } printf("ok\n"); return 0; } while (0)

/* Sparse memory: a list of regions; reads must fall inside one region. */
typedef struct fake_region { uint64_t base; size_t len; uint8_t *bytes; } fake_region;
typedef struct fake_mem { fake_region r[64]; int n; unsigned reads; } fake_mem;

/* Every region lives until the test exits; they are freed at exit so the
 * sanitizer build's leak check only ever reports the code under test. */
static void *g_fake_allocs[1024];
static int g_fake_nallocs;
static void fake_free_all(void)
{
	while (g_fake_nallocs > 0)
		free(g_fake_allocs[--g_fake_nallocs]);
}

static inline uint8_t *fake_map(fake_mem *m, uint64_t base, size_t len)
{
	if (m->n >= (int)(sizeof m->r / sizeof m->r[0]) ||
	    g_fake_nallocs >= (int)(sizeof g_fake_allocs / sizeof g_fake_allocs[0])) {
		fprintf(stderr, "fake_map: too many regions\n");
		exit(2);
	}
	if (g_fake_nallocs == 0)
		atexit(fake_free_all);
	fake_region *r = &m->r[m->n++];
	r->base = base;
	r->len = len;
	r->bytes = calloc(1, len);
	if (!r->bytes) {
		fprintf(stderr, "fake_map: out of memory\n");
		exit(2);
	}
	g_fake_allocs[g_fake_nallocs++] = r->bytes;
	return r->bytes;
}

static inline uint8_t *fake_ptr(fake_mem *m, uint64_t addr, size_t len)
{
	for (int i = 0; i < m->n; i++)
		if (addr >= m->r[i].base && addr - m->r[i].base + len <= m->r[i].len)
			return m->r[i].bytes + (addr - m->r[i].base);
	return NULL;
}

static inline int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	fake_mem *m = ctx;
	m->reads++;
	uint8_t *p = fake_ptr(m, addr, len);
	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

static inline void fake_put64(fake_mem *m, uint64_t addr, uint64_t v)
{
	uint8_t *p = fake_ptr(m, addr, 8);
	if (!p) { fprintf(stderr, "fake_put64 outside memory: %llx\n", (unsigned long long)addr); exit(2); }
	for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void fake_put32(fake_mem *m, uint64_t addr, uint32_t v)
{
	uint8_t *p = fake_ptr(m, addr, 4);
	if (!p) { fprintf(stderr, "fake_put32 outside memory: %llx\n", (unsigned long long)addr); exit(2); }
	for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void fake_put(fake_mem *m, uint64_t addr, const void *b, size_t len)
{
	uint8_t *p = fake_ptr(m, addr, len);
	if (!p) { fprintf(stderr, "fake_put outside memory: %llx\n", (unsigned long long)addr); exit(2); }
	memcpy(p, b, len);
}

#endif
