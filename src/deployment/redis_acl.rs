//! Redis ACL users as a server's command line declares them
//! (`--user app on >pass ~* +@all --user default off`), read as Redis reads
//! them: each `--user` starts a user, its rules apply in order.

/// One user of the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclUser {
    pub name: String,
    pub enabled: bool,
    /// Its `>password` rules, in order (`<password` removes one, `resetpass` all).
    pub passwords: Vec<String>,
    pub nopass: bool,
}

impl AclUser {
    /// The password to authenticate as this user with, when it has exactly one.
    pub fn password(&self) -> Option<&str> {
        match self.passwords.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }
}

/// Every `--user` of `argv`, the words of a shell command line included.
pub fn users(argv: &[String]) -> Vec<AclUser> {
    let words = argv
        .iter()
        .flat_map(|arg| arg.split_whitespace())
        .map(|word| word.trim_matches(['"', '\'']));
    let mut users: Vec<AclUser> = Vec::new();
    let mut current: Option<usize> = None;
    let mut expect_name = false;
    for word in words {
        if expect_name {
            expect_name = false;
            current = Some(user_index(&mut users, word));
            continue;
        }
        if word.starts_with("--") {
            expect_name = word == "--user";
            current = None;
            continue;
        }
        if let Some(i) = current {
            apply(&mut users[i], word);
        }
    }
    users
}

/// A name's user (rules of a name given twice add up, as in Redis).
fn user_index(users: &mut Vec<AclUser>, name: &str) -> usize {
    if let Some(i) = users.iter().position(|u| u.name == name) {
        return i;
    }
    users.push(AclUser {
        name: name.to_string(),
        enabled: false,
        passwords: Vec::new(),
        nopass: false,
    });
    users.len() - 1
}

fn apply(user: &mut AclUser, rule: &str) {
    match rule.to_ascii_lowercase().as_str() {
        "on" => user.enabled = true,
        "off" => user.enabled = false,
        "nopass" => {
            user.nopass = true;
            user.passwords.clear();
        }
        "resetpass" => {
            user.nopass = false;
            user.passwords.clear();
        }
        "reset" => {
            user.enabled = false;
            user.nopass = false;
            user.passwords.clear();
        }
        _ => {
            if let Some(password) = rule.strip_prefix('>') {
                user.nopass = false;
                if !user.passwords.iter().any(|p| p == password) {
                    user.passwords.push(password.to_string());
                }
            } else if let Some(password) = rule.strip_prefix('<') {
                user.passwords.retain(|p| p != password);
            }
        }
    }
}

/// The user a client without a username would be: the first enabled user
/// with one password, `default` first (the one Redis uses for `AUTH pass`).
pub fn login(users: &[AclUser]) -> Option<&AclUser> {
    let usable = |u: &&AclUser| u.enabled && u.password().is_some();
    users
        .iter()
        .filter(|u| u.name == "default")
        .find(usable)
        .or_else(|| users.iter().find(usable))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(text: &str) -> Vec<String> {
        text.split(' ').map(String::from).collect()
    }

    #[test]
    fn users_and_their_rules_in_order() {
        let found = users(&argv(
            "redis-server --appendonly yes --user app on >CANARY ~* +@all --user default off --user ro on nopass +get",
        ));
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].name, "app");
        assert!(found[0].enabled);
        assert_eq!(found[0].password(), Some("CANARY"));
        assert_eq!(found[1].name, "default");
        assert!(!found[1].enabled);
        assert!(found[2].nopass && found[2].password().is_none());
        // The default is off: a client without a username logs in as `app`.
        assert_eq!(login(&found).map(|u| u.name.as_str()), Some("app"));
    }

    #[test]
    fn rules_inside_a_shell_command_and_removed_passwords() {
        let found = users(&[
            "sh".into(),
            "-c".into(),
            "exec redis-server --user 'app on >one >two <one ~* +@all'".into(),
        ]);
        assert_eq!(found[0].password(), Some("two"));
        let off = users(&argv("redis-server --user app >pw"));
        assert!(!off[0].enabled, "a new user is off until `on`");
        assert_eq!(login(&off), None);
        let default = users(&argv("redis-server --user app on >a --user default on >b"));
        assert_eq!(login(&default).map(|u| u.name.as_str()), Some("default"));
    }
}
