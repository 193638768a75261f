/*
 * bench_pdb - PDB open + index + 100k address->name lookups on a large
 * generated PDB, timed against `llvm-pdbutil dump -publics` on the same
 * file in the same run.  Results go in docs/PERFORMANCE.md ("PDB loading").
 *
 *   bench_pdb [FILE.pdb [llvm-pdbutil]]
 *
 * Without arguments it uses (and on first run generates, with
 * gen_big_pdb.py, clang and lld-link) a ~25 MB PDB in the build directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "symbols.h"

extern char **environ;

#define LOOKUPS 100000
#define ROUNDS 3

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof *v, cmp_double);
	return v[ROUNDS / 2];
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run argv with stdout to /dev/null (unless keep_stdout); exit status. */
static int run(char *const argv[], int keep_stdout)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (!keep_stdout)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "bench_pdb: cannot run %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct rvas {
	uint32_t *v;
	size_t n, cap;
} rvas;

static int collect(void *ctx, const pdb_symbol *s)
{
	rvas *r = ctx;
	if (!s->rva)
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4096;
		r->v = realloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n++] = s->rva;
	return 0;
}

static void warm_cache(const char *path)
{
	FILE *f = fopen(path, "rb");
	char buf[1 << 16];
	if (!f)
		return;
	while (fread(buf, 1, sizeof buf, f) > 0)
		;
	fclose(f);
}

int main(int argc, char **argv)
{
	char def_pdb[4096];
	const char *path = argc > 1 ? argv[1] : NULL;
	const char *pdbutil = argc > 2 ? argv[2] : BENCH_PDBUTIL;
	if (!path) {
		snprintf(def_pdb, sizeof def_pdb, "%s/big.pdb", BENCH_DIR);
		path = def_pdb;
		struct stat st;
		if (stat(path, &st) != 0) {
			printf("generating %s (once; about two minutes)...\n", path);
			fflush(stdout);
			char *gen[] = { BENCH_PYTHON, BENCH_GEN, BENCH_DIR, BENCH_CLANG, BENCH_LLD, NULL };
			if (run(gen, 1) != 0) {
				fprintf(stderr, "bench_pdb: generating the PDB failed\n");
				return 1;
			}
		}
	}
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "bench_pdb: %s: %s\n", path, strerror(errno));
		return 1;
	}
	warm_cache(path);

	/* The machine is shared and noisy: three rounds, medians reported. */
	double m_index[ROUNDS], m_lookup[ROUNDS], m_ours[ROUNDS], m_types[ROUNDS], m_llvm[ROUNDS];
	rvas r = {0};
	uint32_t *addr = malloc(LOOKUPS * sizeof *addr);
	size_t found = 0, chars = 0;
	uint32_t first = 0, end = 0;
	for (int round = 0; round < ROUNDS; round++) {
		/* ours: open, build the symbol indexes, 100k lookups */
		char err[256];
		pdb_file *pdb;
		double t0 = now();
		if (pdb_open(path, &pdb, err, sizeof err) < 0) {
			fprintf(stderr, "bench_pdb: %s\n", err);
			return 1;
		}
		uint32_t rva;
		pdb_find_symbol(pdb, "main", &rva);   /* builds name + address indexes */
		m_index[round] = now() - t0;

		if (round == 0) {
			pdb_foreach_symbol(pdb, collect, &r);
			if (r.n == 0) {
				fprintf(stderr, "bench_pdb: no symbols in %s\n", path);
				return 1;
			}
			uint64_t seed = 88172645463325252ull;
			for (int i = 0; i < LOOKUPS; i++) {
				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				addr[i] = r.v[seed % r.n] + (uint32_t)((seed >> 32) % 64);
			}
		}
		double t1 = now();
		found = chars = 0;
		for (int i = 0; i < LOOKUPS; i++) {
			const char *name;
			uint32_t disp;
			if (pdb_symbol_at(pdb, addr[i], &name, &disp) == 0) {
				found++;
				chars += strlen(name);
			}
		}
		m_lookup[round] = now() - t1;
		/* the address list was built outside the timed part */
		m_ours[round] = m_index[round] + m_lookup[round];

		/* types are indexed separately (dt needs them, lookups do not) */
		double t2 = now();
		uint32_t ti;
		pdb_find_type(pdb, "S0_0", &ti);
		m_types[round] = now() - t2;
		pdb_type_range(pdb, &first, &end);
		pdb_close(pdb);

		char *cmd[] = { (char *)pdbutil, "dump", "-publics", (char *)path, NULL };
		double t3 = now();
		int rc = run(cmd, 0);
		m_llvm[round] = now() - t3;
		if (rc != 0) {
			fprintf(stderr, "bench_pdb: %s failed (%d)\n", pdbutil, rc);
			return 1;
		}
	}
	double t_index = median(m_index), t_lookup = median(m_lookup), t_ours = median(m_ours);
	double t_types = median(m_types), t_llvm = median(m_llvm);

	printf("PDB: %s (%.1f MB, %zu symbols with an address, %u type records)\n", path,
	       st.st_size / 1048576.0, r.n, end - first);
	printf("kdclient: open + symbol index   %8.1f ms\n", t_index * 1e3);
	printf("kdclient: %d address->name lookups %8.1f ms (%.0f ns each, %zu found)\n", LOOKUPS,
	       t_lookup * 1e3, t_lookup * 1e9 / LOOKUPS, found);
	printf("kdclient: total (open+index+lookups) %8.1f ms\n", t_ours * 1e3);
	printf("kdclient: type index (first dt)     %8.1f ms\n", t_types * 1e3);
	printf("llvm-pdbutil dump -publics          %8.1f ms\n", t_llvm * 1e3);
	printf("ratio llvm-pdbutil / kdclient:      %8.1fx   (medians of %d rounds)\n",
	       t_llvm / t_ours, ROUNDS);
	free(addr);
	free(r.v);
	return (found == LOOKUPS && chars) ? 0 : 1;
}
