//! Docker contexts as the docker CLI stores them: `$DOCKER_CONFIG` (default
//! `~/.docker`), its `config.json`'s `currentContext`, each context's
//! `contexts/meta/<sha256 of its name>/meta.json` (the engine's `Host`) and
//! its TLS files in `contexts/tls/<sha256 of its name>/docker/`.

use super::EngineError;
use super::target::Target;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A context file larger than this is not read (hostile input is bounded).
const MAX_FILE: u64 = 1 << 20;

/// `$DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker"),
    }
}

/// The current context of `config.json`, if one is set.
pub fn current() -> Option<String> {
    let config = read_json(&config_dir().join("config.json")).ok()?;
    config["currentContext"]
        .as_str()
        .filter(|name| !name.is_empty())
        .map(String::from)
}

/// The engine of context `name`.
pub fn load(name: &str) -> Result<Target, EngineError> {
    let unusable = |reason: String| EngineError::Context {
        name: name.to_string(),
        reason,
    };
    if name == "default" {
        return Ok(Target {
            endpoint: "unix:///var/run/docker.sock".into(),
            tls: None,
            context: Some(name.into()),
        });
    }
    let id = hex::encode(Sha256::digest(name.as_bytes()));
    let store = config_dir().join("contexts");
    let meta_path = store.join("meta").join(&id).join("meta.json");
    let meta =
        read_json(&meta_path).map_err(|e| unusable(format!("{}: {e}", meta_path.display())))?;
    let docker = &meta["Endpoints"]["docker"];
    let endpoint = docker["Host"]
        .as_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| unusable(format!("{} names no docker Host", meta_path.display())))?;
    if docker["SkipTLSVerify"].as_bool() == Some(true) {
        return Err(unusable(
            "it skips TLS verification, which the doctor does not do: give it the engine's CA"
                .into(),
        ));
    }
    let tls_dir = store.join("tls").join(&id).join("docker");
    let tls = tls_dir.join("ca.pem").is_file().then_some(tls_dir);
    if let Some(dir) = &tls
        && !(dir.join("cert.pem").is_file() && dir.join("key.pem").is_file())
    {
        return Err(unusable(format!(
            "{} has a CA but no client certificate (cert.pem, key.pem)",
            dir.display()
        )));
    }
    Ok(Target {
        endpoint: endpoint.to_string(),
        tls,
        context: Some(name.to_string()),
    })
}

/// Why a context file was not taken.
#[derive(Debug, thiserror::Error)]
enum JsonFileError {
    #[error("{0}")]
    Unreadable(#[from] std::io::Error),
    #[error("not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
}

fn read_json(path: &Path) -> Result<serde_json::Value, JsonFileError> {
    let text = crate::files::read_bounded(path, MAX_FILE)?;
    Ok(serde_json::from_str(&text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context store as `docker context create remote --docker host=…,ca=…,cert=…,key=…` writes it.
    fn store(dir: &Path, name: &str, host: &str, with_tls: bool) {
        let id = hex::encode(Sha256::digest(name.as_bytes()));
        let meta = dir.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#),
        )
        .unwrap();
        if with_tls {
            let tls = dir.join("contexts/tls").join(&id).join("docker");
            std::fs::create_dir_all(&tls).unwrap();
            for file in ["ca.pem", "cert.pem", "key.pem"] {
                std::fs::write(tls.join(file), "pem").unwrap();
            }
        }
    }

    #[test]
    fn a_context_gives_its_host_and_tls_files() {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path(), "remote", "tcp://10.0.0.5:2376", true);
        // SAFETY: the only test of this module touching DOCKER_CONFIG.
        unsafe { std::env::set_var("DOCKER_CONFIG", dir.path()) };
        let target = load("remote").unwrap();
        assert_eq!(target.endpoint, "tcp://10.0.0.5:2376");
        assert!(target.tls.unwrap().ends_with("docker"));
        let missing = load("nope").unwrap_err().to_string();
        assert!(missing.starts_with("docker context \"nope\""), "{missing}");
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"remote"}"#,
        )
        .unwrap();
        assert_eq!(current().as_deref(), Some("remote"));
        unsafe { std::env::remove_var("DOCKER_CONFIG") };
    }
}
