//! The passwords a command line gives (a container's process, entrypoint or
//! health check; `sh -c` lines read word by word).

/// Flags whose next word (or `=value`) is a password, in Redis' and its
/// clients' words; the config directives too (`echo "requirepass X" | redis-server -`).
const PASSWORD_FLAGS: [&str; 5] = [
    "--requirepass",
    "--masterauth",
    "--pass",
    "requirepass",
    "masterauth",
];

/// The passwords a command line gives: the flags' values (`--requirepass X`,
/// `--requirepass=X`), a Redis ACL user's `>pass`/`<pass` rules, `redis-cli -a X`,
/// and `NAME=value` with a secret-like name — in the arguments as they are and
/// in the words of arguments that are themselves command lines (`sh -c "…"`).
pub fn argv_passwords(argv: &[String]) -> Vec<String> {
    let words: Vec<String> = argv
        .iter()
        .flat_map(|arg| arg.split_whitespace())
        .map(|word| word.trim_matches(['"', '\'']).to_string())
        .collect();
    let mut found = flagged(argv);
    found.extend(flagged(&words));
    found.sort();
    found.dedup();
    found.retain(|p| !p.is_empty());
    found
}

fn flagged(words: &[String]) -> Vec<String> {
    let redis_cli = words.iter().any(|w| w.ends_with("redis-cli"));
    let mut found = Vec::new();
    let mut in_user_rules = false;
    for (i, word) in words.iter().enumerate() {
        let next = || words.get(i + 1).cloned();
        if word.starts_with("--") {
            in_user_rules = word == "--user";
        }
        if PASSWORD_FLAGS.contains(&word.as_str()) || (redis_cli && word == "-a") {
            found.extend(next());
        } else if let Some((flag, value)) = word.split_once('=')
            && PASSWORD_FLAGS.contains(&flag)
        {
            found.push(value.to_string());
        } else if in_user_rules && let Some(rule) = word.strip_prefix(['>', '<']) {
            found.push(rule.to_string());
        } else if let Some((name, value)) = word.split_once('=')
            && !name.starts_with('-')
            && !value.contains(char::is_whitespace)
            && super::is_secret_name(name)
        {
            found.push(value.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn every_password_flag_of_a_redis_command_line() {
        let found = argv_passwords(&argv(&[
            "redis-server",
            "--requirepass",
            "canary1",
            "--masterauth=canary2",
            "--user",
            "alice",
            "on",
            ">canary3",
            "~*",
            "+@all",
            "--user",
            "bob",
            "<canary4",
            "--appendonly",
            "yes",
        ]));
        assert_eq!(found, ["canary1", "canary2", "canary3", "canary4"]);
    }

    #[test]
    fn passwords_inside_a_shell_command_line_and_a_health_check() {
        let found = argv_passwords(&argv(&[
            "sh",
            "-c",
            "PGPASSWORD=canary5 exec redis-server --requirepass 'canary6' --port 6379",
        ]));
        assert_eq!(found, ["canary5", "canary6"]);
        let piped = argv_passwords(&argv(&[
            "sh",
            "-c",
            "echo 'masterauth canary8' | redis-server -",
        ]));
        assert_eq!(piped, ["canary8"]);
        let health = argv_passwords(&argv(&["CMD", "redis-cli", "-a", "canary7", "ping"]));
        assert_eq!(health, ["canary7"]);
        assert!(argv_passwords(&argv(&["postgres", "-a", "x", "-c", "port=5432"])).is_empty());
    }
}
