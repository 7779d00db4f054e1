//! Which compose files `bundle` copies: only those under the project's working
//! directory (the `…project.working_dir` label, resolved, reached without
//! following any symlink), regular files of a bounded size that parse as
//! compose YAML (a mapping with a `services` mapping) — never whatever path a
//! container's label names.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use yaml_rust2::parser::{Event, Parser};

/// Deeper YAML than this is not a compose file (hostile input is bounded).
const MAX_DEPTH: usize = 64;

/// Why a compose file was left out of the bundle.
#[derive(Debug, thiserror::Error)]
pub enum LeftOut {
    #[error("the project's working directory is unknown (no working_dir label)")]
    NoWorkingDir,
    #[error("the working directory {0:?} cannot be resolved: {1}")]
    WorkingDir(String, io::Error),
    #[error("the working directory is the root folder")]
    RootWorkingDir,
    #[error("it cannot be resolved: {0}")]
    Unresolved(io::Error),
    #[error("it is outside the project's working directory {0:?}")]
    Outside(PathBuf),
    #[error("it cannot be opened inside the working directory: {0}")]
    Unopened(io::Error),
    #[error("it is not a regular file")]
    NotRegular,
    #[error("it is larger than {0} bytes")]
    TooLarge(u64),
    #[error("it cannot be read: {0}")]
    Unreadable(io::Error),
    #[error("it is not a compose file: {0}")]
    NotCompose(#[from] NotCompose),
}

/// Why a YAML text is not a compose file (never quoting its content).
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum NotCompose {
    #[error("{0}")]
    Yaml(#[from] yaml_rust2::ScanError),
    #[error("its top level is not a mapping")]
    TopNotAMapping,
    #[error("its top level is a scalar")]
    TopIsAScalar,
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("{0} YAML documents, not one")]
    Documents(usize),
    #[error("no `services` mapping at its top level")]
    NoServices,
}

/// The text of the compose file `path` when the bundle may take it.
pub fn read(path: &Path, working_dir: Option<&str>, max: u64) -> Result<String, LeftOut> {
    let working_dir = working_dir.ok_or(LeftOut::NoWorkingDir)?;
    let root = std::fs::canonicalize(working_dir)
        .map_err(|e| LeftOut::WorkingDir(working_dir.to_string(), e))?;
    if root.parent().is_none() {
        return Err(LeftOut::RootWorkingDir);
    }
    let resolved = std::fs::canonicalize(path).map_err(LeftOut::Unresolved)?;
    let inside = resolved
        .strip_prefix(&root)
        .map_err(|_| LeftOut::Outside(root.clone()))?;
    let file = open_beneath(&root, inside).map_err(LeftOut::Unopened)?;
    let meta = file.metadata().map_err(LeftOut::Unreadable)?;
    if !meta.is_file() {
        return Err(LeftOut::NotRegular);
    }
    if meta.len() > max {
        return Err(LeftOut::TooLarge(max));
    }
    let mut text = String::new();
    file.take(max)
        .read_to_string(&mut text)
        .map_err(LeftOut::Unreadable)?;
    check_compose(&text)?;
    Ok(text)
}

/// Opens `relative` under the folder `root` one component at a time, none of
/// them followed if it is a symlink (a folder swapped for one meanwhile fails),
/// the last one non-blocking (a FIFO never hangs).
fn open_beneath(root: &Path, relative: &Path) -> io::Result<File> {
    let open = |at: libc::c_int, name: &[u8], flags: libc::c_int| -> io::Result<File> {
        let name = CString::new(name).map_err(io::Error::other)?;
        let flags = flags | libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: `name` is a valid C string; openat returns a new descriptor
        // (owned by the File from here on) or -1.
        let fd = unsafe { libc::openat(at, name.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        Ok(unsafe { File::from_raw_fd(fd) })
    };
    let names: Vec<&[u8]> = relative
        .components()
        .map(|c| match c {
            Component::Normal(name) => Ok(name.as_bytes()),
            _ => Err(io::Error::other("not a plain path under the folder")),
        })
        .collect::<io::Result<_>>()?;
    let Some((last, folders)) = names.split_last() else {
        return Err(io::Error::other("the working directory itself"));
    };
    let mut dir = open(
        libc::AT_FDCWD,
        root.as_os_str().as_bytes(),
        libc::O_DIRECTORY,
    )?;
    for name in folders {
        dir = open(dir.as_raw_fd(), name, libc::O_DIRECTORY)?;
    }
    open(dir.as_raw_fd(), last, libc::O_NONBLOCK)
}

/// Whether `text` is one YAML document that is a mapping with a `services`
/// mapping. Read as a stream of events: linear, aliases never expanded,
/// nesting bounded.
fn check_compose(text: &str) -> Result<(), NotCompose> {
    let mut parser = Parser::new_from_str(text);
    let (mut depth, mut documents) = (0usize, 0usize);
    // At depth 1 (the top mapping) nodes alternate key, value.
    let (mut top_nodes, mut last_key, mut services) = (0usize, None::<String>, false);
    loop {
        let (event, _) = parser.next_token()?;
        let is_value = depth == 1 && top_nodes % 2 == 1;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => documents += 1,
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if depth == 0 && !matches!(event, Event::MappingStart(..)) {
                    return Err(NotCompose::TopNotAMapping);
                }
                if is_value && last_key.as_deref() == Some("services") {
                    services = matches!(event, Event::MappingStart(..));
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(NotCompose::TooDeep);
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    top_nodes += 1;
                }
            }
            // Never quoted: the file's content stays out of the bundle.
            Event::Scalar(..) if depth == 0 => return Err(NotCompose::TopIsAScalar),
            Event::Scalar(value, ..) if depth == 1 => {
                if !is_value {
                    last_key = Some(value);
                }
                top_nodes += 1;
            }
            Event::Alias(_) if depth == 1 => top_nodes += 1,
            _ => {}
        }
    }
    if documents != 1 {
        return Err(NotCompose::Documents(documents));
    }
    if !services {
        return Err(NotCompose::NoServices);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_mapping_with_services_is_a_compose_file() {
        let compose =
            "services:\n  web:\n    image: nginx\n    ports: ['80:80']\nvolumes:\n  data: {}\n";
        assert_eq!(check_compose(compose), Ok(()));
        assert!(check_compose("version: '3'\nservices: {web: {image: x}}\n").is_ok());
        for (text, why) in [
            ("root:x:0:0:root:/root:/bin/bash\n", "scalar"),
            ("- services\n", "not a mapping"),
            ("services: [web]\n", "no `services`"),
            ("networks:\n  services: {}\n", "no `services`"),
            (
                "services: {a: 1}\n---\nservices: {b: 1}\n",
                "2 YAML documents",
            ),
            ("password: hunter2\n", "no `services`"),
            ("services: {a: [\"unterminated}\n", ""),
            ("", "0 YAML documents"),
        ] {
            let error = check_compose(text).unwrap_err().to_string();
            assert!(error.contains(why), "{text:?}: {error}");
        }
        let deep = format!("services: {}{}\n", "[".repeat(100), "]".repeat(100));
        assert_eq!(check_compose(&deep), Err(NotCompose::TooDeep));
    }

    #[test]
    fn a_file_outside_the_folder_or_through_a_symlink_is_left_out() {
        let base = tempfile::tempdir().unwrap();
        let project = base.path().join("project");
        std::fs::create_dir(&project).unwrap();
        let compose = project.join("compose.yml");
        std::fs::write(&compose, "services:\n  web: {image: x}\n").unwrap();
        let secret = base.path().join("secret.txt");
        std::fs::write(&secret, "services:\n  stolen: {image: x}\n").unwrap();
        std::os::unix::fs::symlink(&secret, project.join("link.yml")).unwrap();
        let dir = project.to_str();
        assert!(read(&compose, dir, 1 << 20).is_ok());
        for (path, why) in [
            (secret.clone(), "outside"),
            (project.join("link.yml"), "outside"),
            (project.join("../secret.txt"), "outside"),
            (project.join("missing.yml"), "resolved"),
        ] {
            let error = read(&path, dir, 1 << 20).unwrap_err().to_string();
            assert!(error.contains(why), "{}: {error}", path.display());
        }
        assert!(matches!(
            read(&compose, None, 1 << 20),
            Err(LeftOut::NoWorkingDir)
        ));
        assert!(matches!(
            read(&compose, dir, 10),
            Err(LeftOut::TooLarge(10))
        ));
        assert!(matches!(
            read(&compose, Some("/"), 1 << 20),
            Err(LeftOut::RootWorkingDir)
        ));
    }
}
