use super::*;
use crate::transform::handlers::ip::is_ipv6_text;

#[test]
fn convert_ip_takes_text_and_packed_ipv4() {
    let h = build("\\Migration\\Handler\\ConvertIp", &[]);
    let cases: Vec<(Value, i64)> = vec![
        (text("192.168.1.10"), 3_232_235_786),
        (text("255.255.255.255"), 4_294_967_295),
        (text("0.0.0.0"), 0),
        (Value::Bytes(vec![192, 168, 1, 10]), 3_232_235_786),
        (Value::Bytes(vec![10, 0, 0, 1]), 167_772_161),
        // IPv6, as text or packed: ip2long has no IPv6.
        (text("2001:db8::8a2e:370:7334"), 0),
        (text("::ffff:192.168.1.10"), 0),
        (text("1::2"), 0),
        (
            Value::Bytes(vec![
                0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34,
            ]),
            0,
        ),
        // Four bytes that are not an address as text are read as packed, like inet_ntop.
        (text("1234"), 825_373_492),
        (text("01.2.3.4"), 0),
        (text(" 1.2.3.4"), 0),
        (text("256.1.1.1"), 0),
        (text("localhost"), 0),
        (Value::NULL, 0),
        (Value::Int(3_232_235_786), 0),
    ];
    for (input, expected) in cases {
        assert_eq!(
            run(&*h, input.clone()).unwrap(),
            Value::Int(expected),
            "{input:?}"
        );
    }
}

#[test]
fn ipv6_validation_like_php_filter() {
    for yes in [
        "::",
        "::1",
        "1::2",
        "1:2:3:4:5:6:7:8",
        "::ffff:1.2.3.4",
        "::1.2.3.4",
        "1::1.2.3.4",
        "a:b:c:d:e:f:1.2.3.4",
        "fe80::1",
    ] {
        assert!(is_ipv6_text(yes.as_bytes()), "{yes}");
    }
    for no in [
        "1.2.3.4",
        "1:2:3:4:5:6:7:8:9",
        ":1::2",
        "1::2::3",
        "fe80::1%eth0",
        "1:",
        "12345::",
        "abcd",
        "1:2:3:4:5:6:7",
        ":",
        "::1.2.3",
    ] {
        assert!(!is_ipv6_text(no.as_bytes()), "{no}");
    }
}
