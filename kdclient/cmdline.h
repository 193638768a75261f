/*
 * cmdline.h - splitting a kd command line into commands, and the small
 * argument tokenizer the command handlers share.
 *
 * WinDbg's rules, which users' tracing scripts rely on:
 *   - ';' separates commands, except inside "double quotes" (where \" and
 *     \\ are escapes, so a bp command string can itself hold a quoted
 *     .printf format), inside { braces } (.if/.else/.block/.for/.while
 *     bodies) and inside the 'single-quoted' command lists of `j`;
 *     `j cond 'a';'b'` is ONE command (the ';' between the two lists
 *     belongs to j), and so is the unquoted `j cond cmd1 ; cmd2`;
 *   - the head of `.for (init; cond; step)` keeps its ';';
 *   - a separator followed by '{', `.else` or `.elsif` does not end the
 *     command, so multi-line scripts can put braces on their own lines;
 *   - `$$ text` is a comment that ends at the next ';';
 *   - `*` at the start of a command comments out the rest of the line;
 *   - `$$>< file`, `$$>a< file args`, `$< file`, `$>< file` and `as Name
 *     text` take the rest of the line (semicolons included).
 * Everything here is pure: no session, no allocation.
 */
#ifndef KDCLIENT_CMDLINE_H
#define KDCLIENT_CMDLINE_H

#include <stddef.h>

/*
 * Iterate over the commands of a line.  *pos starts at the line and is
 * advanced past each command and its ';'.  Returns 1 with [*cmd, *cmd+*len)
 * the next command (surrounding blanks trimmed, comments skipped), 0 when
 * the line is exhausted.
 */
int kd_cmdline_next(const char **pos, const char **cmd, size_t *len);

/*
 * Split a whole line: fn is called once per command with a NUL-terminated
 * copy (bounded by KD_CMDLINE_MAX; longer commands are passed truncated
 * and flagged by fn's `truncated` argument).  A non-zero return from fn
 * stops the walk (e.g. after `g`/`gc` resumed the target) and is returned.
 */
#define KD_CMDLINE_MAX 4096
typedef int (*kd_cmdline_fn)(void *ctx, const char *cmd, int truncated);
int kd_cmdline_split(const char *line, kd_cmdline_fn fn, void *ctx);

/* Skip blanks (space, tab, CR, LF); returns the first other character. */
const char *kd_skip_blanks(const char *p);

/*
 * Read one argument word at *p: blank-separated, or a "double-quoted"
 * string whose escapes (\" \\ \n \t) are decoded.  Writes at most
 * outlen-1 bytes plus a NUL.  Returns 1 for a word, 0 at the end of
 * the text, -1 for an unterminated quote or a word longer than outlen.
 * *p is left after the word and its trailing blanks.
 */
int kd_cmdline_word(const char **p, char *out, size_t outlen);

/*
 * Decode a quoted string starting at *p (which must point at '"'): escapes
 * as in kd_cmdline_word.  Returns the decoded length, or -1 if the closing
 * quote is missing or the result does not fit.  *p is left after the
 * closing quote.
 */
int kd_cmdline_unquote(const char **p, char *out, size_t outlen);

/*
 * Find the matching close of a bracketed block: *p points at '{' or '(' or
 * '\''; returns a pointer to the matching '}' / ')' / '\'' (quotes and
 * nesting respected), or NULL if it is missing.
 */
const char *kd_cmdline_match(const char *p);

/* Case-insensitive "does the text start with this option word": used for
 * "L", "L?", "-b" style switches.  Returns the length matched or 0. */
size_t kd_cmdline_keyword(const char *p, const char *word);

/*
 * Alias expansion over an explicit table (the session's table lives in
 * script.c; kd_lang_expand_aliases applies it):
 *   ${name}  anywhere, ${/v:name} stays as the text "${name}";
 *   name     as a whole word outside double quotes, except in the alias
 *            commands themselves (as aS ad al) and before '!' (a module).
 * Alias names are case-sensitive.  Returns 0, or -1 if out is too small.
 */
#define KD_ALIAS_NAME 64
#define KD_ALIAS_VALUE 1024
struct kd_lang_alias {
	char name[KD_ALIAS_NAME];
	char value[KD_ALIAS_VALUE];
};
int kd_alias_expand(const struct kd_lang_alias *aliases, size_t n, const char *cmd,
		    char *out, size_t outlen);

#endif
