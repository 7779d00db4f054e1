//! A text as one shell word, for commands printed to be copied into a shell
//! (hints, bundles); the doctor itself never runs a shell.

/// `text` as is when it is plain, else single-quoted.
pub fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn plain_words_stay_and_others_are_single_quoted() {
        assert_eq!(quote("auth-db"), "auth-db");
        assert_eq!(quote("/srv/a b.yml"), "'/srv/a b.yml'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }
}
