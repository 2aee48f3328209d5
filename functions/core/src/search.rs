//! Turning what an agent typed into a safe SQLite FTS5 query.
//!
//! FTS5 has its own query language (`AND`, `NEAR`, `"…"`, `*`, column
//! filters); typed text must never reach it raw, or a stray quote becomes
//! a syntax error and `col:` a filter. Each word is quoted as a phrase and
//! the phrases are ANDed; the last word also matches as a prefix, so
//! search-as-you-type finds "refund" from "refu".

/// The FTS5 query for `typed`, or None when it has no word to look for.
pub fn fts_query(typed: &str) -> Option<String> {
    let words: Vec<String> = typed
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| w.chars().take(64).collect())
        .collect();
    let last = words.len().checked_sub(1)?;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("\"{w}\" *")
                } else {
                    format!("\"{w}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn words_are_quoted_and_the_last_is_a_prefix() {
        assert_eq!(
            fts_query("refund order").as_deref(),
            Some("\"refund\" \"order\" *")
        );
        assert_eq!(fts_query("  refu ").as_deref(), Some("\"refu\" *"));
    }

    #[test]
    fn query_syntax_cannot_get_through() {
        assert_eq!(
            fts_query("\"a\" OR text:b*").as_deref(),
            Some("\"a\" \"OR\" \"text\" \"b\" *")
        );
        assert_eq!(
            fts_query("NEAR(x y)").as_deref(),
            Some("\"NEAR\" \"x\" \"y\" *")
        );
        assert_eq!(fts_query("\"\"\" ** ::"), None);
        assert_eq!(fts_query(""), None);
    }

    #[test]
    fn unicode_words_survive() {
        assert_eq!(
            fts_query("café Müller").as_deref(),
            Some("\"café\" \"Müller\" *")
        );
    }
}
