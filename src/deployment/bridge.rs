//! A way through the engine to a server that publishes nothing: perl, exec'd
//! in the server's own container (an argument vector, no shell; perl-base is
//! essential in every Debian-based image), connects to the server there — its
//! unix socket, else 127.0.0.1 at its port — and relays the exec's stdin and
//! stdout to it, so a client speaks the server's real protocol over the exec
//! (`connect_raw` for PostgreSQL, a Redis connection over any stream). No
//! credential is in the bridge's argv or environment: the client sends it
//! through the relay.

use super::EngineError;
use super::exec_stream::{self, ExecStream, Stderr};
use bollard::Docker;
use std::time::Duration;

/// The relay. Arguments: the server's unix socket (empty: none), its port
/// inside the container, and `probe` to connect, say so and leave.
const BRIDGE: &str = r#"use strict; use IO::Socket::UNIX; use IO::Socket::INET; use IO::Select;
my ($path, $port, $mode) = @ARGV;
my $s = ($path ne '' && IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path))
  || IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
  || die "helpdesk-doctor bridge: cannot reach the server on " . ($path ne '' ? "$path or " : "") . "127.0.0.1:$port: $!\n";
if (($mode // '') eq 'probe') { print "connected\n"; exit 0; }
binmode STDIN; binmode STDOUT; binmode $s;
my $sel = IO::Select->new(\*STDIN, $s);
sub put { my ($h, $b) = @_; while (length $b) { my $w = syswrite($h, $b); die "helpdesk-doctor bridge: $!\n" unless defined $w; substr($b, 0, $w) = ''; } }
while (my @ready = $sel->can_read) {
  for my $h (@ready) {
    my $n = sysread($h, my $b, 65536);
    if (fileno($h) == fileno($s)) { exit 0 unless $n; put(\*STDOUT, $b); }
    elsif (!$n) { $sel->remove(\*STDIN); shutdown($s, 1); }
    else { put($s, $b); }
  }
}"#;

/// What is kept of what a probing bridge prints.
const SAID_KEPT: usize = 4096;

/// Where a server listens inside its container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inside {
    /// Its unix socket, tried first (PostgreSQL's `.s.PGSQL.<port>`).
    pub socket: Option<String>,
    pub port: u16,
}

impl Inside {
    /// PostgreSQL at `port`: the official images' socket folder, then TCP.
    pub fn postgres(port: u16) -> Inside {
        Inside {
            socket: Some(format!("/var/run/postgresql/.s.PGSQL.{port}")),
            port,
        }
    }

    /// Redis at `port` (over TCP: a unix socket is off by default).
    pub fn redis(port: u16) -> Inside {
        Inside { socket: None, port }
    }

    fn args(&self) -> [String; 2] {
        [
            self.socket.clone().unwrap_or_default(),
            self.port.to_string(),
        ]
    }
}

/// Why the bridge did not reach the server.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// The engine could not start perl in the container (exit 126 or 127).
    #[error("perl cannot run in {container} ({said}): the bridge through the engine needs it")]
    NoPerl { container: String, said: String },
    /// The bridge ran and could not reach the server (what it said).
    #[error("{0}")]
    Refused(String),
    #[error("the bridge in {container} did not answer within {timeout:?}")]
    Timeout {
        container: String,
        timeout: Duration,
    },
}

impl BridgeError {
    /// Not a fault of the deployment: the doctor's way in is missing.
    pub fn is_doctors(&self) -> bool {
        matches!(self, BridgeError::NoPerl { .. })
    }
}

/// A relay to the server in `container`: the stream is the server's
/// connection; the stderr explains a relay that ended.
pub async fn open(
    docker: &Docker,
    container: &str,
    inside: &Inside,
) -> Result<(ExecStream, Stderr), EngineError> {
    let [socket, port] = inside.args();
    let argv = ["perl", "-e", BRIDGE, socket.as_str(), port.as_str()];
    exec_stream::start(docker, container, &argv, &[]).await
}

/// Whether the server in `container` accepts a connection (the port check of
/// a server reached through the engine), within `timeout`.
pub async fn probe(
    docker: &Docker,
    container: &str,
    inside: &Inside,
    timeout: Duration,
) -> Result<(), BridgeError> {
    let [socket, port] = inside.args();
    let argv = [
        "perl",
        "-e",
        BRIDGE,
        socket.as_str(),
        port.as_str(),
        "probe",
    ];
    let mut said = Vec::new();
    let run = super::exec::run(docker, container, &argv, &[], None, |chunk| {
        // Bounded: a word is expected, or the engine's one-line reason.
        let room = SAID_KEPT.saturating_sub(said.len());
        said.extend_from_slice(&chunk[..chunk.len().min(room)]);
        Ok(())
    });
    let finished =
        tokio::time::timeout(timeout, run)
            .await
            .map_err(|_| BridgeError::Timeout {
                container: container.to_string(),
                timeout,
            })??;
    if finished.exit_code == 0 && said.starts_with(b"connected") {
        return Ok(());
    }
    // The engine says why it could not start a program on the exec's stdout.
    let said = [
        finished.stderr,
        String::from_utf8_lossy(&said).trim().to_string(),
    ]
    .into_iter()
    .find(|text| !text.is_empty())
    .unwrap_or_else(|| format!("the bridge exited with code {}", finished.exit_code));
    Err(match finished.exit_code {
        126 | 127 => BridgeError::NoPerl {
            container: container.to_string(),
            said,
        },
        _ => BridgeError::Refused(said),
    })
}
