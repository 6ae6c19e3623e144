//! Names, places, products and phrases of a small international store, timestamps, and PHP
//! `serialize()` strings as Magento 1 writes them.
//!
//! Text with 4-byte characters (emoji, CJK extension B) is kept apart ([`FOUR_BYTE_*`]): only
//! the utf8mb4 tables of the fixture can hold it. Everything else is ASCII or 2/3-byte UTF-8.

mod catalog;
mod names;
mod php;
mod phrases;
mod places;
mod time;

pub use catalog::*;
pub use names::*;
pub use php::*;
pub use phrases::*;
pub use places::*;
pub use time::*;

use super::rng::Rng;

/// Replaces each 4-byte character by `?`, as MySQL does when a utf8mb4 value is converted to a
/// utf8mb3 column: a shopper's emoji name ends up like that in M1's utf8 order tables.
pub fn mb3(s: &str) -> String {
    s.chars()
        .map(|c| if c.len_utf8() == 4 { '?' } else { c })
        .collect()
}

/// Lowercase ASCII letters only, for e-mail local parts built from names.
pub fn ascii_slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let mapped = match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'à' | 'á' | 'â' | 'ä' | 'å' | 'ã' | 'Å' | 'Ä' => Some('a'),
            'ç' => Some('c'),
            'è' | 'é' | 'ê' | 'ë' | 'É' => Some('e'),
            'ì' | 'í' | 'î' | 'ï' | 'İ' => Some('i'),
            'ñ' => Some('n'),
            'ò' | 'ó' | 'ô' | 'ö' | 'ø' | 'Ø' | 'Ö' => Some('o'),
            'ù' | 'ú' | 'û' | 'ü' | 'Ü' => Some('u'),
            'ł' | 'Ł' => Some('l'),
            'ß' => Some('s'),
            'ř' => Some('r'),
            'ễ' => Some('e'),
            'ả' => Some('a'),
            _ => None,
        };
        if let Some(m) = mapped {
            out.push(m);
        }
    }
    if out.is_empty() {
        out.push_str("kunde");
    }
    out
}

/// Fills `#` in a pattern with digits.
pub fn digits(rng: &mut Rng, pattern: &str) -> String {
    pattern
        .chars()
        .map(|c| {
            if c == '#' {
                char::from(b'0' + rng.below(10) as u8)
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_byte_lists_hold_four_byte_characters_and_the_others_do_not() {
        for s in FOUR_BYTE_FIRST_NAMES
            .iter()
            .chain(FOUR_BYTE_LAST_NAMES)
            .chain(FOUR_BYTE_REVIEW_TITLES)
            .chain(FOUR_BYTE_REVIEW_DETAILS)
            .chain(FOUR_BYTE_NICKNAMES)
            .chain(FOUR_BYTE_HISTORY_COMMENTS)
            .chain(FOUR_BYTE_STREET_LINES)
        {
            assert!(s.chars().any(|c| c.len_utf8() == 4), "{s}");
        }
        for s in FIRST_NAMES
            .iter()
            .chain(LAST_NAMES)
            .chain(STREETS)
            .chain(COMPANIES)
            .chain(REVIEW_TITLES)
            .chain(HISTORY_COMMENTS)
            .chain(PRODUCTS.iter().map(|p| &p.name))
            .chain(PLACES.iter().map(|p| &p.city))
        {
            assert!(s.chars().all(|c| c.len_utf8() < 4), "{s}");
        }
        assert_eq!(mb3("𠮷田"), "?田");
        assert_eq!(ascii_slug("Jürgen"), "jurgen");
    }
}
