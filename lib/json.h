/*
 * json.h - a small JSON writer for the --json outputs.
 *
 * Output is deterministic: keys appear in the order written, two-space
 * indentation, integers printed exactly, strings escaped per RFC 8259 (any
 * byte that is not valid printable ASCII is written as \u00XX, so the
 * document is valid UTF-8 whatever the object's strings hold).
 */
#ifndef HP_JSON_H
#define HP_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct json {
	struct strbuf out;
	int depth;
	bool first[64];     /* no member written yet at this depth */
	bool after_key;
};

void json_init(struct json *j);
/* Returns the document (with a final newline); the caller frees it. */
char *json_finish(struct json *j);

void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);   /* NULL -> null */
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* key + value shorthands */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);

#endif
