//! Fuzz target: the dump check either refuses a dump or ends every statement,
//! COPY block and meta-command where PostgreSQL's scanner and psql do
//! (`oracle::agree`). The input is the body of a dump between pg_dump's header
//! and footer, so the fuzzer spends its time in the lexer.

#![no_main]

mod runbook;

use libfuzzer_sys::fuzz_target;

const HEADER: &str = "--\n-- PostgreSQL database dump\n--\n\n";
const FOOTER: &str = "\n--\n-- PostgreSQL database dump complete\n--\n";

fuzz_target!(|body: &[u8]| {
    let text = format!("{HEADER}{}{FOOTER}", String::from_utf8_lossy(body));
    if let Err(disagreement) = runbook::dump_check::oracle::agree(&text) {
        panic!("{disagreement}\n{text:?}");
    }
});
