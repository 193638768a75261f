/*
 * symtest.c - a small Windows DLL (clang + lld-link, CodeView) whose PDB the
 * symbol-server and module-set tests fetch, index and print.  Built several
 * times with different SYMTEST_VARIANT values: every link gets its own PDB
 * GUID, which is what the server test needs (plain, .pd_, file.ptr,
 * mismatched, 404 on one server).  The types mimic the shapes dt must
 * print: nested structs, unions, bitfields, enums, arrays, list entries.
 */
typedef unsigned short WCHAR;
typedef struct _LIST_ENTRY {
	struct _LIST_ENTRY *Flink;
	struct _LIST_ENTRY *Blink;
} LIST_ENTRY;

typedef struct _UNICODE_STRING {
	unsigned short Length;
	unsigned short MaximumLength;
	WCHAR *Buffer;
} UNICODE_STRING;

typedef enum _SYMTEST_STATE {
	SymTestIdle = 0,
	SymTestRunning = 1,
	SymTestDone = 7,
} SYMTEST_STATE;

typedef struct _SYMTEST_INNER {
	unsigned long Flags;
	unsigned long long Counter;
} SYMTEST_INNER;

typedef struct _SYMTEST_OBJECT {
	SYMTEST_INNER Inner;
	LIST_ENTRY Links;
	void *UniqueProcessId;
	unsigned int Bit0 : 1;
	unsigned int Bits1to3 : 3;
	unsigned int Rest : 28;
	union {
		unsigned long Whole;
		unsigned short Halves[2];
	} u;
	SYMTEST_STATE State;
	unsigned char ImageFileName[15];
	int Signed;
	UNICODE_STRING Name;
	struct _SYMTEST_OBJECT *Next;
} SYMTEST_OBJECT;

__declspec(dllexport) SYMTEST_OBJECT SymTestGlobalObject;
__declspec(dllexport) int SymTestCounter = SYMTEST_VARIANT;

__declspec(dllexport) int SymTestAdd(int a, int b)
{
	return a + b + SymTestCounter;
}

__declspec(dllexport) int SymTestMultiply(int a, int b)
{
	return a * b - SymTestCounter;
}

static int SymTestHelper(SYMTEST_OBJECT *o)
{
	return (int)o->Inner.Flags + o->Signed;
}

__declspec(dllexport) int SymTestUseObject(SYMTEST_OBJECT *o)
{
	return SymTestHelper(o) + (int)o->State;
}

int SymTestNotExported(int x)
{
	return x * 3 + SYMTEST_VARIANT;
}
