/* Unit tests for alias expansion (kd_alias_expand): ${name}, whole-word
 * replacement, quoting, and the alias commands that must not expand. */
#include "check.h"
#include "cmdline.h"

static const struct kd_lang_alias tab[] = {
	{ "Foo", "nt!NtCreateFile" },
	{ "Cnt", "5" },
	{ "$arg1", "fffff800`00100000" },
};

static void expand(const char *in, const char *want, int line)
{
	char out[256];
	check_count++;
	if (kd_alias_expand(tab, sizeof tab / sizeof tab[0], in, out, sizeof out) < 0) {
		check_failures++;
		fprintf(stderr, "line %d: '%s' failed\n", line, in);
	} else if (strcmp(out, want) != 0) {
		check_failures++;
		fprintf(stderr, "line %d: '%s'\n  got  [%s]\n  want [%s]\n", line, in, out, want);
	}
}
#define EXP(i, w) expand(i, w, __LINE__)

int main(void)
{
	EXP("bp Foo", "bp nt!NtCreateFile");
	EXP("bp ${Foo}+10", "bp nt!NtCreateFile+10");
	EXP("? Cnt*2", "? 5*2");
	EXP("? Cntx", "? Cntx");                 /* whole words only */
	EXP("? xCnt", "? xCnt");
	EXP("? foo", "? foo");                   /* case-sensitive */
	EXP("db $arg1 L10", "db fffff800`00100000 L10");
	EXP("db ${$arg1}", "db fffff800`00100000");
	EXP(".echo ${/v:Foo}", ".echo ${Foo}");
	EXP(".echo ${Nope}", ".echo ${Nope}");
	EXP(".echo ${/d:Foo} ${/d:Nope}", ".echo 1 0");
	EXP(".echo [${/f:Foo}] [${/f:Nope}]", ".echo [nt!NtCreateFile] []");
	EXP(".echo ${/n:Foo} ${/n:Nope}", ".echo Foo ${/n:Nope}");
	EXP("aS ${/v:Foo} x", "aS ${Foo} x");
	EXP(".printf \"Foo\\n\"", ".printf \"Foo\\n\"");   /* not inside strings */
	EXP(".printf \"${Foo}\"", ".printf \"nt!NtCreateFile\"");
	EXP("ad Foo", "ad Foo");
	EXP("as Foo bar", "as Foo bar");
	EXP("as Bar ${Foo}", "as Bar nt!NtCreateFile");
	EXP("? Foo!x", "? Foo!x");               /* a module name, not the alias */
	{
		char small[8];
		CHECK(kd_alias_expand(tab, 3, "bp Foo", small, sizeof small) < 0);
	}
	return check_report("test_alias");
}
