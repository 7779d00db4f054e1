//! The redactor that keeps every known secret out of output, logs and reports
//! (credentials themselves are found by `crate::credentials`), and the shapes
//! of secrets it masks even when it does not know them (for the support bundle).
//!
//! Whole values only, never across lines: a known secret is masked where it
//! stands as a token (no letter, digit or `_` touching its ends), and only when
//! it looks like one — a short word or number (`pass`, `user`, `POST`, `3600`)
//! or a common word (`password`, `postgres`) a secret-named variable happens to
//! hold is left in free text, where masking it would blank that word in every
//! line. Such a value is still masked wherever it stands as a secret: after a
//! secret-named key (`password=pass`), as a URL's password, in an inspected
//! environment or command line, in a compose file (`compose`, `inspect`).

pub mod argv;
pub mod compose;
pub mod inspect;
pub mod values;

use regex::Regex;
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

pub const MASK: &str = "****";

/// Shorter words and numbers than this are not masked by value in free text.
const MIN_WORD_SECRET: usize = 8;

/// Words a secret-named variable or a weak password may hold that are also
/// everyday words of logs and configuration: never masked by value.
const COMMON_WORDS: [&str; 12] = [
    "password",
    "postgres",
    "postgresql",
    "database",
    "username",
    "localhost",
    "production",
    "development",
    "disabled",
    "required",
    "optional",
    "changeit",
];

/// Every secret value seen during a run; `redact` masks them in any text.
#[derive(Default)]
pub struct Secrets {
    /// Kept longest first, so a secret containing another is masked whole.
    values: Mutex<BTreeSet<(Reverse<usize>, String)>>,
}

impl Secrets {
    /// Learns `value` (each of its lines, for a multi-line secret) if it looks
    /// like a secret (`looks_secret`).
    pub fn add(&self, value: &str) {
        let mut values = self.values.lock().expect("secrets lock");
        for line in value.lines().map(str::trim).filter(|l| looks_secret(l)) {
            values.insert((Reverse(line.len()), line.to_string()));
        }
    }

    /// Secret-named variables' values and every password of every URL in a value.
    pub fn add_from_environment(&self, env: &std::collections::HashMap<String, String>) {
        for (name, value) in env {
            self.add_from_variable(name, value);
        }
    }

    /// `NAME=value` of an environment or a command line: the value when the
    /// name is secret-like, and every password of the URLs it holds.
    pub fn add_from_variable(&self, name: &str, value: &str) {
        if is_secret_name(name) {
            self.add(value);
        }
        self.add_from_urls(value);
    }

    /// Every password of every URL in `text`, as written and percent-decoded.
    pub fn add_from_urls(&self, text: &str) {
        for password in url_passwords(text) {
            self.add(password);
            if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
                self.add(&decoded);
            }
        }
    }

    /// `text` with every known secret masked where it stands as a whole token.
    pub fn redact(&self, text: &str) -> String {
        let values = self.values.lock().expect("secrets lock");
        values.iter().fold(text.to_string(), |acc, (_, secret)| {
            mask_tokens(&acc, secret)
        })
    }

    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.redact(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }
}

/// Whether a learned value is masked by value in free text: at least 4
/// characters, not a word or number shorter than `MIN_WORD_SECRET`, not a
/// common word.
pub fn looks_secret(value: &str) -> bool {
    let length = value.chars().count();
    let one_word =
        value.chars().all(char::is_alphabetic) || value.chars().all(|c| c.is_ascii_digit());
    length >= 4
        && !(one_word && length < MIN_WORD_SECRET)
        && !COMMON_WORDS.iter().any(|w| w.eq_ignore_ascii_case(value))
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `text` with each whole-token occurrence of `value` masked: one whose
/// word-character ends touch no other word character (`pass` in `pass,` and
/// `:pass@`, not in `password` nor `bypass`).
pub fn mask_tokens(text: &str, value: &str) -> String {
    if value.is_empty() || !text.contains(value) {
        return text.to_string();
    }
    let starts_word = value.chars().next().is_some_and(is_word_char);
    let ends_word = value.chars().next_back().is_some_and(is_word_char);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in text.match_indices(value) {
        if at < copied {
            continue;
        }
        let end = at + value.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let touches_before = starts_word && before.is_some_and(is_word_char);
        let touches_after = ends_word && after.is_some_and(is_word_char);
        if !touches_before && !touches_after {
            out.push_str(&text[copied..at]);
            out.push_str(MASK);
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Words that make a name secret wherever they stand in it (`PGPASSWORD`,
/// `JWT_SECRET`, `dbPassword`, `REFRESH_TOKEN`).
const SECRET_WORDS: [&str; 9] = [
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "CREDENTIAL",
    "REQUIREPASS",
    "MASTERAUTH",
];

/// Words that make a name secret as its last word after another
/// (`REDIS_AUTH`, `API_KEY`, `DB_PASS`), not alone (`auth`, `key`, `PWD`)
/// nor first (`AUTH_SERVICE`, `KEY_PREFIX`).
const SECRET_LAST_WORDS: [&str; 5] = ["PASS", "PWD", "KEY", "AUTH", "AUTHORIZATION"];

/// Last words of names that hold configuration about a secret, not one
/// (`JWT_SECRET_FILE`, `POSTGRES_HOST_AUTH_METHOD`, `REFRESH_TOKEN_EXPIRES_IN`).
const CONFIG_LAST_WORDS: [&str; 38] = [
    "URL",
    "URI",
    "FILE",
    "PATH",
    "DIR",
    "HOST",
    "HOSTNAME",
    "PORT",
    "ADDR",
    "ADDRESS",
    "USER",
    "USERNAME",
    "NAME",
    "ID",
    "METHOD",
    "MODE",
    "TYPE",
    "ALGORITHM",
    "ALG",
    "ENABLED",
    "ENABLE",
    "DISABLED",
    "TTL",
    "EXPIRES",
    "IN",
    "EXPIRY",
    "EXPIRATION",
    "LIFETIME",
    "TIMEOUT",
    "AGE",
    "LENGTH",
    "HEADER",
    "ISSUER",
    "AUDIENCE",
    "PREFIX",
    "VERSION",
    "POLICY",
    "SERVICE",
];

/// A name's words, upper-cased: split at every non-alphanumeric character and
/// at camelCase humps (`dbPassword` → `DB`, `PASSWORD`).
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = !c.is_alphanumeric() || (previous_lower && c.is_uppercase());
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_uppercase());
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a variable's, key's or parameter's name says it holds a secret
/// (`DB_PASSWORD`, `jwtSecret`, `REDIS_AUTH`, `x-api-key`), not configuration
/// about one (`DB_PASSWORD_FILE`, `AUTH_SERVICE_URL`) nor a service called
/// `auth`.
pub fn is_secret_name(name: &str) -> bool {
    let words = name_words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if CONFIG_LAST_WORDS.contains(&last.as_str()) {
        return false;
    }
    words
        .iter()
        .any(|w| SECRET_WORDS.iter().any(|s| w.contains(s)))
        || (words.len() > 1 && SECRET_LAST_WORDS.contains(&last.as_str()))
}

/// Secret-shaped text, masked whoever wrote it, each within one line: URL
/// userinfo passwords, bearer tokens, JWT-shaped strings, `--requirepass X`
/// and SQL's `PASSWORD 'x'`.
static SHAPES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"(?P<keep>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(?P<end>@)",
            "${keep}****${end}",
        ),
        (
            r"(?P<keep>(?i:bearer)[ \t]+)[A-Za-z0-9._~+/=-]+",
            "${keep}****",
        ),
        (
            r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+",
            "****",
        ),
        (r"(?P<keep>--requirepass[ =])\S+", "${keep}****"),
        // SQL's `ALTER ROLE … [ENCRYPTED] PASSWORD 'x'` (a session's query).
        (
            r"(?P<keep>(?i:\bpassword)[ \t]+)'(?:[^'\n]|'')*'",
            "${keep}'****'",
        ),
    ]
    .into_iter()
    .map(|(pattern, replacement)| (Regex::new(pattern).expect("a valid pattern"), replacement))
    .collect()
});

/// `"name": "value"` (JSON) and `name=value` / `name: value` pairs, within a
/// line; masked when `is_secret_name(name)`.
static PAIRS: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    [
        r#""(?P<name>[^"\\\n]{1,128})"[ \t]*:[ \t]*"(?P<value>(?:[^"\\\n]|\\.)*)""#,
        r#"\b(?P<name>[A-Za-z][A-Za-z0-9_.-]{0,127})[ \t]*[=:][ \t]*(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s"',;&]+)"#,
    ]
    .map(|pattern| Regex::new(pattern).expect("a valid pattern"))
});

/// Whether any shape or secret-like name may occur at all (one pass, for the lines with none).
static SHAPE_SET: LazyLock<regex::RegexSet> = LazyLock::new(|| {
    regex::RegexSet::new(
        SHAPES
            .iter()
            .map(|(pattern, _)| pattern.as_str().to_string())
            .chain([r"(?i)pass|pwd|secret|token|key|auth|credential".to_string()]),
    )
    .expect("valid patterns")
});

/// `text` with every secret-shaped part masked (on top of `Secrets::redact`).
pub fn mask_shapes(text: &str) -> String {
    if !SHAPE_SET.is_match(text) {
        return text.to_string();
    }
    let shaped = SHAPES
        .iter()
        .fold(text.to_string(), |acc, (pattern, replacement)| {
            pattern.replace_all(&acc, *replacement).into_owned()
        });
    PAIRS
        .iter()
        .fold(shaped, |acc, pattern| mask_secret_pairs(&acc, pattern))
}

/// The values of `pattern`'s pairs whose name is secret, masked. A pair whose
/// name is not secret consumes only its name, so `log:password=x` is still seen.
fn mask_secret_pairs(text: &str, pattern: &Regex) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = pattern.captures_at(text, from) {
        let (name, value) = (&found["name"], found.name("value").expect("a value group"));
        if is_secret_name(name) && value.as_str() != MASK && !value.as_str().is_empty() {
            out.push_str(&text[copied..value.start()]);
            out.push_str(&masked_value(value.as_str()));
            copied = value.end();
            from = value.end();
        } else {
            from = found.name("name").expect("a name group").end();
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// A secret value replaced, its quotes kept (`"x"` → `"****"`).
fn masked_value(value: &str) -> String {
    match value.chars().next() {
        Some(quote @ ('"' | '\'')) if value.len() > 1 && value.ends_with(quote) => {
            format!("{quote}{MASK}{quote}")
        }
        _ => MASK.to_string(),
    }
}

/// Query parameters that carry a password (`postgres://h/db?password=X`,
/// `?api_key=`), not those that merely name how to authenticate
/// (`authSource=admin`, `authMechanism=…`).
fn is_secret_parameter(name: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace(['_', '-'], "");
    [
        "pass",
        "pwd",
        "secret",
        "token",
        "apikey",
        "accesskey",
        "signature",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// The passwords of every URL in `text` (userinfo, then secret-named query
/// parameters), as written.
pub fn url_passwords(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some((_, after)) = rest.split_once("://") {
        let mut end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(after.len());
        // A list of URLs (`redis://:a@h1,redis://:b@h2`): this one ends where the next's scheme begins.
        if let Some(next) = after[..end].find("://") {
            let is_scheme = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-');
            end = after[..next].trim_end_matches(is_scheme).len();
        }
        let url = &after[..end];
        // The userinfo ends at the last `@` before the query (a password may hold `@` or `/`).
        let before_query = url.split(['?', '#']).next().unwrap_or(url);
        if let Some((userinfo, _)) = before_query.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
            && !password.is_empty()
        {
            found.push(password);
        }
        if let Some((_, query)) = url.split_once('?') {
            let query = query.split('#').next().unwrap_or(query);
            found.extend(query.split('&').filter_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                (is_secret_parameter(name) && !value.is_empty()).then_some(value)
            }));
        }
        rest = &after[end..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_shapes_are_masked_without_being_known() {
        let line = r#"conn postgres://app:s3cretPW@db:5432/x Authorization: Bearer abc.def-123 jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature password=hunter22 {"api_key": "k-123", "user": "bob"} --requirepass rp1 DB_PASSWORD: pw2"#;
        let masked = mask_shapes(line);
        for secret in [
            "s3cretPW",
            "abc.def-123",
            "eyJhbGci",
            "hunter22",
            "k-123",
            "rp1",
            "pw2",
        ] {
            assert!(!masked.contains(secret), "{secret} left in {masked}");
        }
        assert!(masked.contains("postgres://app:****@db:5432/x"), "{masked}");
        assert!(masked.contains(r#""user": "bob""#), "{masked}");
    }

    #[test]
    fn an_sql_password_literal_is_masked() {
        let query = "ALTER ROLE app WITH ENCRYPTED PASSWORD 'it''s-s3cret' VALID UNTIL 'infinity'";
        let masked = mask_shapes(query);
        assert_eq!(
            masked,
            "ALTER ROLE app WITH ENCRYPTED PASSWORD '****' VALID UNTIL 'infinity'"
        );
    }

    #[test]
    fn redacts_every_known_secret_longest_first() {
        let secrets = Secrets::default();
        secrets.add("hunter2-canary");
        secrets.add("canary42");
        assert_eq!(
            secrets.redact("a hunter2-canary and a canary42"),
            "a **** and a ****"
        );
    }

    #[test]
    fn known_secrets_are_masked_as_whole_tokens_only() {
        let secrets = Secrets::default();
        secrets.add("s3cr3t");
        secrets.add("-dash-");
        assert_eq!(
            secrets.redact("s3cr3t,x:s3cr3t@h \"s3cr3t\" xs3cr3t s3cr3ts s3cr3t_1 a-dash-b"),
            "****,x:****@h \"****\" xs3cr3t s3cr3ts s3cr3t_1 a****b"
        );
    }

    #[test]
    fn short_words_numbers_and_common_words_are_not_masked_by_value() {
        let secrets = Secrets::default();
        for value in [
            "GET", "POST", "auth", "user", "pass", "admin", "secret", "3600", "true", "password",
            "Postgres",
        ] {
            secrets.add(value);
        }
        let line = "POST /api/v1/auth/verify user=bob pass: GET 3600 true password postgres";
        assert_eq!(secrets.redact(line), line);
        // A secret that is not one word is masked however short; a long word is too.
        secrets.add("pw2!");
        secrets.add("redispass");
        secrets.add("12345678");
        assert_eq!(
            secrets.redact("auth pw2! redispass 12345678"),
            "auth **** **** ****"
        );
    }

    #[test]
    fn a_multi_line_secret_is_masked_line_by_line() {
        let secrets = Secrets::default();
        secrets.add("-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n-----END KEY-----\n");
        assert_eq!(
            secrets.redact("key:\nMIIEvQIBADANBgkq\nnext"),
            "key:\n****\nnext"
        );
    }

    #[test]
    fn secret_names_are_read_word_by_word() {
        for name in [
            "DB_PASSWORD",
            "PGPASSWORD",
            "jwtSecret",
            "JWT_SECRET",
            "REDIS_AUTH",
            "API_KEY",
            "x-api-key",
            "DB_PASS",
            "REFRESH_TOKEN",
            "password",
            "requirepass",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(is_secret_name(name), "{name} is secret");
        }
        for name in [
            "auth",
            "AUTH_SERVICE_URL",
            "AUTH_SERVICE",
            "DB_PASSWORD_FILE",
            "POSTGRES_HOST_AUTH_METHOD",
            "REFRESH_TOKEN_EXPIRES_IN",
            "KEY_PREFIX",
            "PWD",
            "key",
            "image",
            "method",
            "BYPASS_CACHE",
            "service_healthy",
            "auth-db",
            "TOKEN_TTL",
        ] {
            assert!(!is_secret_name(name), "{name} is not secret");
        }
    }

    #[test]
    fn shapes_stay_within_a_line_and_leave_names_and_methods() {
        let yaml = "  auth-db:\n    image: postgres:16\n  auth-redis: {condition: service_healthy}\n  AUTH_SERVICE_URL: http://auth:3001";
        assert_eq!(mask_shapes(yaml), yaml);
        for line in [
            "INFO:auth:GET /api/v1/health 200",
            "auth: POST /api/v1/auth/verify user=bob",
            r#"{"service":"auth","method":"GET","user":"bob"}"#,
        ] {
            assert_eq!(mask_shapes(line), line);
        }
        assert_eq!(
            mask_shapes("log:password=x1 DB_PASSWORD: 'a b' Bearer\nnext"),
            "log:password=**** DB_PASSWORD: '****' Bearer\nnext"
        );
        assert_eq!(
            mask_shapes(r#"{"dbPassword": "a\"b", "redis_auth":"zz"}"#),
            r#"{"dbPassword": "****", "redis_auth":"****"}"#
        );
    }

    #[test]
    fn finds_url_passwords() {
        assert_eq!(
            url_passwords("postgresql://user:s3cr@t@db:5432/x")
                .first()
                .copied(),
            Some("s3cr@t")
        );
        assert_eq!(
            url_passwords("redis://:redispass@r:6379").first().copied(),
            Some("redispass")
        );
        assert_eq!(url_passwords("http://auth:3001").first().copied(), None);
        assert_eq!(
            url_passwords("redis://:abc/d+==@r:6379/0").first().copied(),
            Some("abc/d+==")
        );
    }

    #[test]
    fn learns_query_passwords_and_every_url_of_a_value() {
        assert_eq!(
            url_passwords("postgres://db/app?sslmode=disable&password=CAN%41RY2#x"),
            vec!["CAN%41RY2"]
        );
        assert_eq!(
            url_passwords(
                "redis://:first@h1:6379,redis://:second@h2 smtp://u:third@h?auth_token=fourth"
            ),
            vec!["first", "second", "third", "fourth"]
        );
        assert!(url_passwords("https://example.com/a@b?page=2").is_empty());
        assert!(url_passwords("mongodb://h/db?authSource=admin&authMechanism=SCRAM").is_empty());
        let secrets = Secrets::default();
        let env = std::collections::HashMap::from([
            (
                "SMTP_URL".to_string(),
                "smtp://u:canary3@mail:25".to_string(),
            ),
            (
                "DATABASE_URL".to_string(),
                "postgres://db/x?password=CAN%41RY2".to_string(),
            ),
            ("API_TOKEN".to_string(), "tok-1234".to_string()),
        ]);
        secrets.add_from_environment(&env);
        assert_eq!(
            secrets.redact("canary3 CANARY2 CAN%41RY2 tok-1234 mail"),
            "**** **** **** **** mail"
        );
    }
}
