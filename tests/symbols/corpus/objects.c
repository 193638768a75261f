/* Functions with frames (for .pdata/UNWIND_INFO), globals and statics. */
#include "corpus.h"

struct object g_root;
struct object *g_current = &g_root;
static int s_counter = 7;
int g_table[32] = { 1, 2, 3 };
const char g_banner[] = "corpus";
volatile u32 g_ticks;
struct flags g_flags = { 1, 2, 3, 1, 5, 6, 7 };
enum color g_color = BLUE;
enum big_enum g_big = BIG_NEG;
callback_fn g_callbacks[4];

__declspec(noinline) static int checksum(const u8 *p, int n)
{
	int s = 0;
	for (int i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s + s_counter++;
}

__declspec(noinline) int object_visit(struct object *o, int depth)
{
	volatile u8 scratch[64];
	for (int i = 0; i < 64; i++)
		scratch[i] = (u8)(i + depth);
	int sum = checksum((const u8 *)scratch, 64);
	if (o->Callback)
		sum += o->Callback(o, depth);
	if (depth > 0 && o->Children && o->Children[0])
		sum += object_visit(o->Children[0], depth - 1);
	return sum;
}

__declspec(noinline) u64 object_value(struct object *o)
{
	return o->Data.Value + o->Flags.huge + o->Flags.wide + o->Pcb.pair.b + o->anon_i;
}

__declspec(dllexport) int corpus_export(int x)
{
	return x * 3 + g_table[x & 31];
}
