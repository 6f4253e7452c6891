/* test_registry — collector/registry.c.
 *
 * Covers: the shipped deploy/registry.conf (every crossing loads; known
 * crossings carry the expected border, zones and lanes), one test per
 * rejection reason (the bad entry is counted, the good one still loads, and
 * the log names file, line, position and reason), syntax and structure
 * errors, lookups of unknown ids, and the index on a large shuffled file.
 *
 * Run from the repository root, or set POE_SRC to it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "registry.h"

#define DEPLOY_COUNT 75   /* CBP's 76 crossings minus the unrepairable 06l24501 */
#define TMP_PATH_MAX 256

/* ---- helpers --------------------------------------------------------------- */

static void s_src_path(char *buf, size_t size, const char *rel)
{
    const char *root = getenv("POE_SRC");
    snprintf(buf, size, "%s/%s", root && *root ? root : ".", rel);
}

/* Write text to a new temporary file; its path goes to path[TMP_PATH_MAX]. */
static void s_write_tmp(char *path, const char *text)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, TMP_PATH_MAX, "%s/poe-registry-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* What the registry logs goes to stderr; tests read it back to check that
 * every rejection names the right file, line and reason. */
typedef struct {
    int saved_fd;
    FILE *tmp;
} s_capture_t;

static void s_capture_begin(s_capture_t *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved_fd = dup(STDERR_FILENO);
    assert_true(c->saved_fd >= 0);
    assert_true(dup2(fileno(c->tmp), STDERR_FILENO) >= 0);
}

/* Restore stderr; return what was written (caller frees). Echoes it so a
 * failing test still shows the log. */
static char *s_capture_end(s_capture_t *c)
{
    fflush(stderr);
    dup2(c->saved_fd, STDERR_FILENO);
    close(c->saved_fd);
    long len = ftell(c->tmp);
    assert_true(len >= 0);
    char *text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    rewind(c->tmp);
    assert_int_equal(fread(text, 1, (size_t)len, c->tmp), (size_t)len);
    fclose(c->tmp);
    fputs(text, stderr);
    return text;
}

static registry_t *s_load_text(const char *text, int *nbad, char **log, char *path)
{
    s_write_tmp(path, text);
    s_capture_t cap;
    s_capture_begin(&cap);
    registry_t *reg = reg_load(path, nbad);
    *log = s_capture_end(&cap);
    return reg;
}

static void s_assert_lanes(const reg_crossing_t *c, int pov, int ped, int cov)
{
    assert_int_equal(c->max_lanes[TAX_PASSENGER], pov);
    assert_int_equal(c->max_lanes[TAX_PEDESTRIAN], ped);
    assert_int_equal(c->max_lanes[TAX_COMMERCIAL], cov);
}

/* ---- the shipped registry ------------------------------------------------- */

static int s_setup_deploy(void **state)
{
    char path[512];
    s_src_path(path, sizeof path, "deploy/registry.conf");
    int nbad = -1;
    registry_t *reg = reg_load(path, &nbad);
    if (!reg) {
        fprintf(stderr, "cannot load %s (run from the repo root or set POE_SRC)\n", path);
        return -1;
    }
    if (nbad != 0) {
        fprintf(stderr, "%s: %d entries rejected\n", path, nbad);
        reg_destroy(&reg);
        return -1;
    }
    *state = reg;
    return 0;
}

static int s_teardown_deploy(void **state)
{
    registry_t *reg = *state;
    reg_destroy(&reg);
    assert_null(reg);
    return 0;
}

static void test_deploy_count_and_order(void **state)
{
    const registry_t *reg = *state;
    assert_int_equal(reg_count(reg), DEPLOY_COUNT);
    /* reg_at is file order, which is CBP's order, not id order. */
    assert_string_equal(reg_at(reg, 0)->id, "070801");
    assert_string_equal(reg_at(reg, 1)->id, "070803");
    assert_string_equal(reg_at(reg, 2)->id, "300401");
    assert_string_equal(reg_at(reg, DEPLOY_COUNT - 1)->id, "250501");
    assert_null(reg_at(reg, DEPLOY_COUNT));
}

static void test_deploy_every_entry_found(void **state)
{
    const registry_t *reg = *state;
    for (size_t i = 0; i < reg_count(reg); i++) {
        const reg_crossing_t *c = reg_at(reg, i);
        assert_ptr_equal(reg_find(reg, c->id), c);
        assert_string_equal(c->bwt_id + 2, c->id);
    }
}

static void test_deploy_san_ysidro(void **state)
{
    const reg_crossing_t *c = reg_find(*state, "250401");
    assert_non_null(c);
    assert_string_equal(c->bwt_id, "09250401");
    assert_int_equal(c->border, TAX_BORDER_MX);
    assert_string_equal(c->name, "San Ysidro");
    assert_string_equal(c->port_name, "San Ysidro");
    assert_string_equal(c->crossing_name, "");
    assert_non_null(strstr(c->other_name, "Tijuana"));
    assert_string_equal(c->us_tz, "America/Los_Angeles");
    assert_string_equal(c->other_tz, "America/Tijuana");
    s_assert_lanes(c, 34, 22, 0);
}

static void test_deploy_blaine(void **state)
{
    const reg_crossing_t *c = reg_find(*state, "300401");
    assert_non_null(c);
    assert_string_equal(c->bwt_id, "02300401");
    assert_int_equal(c->border, TAX_BORDER_CA);
    assert_string_equal(c->name, "Blaine - Pacific Highway");
    assert_string_equal(c->crossing_name, "Pacific Highway");
    assert_string_equal(c->other_name, "Surrey, BC (Pacific Highway)");
    assert_string_equal(c->us_tz, "America/Los_Angeles");
    assert_string_equal(c->other_tz, "America/Vancouver");
    s_assert_lanes(c, 7, 0, 3);
}

static void test_deploy_peace_bridge(void **state)
{
    const reg_crossing_t *c = reg_find(*state, "090101");
    assert_non_null(c);
    assert_string_equal(c->bwt_id, "04090101");
    assert_int_equal(c->border, TAX_BORDER_CA);
    assert_string_equal(c->port_name, "Buffalo/Niagara Falls");
    assert_string_equal(c->crossing_name, "Peace Bridge");
    assert_string_equal(c->us_tz, "America/New_York");
    assert_string_equal(c->other_tz, "America/Toronto");
    s_assert_lanes(c, 17, 0, 8);
}

/* Crossings whose two sides are in different zones, and the non-ASCII
 * names of the Mexican side. */
static void test_deploy_zones_and_names(void **state)
{
    const reg_crossing_t *c = reg_find(*state, "011501");   /* Calais, Maine / New Brunswick */
    assert_non_null(c);
    assert_string_equal(c->us_tz, "America/New_York");
    assert_string_equal(c->other_tz, "America/Moncton");
    s_assert_lanes(c, 2, 0, 0);

    c = reg_find(*state, "240201");                          /* El Paso BOTA */
    assert_non_null(c);
    assert_int_equal(c->border, TAX_BORDER_MX);
    assert_string_equal(c->us_tz, "America/Denver");
    assert_string_equal(c->other_tz, "America/Ciudad_Juarez");
    assert_non_null(strstr(c->other_name, "Ciudad Ju\xc3\xa1rez"));
    s_assert_lanes(c, 14, 4, 6);

    c = reg_find(*state, "230404");                          /* Laredo World Trade: commercial only */
    assert_non_null(c);
    s_assert_lanes(c, 0, 0, 15);
}

/* CBP's "06l24501" cannot be confirmed as port 124501, so it is left out;
 * the other Fort Hancock entry (240403) is there. */
static void test_deploy_bad_cbp_id_left_out(void **state)
{
    assert_null(reg_find(*state, "124501"));
    const reg_crossing_t *c = reg_find(*state, "240403");
    assert_non_null(c);
    assert_string_equal(c->name, "FT HANCOCK");
}

static void test_deploy_unknown_ids(void **state)
{
    const registry_t *reg = *state;
    assert_null(reg_find(reg, "999999"));
    assert_null(reg_find(reg, "000000"));
    assert_null(reg_find(reg, "25040"));     /* a prefix of a real id */
    assert_null(reg_find(reg, "2504010"));   /* a real id plus a digit */
    assert_null(reg_find(reg, "09250401"));  /* a bwt_id is not an id */
    assert_null(reg_find(reg, ""));
    assert_null(reg_find(reg, NULL));
}

/* ---- one rejected entry per reason ---------------------------------------- */

/* The file: line 1 opens the list, line 2 is a good entry, lines 3-4 the
 * entry under test (line 3 names and zones, line 4 lanes). */
#define L2_GOOD                                                                              \
    "{ id = \"300401\"; bwt_id = \"02300401\"; border = \"CA\"; name = \"Blaine - Pacific Highway\"; " \
    "us_tz = \"America/Los_Angeles\"; other_tz = \"America/Vancouver\"; "                    \
    "max_lanes = { passenger = 7; pedestrian = 0; commercial = 3; }; },\n"
#define L3(id, bwt, border, name, tzs)                                                       \
    "{ id = " id "; bwt_id = " bwt "; border = " border "; name = " name "; " tzs "\n"
#define L3_OK L3("\"250401\"", "\"09250401\"", "\"MX\"", "\"San Ysidro\"", TZ_OK)
#define TZ_OK "us_tz = \"America/Los_Angeles\"; other_tz = \"America/Tijuana\";"
#define L4(lanes) "  max_lanes = { " lanes " }; }\n"
#define L4_OK L4("passenger = 34; pedestrian = 22; commercial = 0;")
#define LONG_NAME                                                                            \
    "\"San Ysidro San Ysidro San Ysidro San Ysidro San Ysidro San Ysidro San Ysidro "        \
    "San Ysidro San Ysidro San Ysidro\""

typedef struct {
    const char *body;     /* lines 3.. of the file, up to the closing ");" */
    int line;             /* the line the message must name */
    const char *reason;   /* the reason it must give */
} s_bad_case_t;

static const s_bad_case_t s_bad[] = {
#define BAD_ID_LETTER 0
    { L3("\"25040A\"", "\"0925040A\"", "\"MX\"", "\"X\"", TZ_OK) L4_OK, 3, "id '25040A' is not 6 digits" },
#define BAD_ID_SHORT 1
    { L3("\"25041\"", "\"09025041\"", "\"MX\"", "\"X\"", TZ_OK) L4_OK, 3, "id '25041' is not 6 digits" },
#define BAD_ID_NUMBER 2
    { L3("250401", "\"09250401\"", "\"MX\"", "\"X\"", TZ_OK) L4_OK, 3, "id must be a quoted string" },
#define BAD_ID_MISSING 3
    { "{ bwt_id = \"09250401\"; border = \"MX\"; name = \"X\"; " TZ_OK "\n" L4_OK, 3, "missing id" },
#define BAD_BWT_LETTER 4
    { L3("\"124501\"", "\"06l24501\"", "\"MX\"", "\"X\"", TZ_OK) L4_OK, 3, "bwt_id '06l24501' is not 8 digits" },
#define BAD_BWT_SUFFIX 5
    { L3("\"250401\"", "\"09250402\"", "\"MX\"", "\"X\"", TZ_OK) L4_OK, 3,
      "bwt_id '09250402' does not end in id '250401'" },
#define BAD_BORDER 6
    { L3("\"250401\"", "\"09250401\"", "\"US\"", "\"X\"", TZ_OK) L4_OK, 3, "border 'US' is not CA or MX" },
#define BAD_BORDER_MISSING 7
    { "{ id = \"250401\"; bwt_id = \"09250401\"; name = \"X\"; " TZ_OK "\n" L4_OK, 3, "missing border" },
#define BAD_NAME_MISSING 8
    { "{ id = \"250401\"; bwt_id = \"09250401\"; border = \"MX\"; " TZ_OK "\n" L4_OK, 3, "missing name" },
#define BAD_NAME_EMPTY 9
    { L3("\"250401\"", "\"09250401\"", "\"MX\"", "\"\"", TZ_OK) L4_OK, 3, "name is empty" },
#define BAD_NAME_LONG 10
    { L3("\"250401\"", "\"09250401\"", "\"MX\"", LONG_NAME, TZ_OK) L4_OK, 3, "name longer than 95 bytes" },
#define BAD_DUPLICATE 11
    { L3("\"300401\"", "\"02300401\"", "\"CA\"", "\"Blaine again\"",
         "us_tz = \"America/Los_Angeles\"; other_tz = \"America/Vancouver\";") L4_OK, 3,
      "duplicate id '300401' (first at line 2)" },
#define BAD_LANES_NEGATIVE 12
    { L3_OK L4("passenger = -1; pedestrian = 22; commercial = 0;"), 4,
      "max_lanes.passenger = -1 is outside 0..64" },
#define BAD_LANES_ABSURD 13
    { L3_OK L4("passenger = 34; pedestrian = 65; commercial = 0;"), 4,
      "max_lanes.pedestrian = 65 is outside 0..64" },
#define BAD_LANES_TEXT 14
    { L3_OK L4("passenger = \"34\"; pedestrian = 22; commercial = 0;"), 4,
      "max_lanes.passenger must be an integer" },
#define BAD_LANES_MODE_MISSING 15
    { L3_OK L4("passenger = 34; pedestrian = 22;"), 4, "missing max_lanes.commercial" },
#define BAD_LANES_MISSING 16
    { L3_OK "}\n", 3, "missing max_lanes" },
#define BAD_LANES_UNKNOWN 17
    { L3_OK L4("passenger = 34; pedestrain = 22; commercial = 0;"), 4,
      "unknown key 'max_lanes.pedestrain'" },
#define BAD_TZ_UNKNOWN 18
    { L3("\"250401\"", "\"09250401\"", "\"MX\"", "\"X\"",
         "us_tz = \"America/Nowhere\"; other_tz = \"America/Tijuana\";") L4_OK, 3,
      "us_tz 'America/Nowhere' is not a known time zone" },
#define BAD_TZ_NOT_ZONE 19
    { L3("\"250401\"", "\"09250401\"", "\"MX\"", "\"X\"",
         "us_tz = \"America/Los_Angeles\"; other_tz = \"zone.tab\";") L4_OK, 3,
      "other_tz 'zone.tab' is not a known time zone" },
#define BAD_TZ_ESCAPE 20
    { L3("\"250401\"", "\"09250401\"", "\"MX\"", "\"X\"",
         "us_tz = \"../zoneinfo/UTC\"; other_tz = \"America/Tijuana\";") L4_OK, 3,
      "us_tz '../zoneinfo/UTC' is not a known time zone" },   /* a real TZif file, by a path */
#define BAD_TZ_MISSING 21
    { L3("\"250401\"", "\"09250401\"", "\"MX\"", "\"X\"", "us_tz = \"America/Los_Angeles\";") L4_OK, 3,
      "missing other_tz" },
#define BAD_UNKNOWN_KEY 22
    { L3_OK "  lane = 3;\n" L4_OK, 4, "unknown key 'lane'" },
#define BAD_NOT_GROUP 23
    /* No newline: libconfig dates a scalar list element by its lookahead
     * token, which would be the ");" on the next line. */
    { "\"250401\" ", 3, "not a group { ... }" },
};

static void test_bad_entry(void **state)
{
    const s_bad_case_t *bc = *state;
    char text[2048];
    snprintf(text, sizeof text, "crossings = (\n" L2_GOOD "%s);\n", bc->body);
    char path[TMP_PATH_MAX], *log;
    int nbad = -1;
    registry_t *reg = s_load_text(text, &nbad, &log, path);

    assert_non_null(reg);
    assert_int_equal(nbad, 1);
    assert_int_equal(reg_count(reg), 1);
    const reg_crossing_t *good = reg_find(reg, "300401");
    assert_non_null(good);
    assert_ptr_equal(reg_at(reg, 0), good);
    assert_string_equal(good->name, "Blaine - Pacific Highway");   /* for duplicates: the first is kept */
    assert_null(reg_find(reg, "250401"));

    char want[512];
    snprintf(want, sizeof want, "%s:%d: crossing 2: %s", path, bc->line, bc->reason);
    if (!strstr(log, want))
        fail_msg("log lacks \"%s\"", want);
    assert_null(strstr(strstr(log, "crossing 2:") + 1, "crossing 2:"));   /* logged once */

    reg_destroy(&reg);
    free(log);
    unlink(path);
}

/* ---- several bad entries among good ones ---------------------------------- */

static void test_mixed_file(void **state)
{
    (void)state;
    const char *text =
        "# header comment\n"
        "crossings = (\n"
        L3_OK L4_OK ",\n"                                                          /* 1 good */
        L3("\"25040\"", "\"09025040\"", "\"MX\"", "\"X\"", TZ_OK) L4_OK ",\n"     /* 2 bad id */
        L2_GOOD                                                                     /* 3 good */
        L3_OK L4_OK ",\n"                                                          /* 4 dup of 1 */
        L3("\"250601\"", "\"09250601\"", "\"MX\"", "\"Otay Mesa - Passenger\"",
           "us_tz = \"America/Los_Angeles\"; other_tz = \"Mexico/Nowhere\";") L4_OK ",\n" /* 5 bad tz */
        L3("\"090101\"", "\"04090101\"", "\"CA\"", "\"Peace Bridge\"",
           "us_tz = \"America/New_York\"; other_tz = \"America/Toronto\";")
        L4("passenger = 17; pedestrian = 0; commercial = 8;")                      /* 6 good */
        ");\n";
    char path[TMP_PATH_MAX], *log;
    int nbad = -1;
    registry_t *reg = s_load_text(text, &nbad, &log, path);

    assert_non_null(reg);
    assert_int_equal(nbad, 3);
    assert_int_equal(reg_count(reg), 3);
    assert_string_equal(reg_at(reg, 0)->id, "250401");
    assert_string_equal(reg_at(reg, 1)->id, "300401");
    assert_string_equal(reg_at(reg, 2)->id, "090101");
    assert_null(reg_at(reg, 3));
    assert_ptr_equal(reg_find(reg, "090101"), reg_at(reg, 2));
    assert_ptr_equal(reg_find(reg, "250401"), reg_at(reg, 0));
    assert_null(reg_find(reg, "250601"));
    s_assert_lanes(reg_find(reg, "090101"), 17, 0, 8);
    assert_non_null(strstr(log, "crossing 2: id '25040' is not 6 digits"));
    assert_non_null(strstr(log, ":10: crossing 4: duplicate id '250401' (first at line 3)"));
    assert_non_null(strstr(log, "crossing 5: other_tz 'Mexico/Nowhere'"));

    reg_destroy(&reg);
    free(log);
    unlink(path);
}

/* ---- whole-file errors ----------------------------------------------------- */

static void test_syntax_error_is_null(void **state)
{
    (void)state;
    char path[TMP_PATH_MAX], *log;
    int nbad = -1;
    registry_t *reg = s_load_text("crossings = (\n" L2_GOOD "{ id = \"250401\" bwt_id = ; }\n);\n",
                                  &nbad, &log, path);
    assert_null(reg);
    char want[300];
    snprintf(want, sizeof want, "%s:3: ", path);
    assert_non_null(strstr(log, want));
    free(log);
    unlink(path);
}

static void test_missing_file_is_null(void **state)
{
    (void)state;
    int nbad = -1;
    s_capture_t cap;
    s_capture_begin(&cap);
    registry_t *reg = reg_load("/nonexistent/poenet/registry.conf", &nbad);
    char *log = s_capture_end(&cap);
    assert_null(reg);
    assert_non_null(strstr(log, "/nonexistent/poenet/registry.conf: cannot read"));
    free(log);
}

static void test_no_crossings_list_is_null(void **state)
{
    (void)state;
    char path[TMP_PATH_MAX], *log;
    int nbad = -1;
    /* A collector.conf given as the registry by mistake. */
    registry_t *reg = s_load_text("listen = \"tcp://127.0.0.1:5555\";\n", &nbad, &log, path);
    assert_null(reg);
    assert_non_null(strstr(log, "not a registry file"));
    assert_null(strstr(log, "unknown setting"));   /* one message for one failure */
    free(log);
    unlink(path);

    reg = s_load_text("crossings = \"250401\";\n", &nbad, &log, path);
    assert_null(reg);
    assert_non_null(strstr(log, "'crossings' must be a list"));
    free(log);
    unlink(path);
}

static void test_empty_list_and_unknown_top_level(void **state)
{
    (void)state;
    char path[TMP_PATH_MAX], *log;
    int nbad = -1;
    registry_t *reg = s_load_text("crossings = ( );\n", &nbad, &log, path);
    assert_non_null(reg);
    assert_int_equal(nbad, 0);
    assert_int_equal(reg_count(reg), 0);
    assert_null(reg_at(reg, 0));
    assert_null(reg_find(reg, "250401"));
    reg_destroy(&reg);
    free(log);
    unlink(path);

    reg = s_load_text("version = 2;\ncrossings = (\n" L3_OK L4_OK ");\n", &nbad, &log, path);
    assert_non_null(reg);
    assert_int_equal(nbad, 1);
    assert_int_equal(reg_count(reg), 1);
    assert_non_null(reg_find(reg, "250401"));
    assert_non_null(strstr(log, ":1: unknown setting 'version'"));
    reg_destroy(&reg);
    free(log);
    unlink(path);
}

static void test_null_safety(void **state)
{
    (void)state;
    registry_t *reg = NULL;
    reg_destroy(&reg);
    reg_destroy(NULL);
    assert_int_equal(reg_count(NULL), 0);
    assert_null(reg_at(NULL, 0));
    assert_null(reg_find(NULL, "250401"));
    int nbad = -1;
    s_capture_t cap;
    s_capture_begin(&cap);
    reg = reg_load(NULL, &nbad);
    free(s_capture_end(&cap));
    assert_null(reg);
    assert_int_equal(nbad, 0);
}

/* ---- the index on a large file --------------------------------------------- */

/* 500 entries in an order unrelated to their ids: every id must be found,
 * and reg_at must still give file order. */
static void test_index_large_shuffled(void **state)
{
    (void)state;
    enum { N = 500 };
    size_t cap = N * 256 + 64, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "crossings = (\n");
    for (int i = 0; i < N; i++) {
        unsigned id = (unsigned)(i * 7919 + 13) % 1000000u;   /* 7919 is prime: all distinct */
        len += (size_t)snprintf(text + len, cap - len,
                                "{ id = \"%06u\"; bwt_id = \"07%06u\"; border = \"MX\"; name = \"P%d\"; "
                                "us_tz = \"UTC\"; other_tz = \"UTC\"; max_lanes = { passenger = %d; "
                                "pedestrian = 0; commercial = 0; }; }%s\n",
                                id, id, i, i % 65, i + 1 < N ? "," : "");
    }
    snprintf(text + len, cap - len, ");\n");
    char path[TMP_PATH_MAX], *log;
    int nbad = -1;
    registry_t *reg = s_load_text(text, &nbad, &log, path);
    assert_non_null(reg);
    assert_int_equal(nbad, 0);
    assert_int_equal(reg_count(reg), N);
    for (int i = 0; i < N; i++) {
        char id[8], name[16];
        snprintf(id, sizeof id, "%06u", (unsigned)(i * 7919 + 13) % 1000000u);
        snprintf(name, sizeof name, "P%d", i);
        const reg_crossing_t *c = reg_at(reg, (size_t)i);
        assert_string_equal(c->id, id);
        assert_string_equal(c->name, name);
        assert_ptr_equal(reg_find(reg, id), c);
        assert_int_equal(c->max_lanes[TAX_PASSENGER], i % 65);
    }
    assert_null(reg_find(reg, "000012"));
    reg_destroy(&reg);
    free(log);
    free(text);
    unlink(path);
}

#define BAD(name) { "bad_" #name, test_bad_entry, NULL, NULL, (void *)&s_bad[BAD_##name] }
#define DEPLOY(f) cmocka_unit_test_setup_teardown(f, s_setup_deploy, s_teardown_deploy)

int main(void)
{
    log_init("test_registry", LOG_LVL_INFO);
    const struct CMUnitTest tests[] = {
        DEPLOY(test_deploy_count_and_order),
        DEPLOY(test_deploy_every_entry_found),
        DEPLOY(test_deploy_san_ysidro),
        DEPLOY(test_deploy_blaine),
        DEPLOY(test_deploy_peace_bridge),
        DEPLOY(test_deploy_zones_and_names),
        DEPLOY(test_deploy_bad_cbp_id_left_out),
        DEPLOY(test_deploy_unknown_ids),
        BAD(ID_LETTER), BAD(ID_SHORT), BAD(ID_NUMBER), BAD(ID_MISSING),
        BAD(BWT_LETTER), BAD(BWT_SUFFIX),
        BAD(BORDER), BAD(BORDER_MISSING),
        BAD(NAME_MISSING), BAD(NAME_EMPTY), BAD(NAME_LONG),
        BAD(DUPLICATE),
        BAD(LANES_NEGATIVE), BAD(LANES_ABSURD), BAD(LANES_TEXT),
        BAD(LANES_MODE_MISSING), BAD(LANES_MISSING), BAD(LANES_UNKNOWN),
        BAD(TZ_UNKNOWN), BAD(TZ_NOT_ZONE), BAD(TZ_ESCAPE), BAD(TZ_MISSING),
        BAD(UNKNOWN_KEY), BAD(NOT_GROUP),
        cmocka_unit_test(test_mixed_file),
        cmocka_unit_test(test_syntax_error_is_null),
        cmocka_unit_test(test_missing_file_is_null),
        cmocka_unit_test(test_no_crossings_list_is_null),
        cmocka_unit_test(test_empty_list_and_unknown_top_level),
        cmocka_unit_test(test_null_safety),
        cmocka_unit_test(test_index_large_shuffled),
    };
    /* Every case in s_bad must be run exactly once. */
    if (sizeof s_bad / sizeof s_bad[0] != BAD_NOT_GROUP + 1) {
        fprintf(stderr, "s_bad and its BAD_* indexes disagree\n");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
