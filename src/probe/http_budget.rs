//! What a health endpoint may cost beyond answering: its time (slower than
//! `slow_ms` warns, with each phase) and, over HTTPS, its certificate's days
//! left (fewer than `cert_warn_days` warns, than `cert_fail_days` fails).

use crate::check::{Outcome, Status};
use std::time::SystemTime;

const DAY_SECONDS: i64 = 86_400;

/// A health check's budgets (the catalog's `slow_ms`, `cert_warn_days`,
/// `cert_fail_days`; by default the config's thresholds).
pub struct Budget {
    pub slow_ms: u64,
    pub cert_warn_days: u64,
    pub cert_fail_days: u64,
}

pub fn default_slow_ms() -> u64 {
    crate::profile::Thresholds::default().http_slow_ms
}

pub fn default_cert_warn_days() -> u64 {
    crate::profile::Thresholds::default().cert_warn_days
}

pub fn default_cert_fail_days() -> u64 {
    crate::profile::Thresholds::default().cert_fail_days
}

/// The phases of one answer, as curl's `-w` names them, in ms.
pub struct Timing {
    pub connect_ms: f64,
    /// Only over HTTPS.
    pub tls_ms: Option<f64>,
    pub first_byte_ms: f64,
    pub total_ms: f64,
}

impl Timing {
    pub fn describe(&self) -> String {
        let tls = self
            .tls_ms
            .map(|t| format!(", TLS {t:.1} ms"))
            .unwrap_or_default();
        format!(
            "connect {:.1} ms{tls}, first byte {:.1} ms, total {:.1} ms",
            self.connect_ms, self.first_byte_ms, self.total_ms
        )
    }
}

/// Something over budget: its status, what it is and its fix.
struct Concern {
    status: Status,
    message: String,
    hint: String,
}

impl Budget {
    /// `outcome` (the answer's own verdict) with the budgets judged: a passing
    /// answer over budget takes the concern's status, message and fix; a
    /// failing one keeps its own and names the concern after it.
    pub fn judge(
        &self,
        outcome: Outcome,
        url: &str,
        timing: &Timing,
        not_after: Option<SystemTime>,
    ) -> Outcome {
        let mut concerns = Vec::new();
        let mut outcome = outcome.detail("slow_ms", self.slow_ms);
        if timing.total_ms > self.slow_ms as f64 {
            concerns.push(self.slow(url, timing));
        }
        if let Some(end) = not_after {
            let days = days_left(end, SystemTime::now());
            outcome = outcome
                .detail(
                    "cert_not_after",
                    humantime::format_rfc3339_seconds(end).to_string(),
                )
                .detail("cert_days_left", days);
            concerns.extend(self.certificate(url, end, days));
        }
        if concerns.is_empty() {
            return outcome;
        }
        let said: Vec<String> = concerns.iter().map(|c| c.message.clone()).collect();
        if outcome.status == Status::Pass {
            let hints: Vec<String> = concerns.iter().map(|c| c.hint.clone()).collect();
            outcome.status = concerns
                .iter()
                .map(|c| c.status)
                .max()
                .unwrap_or(Status::Pass);
            outcome.message = format!("{}; {}", said.join("; "), outcome.message);
            outcome.with_hint(hints.join(" "))
        } else {
            outcome.status = concerns
                .iter()
                .map(|c| c.status)
                .fold(outcome.status, Status::max);
            outcome.message = format!("{}; also {}", outcome.message, said.join("; "));
            outcome
        }
    }

    fn slow(&self, url: &str, timing: &Timing) -> Concern {
        Concern {
            status: Status::Warn,
            message: format!(
                "slow: answered in {:.0} ms, over {} ms ({})",
                timing.total_ms,
                self.slow_ms,
                timing.describe()
            ),
            hint: format!(
                "See where the time goes as the guide does: curl -o /dev/null -s -w \
                 'connect %{{time_connect}} tls %{{time_appconnect}} first byte %{{time_starttransfer}} \
                 total %{{time_total}}\\n' {url}; a slow connect or TLS is the network or the host \
                 (load), a slow first byte the service or what it waits for (its database's slow \
                 queries, its memory and CPU: helpdesk-doctor diagnose -v)."
            ),
        }
    }

    fn certificate(&self, url: &str, end: SystemTime, days: i64) -> Option<Concern> {
        let status = if days < self.cert_fail_days as i64 {
            Status::Fail
        } else if days < self.cert_warn_days as i64 {
            Status::Warn
        } else {
            return None;
        };
        let address = crate::deployment::url_address(url);
        let date = humantime::format_rfc3339_seconds(end);
        let message = if end <= SystemTime::now() {
            format!("the certificate of {address} expired on {date}")
        } else {
            let unit = if days == 1 { "day" } else { "days" };
            format!("the certificate of {address} expires in {days} {unit} ({date})")
        };
        Some(Concern {
            status,
            message,
            hint: format!(
                "Renew the certificate {address} serves (certbot renew, or your CA), install it \
                 where the server reads it and reload the server; check the new one: \
                 openssl s_client -connect {address} </dev/null 2>/dev/null | openssl x509 -noout -enddate"
            ),
        })
    }
}

/// Whole days from `now` to `end` (negative once expired).
fn days_left(end: SystemTime, now: SystemTime) -> i64 {
    let seconds = match end.duration_since(now) {
        Ok(ahead) => ahead.as_secs() as i64,
        Err(past) => -(past.duration().as_secs() as i64),
    };
    seconds.div_euclid(DAY_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn budget() -> Budget {
        Budget {
            slow_ms: 1000,
            cert_warn_days: 21,
            cert_fail_days: 3,
        }
    }

    fn timing(total_ms: f64) -> Timing {
        Timing {
            connect_ms: 0.4,
            tls_ms: Some(2.0),
            first_byte_ms: total_ms - 0.5,
            total_ms,
        }
    }

    const URL: &str = "https://127.0.0.1:8443/health";

    #[test]
    fn a_slow_answer_warns_with_every_phase() {
        let judged = budget().judge(Outcome::pass("200"), URL, &timing(1500.0), None);
        assert_eq!(judged.status, Status::Warn);
        assert!(
            judged.message.starts_with("slow: answered in 1500 ms, over 1000 ms (connect 0.4 ms, TLS 2.0 ms, first byte 1499.5 ms, total 1500.0 ms)"),
            "{}",
            judged.message
        );
        assert!(judged.hint.unwrap().contains("time_appconnect"));
        let quick = budget().judge(Outcome::pass("200"), URL, &timing(20.0), None);
        assert_eq!(quick.status, Status::Pass);
    }

    #[test]
    fn certificate_days_left_warn_then_fail() {
        let now = SystemTime::now();
        let in_days = |d: u64| now + Duration::from_secs(d * 86_400 + 3600);
        let judge = |end| budget().judge(Outcome::pass("200"), URL, &timing(5.0), Some(end));
        assert_eq!(judge(in_days(30)).status, Status::Pass);
        let ten = judge(in_days(10));
        assert_eq!(ten.status, Status::Warn);
        assert!(
            ten.message.contains("expires in 10 days"),
            "{}",
            ten.message
        );
        assert!(ten.hint.unwrap().contains("127.0.0.1:8443"));
        let two = judge(in_days(2));
        assert_eq!(two.status, Status::Fail);
        assert_eq!(two.details["cert_days_left"], 2);
        let gone = judge(now - Duration::from_secs(3 * 86_400));
        assert_eq!(gone.status, Status::Fail);
        assert!(gone.message.contains("expired on"), "{}", gone.message);
    }

    #[test]
    fn a_failing_answer_keeps_its_message_and_fix_first() {
        let failing = Outcome::fail("HTTP 503: dependency down: database down");
        let judged = budget().judge(failing, URL, &timing(1500.0), None);
        assert_eq!(judged.status, Status::Fail);
        assert!(judged.message.starts_with("HTTP 503"), "{}", judged.message);
        assert!(judged.message.contains("also slow"), "{}", judged.message);
        assert!(judged.hint.is_none(), "the catalog's fix stays");
    }
}
