//! The doctor's own errors (not check failures), each mapped to one exit code.

use crate::exit_code;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("invalid check catalog:\n{0}")]
    Catalog(String),
    #[error("{0}")]
    Usage(String),
    #[error("cannot run: {0}")]
    CannotRun(String),
    #[error("refused: {0}")]
    Refused(String),
    #[error("runbook failed: {0}")]
    Runbook(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Catalog(_) | Error::Usage(_) => exit_code::USAGE,
            Error::CannotRun(_) => exit_code::CANNOT_RUN,
            Error::Refused(_) => exit_code::REFUSED,
            Error::Runbook(_) => exit_code::RUNBOOK_FAILED,
        }
    }
}
