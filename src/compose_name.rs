//! Compose names (projects and services) that reach a command line: only
//! `[a-z0-9][a-z0-9_.-]*`, checked where they are loaded (config, check
//! files, flags, labels) and again where a command is built.

/// The longest name accepted (Docker's own limit on a container name's parts).
const MAX_LEN: usize = 255;

/// A name that is not a compose name, quoted with its control characters escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a compose name (lowercase letters, digits, `_`, `.` and `-`, \
     starting with a letter or a digit, at most 255 characters)"
)]
pub struct InvalidName(pub String);

/// `name` when it is a compose name.
pub fn check(name: &str) -> Result<&str, InvalidName> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
    if first_ok && rest_ok && name.len() <= MAX_LEN {
        Ok(name)
    } else {
        Err(InvalidName(name.to_string()))
    }
}

/// A config field that must hold a compose name (its error points at the value).
pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let name = <String as serde::Deserialize>::deserialize(deserializer)?;
    check(&name).map_err(serde::de::Error::custom)?;
    Ok(name)
}

/// Like `deserialize`, an empty value allowed (a field whose default is "find it").
pub fn deserialize_or_empty<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    let name = <String as serde::Deserialize>::deserialize(deserializer)?;
    if !name.is_empty() {
        check(&name).map_err(serde::de::Error::custom)?;
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_names_and_the_rest() {
        for good in ["auth-db", "helpdesk-microservices", "a", "0x", "my_app.v2"] {
            assert_eq!(check(good), Ok(good));
        }
        for bad in [
            "",
            "x; touch /tmp/p #",
            "x$(touch F)",
            "x`touch F`",
            "-p",
            ".hidden",
            "Auth",
            "a b",
            "a\u{1b}]0;t\u{7}",
            &"a".repeat(256),
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        assert!(
            check("x\u{1b}[2J")
                .unwrap_err()
                .to_string()
                .contains("\\u{1b}")
        );
    }
}
