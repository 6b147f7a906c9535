/* The reference for BenchmarkVercmpBatch: the same A<TAB>B stdin protocol as
 * `portmake vercmp --batch`, answered by libalpm's alpm_pkg_vercmp. */
#include <stdio.h>
#include <string.h>

/* Declared here rather than through <alpm.h>, which drags in libarchive's
 * headers; the signature is libalpm's public ABI. */
int alpm_pkg_vercmp(const char *a, const char *b);

int main(void) {
	static char line[1 << 16];
	static char out[1 << 16];
	setvbuf(stdout, out, _IOFBF, sizeof out);
	while (fgets(line, sizeof line, stdin)) {
		size_t n = strlen(line);
		if (n && line[n - 1] == '\n') line[--n] = 0;
		char *tab = strchr(line, '\t');
		if (!tab) return 2;
		*tab = 0;
		printf("%d\n", alpm_pkg_vercmp(line, tab + 1));
	}
	return 0;
}
