//! Binlog values → the values a `SELECT` of the same row returns over a utf8mb4 session in UTC,
//! so a row written from an after-image equals the row the deltalog path would write.
//!
//! What the row events do differently (with the default `binlog_row_metadata`): integers come
//! signed whatever the column, TIMESTAMP as epoch seconds, YEAR as text, ENUM as an index, SET as
//! a bitmask, and text in the column's own charset.

use mysql_async::binlog::value::BinlogValue;
use mysql_async::Value;

use super::schema::ColumnInfo;

/// Why an after-image cannot be used as it is; the key's current row is fetched instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotDirect(pub String);

/// One value of a row event, as a `SELECT` would return it.
pub fn normalize(value: &BinlogValue<'_>, column: &ColumnInfo) -> Result<Value, NotDirect> {
    let value = match value {
        BinlogValue::Value(v) => v,
        BinlogValue::Jsonb(j) => {
            // MySQL's binary JSON; MariaDB's JSON is LONGTEXT and never gets here.
            let json = serde_json::Value::try_from(j.clone())
                .map_err(|e| NotDirect(format!("JSON value of {}: {e}", column.name)))?;
            return Ok(Value::Bytes(json.to_string().into_bytes()));
        }
        BinlogValue::JsonDiff(_) => {
            return Err(NotDirect(format!(
                "{} is a partial JSON update (binlog_row_value_options=PARTIAL_JSON)",
                column.name
            )))
        }
    };
    let t = column.data_type.as_str();
    Ok(match (value, t) {
        (Value::NULL, _) => Value::NULL,
        (Value::Int(i), "tinyint") if column.unsigned && *i < 0 => Value::Int(*i as u8 as i64),
        (Value::Int(i), "smallint") if column.unsigned && *i < 0 => Value::Int(*i as u16 as i64),
        (Value::Int(i), "mediumint") if column.unsigned && *i < 0 => {
            Value::Int((*i as u32 & 0x00ff_ffff) as i64)
        }
        (Value::Int(i), "int") if column.unsigned && *i < 0 => Value::Int(*i as u32 as i64),
        (Value::Int(i), "bigint") if column.unsigned => Value::UInt(*i as u64),
        (Value::UInt(u), "bigint") if !column.unsigned => Value::Int(*u as i64),
        (Value::UInt(u), _) if *u <= i64::MAX as u64 && t != "bigint" => Value::Int(*u as i64),
        // TIMESTAMP2: "sec" or "sec.micros"; shown in UTC, the sessions' time zone.
        (Value::Bytes(b), "timestamp") => {
            timestamp(b).ok_or_else(|| NotDirect(format!("TIMESTAMP value of {}", column.name)))?
        }
        (Value::Int(secs), "timestamp") => epoch_to_utc(*secs, 0),
        (Value::Bytes(b), "year") => {
            let year: i64 = std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| NotDirect(format!("YEAR value of {}", column.name)))?;
            // The zero year is stored as 0 and comes back as 1900, which YEAR cannot hold.
            Value::Int(if year == 1900 { 0 } else { year })
        }
        (Value::Int(index), "enum") => {
            let index = *index as u64 as usize;
            match index {
                0 => Value::Bytes(Vec::new()),
                i => Value::Bytes(column.labels.get(i - 1).cloned().ok_or_else(|| {
                    NotDirect(format!(
                        "ENUM index {i} of {} beyond its {} labels (a DDL since?)",
                        column.name,
                        column.labels.len()
                    ))
                })?),
            }
        }
        (Value::Bytes(mask), "set") => {
            let mut bits: u64 = 0;
            for (i, b) in mask.iter().enumerate().take(8) {
                bits |= (*b as u64) << (8 * i);
            }
            let mut out = Vec::new();
            for (i, label) in column.labels.iter().enumerate() {
                if bits & (1 << i) != 0 {
                    if !out.is_empty() {
                        out.push(b',');
                    }
                    out.extend_from_slice(label);
                }
            }
            Value::Bytes(out)
        }
        (Value::Bytes(b), _) if column.charset.is_some() => Value::Bytes(to_utf8(b, column)?),
        (v, _) => v.clone(),
    })
}

/// `"1700000000.000123"` → the UTC date-time.
fn timestamp(text: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(text).ok()?;
    let (secs, micros) = match text.split_once('.') {
        Some((s, f)) => {
            let digits = format!("{f:0<6}");
            (s.parse().ok()?, digits.get(..6)?.parse().ok()?)
        }
        None => (text.parse().ok()?, 0),
    };
    Some(epoch_to_utc(secs, micros))
}

/// Seconds since 1970 in UTC as a date-time value; 0 is MySQL's zero TIMESTAMP.
pub fn epoch_to_utc(secs: i64, micros: u32) -> Value {
    if secs == 0 && micros == 0 {
        return Value::Date(0, 0, 0, 0, 0, 0, 0);
    }
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Value::Date(
        year as u16,
        month as u8,
        day as u8,
        (rem / 3600) as u8,
        (rem % 3600 / 60) as u8,
        (rem % 60) as u8,
        micros,
    )
}

/// Text in the column's charset → UTF-8, as a utf8mb4 session receives it.
fn to_utf8(bytes: &[u8], column: &ColumnInfo) -> Result<Vec<u8>, NotDirect> {
    let charset = column.charset.as_deref().unwrap_or("binary");
    match charset {
        "utf8mb4" | "utf8mb3" | "utf8" | "binary" => Ok(bytes.to_vec()),
        "ascii" if bytes.is_ascii() => Ok(bytes.to_vec()),
        "latin1" => Ok(latin1_to_utf8(bytes)),
        other => Err(NotDirect(format!(
            "{} is in charset {other}, which the binlog source does not convert",
            column.name
        ))),
    }
}

/// MySQL's latin1 is Windows-1252, with the five bytes cp1252 leaves undefined mapped to the C1
/// controls.
pub fn latin1_to_utf8(bytes: &[u8]) -> Vec<u8> {
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 4);
    for &b in bytes {
        let c = match b {
            0x80..=0x9F => char::from_u32(u32::from(HIGH[(b - 0x80) as usize])).unwrap_or('?'),
            b => char::from(b),
        };
        out.push(c);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(data_type: &str, unsigned: bool) -> ColumnInfo {
        ColumnInfo {
            name: "c".into(),
            data_type: data_type.into(),
            unsigned,
            charset: None,
            labels: vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
        }
    }

    fn v(x: Value) -> BinlogValue<'static> {
        BinlogValue::Value(x)
    }

    #[test]
    fn unsigned_integers() {
        assert_eq!(
            normalize(&v(Value::Int(-1)), &col("int", true)),
            Ok(Value::Int(4_294_967_295))
        );
        assert_eq!(
            normalize(&v(Value::Int(-1)), &col("bigint", true)),
            Ok(Value::UInt(u64::MAX))
        );
        assert_eq!(
            normalize(&v(Value::Int(-1)), &col("tinyint", true)),
            Ok(Value::Int(255))
        );
        assert_eq!(
            normalize(&v(Value::Int(-1)), &col("int", false)),
            Ok(Value::Int(-1))
        );
        assert_eq!(
            normalize(&v(Value::Int(-1)), &col("mediumint", true)),
            Ok(Value::Int(16_777_215))
        );
    }

    #[test]
    fn timestamps_in_utc() {
        assert_eq!(
            normalize(
                &v(Value::Bytes(b"1709251199.123456".to_vec())),
                &col("timestamp", false)
            ),
            Ok(Value::Date(2024, 2, 29, 23, 59, 59, 123_456))
        );
        assert_eq!(
            normalize(&v(Value::Bytes(b"0".to_vec())), &col("timestamp", false)),
            Ok(Value::Date(0, 0, 0, 0, 0, 0, 0))
        );
        assert_eq!(epoch_to_utc(1, 0), Value::Date(1970, 1, 1, 0, 0, 1, 0));
    }

    #[test]
    fn enum_set_year() {
        assert_eq!(
            normalize(&v(Value::Int(2)), &col("enum", false)),
            Ok(Value::Bytes(b"b".to_vec()))
        );
        assert_eq!(
            normalize(&v(Value::Bytes(vec![0b101])), &col("set", false)),
            Ok(Value::Bytes(b"a,c".to_vec()))
        );
        assert!(normalize(&v(Value::Int(9)), &col("enum", false)).is_err());
        assert_eq!(
            normalize(&v(Value::Bytes(b"2024".to_vec())), &col("year", false)),
            Ok(Value::Int(2024))
        );
    }

    #[test]
    fn latin1() {
        assert_eq!(latin1_to_utf8(b"caf\xe9 \x80"), "café €".as_bytes());
    }
}
