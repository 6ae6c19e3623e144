//! A double as PHP prints it, shared by `json_encode` and `serialize`.

use std::fmt::Write as _;

/// A finite double as PHP prints it with `serialize_precision = -1` (`php_gcvt` with the
/// shortest round-trip digits and 17 as the limit for plain notation).
pub(super) fn php_double(value: f64, exp_char: char, out: &mut String) {
    // `{:e}` gives the shortest digits that read back to the same double: "1.2345e-7".
    let formatted = format!("{:e}", value.abs());
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decpt = exponent.parse::<i32>().unwrap_or(0) + 1;
    if value.is_sign_negative() {
        out.push('-');
    }
    if !(-3..=17).contains(&decpt) {
        let mut chars = digits.chars();
        out.extend(chars.next());
        out.push('.');
        let rest = chars.as_str();
        out.push_str(if rest.is_empty() { "0" } else { rest });
        out.push(exp_char);
        out.push(if decpt - 1 < 0 { '-' } else { '+' });
        let _ = write!(out, "{}", (decpt - 1).unsigned_abs());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..-decpt {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let decpt = decpt as usize;
        if digits.len() <= decpt {
            out.push_str(&digits);
            for _ in digits.len()..decpt {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..decpt]);
            out.push('.');
            out.push_str(&digits[decpt..]);
        }
    }
}
