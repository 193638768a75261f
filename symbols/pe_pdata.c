/*
 * pe_pdata.c - the exception directory (.pdata): x64 RUNTIME_FUNCTION
 * entries {BeginAddress, EndAddress, UnwindInfoAddress}, 12 bytes each,
 * which the x64 stack walker needs to find a function's UNWIND_INFO.
 */
#include <stdlib.h>

#include "pe_internal.h"

static int cmp_rf(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int load_pdata(pe_image *pe)
{
	uint32_t rva = pe->dir_rva[PE_DIR_EXCEPTION], size = pe->dir_size[PE_DIR_EXCEPTION];
	if (pe->machine != PE_MACHINE_AMD64 || !rva || size < 12)
		return 0;   /* x86 images have no .pdata; leaf-only images neither */
	size_t n = size / 12;
	uint8_t *raw;
	int rc = pe_read_alloc(pe, rva, (uint32_t)(n * 12), &raw);
	if (rc < 0)
		return rc;
	pe->pdata = malloc(n * 12);
	if (!pe->pdata) {
		free(raw);
		return pe_fail(pe, SYM_E_NOMEM, "out of memory");
	}
	size_t k = 0;
	int sorted = 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t b = sym_le32(raw + 12 * i), e = sym_le32(raw + 12 * i + 4);
		uint32_t u = sym_le32(raw + 12 * i + 8);
		if (e <= b)
			continue;   /* zero padding at the end of .pdata */
		if (k && b < pe->pdata[3 * (k - 1)])
			sorted = 0;
		pe->pdata[3 * k] = b;
		pe->pdata[3 * k + 1] = e;
		pe->pdata[3 * k + 2] = u;
		k++;
	}
	free(raw);
	/* the loader binary-searches .pdata, so images keep it sorted; sort a
	 * hostile one instead of trusting it */
	if (!sorted)
		qsort(pe->pdata, k, 12, cmp_rf);
	pe->npdata = k;
	return 0;
}

static int ensure_pdata(pe_image *pe)
{
	if (pe->pdata_state == 0) {
		int rc = load_pdata(pe);
		pe->pdata_state = rc < 0 ? rc : 1;
	}
	return pe->pdata_state < 0 ? pe->pdata_state : 0;
}

int pe_runtime_function_count(pe_image *pe)
{
	int rc = ensure_pdata(pe);
	return rc < 0 ? rc : (int)pe->npdata;
}

int pe_runtime_function_at(pe_image *pe, size_t i, uint32_t *begin,
                           uint32_t *end, uint32_t *unwind_rva)
{
	int rc = ensure_pdata(pe);
	if (rc < 0)
		return rc;
	if (i >= pe->npdata)
		return SYM_E_NOTFOUND;
	if (begin)
		*begin = pe->pdata[3 * i];
	if (end)
		*end = pe->pdata[3 * i + 1];
	if (unwind_rva)
		*unwind_rva = pe->pdata[3 * i + 2];
	return 0;
}

int pe_find_runtime_function(pe_image *pe, uint32_t rva, uint32_t *begin,
                             uint32_t *end, uint32_t *unwind_rva)
{
	int rc = ensure_pdata(pe);
	if (rc < 0)
		return rc;
	size_t lo = 0, hi = pe->npdata;
	while (lo < hi) {   /* last entry with begin <= rva */
		size_t mid = lo + (hi - lo) / 2;
		if (pe->pdata[3 * mid] <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || rva >= pe->pdata[3 * (lo - 1) + 1])
		return pe_fail(pe, SYM_E_NOTFOUND, "no RUNTIME_FUNCTION covers RVA %#x", rva);
	return pe_runtime_function_at(pe, lo - 1, begin, end, unwind_rva);
}
