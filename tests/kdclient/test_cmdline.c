/* Unit tests for kd_cmdline_*: WinDbg's ';' splitting rules, comments,
 * nested quoted strings of breakpoint commands, j lists, braces. */
#include "check.h"
#include "cmdline.h"

typedef struct collected {
	char cmds[16][256];
	int n;
	int stop_after;
} collected;

static int collect(void *ctx, const char *cmd, int truncated)
{
	collected *c = ctx;
	(void)truncated;
	if (c->n < 16)
		snprintf(c->cmds[c->n], sizeof c->cmds[0], "%s", cmd);
	c->n++;
	return c->stop_after && c->n >= c->stop_after ? 7 : 0;
}

/* Split and compare against a '|'-joined list of expected commands. */
static void expect_split(const char *line, const char *want, int lineno)
{
	collected c = { .n = 0 };
	kd_cmdline_split(line, collect, &c);
	char got[2048] = "";
	for (int i = 0; i < c.n && i < 16; i++) {
		if (i)
			strcat(got, "|");
		strcat(got, c.cmds[i]);
	}
	check_count++;
	if (strcmp(got, want) != 0) {
		check_failures++;
		fprintf(stderr, "line %d: split(%s)\n  got  [%s]\n  want [%s]\n", lineno, line, got, want);
	}
}
#define SPLIT(line, want) expect_split(line, want, __LINE__)

int main(void)
{
	SPLIT("r", "r");
	SPLIT("  r ;  dq rsp L4 ;g  ", "r|dq rsp L4|g");
	SPLIT(";;r;;", "r");
	SPLIT("", "");
	SPLIT("   ", "");
	/* The user's tracing command: the bp string holds an escaped quoted
	 * .printf format and its own ';'. */
	SPLIT("bp nt!NtCreateFile \".printf \\\"%msu\\\\n\\\", poi(@r8+10); gc\"; g",
	      "bp nt!NtCreateFile \".printf \\\"%msu\\\\n\\\", poi(@r8+10); gc\"|g");
	/* Two levels of nesting. */
	SPLIT("bp 1000 \"bp 2000 \\\"r; gc\\\"; gc\"; bl",
	      "bp 1000 \"bp 2000 \\\"r; gc\\\"; gc\"|bl");
	SPLIT(".printf \"a;b\\n\"; .echo x", ".printf \"a;b\\n\"|.echo x");
	/* $$ comments end at ';'; '*' comments take the rest of the line. */
	SPLIT("$$ a comment; r rax", "r rax");
	SPLIT("r; $$ comment ; g", "r|g");
	SPLIT("* everything; here; ignored", "");
	SPLIT("r; * rest; ignored", "r");
	SPLIT("r\n* line comment\ng", "r|g");
	/* Scripts run by file take the rest of the line. */
	SPLIT("$$>a< c:\\s.txt 1; 2", "$$>a< c:\\s.txt 1; 2");
	SPLIT("r; $$>< /tmp/x;y", "r|$$>< /tmp/x;y");
	/* as takes the rest of the line, aS stops at ';'. */
	SPLIT("as Name r; g", "as Name r; g");
	SPLIT("aS Name r; g", "aS Name r|g");
	/* j: 'a';'b' is one command; lists keep their own ';'. */
	SPLIT("j (@rax == 0) 'r; g';'gc'", "j (@rax == 0) 'r; g';'gc'");
	SPLIT("j @rax 'r' ; 'gc' ; k", "j @rax 'r' ; 'gc'|k");
	SPLIT("j 1 'r'; k", "j 1 'r'|k");
	SPLIT("jx; r", "jx|r");
	/* unquoted form: cmd1 ; cmd2 both belong to j */
	SPLIT("j (@rax == 0) r rax ; gc ; k", "j (@rax == 0) r rax ; gc|k");
	/* Braces group .if/.else bodies. */
	SPLIT(".if (1) { r; g } .else { k; gc }; db 0",
	      ".if (1) { r; g } .else { k; gc }|db 0");
	SPLIT(".block { .block { a; b }; c }; d", ".block { .block { a; b }; c }|d");
	SPLIT(".if (1) { .echo \"}\"; r }; k", ".if (1) { .echo \"}\"; r }|k");
	/* Newlines separate commands (scripts). */
	SPLIT("r\ndq rsp\n\ng", "r|dq rsp|g");
	SPLIT(".if (1) {\n r\n g\n}\nk", ".if (1) {\n r\n g\n}|k");
	/* Multi-line blocks: braces and .else on their own lines. */
	SPLIT(".if (1)\n{\n r\n}\n.else\n{\n g\n}\nk", ".if (1)\n{\n r\n}\n.else\n{\n g\n}|k");
	SPLIT(".if (1) { r }; .elsif (2) { t }; .else { g }; k",
	      ".if (1) { r }; .elsif (2) { t }; .else { g }|k");
	SPLIT("r; .elsewhere", "r|.elsewhere");
	/* .for heads keep their ';' */
	SPLIT(".for (r $t0 = 0; @$t0 < 3; r $t0 = @$t0 + 1) { r $t0; k }; g",
	      ".for (r $t0 = 0; @$t0 < 3; r $t0 = @$t0 + 1) { r $t0; k }|g");
	SPLIT(".echo (; r", ".echo (|r");
	/* Unterminated quote: the command runs to the end. */
	SPLIT(".echo \"abc; def", ".echo \"abc; def");

	/* Stopping the walk. */
	{
		collected c = { .n = 0, .stop_after = 2 };
		int rc = kd_cmdline_split("a; b; c; d", collect, &c);
		CHECK(rc == 7);
		CHECK(c.n == 2);
	}

	/* Iterator form. */
	{
		const char *pos = " x ; yy", *cmd;
		size_t len;
		CHECK(kd_cmdline_next(&pos, &cmd, &len) == 1);
		CHECK(len == 1 && cmd[0] == 'x');
		CHECK(kd_cmdline_next(&pos, &cmd, &len) == 1);
		CHECK(len == 2 && strncmp(cmd, "yy", 2) == 0);
		CHECK(kd_cmdline_next(&pos, &cmd, &len) == 0);
	}

	/* Words and quoted strings. */
	{
		char w[64];
		const char *p = "  -b  \"a \\\"q\\\" \\\\ \\n\" c:\\temp last";
		CHECK(kd_cmdline_word(&p, w, sizeof w) == 1);
		CHECK_STR(w, "-b");
		CHECK(kd_cmdline_word(&p, w, sizeof w) == 1);
		CHECK_STR(w, "a \"q\" \\ \n");
		CHECK(kd_cmdline_word(&p, w, sizeof w) == 1);
		CHECK_STR(w, "c:\\temp");
		CHECK(kd_cmdline_word(&p, w, sizeof w) == 1);
		CHECK_STR(w, "last");
		CHECK(kd_cmdline_word(&p, w, sizeof w) == 0);
		p = "\"open";
		CHECK(kd_cmdline_word(&p, w, sizeof w) == -1);
		p = "abcdefgh";
		CHECK(kd_cmdline_word(&p, w, 4) == -1);
		p = "\"c:\\dir\\file.txt\"";
		CHECK(kd_cmdline_unquote(&p, w, sizeof w) == 15);
		CHECK_STR(w, "c:\\dir\\file.txt");
	}

	/* Matching brackets. */
	{
		const char *t = "{ a { b } \"}\" } tail";
		const char *m = kd_cmdline_match(t);
		CHECK(m && strcmp(m, "} tail") == 0);
		t = "(1 + (2)) x";
		m = kd_cmdline_match(t);
		CHECK(m && strcmp(m, ") x") == 0);
		t = "'r; \"'\" g' ;'b'";
		m = kd_cmdline_match(t);
		CHECK(m && strcmp(m, "' ;'b'") == 0);
		CHECK(kd_cmdline_match("{ open") == NULL);
	}

	CHECK(kd_cmdline_keyword("L10", "L") == 0);
	CHECK(kd_cmdline_keyword("-b 1", "-b") == 2);
	CHECK(kd_cmdline_keyword("-B", "-b") == 2);
	return check_report("test_cmdline");
}
