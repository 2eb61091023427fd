/*
 * json.c - the JSON writer (json.h).
 */
#include "json.h"

#include <inttypes.h>
#include <string.h>

void json_init(struct json *j)
{
	sb_init(&j->out);
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
}

char *json_finish(struct json *j)
{
	sb_addc(&j->out, '\n');
	return sb_detach(&j->out);
}

static void indent(struct json *j)
{
	sb_addc(&j->out, '\n');
	for (int i = 0; i < j->depth; i++)
		sb_adds(&j->out, "  ");
}

/* Separator and indentation before a value or a key. */
static void before_item(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (!j->first[j->depth])
		sb_addc(&j->out, ',');
	j->first[j->depth] = false;
	indent(j);
}

static void open_container(struct json *j, char c)
{
	before_item(j);
	sb_addc(&j->out, c);
	if (j->depth < 63)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_container(struct json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	sb_addc(&j->out, c);
}

void json_begin_object(struct json *j) { open_container(j, '{'); }
void json_end_object(struct json *j) { close_container(j, '}'); }
void json_begin_array(struct json *j) { open_container(j, '['); }
void json_end_array(struct json *j) { close_container(j, ']'); }

static void put_string(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': sb_adds(sb, "\\\""); break;
		case '\\': sb_adds(sb, "\\\\"); break;
		case '\n': sb_adds(sb, "\\n"); break;
		case '\t': sb_adds(sb, "\\t"); break;
		case '\r': sb_adds(sb, "\\r"); break;
		default:
			if (*p < 0x20 || *p >= 0x7f)
				sb_addf(sb, "\\u%04x", *p);
			else
				sb_addc(sb, (char)*p);
		}
	}
	sb_addc(sb, '"');
}

void json_key(struct json *j, const char *key)
{
	before_item(j);
	put_string(&j->out, key);
	sb_adds(&j->out, ": ");
	j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
	before_item(j);
	if (s)
		put_string(&j->out, s);
	else
		sb_adds(&j->out, "null");
}

void json_int(struct json *j, int64_t v)
{
	before_item(j);
	sb_addf(&j->out, "%" PRId64, v);
}

void json_uint(struct json *j, uint64_t v)
{
	before_item(j);
	sb_addf(&j->out, "%" PRIu64, v);
}

void json_bool(struct json *j, bool v)
{
	before_item(j);
	sb_adds(&j->out, v ? "true" : "false");
}

void json_null(struct json *j)
{
	before_item(j);
	sb_adds(&j->out, "null");
}

void json_kv_string(struct json *j, const char *key, const char *s) { json_key(j, key); json_string(j, s); }
void json_kv_int(struct json *j, const char *key, int64_t v) { json_key(j, key); json_int(j, v); }
void json_kv_uint(struct json *j, const char *key, uint64_t v) { json_key(j, key); json_uint(j, v); }
void json_kv_bool(struct json *j, const char *key, bool v) { json_key(j, key); json_bool(j, v); }
