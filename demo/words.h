/*
 * words.h: the vocabulary the demo generator draws names and notes from.
 */
#ifndef FIELDSYNC_DEMO_WORDS_H
#define FIELDSYNC_DEMO_WORDS_H

#include <stddef.h>

struct fs_words {
    const char *const *items;
    size_t n;
};

extern const struct fs_words fs_words_company_first, fs_words_company_last, fs_words_company_form,
    fs_words_industry, fs_words_city, fs_words_street, fs_words_first_name, fs_words_last_name,
    fs_words_title, fs_words_hobby, fs_words_topic, fs_words_product, fs_words_competitor,
    fs_words_objective, fs_words_need, fs_words_objection, fs_words_handling, fs_words_commitment,
    fs_words_next_step, fs_words_observation, fs_words_material, fs_words_tag;

#endif
