//! The dump check against crafted dumps of each class that once desynchronised
//! it from PostgreSQL (issue 18), and against PostgreSQL's own scanner on the
//! dumps the real stack produces.

use crate::runbook::dump_check::oracle::{Agreement, agree};
use crate::safety::{edited_copy, gunzip, make_backup, verify};
use crate::support::*;

/// `sql` inserted before the dump's first `SET` (so after its header).
fn before_first_set(sql: Vec<u8>) -> impl Fn(Vec<u8>) -> Vec<u8> {
    move |dump| {
        let at = dump.windows(5).position(|w| w == b"\nSET ").unwrap() + 1;
        [&dump[..at], &sql, &dump[at..]].concat()
    }
}

/// The key of the dump's `\restrict` line, as an attacker would reuse it.
fn restrict_key(dir: &std::path::Path) -> String {
    let dump = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".sql.gz"))
        .unwrap();
    let text = String::from_utf8(gunzip(&std::fs::read(dump).unwrap())).unwrap();
    let line = text.lines().find(|l| l.starts_with("\\restrict ")).unwrap();
    line["\\restrict ".len()..].trim().to_string()
}

#[test]
fn verify_refuses_a_crafted_dump_of_each_class_that_desynchronised_the_check() {
    // Backups take the runbook lock: one at a time.
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "user");
    let key = restrict_key(&dir);
    let marker = format!("/tmp/helpdesk-desync-{}", std::process::id());
    // Seen as one string by the check, as a COMMENT then a COPY … PROGRAM by a
    // server that reads backslashes as escapes (or a multi-byte character
    // ending in 0x5C as one character).
    let hidden = |opening: &[u8]| -> Vec<u8> {
        [
            opening,
            format!(";\nCOPY (SELECT 1) TO PROGRAM $$touch {marker}$$;\n-- ';\n").as_bytes(),
        ]
        .concat()
    };
    let attacks: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "set_config standard_conforming_strings off",
            [
                b"SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);\n"
                    .as_slice(),
                &hidden(b"COMMENT ON TABLE public.users IS 'a\\''"),
            ]
            .concat(),
            "set_config other than",
        ),
        (
            "SET SESSION standard_conforming_strings",
            [
                b"SET SESSION \"standard_conforming_strings\" TO 'off';\n".as_slice(),
                &hidden(b"COMMENT ON TABLE public.users IS 'a\\''"),
            ]
            .concat(),
            "SET standard_conforming_strings other than",
        ),
        (
            "client_encoding SJIS",
            [
                b"SET client_encoding = 'SJIS';\n".as_slice(),
                &hidden(b"COMMENT ON TABLE public.users IS E'\x83\\'"),
            ]
            .concat(),
            "SET client_encoding other than",
        ),
        (
            "NAMES BIG5",
            [
                b"SET NAMES 'BIG5';\n".as_slice(),
                &hidden(b"COMMENT ON TABLE public.users IS E'\xa5\\'"),
            ]
            .concat(),
            "SET names: pg_dump sets no such setting",
        ),
        (
            "COPY data in CRLF ending in \\. CR",
            format!(
                "COPY public.users (id) FROM stdin;\n0\r\n\\.\r\n\\unrestrict {key}\r\n\
                 \\! touch {marker}\r\n\\restrict {key}\r\n\\.\n"
            )
            .into_bytes(),
            "meta-command",
        ),
        (
            "a NUL in COPY data hiding the end marker from psql",
            format!(
                "COPY public.users (id) FROM stdin;\n0\0\n\\.\nCOMMENT ON TABLE public.users IS '\n\
                 \\.\n\\unrestrict {key}\n\\! touch {marker}\n\\restrict {key}\n';\n"
            )
            .into_bytes(),
            "NUL byte in COPY data",
        ),
        (
            "a comment ending at a CR",
            format!("-- a comment\r\\! touch {marker}\n").into_bytes(),
            "meta-command",
        ),
    ];
    for (name, attack, reason) in attacks {
        let place = tempfile::tempdir().unwrap();
        let copy = edited_copy(&dir, place.path(), before_first_set(attack));
        let checked = verify(&copy, true);
        assert_eq!(
            checked.code, 1,
            "{name}: {}{}",
            checked.stdout, checked.stderr
        );
        assert!(
            checked.stderr.contains("user_db.sql.gz")
                && checked.stderr.contains("line ")
                && checked.stderr.contains(reason),
            "{name}: the refusal names the file, the line and {reason:?}: {}",
            checked.stderr
        );
    }
    assert_eq!(sh(&format!("ls {marker}* 2>/dev/null | wc -l")).trim(), "0");
}

#[test]
fn real_dumps_are_split_as_postgresql_splits_them() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let made = run(doctor().args(["backup", "--out"]).arg(out.path()));
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let dumps: Vec<_> = walk(out.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".sql.gz"))
        .collect();
    assert_eq!(dumps.len(), 3, "{dumps:?}");
    for dump in dumps {
        let text = String::from_utf8(gunzip(&std::fs::read(&dump).unwrap())).unwrap();
        match agree(&text) {
            Ok(Agreement::Accepted(pieces)) => assert!(pieces > 10, "{}", dump.display()),
            other => panic!("{}: {other:?}", dump.display()),
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .flat_map(|p| if p.is_dir() { walk(&p) } else { vec![p] })
        .collect()
}
