//! The one rule of every duration the doctor is given — a flag, a config
//! setting, a check file's field: written as humantime writes it (`500ms`,
//! `2s`, `1m30s`) or as a number of seconds, more than zero, at most a week.

use std::time::{Duration, SystemTime};

/// The longest duration any flag or setting accepts.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why a duration (or a moment) was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DurationError {
    #[error("{text:?} is not a duration like 500ms, 2s or 1m30s ({source})")]
    NotADuration {
        text: String,
        #[source]
        source: humantime::DurationError,
    },
    #[error("{text:?} is not a time like 2026-11-28T10:00:00Z ({source})")]
    NotATime {
        text: String,
        #[source]
        source: humantime::TimestampError,
    },
    #[error("must be more than zero")]
    Zero,
    #[error("must be at most {}", humantime::format_duration(MAX_DURATION))]
    TooLong,
    /// A rule broken by a value as it was written.
    #[error("{text:?}: {source}")]
    Written {
        text: String,
        #[source]
        source: Box<DurationError>,
    },
    #[error("{text:?} reaches before the clock's start")]
    BeforeTheClock { text: String },
}

/// A duration as written (`500ms`, `2s`, `1m30s`, `1h`, or seconds), within the rule.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let parsed = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            humantime::parse_duration(text).map_err(|source| DurationError::NotADuration {
                text: text.to_string(),
                source,
            })?
        }
    };
    check(parsed).map_err(|rule| DurationError::Written {
        text: text.to_string(),
        source: Box::new(rule),
    })
}

/// A moment given as a duration ago (`parse`) or an RFC 3339 UTC time.
pub fn parse_since(text: &str) -> Result<SystemTime, DurationError> {
    let text = text.trim();
    if text.starts_with(|c: char| c.is_ascii_digit()) && text.contains('-') {
        return humantime::parse_rfc3339_weak(text).map_err(|source| DurationError::NotATime {
            text: text.to_string(),
            source,
        });
    }
    let ago = parse(text)?;
    SystemTime::now()
        .checked_sub(ago)
        .ok_or_else(|| DurationError::BeforeTheClock {
            text: text.to_string(),
        })
}

/// `duration` when it is more than zero and at most `MAX_DURATION`.
pub fn check(duration: Duration) -> Result<Duration, DurationError> {
    if duration.is_zero() {
        return Err(DurationError::Zero);
    }
    if duration > MAX_DURATION {
        return Err(DurationError::TooLong);
    }
    Ok(duration)
}

/// `minutes` when they make a duration within the rule.
pub fn check_minutes(minutes: i64) -> Result<i64, DurationError> {
    let seconds = u64::try_from(minutes).unwrap_or(0).saturating_mul(60);
    check(Duration::from_secs(seconds)).map(|_| minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert!(matches!(
            parse("soon"),
            Err(DurationError::NotADuration { .. })
        ));
        assert_eq!(
            parse("0").unwrap_err().to_string(),
            "\"0\": must be more than zero"
        );
        assert!(parse("0s").is_err());
        assert!(parse("99999999999999999999999h").is_err());
        assert!(parse("99999999999999999999s").is_err());
        assert_eq!(
            parse("8d").unwrap_err().to_string(),
            "\"8d\": must be at most 7days"
        );
        assert_eq!(check_minutes(0), Err(DurationError::Zero));
        assert_eq!(check_minutes(-5), Err(DurationError::Zero));
        assert_eq!(check_minutes(60 * 24 * 7), Ok(60 * 24 * 7));
        assert_eq!(check_minutes(60 * 24 * 7 + 1), Err(DurationError::TooLong));
    }

    #[test]
    fn a_since_is_a_duration_ago_or_a_utc_time() {
        let at = parse_since("2026-11-28T10:00:00Z").unwrap();
        assert_eq!(
            humantime::format_rfc3339(at).to_string(),
            "2026-11-28T10:00:00Z"
        );
        let ago = SystemTime::now()
            .duration_since(parse_since("10m").unwrap())
            .unwrap();
        assert!((599..=601).contains(&ago.as_secs()), "{ago:?}");
        assert!(matches!(
            parse_since("2026-11-28T10:00:00+02:00"),
            Err(DurationError::NotATime { .. })
        ));
        assert!(parse_since("2026-13-28T10:00:00Z").is_err());
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("8d").is_err());
    }
}
