/* Entry point and a few more functions for the PDB test corpus. */
#include "corpus.h"

extern struct object g_root;
extern struct object *g_current;
extern volatile u32 g_ticks;
int object_visit(struct object *o, int depth);
u64 object_value(struct object *o);

static int cb_add(void *ctx, int code)
{
	(void)ctx;
	g_ticks += (u32)code;
	return code + 1;
}

__declspec(noinline) int walk_list(LIST_ENTRY *head)
{
	int n = 0;
	for (LIST_ENTRY *e = head->Flink; e && e != head; e = e->Flink)
		n++;
	return n;
}

__declspec(noinline) static long long mix(long long a, long long b, long long c, long long d, long long e)
{
	long long v[8];
	for (int i = 0; i < 8; i++)
		v[i] = a * i + b - c * d + e;
	return v[g_ticks & 7] + walk_list(&g_root.Links);
}

int main(void)
{
	g_root.Callback = cb_add;
	g_root.Links.Flink = g_root.Links.Blink = &g_root.Links;
	int r = object_visit(g_current, 2);
	r += (int)object_value(&g_root);
	r += (int)mix(r, 2, 3, 4, 5);
	return r;
}
