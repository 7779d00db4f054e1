//! docs/checks.md's table of the catalog (issue 21) cannot go stale: every check
//! of `checks/*.toml` has a row naming its probe kind and the integration
//! test that makes it fail or warn on a real stack, every row is a check of
//! the catalog, and every test it names exists.

use crate::support::repo;
use std::collections::BTreeMap;

const START: &str = "<!-- fault-tests -->";
const END: &str = "<!-- /fault-tests -->";

/// Each check id of the built-in catalog with its probe kinds.
fn catalog() -> BTreeMap<String, Vec<String>> {
    let mut checks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(repo().join("checks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for file in files {
        let table: toml::Table = toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for check in table["check"].as_array().unwrap() {
            let id = check["id"].as_str().unwrap().to_string();
            let kind = check["probe"]["kind"].as_str().unwrap().to_string();
            let kinds = checks.entry(id).or_default();
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    checks
}

/// docs/checks.md's table rows: check id → (kinds, tests), from backquoted cells.
fn table() -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let readme = std::fs::read_to_string(repo().join("docs/checks.md")).unwrap();
    let start = readme
        .find(START)
        .expect("docs/checks.md has the fault-test table");
    let end = readme.find(END).expect("the table's end marker");
    let quoted = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect()
    };
    readme[start..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 3, "a row of three cells: {line}");
            let id = quoted(cells[0]).remove(0);
            (id, (quoted(cells[1]), quoted(cells[2])))
        })
        .collect()
}

/// Whether `module::name` (or `module::sub::name`) is a `#[test]` of tests/integration/.
fn test_exists(path: &str) -> bool {
    let Some((module, name)) = path.rsplit_once("::") else {
        return false;
    };
    let file = repo().join(format!(
        "tests/integration/{}.rs",
        module.replace("::", "/")
    ));
    std::fs::read_to_string(file)
        .is_ok_and(|source| source.contains(&format!("#[test]\nfn {name}(")))
}

#[test]
fn every_check_of_the_catalog_has_a_test_that_makes_it_fail() {
    let catalog = catalog();
    let table = table();
    let missing: Vec<&String> = catalog
        .keys()
        .filter(|id| !table.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "checks with no row in docs/checks.md's table: {missing:?}"
    );
    let stale: Vec<&String> = table
        .keys()
        .filter(|id| !catalog.contains_key(*id))
        .collect();
    assert!(
        stale.is_empty(),
        "rows of docs/checks.md's table for no check: {stale:?}"
    );
    for (id, (kinds, tests)) in &table {
        assert_eq!(kinds, &catalog[id], "{id}: the probe kinds of its row");
        assert!(!tests.is_empty(), "{id}: no test named");
        for test in tests {
            assert!(
                test_exists(test),
                "{id}: no test {test} in tests/integration/"
            );
        }
    }
}
