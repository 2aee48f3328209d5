//! Language detection in the core (whatlang: trigram models compiled in, no
//! I/O, no clock, no randomness, so it runs the same natively and in wasm).
//! A short or ambiguous text keeps the previous language.

use whatlang::Lang;

/// Texts shorter than this (in characters, trimmed) keep the previous
/// language: "ok", "danke", "👍" say too little.
pub const MIN_CHARS: usize = 12;

/// Below this confidence a detection is ambiguous.
const MIN_CONFIDENCE: f64 = 0.5;

/// The language of `text` as a primary subtag (`de`), or `previous` when
/// the text is too short or the detection unreliable.
pub fn detect(text: &str, previous: Option<&str>) -> Option<String> {
    let keep = || previous.map(str::to_string);
    let trimmed = text.trim();
    if trimmed.chars().count() < MIN_CHARS {
        return keep();
    }
    match detector().detect(trimmed) {
        Some(info) if info.is_reliable() && info.confidence() >= MIN_CONFIDENCE => {
            iso639_1(info.lang()).map(str::to_string).or_else(keep)
        }
        _ => keep(),
    }
}

/// Only languages the providers translate: fewer candidates make short
/// texts far less ambiguous (Afrikaans, Javanese or Esperanto otherwise win
/// "Hallo, wann kommt mein Paket an?").
const LANGUAGES: [Lang; 27] = [
    Lang::Eng,
    Lang::Deu,
    Lang::Fra,
    Lang::Spa,
    Lang::Por,
    Lang::Ita,
    Lang::Nld,
    Lang::Rus,
    Lang::Ukr,
    Lang::Pol,
    Lang::Ces,
    Lang::Ron,
    Lang::Hun,
    Lang::Ell,
    Lang::Tur,
    Lang::Swe,
    Lang::Dan,
    Lang::Fin,
    Lang::Cmn,
    Lang::Jpn,
    Lang::Kor,
    Lang::Ara,
    Lang::Heb,
    Lang::Hin,
    Lang::Vie,
    Lang::Ind,
    Lang::Tha,
];

fn detector() -> whatlang::Detector {
    whatlang::Detector::with_allowlist(LANGUAGES.to_vec())
}

/// whatlang's ISO 639-3 codes → the two-letter codes providers take.
fn iso639_1(lang: Lang) -> Option<&'static str> {
    Some(match lang {
        Lang::Eng => "en",
        Lang::Deu => "de",
        Lang::Fra => "fr",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Nld => "nl",
        Lang::Rus => "ru",
        Lang::Ukr => "uk",
        Lang::Pol => "pl",
        Lang::Ces => "cs",
        Lang::Slk => "sk",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Bul => "bg",
        Lang::Ron => "ro",
        Lang::Hun => "hu",
        Lang::Ell => "el",
        Lang::Tur => "tr",
        Lang::Swe => "sv",
        Lang::Dan => "da",
        Lang::Nob => "nb",
        Lang::Fin => "fi",
        Lang::Est => "et",
        Lang::Lav => "lv",
        Lang::Lit => "lt",
        Lang::Cmn => "zh",
        Lang::Jpn => "ja",
        Lang::Kor => "ko",
        Lang::Ara => "ar",
        Lang::Heb => "he",
        Lang::Hin => "hi",
        Lang::Ben => "bn",
        Lang::Urd => "ur",
        Lang::Pes => "fa",
        Lang::Tha => "th",
        Lang::Vie => "vi",
        Lang::Ind => "id",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Afr => "af",
        Lang::Aze => "az",
        Lang::Bel => "be",
        Lang::Kat => "ka",
        Lang::Hye => "hy",
        Lang::Epo => "eo",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_clear_texts() {
        assert_eq!(
            detect(
                "Ich habe gestern eine Bestellung aufgegeben und warte noch auf die Bestätigung.",
                None
            )
            .as_deref(),
            Some("de")
        );
        assert_eq!(
            detect(
                "Hello, I placed an order yesterday and I am still waiting for the confirmation email.",
                Some("de")
            )
            .as_deref(),
            Some("en")
        );
    }

    #[test]
    fn short_or_ambiguous_texts_keep_the_previous_language() {
        assert_eq!(detect("ok", Some("de")).as_deref(), Some("de"));
        assert_eq!(detect("danke", None), None);
        assert_eq!(
            detect("👍👍👍👍👍👍👍👍👍👍👍👍👍", Some("fr")).as_deref(),
            Some("fr")
        );
        assert_eq!(
            detect("1234567890 12345", Some("it")).as_deref(),
            Some("it")
        );
        // Ambiguous for a trigram model: not trusted, the previous stays.
        assert_eq!(
            detect("Where is my order?", Some("de")).as_deref(),
            Some("de")
        );
    }
}
