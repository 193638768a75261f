/* Types shared by the PDB test corpus: every record kind the parser
 * decodes (bitfields, nested and anonymous aggregates, unions, enums,
 * arrays, pointers, function pointers, const/volatile). */
#ifndef CORPUS_H
#define CORPUS_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

enum color { RED, GREEN = 5, BLUE = -3, WIDE = 0x7fffffff };
enum big_enum { BIG_ZERO, BIG_MAX = 65535, BIG_NEG = -70000 };

typedef struct _LIST_ENTRY {
	struct _LIST_ENTRY *Flink;
	struct _LIST_ENTRY *Blink;
} LIST_ENTRY;

struct flags {
	u32 absolute : 1;
	u32 spare : 3;
	u32 wide : 28;
	u8 small : 2;
	u8 rest : 6;
	u64 huge : 40;
	u64 tail : 24;
};

typedef int (*callback_fn)(void *ctx, int code);

struct inner {
	short x;
	char name[16];
	struct { int a, b; } pair;
};

struct object {
	LIST_ENTRY Links;
	struct inner Pcb;
	union {
		u64 Value;
		struct { u32 Low, High; } Parts;
		void *Pointer;
	} Data;
	union { int anon_i; float anon_f; };
	enum color Color;
	struct flags Flags;
	callback_fn Callback;
	void (*Notify)(struct object *self);
	const volatile u32 *Counter;
	struct object **Children;
	int Matrix[3][4];
	u8 Bytes[7];
	double Real;
	unsigned short Wide[4];
	struct opaque *Hidden;
};

#endif
