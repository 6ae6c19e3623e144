//! `Migration\Handler\Timezone`: shifts dates and unix times by a whole number of hours.

use mysql_async::Value;

use super::text_value;
use crate::transform::php::str_is_truthy;
use crate::transform::{Handler, Record, TransformError};

/// `Migration\Handler\Timezone(offset)`: moves a point in time by `offset` hours, as the DMT's
/// `DateTime::modify("{offset} hour")` in UTC: plain arithmetic, no DST.
///
/// - An `int` column (unix time; `Value::Int`/`UInt`, or all-digit text from the text protocol)
///   gets `offset * 3600` added and is written as an integer.
/// - A `datetime`/`timestamp` column (`Value::Date`, or `YYYY-MM-DD HH:MM:SS[.ffffff]` text) is
///   written as text `Y-m-d H:i:s`: fractional seconds are dropped, as PHP's format drops them.
///   Month 0, day 0 and days past the month's end roll over as PHP's parser rolls them
///   (`2024-02-00` is `2024-01-31`). The zero date `0000-00-00 …` is left as it is: PHP would
///   make it `-0001-11-30 …` shifted, which MySQL (Magento runs with an empty sql_mode) stores
///   back as the zero date.
/// - NULL, `""`, `"0"` and `0` are left alone, as is every value when the offset is `""` or
///   `"0"` (`!$value || !$this->offset`). `+0` is not `"0"` to PHP: it reformats datetimes.
/// - Any other value is an error: the DMT only takes columns whose type is `int`, `integer`,
///   `timestamp` or `datetime`. The column's type is read from the value here, so a `date`
///   column's `YYYY-MM-DD` text is refused as the DMT refuses it, but a `date` read through the
///   binary protocol (`Value::Date` with zero time) is taken as a datetime, and a text column
///   holding a datetime or digits is shifted where the DMT would refuse it.
#[derive(Debug, Clone)]
pub struct Timezone {
    /// None when the offset is falsy for PHP (`""`, `"0"`): the handler does nothing.
    hours: Option<i64>,
}

impl Timezone {
    /// Reads `offset` as the DMT's `validate()` does: an optional sign and digits; without `-`,
    /// at most 12. With `-` there is no bound: the DMT compares the digits after the sign with
    /// -14, which they never are below. Forms PHP's `modify()` rejects (`2.5`, `2h`) or reads
    /// oddly (`+ 2`, `--2`, `1e1`) are refused.
    pub fn new(offset: &str) -> Result<Timezone, String> {
        if offset.is_empty() || offset == "0" {
            return Ok(Timezone { hours: None });
        }
        let (negative, digits) = match offset.as_bytes()[0] {
            b'-' => (true, &offset[1..]),
            b'+' => (false, &offset[1..]),
            _ => (false, offset),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "\"{offset}\" is not a whole number of hours with an optional sign"
            ));
        }
        let magnitude: i64 = digits
            .parse()
            .map_err(|_| format!("\"{offset}\" is too large an offset"))?;
        if !negative && magnitude > 12 {
            return Err(format!(
                "\"{offset}\": the DMT's \"Offset can have value between \"-14\" and \"+12\"\""
            ));
        }
        Ok(Timezone {
            hours: Some(if negative { -magnitude } else { magnitude }),
        })
    }
}

/// A datetime as MySQL gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DateTime {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
}

impl Handler for Timezone {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let shifted = match record.get(field) {
            None | Some(Value::NULL | Value::Int(0) | Value::UInt(0)) => return Ok(()),
            Some(Value::Int(i)) => self.shift_int(i128::from(*i))?,
            Some(Value::UInt(u)) => self.shift_int(i128::from(*u))?,
            Some(Value::Date(y, mo, d, h, mi, s, _)) => self.shift_datetime(DateTime {
                year: i64::from(*y),
                month: i64::from(*mo),
                day: i64::from(*d),
                hour: i64::from(*h),
                minute: i64::from(*mi),
                second: i64::from(*s),
            })?,
            Some(Value::Bytes(b)) if !str_is_truthy(b) => return Ok(()),
            Some(Value::Bytes(b)) => {
                if let Some(i) = parse_int(b) {
                    self.shift_int(i)?
                } else if let Some(dt) = parse_datetime(b) {
                    self.shift_datetime(dt)?
                } else {
                    return Err(TransformError(format!(
                        "Timezone: \"{}\" is neither a unix time nor a datetime \
                         (YYYY-MM-DD HH:MM:SS); the DMT shifts only int, timestamp and datetime \
                         columns",
                        String::from_utf8_lossy(b)
                    )));
                }
            }
            Some(other) => {
                return Err(TransformError(format!(
                    "Timezone: {other:?} is not an int, timestamp or datetime value, the only \
                     types the DMT shifts"
                )))
            }
        };
        if let Some(value) = shifted {
            record.set(field, value);
        }
        Ok(())
    }
}

impl Timezone {
    fn shift_int(&self, time: i128) -> Result<Option<Value>, TransformError> {
        let Some(hours) = self.hours else {
            return Ok(None);
        };
        let shifted = time + i128::from(hours) * 3600;
        i64::try_from(shifted)
            .map(|t| Some(Value::Int(t)))
            .map_err(|_| TransformError(format!("Timezone: {time} shifted overflows")))
    }

    fn shift_datetime(&self, dt: DateTime) -> Result<Option<Value>, TransformError> {
        let Some(hours) = self.hours else {
            return Ok(None);
        };
        if dt.year == 0 && dt.month == 0 && dt.day == 0 {
            return Ok(None);
        }
        if dt.month > 12 || dt.day > 31 || dt.hour > 23 || dt.minute > 59 || dt.second > 59 {
            return Err(TransformError(format!(
                "Timezone: {:04}-{:02}-{:02} {:02}:{:02}:{:02} is not a datetime PHP reads",
                dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
            )));
        }
        let overflow = || TransformError(format!("Timezone: shifting {dt:?} overflows"));
        let months = dt.month - 1;
        let year = dt.year + months.div_euclid(12);
        let month = months.rem_euclid(12) + 1;
        let days = days_from_civil(year, month, 1) + dt.day - 1;
        let seconds = days
            .checked_mul(86_400)
            .and_then(|s| s.checked_add(dt.hour * 3600 + dt.minute * 60 + dt.second))
            .and_then(|s| s.checked_add(hours.checked_mul(3600)?))
            .ok_or_else(overflow)?;
        let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
        let time = seconds.rem_euclid(86_400);
        let year = if year < 0 {
            format!("-{:04}", -year)
        } else {
            format!("{year:04}")
        };
        Ok(Some(text_value(format!(
            "{year}-{month:02}-{day:02} {:02}:{:02}:{:02}",
            time / 3600,
            time % 3600 / 60,
            time % 60
        ))))
    }
}

/// An `int` column's text: an optional `-` and digits.
fn parse_int(b: &[u8]) -> Option<i128> {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// MySQL's text for a datetime or timestamp: `YYYY-MM-DD HH:MM:SS`, optionally `.` and 1 to 6
/// digits.
fn parse_datetime(b: &[u8]) -> Option<DateTime> {
    let (main, fraction) = match b.len() {
        19 => (b, &b""[..]),
        n if n > 20 && n <= 26 && b[19] == b'.' => (&b[..19], &b[20..]),
        _ => return None,
    };
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &main[range];
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| main[i] != c) {
        return None;
    }
    Some(DateTime {
        year: num(0..4)?,
        month: num(5..7)?,
        day: num(8..10)?,
        hour: num(11..13)?,
        minute: num(14..16)?,
        second: num(17..19)?,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
