//! `helpdesk-doctor bundle`: one private `.tar.gz` to hand to whoever is
//! escalated to — the diagnose report, each container's recent logs (capped)
//! and masked inspect, the compose files masked, versions and host facts, and
//! an index. Every credential the doctor found and every secret-shaped string
//! is masked; logs go through a temporary file, so memory stays flat.

use crate::check::CheckResult;
use crate::deployment::Context;
use crate::deployment::engine_client::LogQuery;
use crate::error::Error;
use crate::exit_code;
use crate::files::PendingFile;
use crate::plan::Plan;
use crate::report::Report;
use crate::stdout::outln;
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::StreamExt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// At most this much of a compose file goes into the bundle.
const MAX_COMPOSE_FILE: u64 = 1 << 20;

/// What `bundle` is asked.
pub struct BundleOptions {
    pub out: PathBuf,
    pub since: Duration,
    pub max_log_lines: usize,
}

/// `helpdesk-doctor-bundle-20261128_061502.tar.gz` in the current folder.
pub fn default_name() -> PathBuf {
    let stamp = crate::files::utc_stamp(std::time::SystemTime::now());
    PathBuf::from(format!("helpdesk-doctor-bundle-{stamp}.tar.gz"))
}

pub async fn run(
    options: &BundleOptions,
    config: Option<&Path>,
    project: Option<&str>,
    checks_dirs: &[PathBuf],
) -> Result<u8, Error> {
    let plan = Plan::load(config, project, checks_dirs, &Default::default()).await?;
    let (results, duration_ms, ctx) = plan.run_keeping_context().await;
    let report = Report::new(results, duration_ms)
        .with_project(
            &plan.profile.compose_project,
            &plan.project_source.to_string(),
        )
        .with_engine(plan.profile.engine.describe());
    let cannot = |what: &str, e: &dyn std::fmt::Display| {
        Error::CannotRun(format!("{what} {}: {e}", options.out.display()))
    };
    let file = PendingFile::create(&options.out).map_err(|e| cannot("creating", &e))?;
    file.set_mode(0o600).map_err(|e| cannot("securing", &e))?;
    let mut archive = Archive::new(GzEncoder::new(file, Compression::default()));
    let mut index = vec![
        "report.json            the diagnose report (JSON, schema in schemas/report.schema.json)"
            .to_string(),
    ];
    archive.text("report.json", &json(&report))?;
    let containers = project_containers(&ctx).await;
    for name in &containers {
        archive.text(
            &format!("containers/{name}/inspect.json"),
            &inspect(&ctx, name).await,
        )?;
        let logs = logs(&ctx, name, options).await?;
        archive.file(&format!("containers/{name}/logs.txt"), logs)?;
        index.push(format!(
            "containers/{name}/       inspect.json (masked), logs.txt (since {}, last {} lines at most)",
            humantime::format_duration(options.since),
            options.max_log_lines
        ));
    }
    let working_dir = plan.profile.compose_working_dir.as_deref();
    for (number, path) in plan.profile.compose_files.iter().enumerate() {
        // A label names the file: only a compose file of the project's folder is taken.
        match crate::compose_file::read(Path::new(path), working_dir, MAX_COMPOSE_FILE) {
            Ok(text) => match crate::secrets::compose::mask(&text, &|t| ctx.mask(t)) {
                Ok(masked) => {
                    let name = format!("compose/{}-{}", number + 1, file_name(path));
                    archive.text(&name, &masked)?;
                    index.push(format!(
                        "{name:<22} {path:?} (masked; re-written from its parsed form: comments dropped, anchors expanded)"
                    ));
                }
                Err(why) => {
                    eprintln!(
                        "helpdesk-doctor: the compose file {path:?} is left out of the bundle: {why}"
                    );
                    index.push(format!("{:<22} {path:?}: {why}", "(left out)"));
                }
            },
            Err(why) => {
                eprintln!(
                    "helpdesk-doctor: the compose file {path:?} is left out of the bundle: {why}"
                );
                index.push(format!("{:<22} {path:?}: {why}", "(left out)"));
            }
        }
    }
    archive.text("versions.txt", &versions(&ctx, &report.results).await)?;
    archive.text("host.txt", &host_facts())?;
    index.push("versions.txt           engine, compose, PostgreSQL, Redis, doctor, OS".into());
    index.push("host.txt               CPUs, memory, load, filesystems".into());
    archive.text("README.txt", &readme(&report, &index))?;
    let pending = archive.finish().map_err(|e| cannot("writing", &e))?;
    pending.commit().map_err(|e| cannot("writing", &e))?;
    outln!(
        "{}: support bundle of {} containers (secrets masked)",
        options.out.display(),
        containers.len()
    );
    Ok(exit_code::OK)
}

/// The tar stream being written: text entries and temporary files.
struct Archive {
    builder: tar::Builder<GzEncoder<PendingFile>>,
}

impl Archive {
    fn new(writer: GzEncoder<PendingFile>) -> Archive {
        Archive {
            builder: tar::Builder::new(writer),
        }
    }

    fn header(size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o600);
        header.set_mtime(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        );
        header.set_cksum();
        header
    }

    fn text(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let mut header = Archive::header(text.len() as u64);
        self.builder
            .append_data(&mut header, name, text.as_bytes())
            .map_err(|e| Error::CannotRun(format!("adding {name} to the bundle: {e}")))
    }

    fn file(&mut self, name: &str, mut file: std::fs::File) -> Result<(), Error> {
        let size = file
            .metadata()
            .map_err(|e| Error::CannotRun(format!("{name}: {e}")))?
            .len();
        let mut header = Archive::header(size);
        self.builder
            .append_data(&mut header, name, &mut file)
            .map_err(|e| Error::CannotRun(format!("adding {name} to the bundle: {e}")))
    }

    fn finish(self) -> std::io::Result<PendingFile> {
        self.builder.into_inner()?.finish()
    }
}

/// The known credentials, then every secret shape.
fn json(report: &Report) -> String {
    crate::report::exporter(crate::report::Format::Json, Default::default()).render(report)
}

/// Every container of the project (the load balancer too), by name.
async fn project_containers(ctx: &Context) -> Vec<String> {
    crate::deployment::containers::of_project(ctx)
        .await
        .map(|members| members.into_iter().map(|m| m.name).collect())
        .unwrap_or_default()
}

/// `docker inspect` of a container, masked structurally (`secrets::inspect`).
async fn inspect(ctx: &Context, name: &str) -> String {
    let Ok(Some(inspected)) = crate::deployment::containers::inspect(ctx, name).await else {
        return format!("{{\"error\": \"{name} could not be inspected\"}}\n");
    };
    let mut value = inspected.engine_json();
    crate::secrets::inspect::mask(&mut value, &|text| ctx.mask(text));
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// The container's last `max_log_lines` lines since `since`, masked line by
/// line into a temporary file (anonymous: removed when closed).
async fn logs(ctx: &Context, name: &str, options: &BundleOptions) -> Result<std::fs::File, Error> {
    let mut file = tempfile::tempfile()
        .map_err(|e| Error::CannotRun(format!("a temporary file for {name}'s logs: {e}")))?;
    let since = std::time::SystemTime::now()
        .checked_sub(options.since)
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let query = LogQuery {
        since: Some(since),
        tail: Some(options.max_log_lines as u64),
        timestamps: true,
        ..Default::default()
    };
    let Ok(mut stream) = crate::deployment::containers::logs(ctx, name, query).await else {
        return Ok(file);
    };
    let mut partial = String::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        partial.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = partial.find('\n') {
            let line: String = partial.drain(..=end).collect();
            write_masked(ctx, &mut file, &line)?;
        }
    }
    if !partial.is_empty() {
        write_masked(ctx, &mut file, &(partial + "\n"))?;
    }
    use std::io::Seek;
    file.rewind()
        .map_err(|e| Error::CannotRun(format!("{name}'s logs: {e}")))?;
    Ok(file)
}

fn write_masked(ctx: &Context, file: &mut std::fs::File, line: &str) -> Result<(), Error> {
    file.write_all(ctx.mask(line).as_bytes())
        .map_err(|e| Error::CannotRun(format!("writing logs for the bundle: {e}")))
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "compose.yml".into())
}

async fn versions(ctx: &Context, results: &[CheckResult]) -> String {
    let detail = |id_suffix: &str, key: &str| -> Vec<String> {
        results
            .iter()
            .filter(|r| r.id.ends_with(id_suffix))
            .filter_map(|r| Some(format!("{}: {}", r.id, r.details.get(key)?.as_str()?)))
            .collect()
    };
    let engine = match ctx.engine().await {
        Ok(engine) => match engine.version().await {
            Ok(v) => format!("{} (API {})", v.version, v.api),
            Err(e) => format!("unknown ({e})"),
        },
        Err(e) => format!("unreachable ({e})"),
    };
    let mut lines = vec![
        format!("helpdesk-doctor {}", env!("CARGO_PKG_VERSION")),
        format!("Docker engine {engine}"),
        format!("compose: {}", ctx.profile.compose_command()),
        format!(
            "OS: {} (kernel {})",
            sysinfo::System::long_os_version().unwrap_or_default(),
            sysinfo::System::kernel_version().unwrap_or_default()
        ),
    ];
    lines.extend(
        detail(".connect", "server_version")
            .into_iter()
            .map(|l| format!("PostgreSQL {l}")),
    );
    lines.extend(
        detail(".info", "redis_version")
            .into_iter()
            .map(|l| format!("Redis {l}")),
    );
    lines.join("\n") + "\n"
}

fn host_facts() -> String {
    let mut lines = vec![format!(
        "CPUs: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )];
    if let Ok(mut system) = sysinfo::System::new() {
        system.refresh_memory();
        lines.push(format!(
            "memory: {} used of {}",
            indicatif::HumanBytes(system.used_memory()),
            indicatif::HumanBytes(system.total_memory())
        ));
    }
    if let Ok(load) = sysinfo::System::load_average() {
        lines.push(format!(
            "load: {:.2} {:.2} {:.2}",
            load.one, load.five, load.fifteen
        ));
    }
    if let Ok(disks) = sysinfo::Disks::new_with_refreshed_list() {
        for disk in disks.iter().filter(|d| d.total_space() > 0) {
            lines.push(format!(
                "filesystem {}: {} free of {}",
                disk.mount_point().display(),
                indicatif::HumanBytes(disk.available_space()),
                indicatif::HumanBytes(disk.total_space())
            ));
        }
    }
    lines.join("\n") + "\n"
}

fn readme(report: &Report, index: &[String]) -> String {
    format!(
        "helpdesk-doctor support bundle\n\
         generated {} for compose project {}: {} ({} checks, {} failed, {} warnings)\n\n\
         Every credential the doctor found (as a whole word), values of variables and keys\n\
         named like *PASSWORD*, *SECRET*, *TOKEN*, *_KEY, *_AUTH, command-line passwords,\n\
         URL passwords, bearer tokens and JWT-shaped strings are masked as ****.\n\
         The compose files and inspect.json are masked value by value: still YAML and JSON.\n\n{}\n",
        report.generated_at,
        report.project.as_ref().map_or("?", |p| p.name.as_str()),
        report.status.as_str(),
        report.summary.total,
        report.summary.fail,
        report.summary.warn,
        index.join("\n")
    )
}
