//! The redactor that keeps every known secret out of output, logs and reports
//! (credentials themselves are found by `crate::credentials`).

use std::collections::BTreeSet;
use std::sync::Mutex;

const MASK: &str = "****";

/// Every secret value seen during a run; `redact` masks them in any text.
#[derive(Default)]
pub struct Secrets {
    values: Mutex<BTreeSet<String>>,
}

impl Secrets {
    pub fn add(&self, value: &str) {
        // Very short values would mask ordinary words; they are never printed anyway.
        if value.len() >= 4 {
            self.values
                .lock()
                .expect("secrets lock")
                .insert(value.to_string());
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let values = self.values.lock().expect("secrets lock");
        // Longest first, so a secret containing another is masked whole.
        let mut sorted: Vec<&String> = values.iter().collect();
        sorted.sort_by_key(|v| std::cmp::Reverse(v.len()));
        sorted.iter().fold(text.to_string(), |acc, secret| {
            acc.replace(secret.as_str(), MASK)
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
