//! Secrets masked where they stand as secrets, whatever they look like: a
//! secret-named variable's value (`KEY=value`), a command line's passwords, a
//! value in a secret position — the structural masking that `compose` and
//! `inspect` share, on top of the free-text redactor.

use super::argv::argv_passwords;
use super::{MASK, is_secret_name};
use regex::Regex;
use std::sync::LazyLock;

/// A compose variable reference: `$NAME`, `${NAME}`, `${NAME:-default}`,
/// `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\$(?:(?P<bare>[A-Za-z_][A-Za-z0-9_]*)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<rest>[^}\n]*))?\})$",
    )
    .expect("a valid pattern")
});

/// A value that stands where a secret goes, masked: all of it, but a compose
/// variable reference keeps its name (`${DB_PASSWORD:-****}`, `${DB_PASSWORD}`).
pub fn mask_value(value: &str) -> String {
    let Some(reference) = REFERENCE.captures(value) else {
        return MASK.to_string();
    };
    match (reference.name("op"), reference.name("rest")) {
        (Some(op), Some(rest)) if op.as_str().ends_with('-') && !rest.is_empty() => {
            format!("${{{}{}{MASK}}}", &reference["name"], op.as_str())
        }
        _ => value.to_string(),
    }
}

/// `KEY=value` of an environment: the value masked whole when `KEY` is
/// secret-named, else `mask_text`ed (for its URLs' passwords and known secrets).
pub fn mask_assignment(text: &str, mask_text: &dyn Fn(&str) -> String) -> String {
    match text.split_once('=') {
        Some((key, value)) if is_secret_name(key) && !value.is_empty() => {
            format!("{key}={}", mask_value(value))
        }
        _ => mask_text(text),
    }
}

/// A command line's arguments with the passwords it gives masked
/// (`--requirepass X`, `--masterauth=X`, `redis-cli -a X`, `>pass` ACL rules,
/// `PGPASSWORD=X` inside `sh -c "…"`), then each `mask_text`ed.
pub fn mask_argv(argv: &[String], mask_text: &dyn Fn(&str) -> String) -> Vec<String> {
    let passwords = argv_passwords(argv);
    argv.iter()
        .map(|arg| mask_text(&mask_argument(arg, &passwords)))
        .collect()
}

/// An argument: itself, `flag=password`, an ACL rule `>password`, or, for a
/// shell command line (`sh -c "…"`), each of its words so.
fn mask_argument(arg: &str, passwords: &[String]) -> String {
    if passwords.is_empty() {
        return arg.to_string();
    }
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.push_str(&mask_word(&rest[..word_end], passwords));
        let space_end = rest[word_end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |i| word_end + i);
        out.push_str(&rest[word_end..space_end]);
        rest = &rest[space_end..];
    }
    out
}

fn mask_word(word: &str, passwords: &[String]) -> String {
    let is_password = |w: &str| passwords.iter().any(|p| p == w);
    let core = word.trim_matches(['"', '\'']);
    if is_password(word) {
        return mask_value(word);
    }
    if is_password(core) {
        return word.replacen(core, &mask_value(core), 1);
    }
    if let Some((flag, value)) = core.split_once('=')
        && is_password(value)
    {
        return word.replacen(core, &format!("{flag}={}", mask_value(value)), 1);
    }
    if let Some(rule) = core.strip_prefix(['>', '<'])
        && is_password(rule)
    {
        return word.replacen(rule, MASK, 1);
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_reference_keeps_its_name_and_loses_its_default() {
        assert_eq!(mask_value("${DB_PASSWORD:-pass}"), "${DB_PASSWORD:-****}");
        assert_eq!(mask_value("${DB_PASSWORD-pass}"), "${DB_PASSWORD-****}");
        assert_eq!(mask_value("${DB_PASSWORD}"), "${DB_PASSWORD}");
        assert_eq!(mask_value("$DB_PASSWORD"), "$DB_PASSWORD");
        assert_eq!(
            mask_value("${DB_PASSWORD:?set it}"),
            "${DB_PASSWORD:?set it}"
        );
        assert_eq!(mask_value("pass"), "****");
        assert_eq!(mask_value("x${A}y"), "****");
    }

    #[test]
    fn secret_named_variables_lose_their_value_whatever_it_is() {
        let none = |t: &str| t.to_string();
        assert_eq!(
            mask_assignment("REDIS_PASSWORD=pass", &none),
            "REDIS_PASSWORD=****"
        );
        assert_eq!(mask_assignment("JWT_SECRET=a=b", &none), "JWT_SECRET=****");
        assert_eq!(
            mask_assignment("AUTH_SERVICE_URL=http://auth:3001", &none),
            "AUTH_SERVICE_URL=http://auth:3001"
        );
        assert_eq!(
            mask_assignment("POSTGRES_USER=user", &none),
            "POSTGRES_USER=user"
        );
    }

    #[test]
    fn short_passwords_of_a_command_line_are_masked_there() {
        let none = |t: &str| t.to_string();
        let masked = mask_argv(
            &argv(&[
                "redis-server",
                "--requirepass",
                "pass",
                "--masterauth=user",
                "--port",
                "6379",
            ]),
            &none,
        );
        assert_eq!(
            masked,
            [
                "redis-server",
                "--requirepass",
                "****",
                "--masterauth=****",
                "--port",
                "6379"
            ]
        );
        let shell = mask_argv(
            &argv(&["sh", "-c", "PGPASSWORD=pass psql -U user -c 'select 1'"]),
            &none,
        );
        assert_eq!(shell[2], "PGPASSWORD=**** psql -U user -c 'select 1'");
        let compose = mask_argv(
            &argv(&["redis-server", "--requirepass", "${REDIS_PASSWORD:-pass}"]),
            &none,
        );
        assert_eq!(compose[2], "${REDIS_PASSWORD:-****}");
    }
}
