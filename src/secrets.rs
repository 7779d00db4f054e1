//! The redactor that keeps every known secret out of output, logs and reports
//! (credentials themselves are found by `crate::credentials`), and the shapes
//! of secrets it masks even when it does not know them (for the support bundle).

use regex::Regex;
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

const MASK: &str = "****";

/// Every secret value seen during a run; `redact` masks them in any text.
#[derive(Default)]
pub struct Secrets {
    /// Kept longest first, so a secret containing another is masked whole.
    values: Mutex<BTreeSet<(Reverse<usize>, String)>>,
}

impl Secrets {
    pub fn add(&self, value: &str) {
        // Very short values would mask ordinary words; they are never printed anyway.
        if value.len() >= 4 {
            self.values
                .lock()
                .expect("secrets lock")
                .insert((Reverse(value.len()), value.to_string()));
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

    pub fn redact(&self, text: &str) -> String {
        let values = self.values.lock().expect("secrets lock");
        values.iter().fold(text.to_string(), |acc, (_, secret)| {
            if acc.contains(secret.as_str()) {
                acc.replace(secret.as_str(), MASK)
            } else {
                acc
            }
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

/// Whether a variable's name says it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_uppercase();
    ["SECRET", "PASSWORD", "PASS", "TOKEN", "KEY", "AUTH"]
        .iter()
        .any(|w| upper.contains(w))
        && !upper.ends_with("_URL")
        // `*_PASSWORD_FILE` holds a path; the file's content is the secret.
        && !upper.ends_with("_FILE")
}

/// Secret-shaped text, masked whoever wrote it: URL userinfo passwords,
/// bearer tokens, JWT-shaped strings, and `name=value` / `name: value` /
/// `"name": "value"` pairs whose name is secret-like.
static SHAPES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let secret_name = r"[A-Za-z0-9_.-]*(?i:password|passwd|secret|token|api[_-]?key|private[_-]?key|requirepass|auth)[A-Za-z0-9_.-]*";
    [
        (
            r"(?P<keep>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(?P<end>@)",
            "${keep}****${end}",
        ),
        (
            r"(?P<keep>(?i:bearer)\s+)[A-Za-z0-9._~+/=-]+",
            "${keep}****",
        ),
        (
            r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+",
            "****",
        ),
        (
            &format!(r#"(?P<keep>"{secret_name}"\s*:\s*")[^"]*(?P<end>")"#),
            "${keep}****${end}",
        ),
        (
            &format!(r#"(?P<keep>\b{secret_name}\s*[=:]\s*)["']?[^\s"',;&]+["']?"#),
            "${keep}****",
        ),
        (r"(?P<keep>--requirepass[ =])\S+", "${keep}****"),
    ]
    .into_iter()
    .map(|(pattern, replacement)| (Regex::new(pattern).expect("a valid pattern"), replacement))
    .collect()
});

/// Whether any shape occurs at all (one pass, for the lines with none).
static SHAPE_SET: LazyLock<regex::RegexSet> = LazyLock::new(|| {
    regex::RegexSet::new(SHAPES.iter().map(|(pattern, _)| pattern.as_str()))
        .expect("valid patterns")
});

/// `text` with every secret-shaped part masked (on top of `Secrets::redact`).
pub fn mask_shapes(text: &str) -> String {
    if !SHAPE_SET.is_match(text) {
        return text.to_string();
    }
    SHAPES
        .iter()
        .fold(text.to_string(), |acc, (pattern, replacement)| {
            pattern.replace_all(&acc, *replacement).into_owned()
        })
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

/// The password of a URL (`scheme://user:pass@host…`): its userinfo's, else
/// its first secret-named query parameter (`?password=X`); as written.
pub fn url_password(url: &str) -> Option<&str> {
    url_passwords(url).into_iter().next()
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
    fn redacts_every_known_secret_longest_first() {
        let secrets = Secrets::default();
        secrets.add("hunter2-canary");
        secrets.add("canary");
        assert_eq!(
            secrets.redact("a hunter2-canary and a canary"),
            "a **** and a ****"
        );
    }

    #[test]
    fn finds_url_passwords() {
        assert_eq!(
            url_password("postgresql://user:s3cr@t@db:5432/x"),
            Some("s3cr@t")
        );
        assert_eq!(url_password("redis://:redispass@r:6379"), Some("redispass"));
        assert_eq!(url_password("http://auth:3001"), None);
        assert_eq!(url_password("redis://:abc/d+==@r:6379/0"), Some("abc/d+=="));
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
