//! What one container tells of the deployment's secrets, learned before any
//! output: its environment (secret-named variables, every URL's password), its
//! command line, entrypoint and health check (`--requirepass`, `--masterauth`,
//! `--user NAME … >pass`, `redis-cli -a`, `NAME=value`, URLs) — for every
//! container of the project, every replica included.

use crate::secrets::{Secrets, argv::argv_passwords};
use bollard::models::ContainerInspectResponse;

/// Teaches `secrets` everything secret in an inspected container.
pub fn learn(secrets: &Secrets, inspected: &ContainerInspectResponse) {
    let config = inspected.config.as_ref();
    for variable in config.and_then(|c| c.env.as_ref()).into_iter().flatten() {
        if let Some((name, value)) = variable.split_once('=') {
            secrets.add_from_variable(name, value);
        }
    }
    let process: Vec<String> = inspected
        .path
        .iter()
        .cloned()
        .chain(inspected.args.clone().unwrap_or_default())
        .collect();
    let command_lines = [
        Some(process),
        config.and_then(|c| c.entrypoint.clone()),
        config.and_then(|c| c.cmd.clone()),
        config.and_then(|c| c.healthcheck.as_ref()?.test.clone()),
    ];
    for argv in command_lines.iter().flatten() {
        for password in argv_passwords(argv) {
            secrets.add(&password);
        }
        for arg in argv {
            secrets.add_from_urls(arg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_inspect_teaches_its_environment_and_command_line() {
        let inspected: ContainerInspectResponse = serde_json::from_value(serde_json::json!({
            "Path": "docker-entrypoint.sh",
            "Args": ["redis-server", "--requirepass", "CANARY-argv"],
            "Config": {
                "Env": ["DATABASE_URL=postgres://db/x?password=CANARY-query", "SMTP_URL=smtp://u:CANARY-smtp@h"],
                "Healthcheck": {"Test": ["CMD-SHELL", "redis-cli -a CANARY-health ping"]}
            }
        }))
        .unwrap();
        let secrets = Secrets::default();
        learn(&secrets, &inspected);
        assert_eq!(
            secrets.redact("CANARY-argv CANARY-query CANARY-smtp CANARY-health"),
            "**** **** **** ****"
        );
    }
}
