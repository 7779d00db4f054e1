//! Issue 18's hardening: no shell anywhere (a hostile compose service, config
//! service or project is a usage error and runs nothing), `bundle` takes only
//! the project's compose files, the state folder stays 0700, `--config` takes
//! regular files only, a `fix` killed half-way is told by the next command, and
//! no container is removed without its volumes.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a shell would run in each hostile name (`F` is the file it would create).
const INJECTIONS: [&str; 3] = ["x; touch F", "x$(touch F)", "x`touch F`"];

#[test]
fn no_source_file_runs_a_shell() {
    let forbidden = [
        "sh -c",
        "Command::new(\"sh\")",
        "Command::new(\"bash\")",
        "\"sh\", \"-c\"",
        "/bin/sh",
    ];
    let mut found = Vec::new();
    for path in files_under(&repo().join("src"), &["rs"]) {
        let text = std::fs::read_to_string(&path).unwrap();
        // Comments and unit tests may name a shell line as data (the
        // secrets learned from a container's `sh -c "…"` health check).
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (number, line) in code.lines().enumerate() {
            let comment = line.trim_start().starts_with("//");
            if !comment && forbidden.iter().any(|f| line.contains(f)) {
                found.push(format!("{}:{}: {line}", path.display(), number + 1));
            }
        }
    }
    assert!(found.is_empty(), "a shell in src/:\n{}", found.join("\n"));
}

/// Every container the doctor, the tests, the benchmarks or the fixtures'
/// scripts remove goes with its anonymous volumes (`docker rm -v`, the API's
/// `v`): the images of the database and Redis declare a VOLUME, so a container
/// of theirs removed without it leaves a volume behind on every run (tests/run.sh
/// also counts them before and after the whole suite).
#[test]
fn every_container_removed_goes_with_its_volumes() {
    let mut files = files_under(&repo().join("src"), &["rs"]);
    files.extend(files_under(&repo().join("tests"), &["rs", "sh"]));
    files.push(repo().join(".ci/run"));
    let cli = concat!("docker", " rm ");
    let args = concat!("\"", "rm\",");
    let mut found = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (number, line) in lines.iter().enumerate() {
            let code = !line.trim_start().starts_with("//") && !line.trim_start().starts_with('#');
            let removes = line.contains(cli) || line.contains(args);
            let without = removes && !(line.contains(" -v ") || line.contains("\"-v\""));
            // The API's builder: `.v(true)` before its `.build()`.
            let built = line.contains("RemoveContainerOptionsBuilder::new()")
                && !lines[number..]
                    .iter()
                    .take_while(|l| !l.contains(".build()"))
                    .chain(lines[number..].iter().find(|l| l.contains(".build()")))
                    .any(|l| l.contains(".v(true)"));
            if code && (without || built) {
                found.push(format!("{}:{}: {line}", path.display(), number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "containers removed without their volumes:\n{}",
        found.join("\n")
    );
}

/// Every file under `folder` (recursively) whose extension is one of `extensions`.
fn files_under(folder: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path
                .extension()
                .is_some_and(|e| extensions.iter().any(|x| e == *x))
            {
                files.push(path);
            }
        }
    }
    files
}

/// `text` with `F` standing for `file`.
fn planted(text: &str, file: &Path) -> String {
    text.replace('F', file.to_str().unwrap())
}

#[test]
fn a_hostile_compose_service_in_a_check_file_is_refused_and_runs_nothing() {
    let _stack = stack_shared();
    for (number, injection) in INJECTIONS.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let witness = dir.path().join(format!("pwned-{number}"));
        let check = format!(
            "[[check]]\nid = \"evil.start\"\ntitle = \"t\"\nhint = \"h\"\n\
             probe = {{ kind = \"container\", container = \"helpdesk-evil-{number}\", compose_service = \"{}\" }}\n\
             fix = {{ action = \"start_container\" }}\n",
            planted(injection, &witness)
        );
        let checks = dir.path().join("checks");
        std::fs::create_dir(&checks).unwrap();
        let file = temp_file(&checks, "evil.toml", &check);
        let fixed = run(doctor()
            .args(["fix", "--yes", "evil.start", "--checks-dir"])
            .arg(&checks));
        assert_eq!(
            fixed.code, 2,
            "{injection}: {}{}",
            fixed.stdout, fixed.stderr
        );
        assert!(
            fixed.stderr.contains(&format!("{}:5:", file.display()))
                && fixed.stderr.contains("is not a compose name"),
            "the file and line of the name: {}",
            fixed.stderr
        );
        assert!(!witness.exists(), "{injection} ran");
    }
}

#[test]
fn a_hostile_service_in_the_config_or_project_is_a_usage_error() {
    let _stack = stack_shared();
    for (number, injection) in INJECTIONS.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let witness = dir.path().join(format!("pwned-{number}"));
        let name = planted(injection, &witness);
        let config = temp_file(
            dir.path(),
            "profile.toml",
            &format!(
                "# services\n[[services]]\nname = \"{name}\"\napp_port = 3001\ndb_port = 5401\nredis_port = 6301\n"
            ),
        );
        let from_config = run(doctor().arg("--config").arg(&config).args(["fix", "--yes"]));
        assert_eq!(from_config.code, 2, "{}", from_config.stderr);
        assert!(
            from_config
                .stderr
                .contains(&format!("{}:3:", config.display()))
                && from_config.stderr.contains("is not a compose name"),
            "{}",
            from_config.stderr
        );
        let from_flag = run(doctor().args(["--project", &name, "fix", "--yes"]));
        assert_eq!(from_flag.code, 2, "{}", from_flag.stderr);
        assert!(
            from_flag.stderr.contains("is not a compose name"),
            "{}",
            from_flag.stderr
        );
        assert!(!witness.exists(), "{injection} ran");
    }
}

/// A container of a throwaway project (created, never started) whose labels
/// name compose files; removed on drop.
struct Labelled(&'static str);

impl Labelled {
    fn create(name: &'static str, working_dir: &Path, files: &[PathBuf]) -> Labelled {
        let files: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
        sh(&format!("docker rm -f -v {name} >/dev/null 2>&1 || true"));
        let container = Labelled(name);
        sh(&format!(
            "docker create --name {name} --label com.docker.compose.project=bundleprobe \
             --label com.docker.compose.service=probe --label com.docker.compose.container-number=1 \
             --label com.docker.compose.project.working_dir={} \
             --label com.docker.compose.project.config_files={} helpdesk-redis:local >/dev/null",
            working_dir.display(),
            files.join(",")
        ));
        container
    }
}

impl Drop for Labelled {
    fn drop(&mut self) {
        sh(&format!(
            "docker rm -f -v {} >/dev/null 2>&1 || true",
            self.0
        ));
    }
}

#[test]
fn bundle_takes_only_the_projects_compose_files() {
    let _stack = stack_shared();
    const CANARY: &str = "canary-host-file-5d1e";
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    // Compose-shaped and private: only where it lives keeps it out.
    let secret = temp_file(
        dir.path(),
        "secret.txt",
        &format!("services:\n  x:\n    image: {CANARY}\n"),
    );
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let compose = temp_file(
        &project,
        "compose.yml",
        "services:\n  probe:\n    image: redis\n",
    );
    let link = project.join("escape.yml");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    let not_compose = temp_file(&project, "notes.txt", &format!("{CANARY}\n"));
    let _container = Labelled::create(
        "helpdesk-bundle-probe",
        &project,
        &[secret.clone(), compose, link.clone(), not_compose.clone()],
    );
    let archive = dir.path().join("bundle.tar.gz");
    let made = run(doctor()
        .args(["--project", "bundleprobe", "bundle", "--out"])
        .arg(&archive));
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let extracted = dir.path().join("bundle");
    std::fs::create_dir(&extracted).unwrap();
    sh(&format!(
        "tar -xzf {} -C {}",
        archive.display(),
        extracted.display()
    ));
    let taken: Vec<String> = std::fs::read_dir(extracted.join("compose"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(taken, ["2-compose.yml"], "only the project's compose file");
    let leaked = sh(&format!(
        "grep -rl {CANARY} {} || true",
        extracted.display()
    ));
    assert_eq!(
        leaked.trim(),
        "",
        "the host file's content is in the bundle"
    );
    let readme = std::fs::read_to_string(extracted.join("README.txt")).unwrap();
    for (file, why) in [
        (&secret, "outside the project's working directory"),
        (&link, "outside the project's working directory"),
        (&not_compose, "not a compose file"),
    ] {
        let line = readme
            .lines()
            .find(|l| l.contains(&format!("{:?}", file.to_str().unwrap())))
            .unwrap_or_else(|| panic!("{} named in {readme}", file.display()));
        assert!(line.contains("(left out)") && line.contains(why), "{line}");
        assert!(made.stderr.contains(why), "{}", made.stderr);
    }
}

#[test]
fn the_state_folder_is_made_and_kept_private() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("new/state");
    let opened = dir.path().join("opened");
    std::fs::create_dir(&opened).unwrap();
    std::fs::set_permissions(&opened, std::fs::Permissions::from_mode(0o755)).unwrap();
    for state in [&fresh, &opened] {
        let ran = run(doctor().env("HELPDESK_DOCTOR_STATE_DIR", state).args([
            "diagnose",
            "--only",
            "host.disk",
            "--format",
            "json",
        ]));
        assert!(state.join("history").is_dir(), "{}", ran.stderr);
        let mode = std::fs::metadata(state).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", state.display());
    }
}

#[test]
fn a_config_that_is_a_fifo_or_a_device_is_a_usage_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("config.toml");
    sh(&format!("mkfifo {}", fifo.display()));
    for (config, kind) in [(fifo.as_path(), "FIFO"), (Path::new("/dev/zero"), "device")] {
        let ran = run_within(
            doctor()
                .env("DOCKER_HOST", NO_ENGINE)
                .arg("--config")
                .arg(config)
                .args(["checks", "list"]),
            Duration::from_secs(10),
        );
        assert_eq!(ran.code, 2, "{}", ran.stderr);
        assert!(
            ran.stderr
                .contains(&format!("not a regular file (a {kind})")),
            "{}",
            ran.stderr
        );
    }
}

#[test]
fn every_duration_of_a_config_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for (text, line) in [
        ("[timeouts]\nprobe_ms = 9223372036854775807\n", 2),
        ("[timeouts]\n\nstall_ms = \"0s\"\n", 3),
        ("[thresholds]\nlog_window_minutes = -1\n", 2),
        (
            "[thresholds]\nlog_window_minutes = 9223372036854775807\n",
            2,
        ),
    ] {
        let config = temp_file(dir.path(), "profile.toml", text);
        let ran = run(doctor()
            .env("DOCKER_HOST", NO_ENGINE)
            .arg("--config")
            .arg(&config)
            .args(["checks", "list"]));
        assert_eq!(ran.code, 2, "{text}: {}", ran.stderr);
        assert!(
            ran.stderr
                .contains(&format!("{}:{line}:", config.display()))
                && ran.stderr.contains("must be"),
            "{text}: {}",
            ran.stderr
        );
    }
}

#[test]
fn a_fix_killed_half_way_is_told_by_the_next_command() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-service >/dev/null");
    });
    let state = tempfile::tempdir().unwrap();
    let record = state.path().join("interrupted-fix.json");
    let with_state = || {
        let mut command = doctor();
        command.env("HELPDESK_DOCTOR_STATE_DIR", state.path());
        command
    };
    sh("docker stop -t 3 helpdesk-user-service >/dev/null");
    let mut fix = with_state()
        .args(["fix", "--yes", "container.user.service"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !record.exists() {
        assert!(Instant::now() < deadline, "no record of the fix");
        assert!(fix.try_wait().unwrap().is_none(), "the fix ended first");
        std::thread::sleep(Duration::from_millis(10));
    }
    fix.kill().unwrap(); // SIGKILL: nothing of the doctor's runs after it
    fix.wait().unwrap();
    let told = run(with_state().args(["diagnose", "--only", "host.disk"]));
    assert!(
        told.stderr.contains("a fix (started")
            && told.stderr.contains("was interrupted")
            && told.stderr.contains("container.user.service")
            && told.stderr.contains("helpdesk-user-service")
            && told
                .stderr
                .contains("`helpdesk-doctor fix --yes container.user.service`"),
        "{}",
        told.stderr
    );
    let finished = run(with_state().args(["fix", "--yes", "container.user.service"]));
    assert_eq!(finished.code, 0, "{}{}", finished.stdout, finished.stderr);
    assert!(!record.exists(), "the record is cleared once done");
    // The killed fix's start may have reached the engine already: the second
    // fix then finds the container starting (nothing to repair) and it turns
    // healthy on its own.
    let healthy_by = Instant::now() + Duration::from_secs(60);
    while health_of("helpdesk-user-service") != "healthy" {
        assert!(
            Instant::now() < healthy_by,
            "helpdesk-user-service never healthy"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let quiet = run(with_state().args(["diagnose", "--only", "host.disk"]));
    assert!(!quiet.stderr.contains("interrupted"), "{}", quiet.stderr);
}
