//! The end of an X.509 certificate's validity (`notAfter`), read from its DER
//! bytes as a server sent them: bounded, never trusting a length it was told.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const VERSION: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// When the certificate stops being valid, or `None` when the bytes are not
/// a certificate this reader understands.
pub fn not_after(der: &[u8]) -> Option<SystemTime> {
    let (certificate, _) = element(der, SEQUENCE)?;
    let (tbs, _) = element(certificate, SEQUENCE)?;
    let rest = match element(tbs, VERSION) {
        Some((_, after_version)) => after_version,
        None => tbs,
    };
    let (_serial, rest) = element(rest, INTEGER)?;
    let (_signature, rest) = element(rest, SEQUENCE)?;
    let (_issuer, rest) = element(rest, SEQUENCE)?;
    let (validity, _) = element(rest, SEQUENCE)?;
    let (_not_before, rest) = time(validity)?;
    let (seconds, _) = time(rest)?;
    let since_epoch = Duration::from_secs(u64::try_from(seconds).ok()?);
    UNIX_EPOCH.checked_add(since_epoch)
}

/// The contents of the DER element at the start of `bytes` if its tag is
/// `tag`, and what follows it.
fn element(bytes: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = bytes.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}

/// A UTCTime or GeneralizedTime (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`) as
/// seconds since the epoch, and what follows it.
fn time(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (text, rest, year_digits) = match element(bytes, UTC_TIME) {
        Some((text, rest)) => (text, rest, 2),
        None => {
            let (text, rest) = element(bytes, GENERALIZED_TIME)?;
            (text, rest, 4)
        }
    };
    let digits = text.strip_suffix(b"Z")?;
    if digits.len() != year_digits + 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |at: usize, len: usize| {
        digits[at..at + len]
            .iter()
            .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'))
    };
    let mut year = number(0, year_digits);
    if year_digits == 2 {
        // RFC 5280: 50–99 are 19xx, 00–49 are 20xx.
        year += if year >= 50 { 1900 } else { 2000 };
    }
    let at = year_digits;
    let (month, day) = (number(at, 2), number(at + 2, 2));
    let (hour, minute, second) = (number(at + 4, 2), number(at + 6, 2), number(at + 8, 2));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60 + second, rest))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `openssl req -x509 -newkey ec … -days 30`: notAfter Dec 29 16:17:25 2026 GMT.
    const CERTIFICATE: &str = "MIIBdDCCARmgAwIBAgIUHWswk3SXh4AyjUcbHh4mCpcABukwCgYIKoZIzj0EAwIwDzENMAsGA1UEAwwEdGVzdDAeFw0yNjExMjkxNjE3MjVaFw0yNjEyMjkxNjE3MjVaMA8xDTALBgNVBAMMBHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASUxvB2SPx3KfHALg2DOEwK78Qe9Ot1hs/zatzEYlUcVC0DCJaYxGesAkiO3xoTqP4lDX4JZEhxrfKg1hIDR3zDo1MwUTAdBgNVHQ4EFgQU6nIwnKImG7t9/bp0sKybMiGe6lYwHwYDVR0jBBgwFoAU6nIwnKImG7t9/bp0sKybMiGe6lYwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA//jot6eA+JTffvnNUOKHf8nnt29DsRrjljgRmhADS/wCIQDgvTeLzHua9ZHbouNE/D8dpYvSSHUCJYeia0uOS7qHyQ==";

    fn der() -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(CERTIFICATE)
            .unwrap()
    }

    #[test]
    fn reads_not_after_of_a_real_certificate() {
        let end = not_after(&der()).expect("a certificate");
        assert_eq!(
            end.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_798_561_045
        );
    }

    #[test]
    fn cut_or_altered_bytes_are_not_a_certificate() {
        let der = der();
        for cut in [0, 1, 2, 10, 40, 60] {
            assert_eq!(not_after(&der[..cut]), None, "cut at {cut}");
        }
        let mut huge_length = der.clone();
        huge_length[1] = 0x84;
        assert_eq!(not_after(&huge_length), None);
        assert_eq!(not_after(b"\x30\x80"), None);
    }

    #[test]
    fn times_of_both_kinds_and_both_centuries() {
        assert_eq!(time(b"\x17\x0d700101000000Z").unwrap().0, 0);
        assert_eq!(time(b"\x17\x0d491231235959Z").unwrap().0, 2_524_607_999);
        assert_eq!(time(b"\x18\x0f20000229120000Z").unwrap().0, 951_825_600);
        assert_eq!(time(b"\x17\x0d701301000000Z"), None, "month 13");
        assert_eq!(time(b"\x17\x0c7001010000Z0"), None, "not digits");
    }
}
