//! A container's `docker inspect` masked structurally: the values of its
//! secret-named environment variables and the passwords of its command lines
//! (`Args`, `Cmd`, `Entrypoint`, the health check's `Test`) masked in place,
//! every other string through the free-text redactor; still the engine's JSON.

use super::values::{mask_argv, mask_assignment};
use serde_json::Value;

/// Keys whose value is a command line (an array of arguments).
const COMMAND_LINES: [&str; 4] = ["Args", "Cmd", "Entrypoint", "Test"];

/// `value` (an inspected container) masked in place; `mask_text` masks free
/// text (known secrets, secret shapes).
pub fn mask(value: &mut Value, mask_text: &dyn Fn(&str) -> String) {
    mask_under(None, value, mask_text);
}

fn mask_under(key: Option<&str>, value: &mut Value, mask_text: &dyn Fn(&str) -> String) {
    match value {
        Value::Array(items) if key == Some("Env") => {
            for item in items.iter_mut() {
                if let Value::String(variable) = item {
                    *variable = mask_assignment(variable, mask_text);
                }
            }
        }
        Value::Array(items)
            if key.is_some_and(|k| COMMAND_LINES.contains(&k))
                && items.iter().all(Value::is_string) =>
        {
            let argv: Vec<String> = items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect();
            *items = mask_argv(&argv, mask_text)
                .into_iter()
                .map(Value::String)
                .collect();
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| mask_under(None, v, mask_text)),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                mask_under(Some(k), v, mask_text);
            }
        }
        Value::String(text) => *text = mask_text(text),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_and_command_line_passwords_are_masked_and_the_rest_kept() {
        let mut inspected = serde_json::json!({
            "Path": "docker-entrypoint.sh",
            "Args": ["redis-server", "--requirepass", "pass", "--user", "app", "on", ">user", "~*"],
            "Config": {
                "Env": ["REDIS_PASSWORD=pass", "AUTH_SERVICE_URL=http://auth:3001", "METHOD=GET"],
                "Cmd": ["redis-server", "--requirepass", "pass"],
                "Healthcheck": {"Test": ["CMD", "redis-cli", "-a", "pass", "ping"]},
                "Image": "redis:7"
            }
        });
        mask(&mut inspected, &|t: &str| t.to_string());
        assert_eq!(
            inspected,
            serde_json::json!({
                "Path": "docker-entrypoint.sh",
                "Args": ["redis-server", "--requirepass", "****", "--user", "app", "on", ">****", "~*"],
                "Config": {
                    "Env": ["REDIS_PASSWORD=****", "AUTH_SERVICE_URL=http://auth:3001", "METHOD=GET"],
                    "Cmd": ["redis-server", "--requirepass", "****"],
                    "Healthcheck": {"Test": ["CMD", "redis-cli", "-a", "****", "ping"]},
                    "Image": "redis:7"
                }
            })
        );
        let text = serde_json::to_string(&inspected).unwrap();
        assert!(serde_json::from_str::<Value>(&text).is_ok());
    }

    #[test]
    fn every_other_string_goes_through_the_free_text_redactor_and_only_command_lines_are_argv() {
        let mut inspected = serde_json::json!({
            "Config": {
                "Labels": {"note": "token s3cret here"},
                "Binds": ["/srv/s3cret:/data", "--requirepass", "kept"],
                "Cmd": ["sh", 1, "s3cret"],
                "Image": "app:1"
            }
        });
        mask(&mut inspected, &|t: &str| t.replace("s3cret", "****"));
        assert_eq!(
            inspected,
            serde_json::json!({
                "Config": {
                    "Labels": {"note": "token **** here"},
                    // Not a command line: each string masked as text, none as an argument.
                    "Binds": ["/srv/****:/data", "--requirepass", "kept"],
                    // A command line holding a non-string is kept whole, its strings masked as text.
                    "Cmd": ["sh", 1, "****"],
                    "Image": "app:1"
                }
            })
        );
    }
}
