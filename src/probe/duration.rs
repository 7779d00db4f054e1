//! Durations as people write them in an environment (`JWT_EXPIRES_IN`): a
//! number of seconds (`3600`), a number with a unit (`15m`, `7d`, `1w`,
//! `1.5h`), words (`7 days`, `2 hours`), or several terms (`1h30m`, `1h 30m`);
//! and an age said back to people in its two largest units (`14 min`, `2 h 5 min`).

use std::time::Duration;

/// A written duration longer than this is not one (a typo's `7000000d`).
const MAX_SECONDS: f64 = 100.0 * 365.25 * 86_400.0;
/// A written duration longer than this many characters is not one.
const MAX_LEN: usize = 64;

/// The duration `text` writes, or `None` when it is not one.
pub fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_LEN {
        return None;
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return within_bounds(seconds as f64);
    }
    let mut rest = text;
    let mut seconds = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = rest[number_end..].trim_start();
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = unit_seconds(&rest[..unit_end])?;
        rest = rest[unit_end..].trim_start_matches([' ', ',']);
        seconds += number * unit;
    }
    within_bounds(seconds)
}

fn within_bounds(seconds: f64) -> Option<Duration> {
    (seconds > 0.0 && seconds <= MAX_SECONDS).then(|| Duration::from_secs_f64(seconds))
}

/// The seconds of a unit, in the words of `ms` (vercel), Go and humans.
fn unit_seconds(unit: &str) -> Option<f64> {
    let seconds = match unit.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 0.001,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "wk" | "wks" | "week" | "weeks" => 7.0 * 86_400.0,
        "y" | "yr" | "yrs" | "year" | "years" => 365.25 * 86_400.0,
        _ => return None,
    };
    Some(seconds)
}

/// An age in its two largest units, rounded down: `42 s`, `14 min`, `2 h 5 min`, `3 d 4 h`.
pub fn said(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..86_400 => match (s % 3_600) / 60 {
            0 => format!("{} h", s / 3_600),
            m => format!("{} h {m} min", s / 3_600),
        },
        _ => match (s % 86_400) / 3_600 {
            0 => format!("{} d", s / 86_400),
            h => format!("{} d {h} h", s / 86_400),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_said_in_their_two_largest_units() {
        assert_eq!(said(42.7), "42 s");
        assert_eq!(said(14.0 * 60.0 + 59.0), "14 min");
        assert_eq!(said(7_500.0), "2 h 5 min");
        assert_eq!(said(7_200.0), "2 h");
        assert_eq!(said(3.0 * 86_400.0 + 4.0 * 3_600.0), "3 d 4 h");
        assert_eq!(said(-1.0), "0 s");
    }

    fn secs(text: &str) -> Option<u64> {
        parse(text).map(|d| d.as_secs())
    }

    #[test]
    fn every_form_people_write() {
        assert_eq!(secs("3600"), Some(3600));
        assert_eq!(secs("15m"), Some(900));
        assert_eq!(secs("7d"), Some(604_800));
        assert_eq!(secs("7 days"), Some(604_800));
        assert_eq!(secs("1w"), Some(604_800));
        assert_eq!(secs("1 week"), Some(604_800));
        assert_eq!(secs("2 Hours"), Some(7_200));
        assert_eq!(secs("1.5h"), Some(5_400));
        assert_eq!(secs("1h30m"), Some(5_400));
        assert_eq!(secs("1h 30m"), Some(5_400));
        assert_eq!(secs(" 30s "), Some(30));
        assert_eq!(secs("1y"), Some(31_557_600));
    }

    #[test]
    fn what_is_not_a_duration() {
        for text in [
            "",
            "soon",
            "7 fortnights",
            "d",
            "-5m",
            "0",
            "0s",
            "1.2.3h",
            "7d!",
            "99999999999y",
        ] {
            assert_eq!(secs(text), None, "{text:?}");
        }
        assert_eq!(parse(&"1".repeat(100)), None);
    }
}
