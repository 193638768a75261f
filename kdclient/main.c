/*
 * main.c - the kdclient executable: options, attach, the command loop.
 */
#include <stdio.h>
#include "session.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kd_session *s = kd_session_create();
	kd_session_destroy(s);
	return 0;
}
