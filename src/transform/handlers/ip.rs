//! ConvertIp: PHP's `ip2long`, with `filter_var`'s IPv4 and IPv6 validation.

use mysql_async::Value;

use super::php_text;
use crate::transform::{Handler, Record, TransformError};

/// `Migration\Handler\ConvertIp`: an IPv4 address, as text or packed in 4 bytes, becomes its
/// `ip2long` number; anything else (IPv6 included, as PHP's `ip2long` has no IPv6) becomes 0.
#[derive(Debug, Clone)]
pub struct ConvertIp;

/// PHP's `filter_var(FILTER_VALIDATE_IP, FILTER_FLAG_IPV4)`: four decimal parts 0-255, no
/// leading zeros, nothing else.
fn ipv4_text(s: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(s).ok()?;
    let mut value = 0u32;
    let mut parts = 0;
    for part in text.split('.') {
        parts += 1;
        let canonical = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        let octet: u8 = part.parse().ok().filter(|_| canonical)?;
        value = (value << 8) | u32::from(octet);
    }
    (parts == 4).then_some(value)
}

/// PHP's `filter_var(FILTER_VALIDATE_IP, FILTER_FLAG_IPV6)`.
pub(super) fn is_ipv6_text(s: &[u8]) -> bool {
    if !s.contains(&b':') {
        return false;
    }
    let mut s = s;
    let mut blocks = 0usize;
    // An IPv4 tail (`::ffff:1.2.3.4`) counts as two blocks.
    if let Some(dot) = s.iter().position(|b| *b == b'.') {
        let v4_start = s[..dot]
            .iter()
            .rposition(|b| *b == b':')
            .map_or(0, |i| i + 1);
        if ipv4_text(&s[v4_start..]).is_none() || v4_start < 2 {
            return false;
        }
        s = if s[v4_start - 2] == b':' {
            &s[..v4_start]
        } else {
            &s[..v4_start - 1]
        };
        blocks = 2;
    }
    let mut compressed = false;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b':' {
            i += 1;
            if i >= s.len() {
                return false;
            }
            if s[i] == b':' {
                if compressed {
                    return false;
                }
                compressed = true;
                blocks += 1;
                i += 1;
                if i == s.len() {
                    return blocks <= 8;
                }
            } else if i == 1 {
                return false;
            }
        }
        let digits = s[i..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if !(1..=4).contains(&digits) {
            return false;
        }
        i += digits;
        blocks += 1;
        if blocks > 8 {
            return false;
        }
    }
    (compressed && blocks <= 8) || blocks == 8
}

fn ip2long(value: &[u8]) -> i64 {
    if let Some(v4) = ipv4_text(value) {
        return i64::from(v4);
    }
    if is_ipv6_text(value) {
        return 0;
    }
    // Not an address as text: PHP's inet_ntop reads 4 bytes as a packed IPv4 address (16
    // bytes as IPv6, which ip2long cannot convert).
    match <[u8; 4]>::try_from(value) {
        Ok(packed) => i64::from(u32::from_be_bytes(packed)),
        Err(_) => 0,
    }
}

impl Handler for ConvertIp {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let number = php_text(record.get(field)).map_or(0, |v| ip2long(&v));
        record.set(field, Value::Int(number));
        Ok(())
    }
}
