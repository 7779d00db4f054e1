//! The Debian package and the container image (packaging/; tests/run.sh builds
//! both before the tests): the package installs with apt in a fresh container
//! of the bundled base image, where --version, the man page, bash completion
//! and diagnose work; the image reports the same verdicts as the host binary.

use crate::support::*;

/// The newest package packaging/build-deb.sh made.
fn package() -> std::path::PathBuf {
    let dir = repo().join("target/debian");
    let mut debs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}: run packaging/build-deb.sh dev", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    debs.pop()
        .expect("a .deb in target/debian: run packaging/build-deb.sh dev")
}

#[test]
fn the_package_installs_in_a_fresh_container_with_man_pages_and_completion() {
    let _stack = stack_shared();
    let deb = package();
    let base = sh("tests/stack/build-base-image.sh 2>/dev/null")
        .trim()
        .to_string();
    let name = deb.file_name().unwrap().to_string_lossy().into_owned();
    let script = format!(
        "set -e; cd /deb; apt-get update -qq >/dev/null; \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./{name} man-db bash-completion >/dev/null 2>&1; \
         echo '== version'; helpdesk-doctor --version; \
         echo '== man'; MANWIDTH=80 man helpdesk-doctor-diagnose 2>/dev/null | cat; \
         set +e; echo '== completion'; source /usr/share/bash-completion/bash_completion; \
         _completion_loader helpdesk-doctor; \
         COMP_WORDS=(helpdesk-doctor backup ver); COMP_CWORD=2; COMP_LINE='helpdesk-doctor backup ver'; \
         COMP_POINT=${{#COMP_LINE}}; \
         complete_with=$(complete -p helpdesk-doctor | sed -E 's/.* -F ([^ ]+) .*/\\1/'); \
         $complete_with helpdesk-doctor ver backup; echo \"${{COMPREPLY[@]}}\"; \
         echo '== config'; ls /etc/helpdesk-doctor/config.toml; \
         echo '== diagnose'; helpdesk-doctor diagnose --only docker.engine --no-history; echo \"exit=$?\""
    );
    let out = sh(&format!(
        "docker run --rm --network host -v /var/run/docker.sock:/var/run/docker.sock \
         -v {}:/deb:ro {base} bash -c {}",
        deb.parent().unwrap().display(),
        shell_quote(&script)
    ));
    let section = |name: &str| {
        out.split(&format!("== {name}\n"))
            .nth(1)
            .and_then(|rest| rest.split("\n== ").next())
            .unwrap_or_else(|| panic!("no {name} in {out}"))
            .to_string()
    };
    assert_eq!(
        section("version").trim(),
        format!("helpdesk-doctor {}", env!("CARGO_PKG_VERSION"))
    );
    let man = section("man");
    for heading in ["EXAMPLES", "EXIT STATUS", "ENVIRONMENT", "FILES"] {
        assert!(man.contains(&format!("\n{heading}\n")), "{heading}: {man}");
    }
    assert!(
        man.contains("helpdesk-doctor diagnose -v --service auth"),
        "{man}"
    );
    assert_eq!(section("completion").trim(), "verify", "{out}");
    assert!(section("config").contains("/etc/helpdesk-doctor/config.toml"));
    assert!(section("diagnose").contains("exit=0"), "{out}");
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Each check's status in a JSON report.
fn verdicts(report: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_image_reports_what_the_host_binary_reports() {
    let _stack = stack_shared();
    // Checks whose verdict moves with time or with what other tests write, and
    // the backup checks (each side reads its own backup folder).
    let skip = "logs.*,host.load,postgres.*.expired_tokens,postgres.*.slow_queries,backup.*";
    let root = sh("docker info -f '{{.DockerRootDir}}'").trim().to_string();
    let (host, host_report) = diagnose_json(&["--skip", skip, "--no-history"]);
    let image = sh(&format!(
        "docker run --rm --network host --pid host -v /var/run/docker.sock:/var/run/docker.sock \
         -v {root}:{root}:ro helpdesk-doctor:{} diagnose --format json --no-history --skip '{skip}' || true",
        env!("CARGO_PKG_VERSION")
    ));
    let image_report: serde_json::Value =
        serde_json::from_str(&image).unwrap_or_else(|e| panic!("{e}: {image}"));
    assert_eq!(
        image_report["project"]["name"],
        host_report["project"]["name"]
    );
    let (from_host, from_image) = (verdicts(&host_report), verdicts(&image_report));
    assert_eq!(
        from_host.keys().collect::<Vec<_>>(),
        from_image.keys().collect::<Vec<_>>(),
        "the same checks"
    );
    let differ: Vec<_> = from_host
        .iter()
        .filter(|(id, status)| from_image[*id] != **status)
        .map(|(id, status)| format!("{id}: host {status}, image {}", from_image[id]))
        .collect();
    assert!(differ.is_empty(), "{differ:#?}\nhost: {}", host.stderr);
}
