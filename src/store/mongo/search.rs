//! Message search without a text index.
//!
//! MongoDB's `$text` cannot do what the contract asks: it ORs words and has
//! no prefix matching, so "each word must match, the last as a prefix"
//! (search while typing) is impossible with it. Instead every message
//! stores `searchTerms`: the distinct words of its body, tokenised like
//! SQLite's FTS5 `unicode61 remove_diacritics 2` (split on anything that is
//! not a letter or digit, lower-cased, accents removed). A multikey index
//! on `searchTerms` then answers a query word by word: each full word is
//! an equality on the array, the last is a range over the words starting
//! with it. A tombstone's empty body has no terms, so deleted messages
//! drop out of the index by themselves.
//!
//! What differs from FTS5: results are ordered newest first (there is no
//! relevance score), and a query word with punctuation inside ("e-mail")
//! needs both parts anywhere in the message rather than side by side.

use mongodb::bson::{Bson, Document, doc};
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Above every character that can be in a term (a noncharacter is never
/// alphanumeric), so `[prefix, prefix + TOP)` is exactly "starts with prefix".
const TOP: char = '\u{10FFFF}';

/// The words of `text` in order, normalised for search.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            word.nfd()
                .filter(|c| !is_combining_mark(*c))
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
}

/// The distinct search terms of a message body, sorted (stored as `searchTerms`).
pub fn terms(body: &str) -> Vec<String> {
    let mut terms: Vec<String> = words(body).collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// The filter matching messages whose terms contain every word of `query`,
/// the last one as a prefix; `None` when the query has no words.
pub fn filter(query: &str) -> Option<Document> {
    let mut words: Vec<String> = words(query).collect();
    let last = words.pop()?;
    let mut clauses: Vec<Bson> = words
        .into_iter()
        .map(|word| Bson::Document(doc! { "searchTerms": word }))
        .collect();
    let mut upper = last.clone();
    upper.push(TOP);
    // $elemMatch: both bounds must hold for the same element of the array.
    clauses.push(Bson::Document(doc! {
        "searchTerms": { "$elemMatch": { "$gte": last, "$lt": upper } }
    }));
    Some(doc! { "$and": clauses })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_distinct_folded_words_without_accents() {
        assert_eq!(
            terms("Crème BRÛLÉE, crème… brûlée!"),
            vec!["brulee", "creme"]
        );
        assert_eq!(
            terms("e-mail me@example.com"),
            vec!["com", "e", "example", "mail", "me"]
        );
        assert_eq!(terms("Straße 42"), vec!["42", "straße"]);
        assert_eq!(terms("日本語 テキスト"), vec!["テキスト", "日本語"]);
        assert!(terms("").is_empty());
        assert!(terms("  ?! …  ").is_empty());
    }

    #[test]
    fn every_word_must_match_and_the_last_is_a_prefix() {
        let filter = filter("Hello WOR").expect("words");
        let mut upper = String::from("wor");
        upper.push(TOP);
        assert_eq!(
            filter,
            doc! { "$and": [
                { "searchTerms": "hello" },
                { "searchTerms": { "$elemMatch": { "$gte": "wor", "$lt": upper } } },
            ] }
        );
    }

    #[test]
    fn operators_and_punctuation_in_user_input_stay_literal() {
        // Nothing the user types becomes a query operator: words are data.
        let filter = filter("$where {\"$gt\": 1} OR").expect("words");
        let clauses = filter.get_array("$and").expect("clauses");
        assert_eq!(clauses.len(), 4);
        assert_eq!(clauses[0], Bson::Document(doc! { "searchTerms": "where" }));
        assert_eq!(clauses[1], Bson::Document(doc! { "searchTerms": "gt" }));
        assert_eq!(clauses[2], Bson::Document(doc! { "searchTerms": "1" }));
    }

    #[test]
    fn a_query_without_words_matches_nothing() {
        assert_eq!(filter(""), None);
        assert_eq!(filter("  \"*\" -- "), None);
    }

    #[test]
    fn the_prefix_range_holds_exactly_the_words_that_start_with_it() {
        let mut upper = String::from("wor");
        upper.push(TOP);
        for word in terms("wor world worn word wore") {
            assert!(word.as_str() >= "wor" && word < upper, "{word}");
        }
        for word in terms("wop wos wo w") {
            assert!(!(word.as_str() >= "wor" && word < upper), "{word}");
        }
    }
}
