//! Language tags as translation uses them: the primary subtag, lower case
//! (`pt-BR` → `pt`, `EN` → `en`), which is what LibreTranslate and Workers
//! AI's m2m100 take.

/// The primary subtag of a BCP 47 tag, or None when it is not one
/// (2–3 ASCII letters, optionally followed by `-`/`_` and subtags).
pub fn normalize(tag: &str) -> Option<String> {
    let tag = tag.trim();
    let primary = tag.split(['-', '_']).next()?;
    let rest_ok = tag
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !(2..=3).contains(&primary.len())
        || !primary.chars().all(|c| c.is_ascii_alphabetic())
        || !rest_ok
        || tag.len() > 35
    {
        return None;
    }
    Some(primary.to_ascii_lowercase())
}

/// Whether two tags name the same language (nothing to translate).
pub fn same(a: &str, b: &str) -> bool {
    match (normalize(a), normalize(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_subtags() {
        assert_eq!(normalize("pt-BR").as_deref(), Some("pt"));
        assert_eq!(normalize("EN").as_deref(), Some("en"));
        assert_eq!(normalize("zh_Hans").as_deref(), Some("zh"));
        assert_eq!(normalize("deu").as_deref(), Some("deu"));
        assert_eq!(normalize("e"), None);
        assert_eq!(normalize("english"), None);
        assert_eq!(normalize("de;drop"), None);
        assert_eq!(normalize(""), None);
        assert!(same("de-AT", "de"));
        assert!(!same("de", "en"));
    }
}
