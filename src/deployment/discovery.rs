//! Finds the deployment on the engine the way `docker compose` names it: the
//! project (`--project`, `COMPOSE_PROJECT_NAME`, the config, a compose file in
//! the current folder — its folder's name —, else the one project on the engine
//! that runs the guide's services), then each service's containers by their
//! compose labels. Names are read from the engine, never assumed; the guide's
//! names are only the fallback.

use super::Deployment;
use super::cluster::{self, Cluster};
use super::engine::Engine;
use super::reach::{Binding, Holder};
use super::runtime::{self, NUMBER_LABEL, PROJECT_LABEL, SERVICE_LABEL, STACK_LABEL};
use crate::error::Error;
use crate::profile::{Profile, Role};
use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::ListContainersOptionsBuilder;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

const CONFIG_FILES_LABEL: &str = "com.docker.compose.project.config_files";
const WORKING_DIR_LABEL: &str = "com.docker.compose.project.working_dir";
/// Where Docker looks for the compose v2 CLI plugin.
const COMPOSE_PLUGIN_DIRS: [&str; 4] = [
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
];
/// The project of the guide, when nothing names one and the engine shows none.
pub const GUIDE_PROJECT: &str = "helpdesk-microservices";
/// The guide's network, when the engine shows none.
const GUIDE_NETWORK: &str = "helpdesk-network";
/// The compose files `docker compose` reads from the current folder by default.
const COMPOSE_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// How the project was chosen, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProjectSource {
    Flag,
    Environment,
    Config,
    ComposeFile(String),
    Engine,
    /// Nothing named one and the engine showed none: the guide's name.
    Guide,
}

impl std::fmt::Display for ProjectSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectSource::Flag => write!(f, "--project"),
            ProjectSource::Environment => write!(f, "$COMPOSE_PROJECT_NAME"),
            ProjectSource::Config => write!(f, "the config's compose_project"),
            ProjectSource::ComposeFile(file) => {
                write!(f, "the folder of {file} (as docker compose names it)")
            }
            ProjectSource::Engine => {
                write!(
                    f,
                    "the only compose project on the engine running the guide's services"
                )
            }
            ProjectSource::Guide => write!(
                f,
                "no project found on the engine: the guide's name (name yours with --project)"
            ),
        }
    }
}

/// Where a local engine's published ports are reached.
const LOCAL_HOST: &str = "127.0.0.1";

/// The profile (`--config` or the guide's) with its deployment discovered.
pub async fn load(
    config: Option<&Path>,
    flag: Option<&str>,
) -> Result<(Deployment, ProjectSource), Error> {
    load_on(config, flag, Engine::chosen()).await
}

/// `load`, on the given engine.
pub async fn load_on(
    config: Option<&Path>,
    flag: Option<&str>,
    engine: Engine,
) -> Result<(Deployment, ProjectSource), Error> {
    let mut profile = Deployment::new(Profile::load(config)?);
    profile.engine = engine;
    let timeout = Duration::from_millis(profile.timeouts.probe_ms);
    let source = discover(&mut profile, flag, timeout).await?;
    Ok((profile, source))
}

/// Resolves the project, then fills each service's containers from the engine.
/// An unreachable engine changes nothing (its check will say so).
pub async fn discover(
    profile: &mut Deployment,
    flag: Option<&str>,
    timeout: Duration,
) -> Result<ProjectSource, Error> {
    // A binding's own address is where its port is reached when the engine is
    // this machine's and no `host` is configured.
    let bind_hosts = profile.host.is_empty() && profile.engine.is_local();
    let configured_host = !profile.host.is_empty();
    if profile.host.is_empty() {
        profile.host = profile
            .engine
            .remote_host()
            .unwrap_or_else(|| LOCAL_HOST.into());
    }
    let named = named_project(profile, flag, &std::env::current_dir().unwrap_or_default());
    // One engine connection for the listing, the swarm and the database containers.
    let docker = profile.engine.connect(timeout).await.ok();
    let (listed, cluster) = match &docker {
        Some(docker) => tokio::join!(
            list_containers(docker, timeout),
            cluster::read(docker, timeout)
        ),
        None => (None, None),
    };
    let (Some(docker), Some(mut containers)) = (docker, listed) else {
        let (project, source) = named.unwrap_or((GUIDE_PROJECT.into(), ProjectSource::Guide));
        profile.compose_project = compose_name(project, &source)?;
        if profile.network.is_empty() {
            profile.network = GUIDE_NETWORK.into();
        }
        database_defaults(profile);
        return Ok(source);
    };
    if let Some(cluster) = &cluster {
        containers = with_tasks_elsewhere(cluster, containers);
    }
    let (project, source) = match named {
        Some(named) => named,
        None => on_engine(profile, &containers)?,
    };
    profile.compose_project = compose_name(project, &source)?;
    profile.runtime = runtime::of(
        &profile.compose_project,
        containers.iter().map(|c| &c.labels),
    );
    if profile.runtime.orchestrated() {
        profile.cluster = cluster.map(std::sync::Arc::new);
    }
    assign_containers(profile, &containers);
    assign_foreign_ports(profile, &containers);
    assign_compose_files(profile, &containers);
    let others = other_project_containers(profile, &containers);
    let inspected = inspect_all(&docker, timeout, profile, &others).await;
    assign_database_names(profile, &inspected);
    super::published::assign(profile, &inspected, &others, bind_hosts);
    if let Some(cluster) = profile.cluster.clone() {
        super::placement::assign(profile, &cluster, configured_host);
    }
    if profile.network.is_empty() {
        profile.network = shared_network(&profile.compose_project, &containers)
            .unwrap_or_else(|| GUIDE_NETWORK.into());
    }
    Ok(source)
}

/// The project reaches `docker compose -p`: a compose name, wherever it was found.
fn compose_name(project: String, source: &ProjectSource) -> Result<String, Error> {
    crate::compose_name::check(&project)
        .map_err(|e| Error::Usage(format!("the project named by {source}: {e}")))?;
    Ok(project)
}

/// The network most of the project's containers are attached to (compose's
/// `<project>_default`, or the one the compose file names).
fn shared_network(project: &str, containers: &[Listed]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in containers {
        if c.labels.get(PROJECT_LABEL).map(String::as_str) == Some(project) {
            for network in &c.networks {
                *counts.entry(network).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(name, _)| name.to_string())
}

/// Each database's user and name as its container declares them
/// (`POSTGRES_USER`, `POSTGRES_DB`, which defaults to the user), as the
/// official image reads them: for the guide's default services, and for a
/// config's services that leave them out (then, if the container does not say,
/// the official image's defaults: `postgres`).
fn assign_database_names(
    profile: &mut Deployment,
    inspected: &HashMap<String, ContainerInspectResponse>,
) {
    let configured = profile.services_configured;
    for service in &mut profile.services {
        let db = service.containers.get(&Role::Db).and_then(|c| c.first());
        let Some((user, database)) = db
            .and_then(|name| inspected.get(name))
            .and_then(declared_database)
        else {
            continue;
        };
        if !configured || service.db_user.is_empty() {
            service.db_user = user;
        }
        if !configured || service.database.is_empty() {
            service.database = database;
        }
    }
    database_defaults(profile);
}

/// `(POSTGRES_USER, POSTGRES_DB)` of a database container, with the official
/// image's defaults for what it leaves out (`postgres`, then the user's name).
fn declared_database(c: &ContainerInspectResponse) -> Option<(String, String)> {
    let env = c.config.as_ref()?.env.as_ref()?;
    let get = |key: &str| {
        env.iter()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(String::from))
            .filter(|value| !value.is_empty())
    };
    let user = get("POSTGRES_USER").unwrap_or_else(|| "postgres".into());
    let database = get("POSTGRES_DB").unwrap_or_else(|| user.clone());
    Some((user, database))
}

/// The official image's defaults for what nothing named: user `postgres`, the
/// database named after the user.
fn database_defaults(profile: &mut Deployment) {
    for service in &mut profile.services {
        if service.db_user.is_empty() {
            service.db_user = "postgres".into();
        }
        if service.database.is_empty() {
            service.database = service.db_user.clone();
        }
    }
}

/// The project's containers that belong to none of the guide's services (a
/// load balancer, a proxy): candidates for a service's front.
fn other_project_containers(profile: &Deployment, containers: &[Listed]) -> Vec<String> {
    let guide: BTreeSet<String> = profile
        .services
        .iter()
        .flat_map(|s| {
            Role::ALL
                .into_iter()
                .map(move |role| s.compose_service(role))
        })
        .collect();
    containers
        .iter()
        .filter(|c| c.labels.get(PROJECT_LABEL) == Some(&profile.compose_project))
        .filter(|c| {
            c.labels
                .get(SERVICE_LABEL)
                .is_some_and(|s| !guide.contains(s))
        })
        .map(|c| c.name.clone())
        .collect()
}

/// Every stack's containers on this engine (the newest of each slot), each
/// slot whose current task runs on another node (or waits for one) replaced
/// by that task, as its spec describes its container.
fn with_tasks_elsewhere(cluster: &Cluster, containers: Vec<Listed>) -> Vec<Listed> {
    let stacks: BTreeSet<String> = cluster
        .tasks
        .iter()
        .filter_map(|t| {
            t.spec
                .config
                .as_ref()?
                .labels
                .as_ref()?
                .get(STACK_LABEL)
                .cloned()
        })
        .collect();
    stacks.iter().fold(containers, |containers, stack| {
        cluster.on_every_node(
            stack,
            containers,
            |c| {
                (c.labels.get(PROJECT_LABEL) == Some(stack))
                    .then(|| runtime::slot_of(Some(&c.labels)))
                    .flatten()
            },
            |task| Listed {
                name: task.container.clone(),
                labels: runtime::as_compose(
                    task.spec
                        .config
                        .as_ref()
                        .and_then(|c| c.labels.clone())
                        .unwrap_or_default(),
                ),
                networks: Vec::new(),
                ports: Vec::new(),
            },
        )
    })
}

/// Every container of the deployment and `others`, inspected at once over the
/// one engine connection (a container that vanished meanwhile is left out); a
/// task on another node is taken as its spec describes it.
async fn inspect_all(
    docker: &Docker,
    timeout: Duration,
    profile: &Deployment,
    others: &[String],
) -> HashMap<String, ContainerInspectResponse> {
    let names: BTreeSet<&String> = profile
        .services
        .iter()
        .flat_map(|s| s.containers.values().flatten())
        .chain(others)
        .collect();
    let elsewhere = |name: &str| {
        let cluster = profile.cluster.as_ref()?;
        let task = cluster.task(name)?;
        cluster.is_away(task).then(|| task.spec.clone())
    };
    let inspections = names.into_iter().map(|name| async move {
        if let Some(spec) = elsewhere(name) {
            return Some((name.clone(), spec));
        }
        let inspected = tokio::time::timeout(timeout, docker.inspect_container(name, None))
            .await
            .ok()?
            .ok()?;
        Some((name.clone(), inspected))
    });
    futures::future::join_all(inspections)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Whether `docker compose` (v2) is installed as a CLI plugin.
pub fn compose_v2_installed() -> bool {
    // A fact of the machine, asked by every hint: looked up once per process.
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(look_for_compose_v2)
}

fn look_for_compose_v2() -> bool {
    let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker/cli-plugins"));
    COMPOSE_PLUGIN_DIRS
        .iter()
        .map(std::path::PathBuf::from)
        .chain(home)
        .any(|dir| dir.join("docker-compose").is_file())
}

/// The compose files the project's containers were started with (their labels),
/// absolute: hints then run as printed from any folder.
fn assign_compose_files(profile: &mut Deployment, containers: &[Listed]) {
    let Some(labels) = containers.iter().map(|c| &c.labels).find(|l| {
        l.get(PROJECT_LABEL) == Some(&profile.compose_project) && l.contains_key(CONFIG_FILES_LABEL)
    }) else {
        return;
    };
    profile.compose_working_dir = labels.get(WORKING_DIR_LABEL).cloned();
    let working_dir = labels.get(WORKING_DIR_LABEL).map(Path::new);
    profile.compose_files = labels[CONFIG_FILES_LABEL]
        .split(',')
        .filter(|f| !f.is_empty())
        .map(|file| {
            // A relative path was relative to where compose ran; the project's
            // folder is the first file's: keep the name, in that folder.
            let path = Path::new(file);
            match (working_dir, path.file_name()) {
                (Some(dir), Some(name)) if path.is_relative() => {
                    dir.join(name).display().to_string()
                }
                _ => file.to_string(),
            }
        })
        .collect();
    if let Some(first) = profile.compose_files.first() {
        profile.compose_file = first.clone();
    }
}

/// The project named by the flag, the environment, the config or a compose
/// file in `folder`, in that order.
fn named_project(
    profile: &Deployment,
    flag: Option<&str>,
    folder: &Path,
) -> Option<(String, ProjectSource)> {
    if let Some(project) = flag {
        return Some((project.to_string(), ProjectSource::Flag));
    }
    if let Some(project) = std::env::var("COMPOSE_PROJECT_NAME")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return Some((project, ProjectSource::Environment));
    }
    if !profile.compose_project.is_empty() {
        return Some((profile.compose_project.clone(), ProjectSource::Config));
    }
    let file = COMPOSE_FILES
        .iter()
        .copied()
        .chain([profile.compose_file.as_str()])
        .find(|f| folder.join(f).is_file())?;
    let name = folder.file_name()?.to_string_lossy();
    Some((
        normalize_project(&name),
        ProjectSource::ComposeFile(file.to_string()),
    ))
}

/// Compose's rule for a project name taken from a folder: lowercase, only
/// `a-z 0-9 _ -`, starting with a letter or digit.
pub fn normalize_project(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

/// One container as listed: name, labels, networks, the host ports it
/// publishes while running (`(host ip, port)`).
struct Listed {
    name: String,
    labels: HashMap<String, String>,
    networks: Vec<String>,
    ports: Vec<(String, u16)>,
}

async fn list_containers(docker: &Docker, timeout: Duration) -> Option<Vec<Listed>> {
    let options = ListContainersOptionsBuilder::new().all(true).build();
    let listed = tokio::time::timeout(timeout, docker.list_containers(Some(options)))
        .await
        .ok()?
        .ok()?;
    let found = runtime::current_tasks(listed)
        .into_iter()
        .filter_map(|c| {
            let name = c.names?.first()?.trim_start_matches('/').to_string();
            let networks = c
                .network_settings
                .and_then(|n| n.networks)
                .map(|n| n.into_keys().collect())
                .unwrap_or_default();
            let ports = c
                .ports
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| Some((p.ip.unwrap_or_default(), p.public_port?)))
                .collect();
            Some(Listed {
                name,
                labels: runtime::as_compose(c.labels.unwrap_or_default()),
                networks,
                ports,
            })
        })
        .collect::<Vec<_>>();
    Some(found)
}

/// The one compose project on the engine that runs any of the guide's services.
fn on_engine(
    profile: &Deployment,
    containers: &[Listed],
) -> Result<(String, ProjectSource), Error> {
    let wanted: BTreeSet<String> = profile
        .services
        .iter()
        .flat_map(|s| {
            Role::ALL
                .into_iter()
                .map(move |role| s.compose_service(role))
        })
        .collect();
    let projects: BTreeSet<&str> = containers
        .iter()
        .filter(|c| {
            c.labels
                .get(SERVICE_LABEL)
                .is_some_and(|s| wanted.contains(s))
        })
        .filter_map(|c| c.labels.get(PROJECT_LABEL).map(String::as_str))
        .collect();
    match projects.len() {
        0 => Ok((GUIDE_PROJECT.into(), ProjectSource::Guide)),
        1 => Ok((
            projects.first().expect("one").to_string(),
            ProjectSource::Engine,
        )),
        _ => Err(Error::Usage(format!(
            "several compose projects run the helpdesk services: {}; name one with --project \
             (or COMPOSE_PROJECT_NAME)",
            projects.into_iter().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The host ports that containers which are not the deployment's publish,
/// with whose they are: never taken for its own.
fn assign_foreign_ports(profile: &mut Deployment, containers: &[Listed]) {
    let own: BTreeSet<&String> = profile
        .services
        .iter()
        .flat_map(|s| s.containers.values().flatten())
        .collect();
    let mut foreign = Vec::new();
    for c in containers {
        let project = c.labels.get(PROJECT_LABEL);
        if project == Some(&profile.compose_project) || own.contains(&c.name) {
            continue;
        }
        for (ip, port) in &c.ports {
            foreign.push(Binding {
                ip: ip.clone(),
                port: *port,
                holder: Holder {
                    container: c.name.clone(),
                    project: project.cloned(),
                },
            });
        }
    }
    profile.foreign_ports = foreign;
}

/// Each service's containers per role: the project's containers of its compose
/// service (replicas by container number), else a container bearing the guide's
/// name, else none (the guide's name stays, and its check says it does not exist).
fn assign_containers(profile: &mut Deployment, containers: &[Listed]) {
    let mut by_service: BTreeMap<&str, Vec<(u32, &str)>> = BTreeMap::new();
    for c in containers {
        if c.labels.get(PROJECT_LABEL) != Some(&profile.compose_project) {
            continue;
        }
        let Some(service) = c.labels.get(SERVICE_LABEL) else {
            continue;
        };
        let number = c
            .labels
            .get(NUMBER_LABEL)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        by_service
            .entry(service)
            .or_default()
            .push((number, &c.name));
    }
    for service in &mut profile.services {
        service.discovered = true;
        for role in Role::ALL {
            let replicas = by_service
                .get(service.compose_service(role).as_str())
                .map(|found| {
                    let mut found = found.clone();
                    found.sort();
                    found.into_iter().map(|(_, n)| n.to_string()).collect()
                })
                .unwrap_or_else(|| {
                    let guide = service.container(role);
                    containers
                        .iter()
                        .filter(|c| c.name == guide && !c.labels.contains_key(PROJECT_LABEL))
                        .map(|c| c.name.clone())
                        .collect::<Vec<_>>()
                });
            if !replicas.is_empty() {
                service.containers.insert(role, replicas);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;
    use crate::profile::Profile;

    #[test]
    fn folder_names_become_project_names_as_compose_makes_them() {
        assert_eq!(normalize_project("Helpdesk Prod.v2"), "helpdeskprodv2");
        assert_eq!(normalize_project("my_stack-1"), "my_stack-1");
        assert_eq!(normalize_project("_-Tmp"), "tmp");
    }

    fn listed(name: &str, project: &str, service: &str, number: &str) -> Listed {
        Listed {
            name: name.into(),
            labels: HashMap::from([
                (PROJECT_LABEL.into(), project.into()),
                (SERVICE_LABEL.into(), service.into()),
                (NUMBER_LABEL.into(), number.into()),
            ]),
            networks: vec![format!("{project}_default")],
            ports: Vec::new(),
        }
    }

    #[test]
    fn the_engine_names_the_project_and_its_replicas() {
        let mut profile = Deployment::default();
        let containers = vec![
            listed("prod-ticket-service-2", "prod", "ticket-service", "2"),
            listed("prod-ticket-service-1", "prod", "ticket-service", "1"),
            listed("prod-auth-db-1", "prod", "auth-db", "1"),
            listed("other-web-1", "other", "web", "1"),
        ];
        let (project, source) = on_engine(&profile, &containers).unwrap();
        assert_eq!((project.as_str(), source), ("prod", ProjectSource::Engine));
        assert_eq!(
            shared_network("prod", &containers).as_deref(),
            Some("prod_default")
        );
        profile.compose_project = project;
        assign_containers(&mut profile, &containers);
        let ticket = profile.service("ticket").unwrap();
        assert_eq!(
            ticket.containers[&Role::Service],
            vec!["prod-ticket-service-1", "prod-ticket-service-2"]
        );
        assert_eq!(ticket.container(Role::Service), "prod-ticket-service-1");
        assert_eq!(
            profile.service("auth").unwrap().container(Role::Db),
            "prod-auth-db-1"
        );
        assert_eq!(
            profile.service("auth").unwrap().container(Role::Redis),
            "helpdesk-auth-redis",
            "not found: the guide's name stays"
        );
        let two = vec![
            listed("a-auth-db-1", "a", "auth-db", "1"),
            listed("b-auth-db-1", "b", "auth-db", "1"),
        ];
        let error = on_engine(&profile, &two).unwrap_err().to_string();
        assert!(error.contains("a, b"), "{error}");
    }

    #[test]
    fn ports_published_by_other_projects_are_named_with_their_holder() {
        let mut profile = Deployment::new(Profile {
            compose_project: "acme".into(),
            host: "127.0.0.1".into(),
            ..Profile::default()
        });
        let mut bundled = listed("helpdesk-auth-db", "helpdesk-microservices", "auth-db", "1");
        bundled.ports = vec![("127.0.0.1".into(), 5401), ("127.0.0.2".into(), 5499)];
        let mut own = listed("acme-auth-db-1", "acme", "auth-db", "1");
        own.ports = vec![("0.0.0.0".into(), 15401)];
        let mut solo = listed("helpdesk-auth-redis", "", "", "");
        solo.labels.clear();
        solo.ports = vec![("::".into(), 6301)];
        let containers = vec![bundled, own, solo];
        assign_containers(&mut profile, &containers);
        assign_foreign_ports(&mut profile, &containers);
        let holders: Vec<(&str, u16, String)> = profile
            .foreign_ports
            .iter()
            .map(|b| (b.ip.as_str(), b.port, b.holder.to_string()))
            .collect();
        let bundled = "helpdesk-auth-db of project helpdesk-microservices".to_string();
        assert_eq!(
            holders,
            [
                ("127.0.0.1", 5401, bundled.clone()),
                ("127.0.0.2", 5499, bundled)
            ],
            "its own ports and the unlabelled container it takes by its guide name are not \
             foreign"
        );
    }

    #[test]
    fn hints_name_the_project_and_its_files_from_the_labels() {
        let mut profile = Deployment::new(Profile {
            compose_project: "prod".into(),
            ..Profile::default()
        });
        let mut container = listed("prod-auth-db-1", "prod", "auth-db", "1");
        container.labels.insert(
            CONFIG_FILES_LABEL.into(),
            "compose.yaml,over ride.yaml".into(),
        );
        container
            .labels
            .insert(WORKING_DIR_LABEL.into(), "/srv/prod".into());
        assign_compose_files(&mut profile, &[container]);
        assert_eq!(profile.compose_file, "/srv/prod/compose.yaml");
        assert!(
            profile.compose_command().ends_with(
                "compose -p prod -f /srv/prod/compose.yaml -f '/srv/prod/over ride.yaml'"
            ),
            "{}",
            profile.compose_command()
        );
    }

    #[test]
    fn a_compose_file_in_the_folder_names_the_project_after_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("My-Helpdesk");
        std::fs::create_dir(&folder).unwrap();
        let profile = Deployment::default();
        assert_eq!(named_project(&profile, None, &folder), None);
        std::fs::write(folder.join("compose.yaml"), "services: {}\n").unwrap();
        assert_eq!(
            named_project(&profile, None, &folder),
            Some((
                "my-helpdesk".into(),
                ProjectSource::ComposeFile("compose.yaml".into())
            ))
        );
        assert_eq!(
            named_project(&profile, Some("given"), &folder).map(|p| p.1),
            Some(ProjectSource::Flag)
        );
    }
}
