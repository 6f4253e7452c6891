/* mdlang — checks a report's Markdown in one language (poe-report --lang,
 * tools/report/rtext.h): no catalog key shown raw ("report.x.y"), and, for
 * Spanish and French, none of the English words of the report's templates
 * (mdlang_english_words) as a whole word. Names (crossings, zones, the
 * registry's hours syntax, CBP's "Update Pending", lane brand names) are
 * data and are not in the list. Shared by test_report_i18n and test_report. */
#ifndef POE_TEST_MDLANG_H
#define POE_TEST_MDLANG_H

#include <stddef.h>

extern const char *const mdlang_english_words[];

/* 0 when md passes for lang ("en", "es", "fr"); -1 with the first fault
 * and its context in why. */
int mdlang_check(const char *md, const char *lang, char *why, size_t whylen);

#endif
