//! A restore that can never run code (issue 18): the dump goes over the
//! doctor's own session, one statement per extended-protocol message (the
//! server refuses a message holding two), COPY data by the copy-in protocol,
//! and a foreign dump as an unprivileged role the server itself restrains —
//! through `--via docker` (a bridge in the database container) and `--via direct`.

use crate::safety::{edited_copy, inject, make_backup, restore, verify};
use crate::support::*;
use std::path::Path;

const DB: (&str, &str, &str) = ("helpdesk-user-db", "user", "user_db");

fn user_db(sql: &str) -> String {
    psql(DB.0, DB.1, DB.2, sql)
}

/// Every public table of user_db with its row count and a digest of its rows.
fn digest() -> String {
    let tables = user_db(
        "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
    );
    tables
        .split_whitespace()
        .map(|t| {
            user_db(&format!(
                "SELECT '{t}:' || count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x"
            ))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn restore_roles() -> String {
    user_db("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'helpdesk\\_restore\\_%'")
}

/// Files whose name starts with `marker`'s in /tmp on this host and in the database container.
fn touched(marker: &str) -> (String, String) {
    let name = Path::new(marker).file_name().unwrap().to_str().unwrap();
    let on_host = sh(&format!("ls /tmp | grep -c '^{name}' || true"));
    let in_container = sh(&format!(
        "docker exec {} find /tmp -maxdepth 1 -name '{name}*' | wc -l",
        DB.0
    ));
    (on_host.trim().to_string(), in_container.trim().to_string())
}

/// `bytes` inserted before the dump's first `SET` line (bytes, not text: a
/// dump in another encoding need not be UTF-8).
fn insert_bytes(bytes: Vec<u8>) -> impl Fn(Vec<u8>) -> Vec<u8> {
    move |dump| {
        let at = dump.windows(5).position(|w| w == b"\nSET ").unwrap() + 1;
        [&dump[..at], &bytes[..], &dump[at..]].concat()
    }
}

/// (a) standard_conforming_strings turned off by set_config: to the server the
/// escaped quote hides nothing, to a lexer that missed the setting the COPY is
/// inside a string.
fn conforming_strings_off(marker: &str) -> Vec<u8> {
    format!(
        "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);\n\
         COMMENT ON TABLE public.users IS 'a\\' || '; COPY (SELECT 1) TO PROGRAM 'touch {marker}-a'; --';\n"
    )
    .into_bytes()
}

/// (a) again, the setting changed by `SET SESSION` (its second word is not the setting's name).
fn conforming_strings_off_by_set_session(marker: &str) -> Vec<u8> {
    format!(
        "SET SESSION standard_conforming_strings = off;\n\
         COMMENT ON TABLE public.users IS 'a\\' || '; COPY (SELECT 1) TO PROGRAM 'touch {marker}-a2'; --';\n"
    )
    .into_bytes()
}

/// (b) again in GBK: 0x81 0x5C is one character.
fn gbk_backslash(marker: &str) -> Vec<u8> {
    let mut bytes =
        b"SET client_encoding = 'GBK';\nCOMMENT ON TABLE public.users IS E'\x81\\'; ".to_vec();
    bytes.extend_from_slice(
        format!("COPY (SELECT 1) TO PROGRAM 'touch {marker}-b2'; --';\n").as_bytes(),
    );
    bytes
}

/// (b) SJIS: 0x95 0x5C is one character to the server, a backslash escaping
/// the quote to a lexer reading bytes.
fn sjis_backslash(marker: &str) -> Vec<u8> {
    let mut bytes =
        b"SET client_encoding = 'SJIS';\nCOMMENT ON TABLE public.users IS E'\x95\\'; ".to_vec();
    bytes.extend_from_slice(
        format!("COPY (SELECT 1) TO PROGRAM 'touch {marker}-b'; --';\n").as_bytes(),
    );
    bytes
}

/// (c) The profiles COPY block in CRLF with a `\.\r` end marker, followed by
/// meta-commands a lexer still reading COPY data takes for data.
fn crlf_copy_block(marker: &str) -> impl Fn(Vec<u8>) -> Vec<u8> + use<> {
    copy_block_ended_by_cr("\r\n", format!("\\! touch {marker}-c"))
}

/// (c) again: LF data lines, only the end marker with a CR, and `\copy … program`.
fn cr_end_marker(marker: &str) -> impl Fn(Vec<u8>) -> Vec<u8> + use<> {
    copy_block_ended_by_cr(
        "\n",
        format!("\\copy (select 1) to program 'touch {marker}-c2'"),
    )
}

/// The profiles COPY block with data lines ending in `eol`, its end marker
/// `\.\r`, then `command` between `\unrestrict` and `\restrict`.
fn copy_block_ended_by_cr(eol: &'static str, command: String) -> impl Fn(Vec<u8>) -> Vec<u8> {
    move |dump| {
        let text = String::from_utf8(dump).unwrap();
        let key = text
            .lines()
            .find_map(|l| l.strip_prefix("\\restrict "))
            .unwrap()
            .to_string();
        let start = text.find("COPY public.profiles").unwrap();
        let data_start = start + text[start..].find('\n').unwrap() + 1;
        let end = data_start + text[data_start..].find("\\.\n").unwrap();
        let data: String = text[data_start..end]
            .lines()
            .map(|l| format!("{l}{eol}"))
            .collect();
        format!(
            "{}{data}\\.\r\n\\unrestrict {key}\n{command}\n\\restrict {key}\n{}",
            &text[..data_start],
            &text[end + 3..]
        )
        .into_bytes()
    }
}

#[test]
fn dumps_that_fool_a_lexer_run_nothing_through_either_path() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "user");
    let marker = format!("/tmp/helpdesk-fooled-{}", std::process::id());
    let before = digest();
    type Edit<'a> = Box<dyn Fn(Vec<u8>) -> Vec<u8> + 'a>;
    let attacks: [(&str, Edit); 6] = [
        (
            "standard_conforming_strings off",
            Box::new(insert_bytes(conforming_strings_off(&marker))),
        ),
        ("SJIS", Box::new(insert_bytes(sjis_backslash(&marker)))),
        ("CRLF COPY block", Box::new(crlf_copy_block(&marker))),
        (
            "SET SESSION standard_conforming_strings off",
            Box::new(insert_bytes(conforming_strings_off_by_set_session(&marker))),
        ),
        ("GBK", Box::new(insert_bytes(gbk_backslash(&marker)))),
        ("CR end marker", Box::new(cr_end_marker(&marker))),
    ];
    for (attack, edit) in &attacks {
        let place = tempfile::tempdir().unwrap();
        let copy = edited_copy(&dir, place.path(), edit);
        if verify(&copy, true).code != 0 {
            // Refused by the validator: `restore` refuses it too, before
            // changing anything, through either path.
            for via in ["docker", "direct"] {
                let restored = restore(&copy, &["--via", via]);
                let said = format!("{attack} via {via}: {}{}", restored.stdout, restored.stderr);
                assert_eq!(restored.code, 5, "{said}");
                assert!(restored.stderr.contains("backup invalid"), "{said}");
                assert_eq!(touched(&marker), ("0".into(), "0".into()), "{said}");
                assert_eq!(
                    digest(),
                    before,
                    "a refused restore changes nothing: {said}"
                );
            }
            continue;
        }
        for via in ["docker", "direct"] {
            let restored = restore(&copy, &["--via", via]);
            let said = format!("{attack} via {via}: {}{}", restored.stdout, restored.stderr);
            assert_eq!(touched(&marker), ("0".into(), "0".into()), "{said}");
            assert_eq!(restore_roles(), "0", "the restore role is dropped: {said}");
            if restored.code != 0 {
                assert_eq!(
                    digest(),
                    before,
                    "a refused restore changes nothing: {said}"
                );
                assert!(restored.stdout.contains("rolled back"), "{said}");
            }
            if attack.contains("standard_conforming_strings off") {
                // The validator saw one statement, the server two: refused.
                assert!(
                    restored
                        .stdout
                        .contains("cannot insert multiple commands into a prepared statement"),
                    "{said}"
                );
            }
            if *attack == "SJIS" || *attack == "GBK" {
                assert!(restored.stdout.contains("not UTF-8"), "{said}");
            }
        }
    }
    assert_eq!(touched(&marker), ("0".into(), "0".into()));
    wait_stack_healthy();
}

#[test]
fn a_foreign_backup_is_restored_as_an_unprivileged_role_dropped_afterwards() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "user");
    let before = digest();
    // Who ran the restore, recorded by a column default evaluated by the server.
    let whoami = "CREATE TABLE public.restored_by (n integer, who text DEFAULT CURRENT_USER);\n\
                  COPY public.restored_by (n) FROM stdin;\n1\n\\.\n";
    let place = tempfile::tempdir().unwrap();
    let copy = edited_copy(&dir, place.path(), inject(whoami));
    for via in ["docker", "direct"] {
        user_db("DROP TABLE IF EXISTS public.restored_by; DELETE FROM profiles");
        let restored = restore(&copy, &["--via", via]);
        assert_eq!(
            restored.code, 0,
            "{via}: {}{}",
            restored.stdout, restored.stderr
        );
        assert!(
            restored.stdout.contains("row counts match"),
            "{}",
            restored.stdout
        );
        let who = user_db("SELECT who FROM public.restored_by");
        assert!(
            who.starts_with("helpdesk_restore_"),
            "{via}: restored by {who}"
        );
        assert_eq!(restore_roles(), "0", "{via}: the role is dropped");
        assert_eq!(
            user_db(
                "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'"
            ),
            "user",
            "{via}: ownership given back"
        );
        user_db("DROP TABLE public.restored_by");
        assert_eq!(digest(), before, "{via}");
    }
    // What only a superuser (or pg_read_server_files) may do is refused by the
    // server itself, though the validator lets the statement through.
    let reads =
        "CREATE TABLE public.stolen AS SELECT pg_catalog.pg_read_file('/etc/hostname') AS f;";
    let place = tempfile::tempdir().unwrap();
    let copy = edited_copy(&dir, place.path(), inject(reads));
    assert_eq!(
        verify(&copy, true).code,
        0,
        "the validator does not know pg_read_file"
    );
    for via in ["docker", "direct"] {
        let restored = restore(&copy, &["--via", via]);
        assert_eq!(
            restored.code, 6,
            "{via}: {}{}",
            restored.stdout, restored.stderr
        );
        assert!(
            restored
                .stdout
                .contains("permission denied for function pg_read_file"),
            "{via}: {}",
            restored.stdout
        );
        assert_eq!(
            user_db("SELECT count(*) FROM pg_tables WHERE tablename = 'stolen'"),
            "0"
        );
        assert_eq!(restore_roles(), "0");
        assert_eq!(digest(), before, "{via}");
    }
    wait_stack_healthy();
}

/// The property the restore relies on, on the real server through the same
/// client calls: a message holding two statements is refused, not run.
#[test]
fn the_server_refuses_two_statements_in_one_message() {
    let _stack = stack_shared();
    let password = sh(&format!("docker exec {} printenv POSTGRES_PASSWORD", DB.0));
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::Config::new()
            .host("127.0.0.1")
            .port(5402)
            .user(DB.1)
            .password(password.trim())
            .dbname(DB.2)
            .connect(tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let two = client
            .query_typed("SELECT 1; SELECT pg_catalog.pg_sleep(0)", &[])
            .await
            .unwrap_err();
        assert!(
            two.to_string().contains("cannot insert multiple commands")
                || format!("{two:?}").contains("cannot insert multiple commands"),
            "{two:?}"
        );
        let copy = client
            .copy_in::<_, bytes::Bytes>("COPY profiles FROM stdin; SELECT 1")
            .await
            .err()
            .expect("refused");
        assert!(
            format!("{copy:?}").contains("cannot insert multiple commands"),
            "{copy:?}"
        );
        assert_eq!(client.query_typed("SELECT 1", &[]).await.unwrap().len(), 1);
    });
}

/// A foreign dump restored by the unprivileged role may still leave objects
/// that the doctor's own later queries would resolve to, running them as the
/// service's (superuser) user: an operator shadowing `||` on the
/// information_schema identifiers `DESCRIBE_SQL` concatenates (read by every
/// `backup`), and a `format(text, name)` shadowing pg_catalog's for the hand
/// over block the next foreign restore runs as that user. The doctor's sessions
/// resolve names in pg_catalog only: nothing runs.
#[test]
fn a_foreign_dump_leaves_no_trojan_the_doctors_next_queries_run() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "user");
    let marker = format!("/tmp/helpdesk-trojan-{}", std::process::id());
    let body = |tag: &str, result: &str| {
        format!(
            "BEGIN IF pg_catalog.current_setting('is_superuser') = 'on' THEN EXECUTE 'COPY (SELECT 1) TO ' \
             OPERATOR(pg_catalog.||) 'PRO' OPERATOR(pg_catalog.||) 'GRAM ' OPERATOR(pg_catalog.||) \
             pg_catalog.quote_literal('touch {marker}-{tag}'); END IF; RETURN {result}; END"
        )
    };
    let trojans = format!(
        "CREATE FUNCTION public.ident_cat(information_schema.sql_identifier, information_schema.sql_identifier) \
         RETURNS text LANGUAGE plpgsql AS $t${}$t$;\n\
         CREATE OPERATOR public.|| (LEFTARG = information_schema.sql_identifier, \
         RIGHTARG = information_schema.sql_identifier, FUNCTION = public.ident_cat);\n\
         CREATE FUNCTION public.format(text, name) RETURNS text LANGUAGE plpgsql AS $t${}$t$;\n",
        body("describe", "$1::text OPERATOR(pg_catalog.||) $2::text"),
        body("hand-over", "pg_catalog.format($1, $2)"),
    );
    let place = tempfile::tempdir().unwrap();
    let copy = edited_copy(&dir, place.path(), inject(&trojans));
    let clean = || {
        user_db(
            "DROP OPERATOR IF EXISTS public.|| (information_schema.sql_identifier, information_schema.sql_identifier); \
             DROP FUNCTION IF EXISTS public.ident_cat(information_schema.sql_identifier, information_schema.sql_identifier); \
             DROP FUNCTION IF EXISTS public.format(text, name)",
        )
    };
    clean();
    let restored = restore(&copy, &["--via", "docker"]);
    // The doctor's next backup counts rows; the next foreign restore hands over.
    let later = tempfile::tempdir().unwrap();
    let backup = run(doctor()
        .args(["backup", "--only", "user", "--out"])
        .arg(later.path()));
    let again = restore(&copy, &["--via", "direct"]);
    let said = format!(
        "{}{}\n{}{}\n{}{}",
        restored.stdout, restored.stderr, backup.stdout, backup.stderr, again.stdout, again.stderr
    );
    let touched_now = touched(&marker);
    clean();
    sh(&format!("docker exec {} sh -c 'rm -f {marker}-*'", DB.0));
    assert_eq!(touched_now, ("0".into(), "0".into()), "{said}");
    assert_eq!((restored.code, backup.code), (0, 0), "{said}");
    assert_eq!(restore_roles(), "0");
    wait_stack_healthy();
}

/// A schema named like the service's user comes first in PostgreSQL's default
/// search path: a foreign dump creating `"user".profiles` and
/// `"user".pg_stat_statements` as views over a function would have the
/// doctor's next restore plan (counting `profiles`) and `diagnose` (reading
/// pg_stat_statements) run it as that (superuser) user. They do not.
#[test]
fn a_schema_named_like_the_user_shadows_nothing_the_doctor_reads() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "user");
    let marker = format!("/tmp/helpdesk-user-schema-{}", std::process::id());
    let trojans = format!(
        "CREATE SCHEMA \"user\";\n\
         CREATE FUNCTION \"user\".t() RETURNS bigint LANGUAGE plpgsql AS $t$BEGIN \
         IF pg_catalog.current_setting('is_superuser') = 'on' THEN EXECUTE 'COPY (SELECT 1) TO ' \
         OPERATOR(pg_catalog.||) 'PRO' OPERATOR(pg_catalog.||) 'GRAM ' OPERATOR(pg_catalog.||) \
         pg_catalog.quote_literal('touch {marker}'); END IF; RETURN 1; END$t$;\n\
         CREATE VIEW \"user\".profiles AS SELECT \"user\".t() AS n;\n\
         CREATE VIEW \"user\".pg_stat_statements AS SELECT \"user\".t() AS n;\n"
    );
    let place = tempfile::tempdir().unwrap();
    let copy = edited_copy(&dir, place.path(), inject(&trojans));
    let clean = || user_db("DROP SCHEMA IF EXISTS \"user\" CASCADE");
    clean();
    let restored = restore(&copy, &["--via", "docker"]);
    let plan = run(doctor().arg("restore").arg(&dir).arg("--dry-run"));
    let diagnosed = run(doctor().arg("diagnose"));
    let touched_now = touched(&marker);
    clean();
    sh(&format!("docker exec {} rm -f {marker}", DB.0));
    let said = format!(
        "{}{}\n{}{}\n{}",
        restored.stdout, restored.stderr, plan.stdout, plan.stderr, diagnosed.stdout
    );
    assert_eq!(restored.code, 0, "{said}");
    assert_eq!(touched_now, ("0".into(), "0".into()), "{said}");
    wait_stack_healthy();
}
