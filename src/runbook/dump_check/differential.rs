//! The dump check's boundaries against PostgreSQL's scanner (see `oracle`) on
//! the hostile corpus in tests/dump_corpus: each file is a dump the check must
//! either refuse or split exactly as PostgreSQL and psql do. Files named
//! `accept-*` must be accepted (pg_dump's own output), `refuse-*` refused.

use super::oracle::{Agreement, agree};
use std::path::Path;

fn corpus() -> Vec<(String, String)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dump_corpus");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the corpus is in tests/dump_corpus");
    files
}

#[test]
fn the_hostile_corpus_is_refused_or_split_as_postgresql_splits_it() {
    let mut failures = Vec::new();
    for (name, text) in corpus() {
        match agree(&text) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(Agreement::Refused) if name.starts_with("accept-") => {
                failures.push(format!("{name}: refused, but it is pg_dump's output"));
            }
            Ok(Agreement::Accepted(_)) if name.starts_with("refuse-") => {
                failures.push(format!("{name}: accepted"));
            }
            Ok(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_cut_of_an_accepted_dump_is_refused_or_split_as_postgresql_splits_it() {
    // Each corpus dump with one line dropped or one byte changed: a bounded
    // sweep of near-misses around what the check accepts.
    for (name, text) in corpus()
        .into_iter()
        .filter(|(n, _)| n.starts_with("accept-"))
    {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for skip in 0..lines.len() {
            let cut: String = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, l)| *l)
                .collect();
            agree(&cut).unwrap_or_else(|e| panic!("{name} without line {skip}: {e}"));
        }
        for (at, _) in text.char_indices().step_by(3) {
            for byte in ["'", "\"", "$", "\\", ";", "\r", "-", "*", "(", "E", "1"] {
                let changed = format!("{}{byte}{}", &text[..at], &text[at..]);
                agree(&changed).unwrap_or_else(|e| panic!("{name} with {byte:?} at {at}: {e}"));
            }
        }
    }
}
