/*
 * symsrv_http.c - one HTTP(S) GET from a symbol server with libcurl.
 * Redirects are followed (msdl answers with a redirect to blob storage),
 * TLS peers are verified, only http/https are allowed even after a
 * redirect, and a stalled transfer is abandoned so the prompt comes back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "symsrv_internal.h"

struct dl {
	struct sym_path *p;
	const char *url;
	int fd;
	int write_failed;
	int cancelled;
	curl_off_t last_report;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct dl *d = ud;
	size_t n = size * nmemb;
	for (size_t off = 0; off < n;) {
		ssize_t w = write(d->fd, ptr + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			d->write_failed = errno;
			return 0;   /* makes curl stop with CURLE_WRITE_ERROR */
		}
		off += (size_t)w;
	}
	return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct dl *d = ud;
	(void)ultotal;
	(void)ulnow;
	if (!d->p->progress)
		return 0;
	/* Report every 256 KiB and at the end; ask about cancelling (a
	 * zero-byte report) on every callback so Ctrl-C acts at once. */
	uint64_t done = 0, total = (uint64_t)(dltotal > 0 ? dltotal : 0);
	if (dlnow > 0 && (dlnow - d->last_report >= 256 * 1024 || (dltotal > 0 && dlnow == dltotal))) {
		d->last_report = dlnow;
		done = (uint64_t)dlnow;
	}
	if (d->p->progress(d->p->cbctx, d->url, done, total)) {
		d->cancelled = 1;
		return 1;   /* curl aborts with CURLE_ABORTED_BY_CALLBACK */
	}
	return 0;
}

int symsrv_http_get(struct sym_path *p, const char *url, int dest_fd)
{
	CURL *c = curl_easy_init();
	if (!c) {
		symp_seterr(p, "libcurl: cannot create a handle");
		return SYM_E_FAIL;
	}
	struct dl d = { .p = p, .url = url, .fd = dest_fd };
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 8L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, p->verify_tls ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, p->verify_tls ? 2L : 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, p->connect_timeout_s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, p->timeout_s);
	/* Abort a transfer that moves less than 1 KiB/s for 30 s. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* The largest PDBs are a few GiB; a server sending more is broken or
	 * hostile and must not fill the disk. */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)4 << 30);
	/* Microsoft's server serves symbol files to this agent family. */
	curl_easy_setopt(c, CURLOPT_USERAGENT, "Microsoft-Symbol-Server/10.0.0.0");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &d);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);

	/* The body of a 404 page lands in dest_fd too; the caller throws the
	 * temp file away unless this returns 1. */
	long code = 0;
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		if (d.cancelled)
			symp_seterr(p, "%s: download cancelled", url);
		else if (d.write_failed)
			symp_seterr(p, "%s: writing the download failed: %s", url, strerror(d.write_failed));
		else
			symp_seterr(p, "%s: %s", url, cerr[0] ? cerr : curl_easy_strerror(rc));
		return SYM_E_IO;
	}
	if (code == 404 || code == 410) {
		symp_log(p, "SYMSRV:  %s: not found (HTTP %ld)", url, code);
		return 0;
	}
	if (code != 200) {
		symp_seterr(p, "%s: HTTP %ld", url, code);
		return SYM_E_IO;
	}
	return 1;
}
