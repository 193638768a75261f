/* unwind.c - functions whose prologues exercise the x64 unwind codes
 * (many pushes, small/large/huge allocations, a frame pointer from alloca,
 * xmm saves) and, built for i686, FPO frame data.  Never run: the tests
 * read the image (test_unwind_pe.c) or its PDB. */
typedef unsigned long long u64;

/* /nodefaultlib: the stack-probe helpers the compiler calls for big frames. */
void __chkstk(void) {}
void _alloca_probe(void) {}
void _chkstk(void) {}
int _fltused;

__declspec(noinline) u64 sink(volatile void *p, u64 n)
{
	volatile unsigned char *b = p;
	u64 s = 0;
	for (u64 i = 0; i < n; i += 64)
		s += b[i];
	return s;
}

__declspec(noinline) double fsink(double x) { return x * 1.5; }

__declspec(noinline) u64 many_regs(u64 a, u64 b, u64 c, u64 d)
{
	u64 x1 = a * 3, x2 = b * 5, x3 = c * 7, x4 = d * 11, x5 = a ^ b, x6 = c ^ d, x7 = a + d, x8 = b + c;
	u64 s = sink(&x1, 1);
	s += sink(&x2, 1);
	return s + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + a * b * c * d;
}

__declspec(noinline) u64 big_frame(u64 n)
{
	volatile unsigned char buf[0x3000];
	for (u64 i = 0; i < sizeof(buf); i += 512)
		buf[i] = (unsigned char)(n + i);
	return sink(buf, sizeof(buf)) + n;
}

__declspec(noinline) u64 huge_frame(u64 n)
{
	volatile unsigned char buf[0x90000];
	buf[n & 0xffff] = 1;
	return sink(buf, sizeof(buf)) + n;
}

__declspec(noinline) u64 uses_alloca(u64 n)
{
	volatile unsigned char *p = __builtin_alloca(n);
	p[0] = 1;
	u64 keep = n * 9;
	return sink(p, n) + keep;
}

__declspec(noinline) double fp_saves(double a, double b, double c)
{
	double x = a * b, y = a + c, z = b - c, w = a / (b + 1.0);
	double r = fsink(x);
	r += fsink(y);
	return r * x * y * z * w;
}

__declspec(noinline) u64 level3(u64 v) { return sink(&v, 1) + many_regs(v, v + 1, v + 2, v + 3); }
__declspec(noinline) u64 level2(u64 v) { return level3(v * 2) + big_frame(v); }
__declspec(noinline) u64 level1(u64 v) { return level2(v + 1) + uses_alloca(v & 0xff) + 1; }

int main(void)
{
	u64 v = level1(3);
	v += huge_frame(v);
	v += (u64)fp_saves(1.0, 2.0, (double)v);
	return (int)v;
}
