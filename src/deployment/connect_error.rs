//! Why a connection failed, read from the error's chain of causes (refused,
//! reset, timed out, unreachable, name not resolved, TLS): never guessed.

use std::error::Error;
use std::io::ErrorKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectCause {
    Refused,
    Reset,
    Timeout,
    Unreachable,
    Dns,
    Tls,
}

impl ConnectCause {
    /// The first cause recognised along `e`'s chain of sources.
    pub fn of(e: &(dyn Error + 'static)) -> Option<ConnectCause> {
        let mut current = Some(e);
        while let Some(error) = current {
            if let Some(cause) = error.downcast_ref::<std::io::Error>().and_then(from_io) {
                return Some(cause);
            }
            if let Some(cause) = from_text(&error.to_string()) {
                return Some(cause);
            }
            current = error.source();
        }
        None
    }

    /// How people name it (with the errno they know).
    pub fn describe(self) -> &'static str {
        match self {
            ConnectCause::Refused => "connection refused (ECONNREFUSED)",
            ConnectCause::Reset => "connection reset by the server (ECONNRESET)",
            ConnectCause::Timeout => "connection timed out (ETIMEDOUT)",
            ConnectCause::Unreachable => "host unreachable (EHOSTUNREACH)",
            ConnectCause::Dns => "name not resolved (ENOTFOUND)",
            ConnectCause::Tls => "TLS handshake failed",
        }
    }
}

fn from_io(io: &std::io::Error) -> Option<ConnectCause> {
    match io.kind() {
        ErrorKind::ConnectionRefused => Some(ConnectCause::Refused),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            Some(ConnectCause::Reset)
        }
        ErrorKind::TimedOut => Some(ConnectCause::Timeout),
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
            Some(ConnectCause::Unreachable)
        }
        _ => None,
    }
}

/// Resolver and TLS errors carry no `io::ErrorKind` of their own: their words.
fn from_text(text: &str) -> Option<ConnectCause> {
    let text = text.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if any(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
    ]) {
        Some(ConnectCause::Dns)
    } else if any(&["certificate", "tls", "ssl", "handshake"]) {
        Some(ConnectCause::Tls)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "client error (Connect)")
        }
    }
    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_is_read_from_the_chain_not_guessed() {
        let cause = |kind| ConnectCause::of(&Wrapped(std::io::Error::from(kind)));
        assert_eq!(
            cause(ErrorKind::ConnectionRefused),
            Some(ConnectCause::Refused)
        );
        assert_eq!(cause(ErrorKind::ConnectionReset), Some(ConnectCause::Reset));
        assert_eq!(cause(ErrorKind::TimedOut), Some(ConnectCause::Timeout));
        assert_eq!(
            cause(ErrorKind::HostUnreachable),
            Some(ConnectCause::Unreachable)
        );
        assert_eq!(cause(ErrorKind::Other), None);
        let dns = std::io::Error::other("dns error: failed to lookup address information");
        assert_eq!(ConnectCause::of(&Wrapped(dns)), Some(ConnectCause::Dns));
        let tls = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        assert_eq!(ConnectCause::of(&Wrapped(tls)), Some(ConnectCause::Tls));
    }
}
