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

    /// Secret-named variables' values and every URL's password.
    pub fn add_from_environment(&self, env: &std::collections::HashMap<String, String>) {
        for (name, value) in env {
            if is_secret_name(name) {
                self.add(value);
            }
            if let Some(password) = url_password(value) {
                self.add(password);
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

/// The password part of a URL, if any.
pub fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, password)| password)
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
    }
}
