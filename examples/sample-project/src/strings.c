#include <stddef.h>
#include <string.h>

size_t copy_name(char *dst, size_t dst_size, const char *src)
{
    size_t n = strlen(src);
    if (dst_size == 0) {
        return 0;
    }
    if (n >= dst_size) {
        n = dst_size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

int count_char(const char *s, char c)
{
    int count = 0;
    for (; *s != '\0'; s++) {
        if (*s == c) {
            count++;
        }
    }
    return count;
}

char last_char(const char *s)
{
    size_t n = strlen(s);
    return s[n - 1];
}
