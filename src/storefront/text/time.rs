//! Timestamps, and the fixed calendar the seeded history and the workload's clock follow.

use std::fmt;

/// A UTC timestamp in seconds since the epoch (sessions run in UTC, see `db::connect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ts(pub i64);

/// 2019-01-01 00:00:00 UTC: the seeded history starts here.
pub const HISTORY_START: Ts = Ts(1_546_300_800);
/// Two years of seeded history.
pub const HISTORY_SECONDS: i64 = 730 * 86_400;
/// The workload's clock starts here on a store with no later order.
pub const WORKLOAD_START: Ts = Ts(HISTORY_START.0 + HISTORY_SECONDS + 3_600);

impl Ts {
    pub fn plus(self, seconds: i64) -> Ts {
        Ts(self.0 + seconds)
    }

    /// (year, month, day, hour, minute, second), proleptic Gregorian (H. Hinnant's algorithm).
    pub fn parts(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = if m <= 2 { y + 1 } else { y };
        (
            y,
            m,
            d,
            (secs / 3600) as u32,
            ((secs % 3600) / 60) as u32,
            (secs % 60) as u32,
        )
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.parts();
        write!(f, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_mysql_does() {
        assert_eq!(HISTORY_START.to_string(), "2019-01-01 00:00:00");
        assert_eq!(Ts(951_825_600).to_string(), "2000-02-29 12:00:00");
        assert_eq!(Ts(1_709_210_096).to_string(), "2024-02-29 12:34:56");
        assert_eq!(Ts(-86_400).to_string(), "1969-12-31 00:00:00");
    }
}
