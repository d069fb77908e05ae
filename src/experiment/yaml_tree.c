/* Building a jansson tree from libyaml events: tags, anchors, aliases and merge keys. */
#include "experiment/yaml_internal.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* A mapping or sequence still being filled. Invariant: in a mapping,
 * have_key is true between a key event and its value, and key is NULL
 * while the waiting key is the merge key "<<". */
struct frame {
    json_t *node;
    char *anchor;
    bool have_key;
    char *key;
    yaml_mark_t key_mark;
    json_t *merges;
};

/* Invariant: frames[0..depth) are the open collections, innermost last.
 * anchors contains finished nodes only, so an alias never copies a node
 * that is still being built. */
struct builder {
    const char *name;
    const char *text;
    size_t len;
    struct frame *frames;
    size_t depth;
    json_t *anchors;
    json_t *root;
    size_t nodes;
    int documents;
    struct err *err;
};

static int fail(struct builder *b, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct builder *b, yaml_mark_t mark, const char *fmt, ...)
{
    char message[ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    return err_set(b->err, "%s:%zu:%zu: %s", b->name, mark.line + 1, mark.column + 1, message);
}

/* Reports a libyaml scanner, parser or reader error with its position. */
static int fail_parser(struct builder *b, const yaml_parser_t *parser)
{
    yaml_mark_t mark = parser->problem_mark;
    const char *problem = parser->problem ? parser->problem : "invalid YAML";

    if (parser->error == YAML_MEMORY_ERROR)
        return err_set(b->err, "%s: out of memory while reading YAML", b->name);
    if (parser->error == YAML_READER_ERROR) {
        size_t offset = parser->problem_offset < b->len ? parser->problem_offset : b->len;
        mark.line = 0;
        mark.column = 0;
        for (size_t i = 0; i < offset; i++) {
            mark.column++;
            if (b->text[i] == '\n') {
                mark.line++;
                mark.column = 0;
            }
        }
        if (parser->problem_value >= 0)
            return fail(b, mark, "%s (byte 0x%02x)", problem, parser->problem_value & 0xff);
        return fail(b, mark, "%s", problem);
    }
    if (parser->context != NULL)
        return fail(b, mark, "%s %s that starts at line %zu", problem, parser->context,
                    parser->context_mark.line + 1);
    return fail(b, mark, "%s", problem);
}

/* Returns the short name of a standard tag ("str", "map", ...), "" when
 * there is no tag, "!" for the non-specific tag, or NULL for any other tag. */
static const char *tag_name(const yaml_char_t *tag)
{
    static const char *const allowed[] = { "str", "int", "float", "bool", "null",
                                           "map", "seq", "merge", NULL };
    const char *text = (const char *)tag;
    size_t prefix_len = strlen(YAML_STANDARD_TAG_PREFIX);

    if (text == NULL)
        return "";
    if (strcmp(text, "!") == 0)
        return "!";
    if (strncmp(text, YAML_STANDARD_TAG_PREFIX, prefix_len) != 0)
        return NULL;
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (strcmp(text + prefix_len, allowed[i]) == 0)
            return allowed[i];
    }
    return NULL;
}

static int fail_unsafe_tag(struct builder *b, yaml_mark_t mark, const yaml_char_t *tag)
{
    const char *text = (const char *)tag;
    size_t prefix_len = strlen(YAML_STANDARD_TAG_PREFIX);

    if (strncmp(text, YAML_STANDARD_TAG_PREFIX, prefix_len) == 0)
        return fail(b, mark,
                    "unsafe YAML tag '!!%.200s' is not allowed (allowed: !!str, !!int, !!float, "
                    "!!bool, !!null, !!map, !!seq)",
                    text + prefix_len);
    return fail(b, mark,
                "unsafe YAML tag '%.200s' is not allowed (allowed: !!str, !!int, !!float, "
                "!!bool, !!null, !!map, !!seq)",
                text);
}

/* Rejects an anchor name used twice, as PyYAML does, so an alias always
 * means the same node in both tools. */
static int check_new_anchor(struct builder *b, const yaml_char_t *anchor, yaml_mark_t mark)
{
    const char *name = (const char *)anchor;

    if (name == NULL)
        return 0;
    for (size_t i = 0; i < b->depth; i++) {
        if (b->frames[i].anchor != NULL && strcmp(b->frames[i].anchor, name) == 0)
            return fail(b, mark, "anchor '&%.200s' is defined twice", name);
    }
    if (json_object_get(b->anchors, name) != NULL)
        return fail(b, mark, "anchor '&%.200s' is defined twice", name);
    return 0;
}

static int count_node(struct builder *b, yaml_mark_t mark)
{
    if (b->nodes >= YAML_MAX_NODES)
        return fail(b, mark,
                    "the document expands to more than %d nodes, through aliases that repeat "
                    "large parts of it",
                    YAML_MAX_NODES);
    b->nodes++;
    return 0;
}

static struct frame *top(struct builder *b)
{
    return b->depth > 0 ? &b->frames[b->depth - 1] : NULL;
}

static bool expects_key(struct builder *b)
{
    struct frame *f = top(b);

    return f != NULL && json_is_object(f->node) && !f->have_key;
}

/* Queues the mappings named by a merge key's value, for merge_into(). */
static int add_merge(struct builder *b, struct frame *f, json_t *node, yaml_mark_t mark)
{
    size_t i;
    json_t *item;

    if (json_is_object(node))
        return json_array_append_new(f->merges, node) == 0 ? 0 : fail(b, mark, "out of memory");
    if (json_is_array(node)) {
        json_array_foreach(node, i, item) {
            if (!json_is_object(item)) {
                json_decref(node);
                return fail(b, mark, "every item of a merge key '<<' list must be a mapping");
            }
        }
        json_array_extend(f->merges, node);
        json_decref(node);
        return 0;
    }
    json_decref(node);
    return fail(b, mark, "the value of the merge key '<<' must be a mapping or a list of mappings");
}

/* Places a finished node (owned) into the open collection, or makes it the root. */
static int add_value(struct builder *b, json_t *node, yaml_mark_t mark)
{
    struct frame *f = top(b);
    int rc = 0;

    if (f == NULL) {
        json_decref(b->root);
        b->root = node;
        return 0;
    }
    if (json_is_array(f->node))
        return json_array_append_new(f->node, node) == 0 ? 0 : fail(b, mark, "out of memory");

    f->have_key = false;
    if (f->key == NULL)
        return add_merge(b, f, node, mark);
    if (json_object_get(f->node, f->key) != NULL) {
        rc = fail(b, f->key_mark,
                  "duplicate key '%.200s' in this mapping; remove one of them", f->key);
        json_decref(node);
    } else if (json_object_set_new(f->node, f->key, node) != 0) {
        rc = fail(b, f->key_mark, "key '%.200s' is not valid UTF-8", f->key);
    }
    free(f->key);
    f->key = NULL;
    return rc;
}

static int set_key(struct builder *b, const char *text, size_t len, bool merge, yaml_mark_t mark)
{
    struct frame *f = top(b);

    f->have_key = true;
    f->key_mark = mark;
    f->key = NULL;
    if (merge)
        return 0;
    f->key = strndup(text, len);
    if (f->key == NULL)
        abort();
    return 0;
}

static json_t *build_scalar(struct builder *b, const yaml_event_t *ev, const char *tag)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    char why[256] = "";
    json_t *node;

    /* PyYAML resolves a scalar with the non-specific tag "!" as if it were
     * plain, even when quoted. */
    if ((tag[0] == '\0' && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) ||
        strcmp(tag, "!") == 0)
        node = yaml_scalar_plain(text, len, why, sizeof(why));
    else if (tag[0] == '\0')
        node = json_stringn(text, len);
    else
        node = yaml_scalar_tagged(tag, text, len, why, sizeof(why));

    if (node == NULL)
        fail(b, ev->start_mark, "%s", why[0] ? why : "string is not valid UTF-8");
    return node;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = tag_name(ev->data.scalar.tag);
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    json_t *node = NULL;

    if (tag == NULL)
        return fail_unsafe_tag(b, ev->start_mark, ev->data.scalar.tag);
    if (memchr(text, '\0', len) != NULL)
        return fail(b, ev->start_mark, "strings must not contain a NUL character");
    if (check_new_anchor(b, ev->data.scalar.anchor, ev->start_mark) != 0 ||
        count_node(b, ev->start_mark) != 0)
        return -1;

    if (expects_key(b)) {
        bool merge = strcmp(tag, "merge") == 0 || (tag[0] == '\0' && plain && len == 2 &&
                                                   memcmp(text, "<<", 2) == 0);
        bool tagged = tag[0] != '\0' && strcmp(tag, "!") != 0;
        /* Keys keep their text as written, but a tagged key is still checked,
         * and an anchored key is resolved for the aliases that name it. */
        if (!merge && (tagged || ev->data.scalar.anchor != NULL)) {
            node = build_scalar(b, ev, tag);
            if (node == NULL)
                return -1;
            if (ev->data.scalar.anchor != NULL)
                json_object_set(b->anchors, (const char *)ev->data.scalar.anchor, node);
            json_decref(node);
        }
        return set_key(b, text, len, merge, ev->start_mark);
    }

    if (strcmp(tag, "merge") == 0 || strcmp(tag, "map") == 0 || strcmp(tag, "seq") == 0)
        return fail(b, ev->start_mark, "tag '!!%s' does not apply to a scalar", tag);
    node = build_scalar(b, ev, tag);
    if (node == NULL)
        return -1;
    if (ev->data.scalar.anchor != NULL)
        json_object_set(b->anchors, (const char *)ev->data.scalar.anchor, node);
    return add_value(b, node, ev->start_mark);
}

/* Copies node for an alias, counting every node against YAML_MAX_NODES and
 * the nesting against YAML_MAX_DEPTH. Returns NULL with err set when over. */
static json_t *copy_node(struct builder *b, json_t *node, size_t depth, yaml_mark_t mark)
{
    json_t *copy;

    if (depth > YAML_MAX_DEPTH) {
        fail(b, mark, "mappings and sequences nest deeper than %d levels", YAML_MAX_DEPTH);
        return NULL;
    }
    if (count_node(b, mark) != 0)
        return NULL;
    if (json_is_object(node)) {
        const char *key;
        json_t *value;
        copy = json_object();
        json_object_foreach(node, key, value) {
            json_t *child = copy_node(b, value, depth + 1, mark);
            if (child == NULL) {
                json_decref(copy);
                return NULL;
            }
            json_object_set_new(copy, key, child);
        }
        return copy;
    }
    if (json_is_array(node)) {
        size_t i;
        json_t *value;
        copy = json_array();
        json_array_foreach(node, i, value) {
            json_t *child = copy_node(b, value, depth + 1, mark);
            if (child == NULL) {
                json_decref(copy);
                return NULL;
            }
            json_array_append_new(copy, child);
        }
        return copy;
    }
    return json_copy(node);
}

/* Returns the text of a scalar node for use as a mapping key, or NULL for a collection. */
static char *scalar_text(json_t *node)
{
    char *text = NULL;

    if (json_is_string(node))
        return strndup(json_string_value(node), json_string_length(node));
    if (json_is_object(node) || json_is_array(node))
        return NULL;
    text = json_dumps(node, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (text == NULL)
        abort();
    return text;
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
    const char *anchor = (const char *)ev->data.alias.anchor;
    json_t *target, *copy;

    for (size_t i = 0; i < b->depth; i++) {
        if (b->frames[i].anchor != NULL && strcmp(b->frames[i].anchor, anchor) == 0)
            return fail(b, ev->start_mark,
                        "alias '*%.200s' refers to a mapping or sequence that contains it, and "
                        "JSON cannot hold a recursive structure",
                        anchor);
    }
    target = json_object_get(b->anchors, anchor);
    if (target == NULL)
        return fail(b, ev->start_mark, "alias '*%.200s' refers to an unknown anchor", anchor);

    if (expects_key(b)) {
        char *text = scalar_text(target);
        int rc;
        if (text == NULL)
            return fail(b, ev->start_mark,
                        "alias '*%.200s' names a mapping or sequence, which cannot be a key",
                        anchor);
        rc = set_key(b, text, strlen(text), false, ev->start_mark);
        free(text);
        return rc;
    }

    copy = copy_node(b, target, b->depth, ev->start_mark);
    if (copy == NULL)
        return -1;
    return add_value(b, copy, ev->start_mark);
}

static int on_collection_start(struct builder *b, const yaml_event_t *ev, bool mapping)
{
    const yaml_char_t *raw_tag =
        mapping ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    const yaml_char_t *anchor =
        mapping ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    const char *tag = tag_name(raw_tag);
    const char *kind = mapping ? "mapping" : "sequence";

    if (tag == NULL)
        return fail_unsafe_tag(b, ev->start_mark, raw_tag);
    if (tag[0] != '\0' && strcmp(tag, "!") != 0 && strcmp(tag, mapping ? "map" : "seq") != 0)
        return fail(b, ev->start_mark, "tag '!!%s' does not apply to a %s", tag, kind);
    if (expects_key(b))
        return fail(b, ev->start_mark, "a %s cannot be a mapping key; keys must be scalars",
                    kind);
    if (b->depth >= YAML_MAX_DEPTH)
        return fail(b, ev->start_mark, "mappings and sequences nest deeper than %d levels",
                    YAML_MAX_DEPTH);
    if (check_new_anchor(b, anchor, ev->start_mark) != 0 || count_node(b, ev->start_mark) != 0)
        return -1;

    struct frame *f = &b->frames[b->depth++];
    memset(f, 0, sizeof(*f));
    f->node = mapping ? json_object() : json_array();
    f->merges = mapping ? json_array() : NULL;
    if (anchor != NULL) {
        f->anchor = strdup((const char *)anchor);
        if (f->anchor == NULL)
            abort();
    }
    return 0;
}

/* Adds the keys of every merged mapping that the mapping does not set
 * itself; earlier mappings in a "<<" list win over later ones. */
static void merge_into(json_t *mapping, json_t *merges)
{
    size_t i;
    json_t *source;

    json_array_foreach(merges, i, source) {
        const char *key;
        json_t *value;
        json_object_foreach(source, key, value) {
            if (json_object_get(mapping, key) == NULL)
                json_object_set(mapping, key, value);
        }
    }
}

static void frame_release(struct frame *f)
{
    json_decref(f->node);
    json_decref(f->merges);
    free(f->anchor);
    free(f->key);
    memset(f, 0, sizeof(*f));
}

static int on_collection_end(struct builder *b, const yaml_event_t *ev)
{
    struct frame *f = &b->frames[b->depth - 1];
    json_t *node = json_incref(f->node);

    if (f->merges != NULL)
        merge_into(node, f->merges);
    if (f->anchor != NULL)
        json_object_set(b->anchors, f->anchor, node);
    frame_release(f);
    b->depth--;
    return add_value(b, node, ev->start_mark);
}

static int on_event(struct builder *b, const yaml_event_t *ev, bool *done)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1)
            return fail(b, ev->start_mark,
                        "a second YAML document starts here; put each experiment in its own "
                        "file");
        return 0;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_collection_start(b, ev, false);
    case YAML_MAPPING_START_EVENT:
        return on_collection_start(b, ev, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_collection_end(b, ev);
    case YAML_STREAM_END_EVENT:
        *done = true;
        return 0;
    default:
        return 0;
    }
}

json_t *yaml_parse(const char *text, size_t len, const char *name, struct err *err)
{
    struct builder b = { .name = name, .text = text, .len = len, .err = err };
    yaml_parser_t parser;
    yaml_event_t event;
    bool done = false;
    int rc = 0;

    b.frames = calloc(YAML_MAX_DEPTH, sizeof(*b.frames));
    b.anchors = json_object();
    if (b.frames == NULL || b.anchors == NULL || !yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    while (!done && rc == 0) {
        if (!yaml_parser_parse(&parser, &event)) {
            rc = fail_parser(&b, &parser);
            break;
        }
        rc = on_event(&b, &event, &done);
        yaml_event_delete(&event);
    }

    for (size_t i = 0; i < b.depth; i++)
        frame_release(&b.frames[i]);
    free(b.frames);
    json_decref(b.anchors);
    yaml_parser_delete(&parser);
    if (rc != 0) {
        json_decref(b.root);
        return NULL;
    }
    return b.root != NULL ? b.root : json_null();
}
