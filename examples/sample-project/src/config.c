#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 32
#define VALUE_MAX 128

struct setting {
    char key[KEY_MAX];
    char value[VALUE_MAX];
};

int parse_setting(const char *line, struct setting *out)
{
    const char *eq = strchr(line, '=');
    if (eq == NULL) {
        return -1;
    }
    size_t key_len = (size_t)(eq - line);
    if (key_len >= KEY_MAX) {
        return -1;
    }
    memcpy(out->key, line, key_len);
    out->key[key_len] = '\0';
    strcpy(out->value, eq + 1);
    return 0;
}

int parse_setting_checked(const char *line, struct setting *out)
{
    const char *eq = strchr(line, '=');
    if (eq == NULL) {
        return -1;
    }
    size_t key_len = (size_t)(eq - line);
    size_t value_len = strlen(eq + 1);
    if (key_len >= KEY_MAX || value_len >= VALUE_MAX) {
        return -1;
    }
    memcpy(out->key, line, key_len);
    out->key[key_len] = '\0';
    memcpy(out->value, eq + 1, value_len + 1);
    return 0;
}

void log_setting(const struct setting *s)
{
    printf(s->value);
    printf("\n");
}

void log_setting_safely(const struct setting *s)
{
    printf("%s=%s\n", s->key, s->value);
}
