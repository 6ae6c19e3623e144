//! Names, places, products and phrases of a small international store, timestamps, and PHP
//! `serialize()` strings as Magento 1 writes them.
//!
//! Text with 4-byte characters (emoji, CJK extension B) is kept apart ([`FOUR_BYTE_*`]): only
//! the utf8mb4 tables of the fixture can hold it. Everything else is ASCII or 2/3-byte UTF-8.

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

/// Replaces each 4-byte character by `?`, as MySQL does when a utf8mb4 value is converted to a
/// utf8mb3 column: a shopper's emoji name ends up like that in M1's utf8 order tables.
pub fn mb3(s: &str) -> String {
    s.chars()
        .map(|c| if c.len_utf8() == 4 { '?' } else { c })
        .collect()
}

/// Lowercase ASCII letters only, for e-mail local parts built from names.
pub fn ascii_slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let mapped = match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'à' | 'á' | 'â' | 'ä' | 'å' | 'ã' | 'Å' | 'Ä' => Some('a'),
            'ç' => Some('c'),
            'è' | 'é' | 'ê' | 'ë' | 'É' => Some('e'),
            'ì' | 'í' | 'î' | 'ï' | 'İ' => Some('i'),
            'ñ' => Some('n'),
            'ò' | 'ó' | 'ô' | 'ö' | 'ø' | 'Ø' | 'Ö' => Some('o'),
            'ù' | 'ú' | 'û' | 'ü' | 'Ü' => Some('u'),
            'ł' | 'Ł' => Some('l'),
            'ß' => Some('s'),
            'ř' => Some('r'),
            'ễ' => Some('e'),
            'ả' => Some('a'),
            _ => None,
        };
        if let Some(m) = mapped {
            out.push(m);
        }
    }
    if out.is_empty() {
        out.push_str("kunde");
    }
    out
}

pub const FIRST_NAMES: &[&str] = &[
    "Anna",
    "Lukas",
    "Zoë",
    "Jürgen",
    "José",
    "François",
    "Chloé",
    "Søren",
    "Małgorzata",
    "Åsa",
    "Ольга",
    "Dmitri",
    "Björn",
    "Hélène",
    "Noël",
    "Renée",
    "Yuki",
    "Hiroshi",
    "Mei",
    "Wei",
    "John",
    "Mary",
    "James",
    "Patricia",
    "Michael",
    "Linda",
    "Fatima",
    "Ahmed",
    "Siobhán",
    "Łukasz",
    "İsmail",
    "Thảo",
    "健太",
    "さくら",
    "Emma",
    "Noah",
    "Olivia",
    "Liam",
    "Sophie",
    "Léa",
];

pub const LAST_NAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Dupont",
    "Lefèvre",
    "García",
    "Martínez",
    "Smith",
    "Johnson",
    "O'Brien",
    "Nguyễn",
    "Kowalski",
    "Østergaard",
    "Straßmann",
    "Иванов",
    "山田",
    "佐藤",
    "D'Angelo",
    "van der Berg",
    "Brown",
    "Williams",
    "Taylor",
    "Moreau",
    "Rossi",
    "Novák",
    "Dvořák",
    "Jensen",
    "Lindqvist",
    "Öztürk",
    "Bernard",
    "Weiß",
];

/// First names with a 4-byte character: only for utf8mb4 columns (customer EAV).
pub const FOUR_BYTE_FIRST_NAMES: &[&str] = &["Zoë 😀", "Mia 🌸", "Rock𝄞"];
/// Last names with a CJK extension B character (𠮷 U+20BB7, 𩸽 U+29E3D).
pub const FOUR_BYTE_LAST_NAMES: &[&str] = &["𠮷田", "𩸽野", "𠀋山"];

pub const PREFIXES: &[&str] = &["Mr.", "Mrs.", "Ms.", "Dr.", "Herr", "Frau", "M.", "Mme"];
pub const MIDDLE_NAMES: &[&str] = &["J.", "Marie", "Ann", "K.", "José", "Lee"];

pub const EMAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.example.de",
    "courriel.example.fr",
];

/// A place: country, city, region and its M1 `directory_country_region` id when the country
/// has a region list, postcode pattern (`#` = digit), phone prefix, tax rate in basis points.
pub struct Place {
    pub country: &'static str,
    pub city: &'static str,
    pub region: Option<&'static str>,
    pub region_id: Option<i64>,
    pub postcode: &'static str,
    pub phone: &'static str,
    pub tax_bp: i64,
    pub tax_code: &'static str,
}

pub const PLACES: &[Place] = &[
    Place {
        country: "US",
        city: "New York",
        region: Some("New York"),
        region_id: Some(43),
        postcode: "100##",
        phone: "+1 212",
        tax_bp: 825,
        tax_code: "US-NY-*-Rate 1",
    },
    Place {
        country: "US",
        city: "Los Angeles",
        region: Some("California"),
        region_id: Some(12),
        postcode: "900##",
        phone: "+1 213",
        tax_bp: 825,
        tax_code: "US-CA-*-Rate 1",
    },
    Place {
        country: "US",
        city: "Austin",
        region: Some("Texas"),
        region_id: Some(57),
        postcode: "787##",
        phone: "+1 512",
        tax_bp: 625,
        tax_code: "US-TX-*-Rate 1",
    },
    Place {
        country: "DE",
        city: "München",
        region: Some("Bayern"),
        region_id: Some(81),
        postcode: "80###",
        phone: "+49 89",
        tax_bp: 1900,
        tax_code: "DE MwSt 19%",
    },
    Place {
        country: "DE",
        city: "Köln",
        region: Some("Nordrhein-Westfalen"),
        region_id: Some(88),
        postcode: "50###",
        phone: "+49 221",
        tax_bp: 1900,
        tax_code: "DE MwSt 19%",
    },
    Place {
        country: "FR",
        city: "Paris",
        region: Some("Paris"),
        region_id: Some(257),
        postcode: "750##",
        phone: "+33 1",
        tax_bp: 2000,
        tax_code: "FR TVA 20%",
    },
    Place {
        country: "FR",
        city: "Besançon",
        region: Some("Doubs"),
        region_id: Some(206),
        postcode: "25000",
        phone: "+33 3",
        tax_bp: 2000,
        tax_code: "FR TVA 20%",
    },
    Place {
        country: "GB",
        city: "London",
        region: Some("Greater London"),
        region_id: None,
        postcode: "SW1A #AA",
        phone: "+44 20",
        tax_bp: 2000,
        tax_code: "GB VAT 20%",
    },
    Place {
        country: "JP",
        city: "東京",
        region: Some("東京都"),
        region_id: None,
        postcode: "100-####",
        phone: "+81 3",
        tax_bp: 1000,
        tax_code: "JP 消費税 10%",
    },
    Place {
        country: "CH",
        city: "Zürich",
        region: Some("Zürich"),
        region_id: Some(104),
        postcode: "80##",
        phone: "+41 44",
        tax_bp: 770,
        tax_code: "CH MWST 7.7%",
    },
];

pub const STREETS: &[&str] = &[
    "Hauptstraße",
    "Main St",
    "Rue de l'Église",
    "Avenue des Champs-Élysées",
    "Königsallee",
    "Baker Street",
    "Calle Mayor",
    "日本橋",
    "Elm Street",
    "Bahnhofstraße",
    "Via Roma",
];
pub const STREET_SECOND_LINES: &[&str] = &[
    "Apt. 4B",
    "2. OG links",
    "Bâtiment C",
    "c/o Müller",
    "Suite 210",
];
/// Street lines with a 4-byte character, for the utf8mb4 address `_text` table only.
pub const FOUR_BYTE_STREET_LINES: &[&str] = &["Haus 🏠 3", "𠮷祥寺 1-2"];
pub const COMPANIES: &[&str] = &[
    "ACME GmbH",
    "Société Générale de Café",
    "Müller & Söhne KG",
    "日本商事",
    "Example Ltd",
];

/// A catalog product (there are no catalog tables; order lines carry product ids as plain ints).
pub struct Product {
    pub id: i64,
    pub sku: &'static str,
    pub name: &'static str,
    /// Base price in cents.
    pub price: i64,
    /// Weight in 1/10000 units.
    pub weight: i64,
    pub virtual_: bool,
}

pub const PRODUCTS: &[Product] = &[
    Product {
        id: 101,
        sku: "MUG-CAFE",
        name: "Café Crème Mug",
        price: 1250,
        weight: 5000,
        virtual_: false,
    },
    Product {
        id: 102,
        sku: "TSH-GR-M",
        name: "T-Shirt Größe M",
        price: 1999,
        weight: 2000,
        virtual_: false,
    },
    Product {
        id: 103,
        sku: "TEA-JP-100",
        name: "日本茶 Sencha 100g",
        price: 899,
        weight: 1000,
        virtual_: false,
    },
    Product {
        id: 104,
        sku: "BAG-LTH",
        name: "Leather Bag «Élégance»",
        price: 12900,
        weight: 12000,
        virtual_: false,
    },
    Product {
        id: 105,
        sku: "PAN-CREPE",
        name: "Poêle à crêpes 28 cm",
        price: 3450,
        weight: 15000,
        virtual_: false,
    },
    Product {
        id: 106,
        sku: "SOCK-3P",
        name: "Socks, 3 pairs",
        price: 1200,
        weight: 1500,
        virtual_: false,
    },
    Product {
        id: 107,
        sku: "BOOK-SMÖRG",
        name: "Smörgåsbord cookbook",
        price: 2495,
        weight: 8000,
        virtual_: false,
    },
    Product {
        id: 108,
        sku: "LAMP-DESK",
        name: "Desk lamp \"Lumière\"",
        price: 4900,
        weight: 20000,
        virtual_: false,
    },
    Product {
        id: 109,
        sku: "GIFT-25",
        name: "Gift card 25 $",
        price: 2500,
        weight: 0,
        virtual_: true,
    },
    Product {
        id: 110,
        sku: "EBOOK-MAG",
        name: "E-book: Magento für Profis",
        price: 1599,
        weight: 0,
        virtual_: true,
    },
    Product {
        id: 111,
        sku: "CHOC-SUISSE",
        name: "Chocolat suisse 70 %",
        price: 650,
        weight: 1000,
        virtual_: false,
    },
    Product {
        id: 112,
        sku: "KNIFE-JP",
        name: "包丁 Santoku knife",
        price: 8900,
        weight: 4000,
        virtual_: false,
    },
    Product {
        id: 113,
        sku: "SCARF-WOOL",
        name: "Wool scarf – grey",
        price: 3900,
        weight: 2500,
        virtual_: false,
    },
    Product {
        id: 114,
        sku: "PEN-FOUNT",
        name: "Füllfederhalter",
        price: 5900,
        weight: 500,
        virtual_: false,
    },
    Product {
        id: 115,
        sku: "POSTER-A2",
        name: "Poster A2 «Paris»",
        price: 1500,
        weight: 3000,
        virtual_: false,
    },
    Product {
        id: 116,
        sku: "HEADPH-BT",
        name: "Bluetooth headphones",
        price: 7999,
        weight: 3500,
        virtual_: false,
    },
];

pub const REVIEW_TITLES: &[&str] = &[
    "Great product",
    "Très bien",
    "Sehr gut, aber teuer",
    "Not as described",
    "Perfect gift",
    "素晴らしい",
    "Okay",
    "Would buy again",
    "Déçu",
];
/// Review titles with a 4-byte character (review_detail is utf8mb4).
pub const FOUR_BYTE_REVIEW_TITLES: &[&str] = &["Love it 😀", "Très bien 👍", "Great 𝄞 sound"];
pub const REVIEW_DETAILS: &[&str] = &[
    "Arrived quickly.\nWould buy again.",
    "Qualité correcte pour le prix.",
    "Die Größe passt nicht ganz, sonst gut.",
    "Exactly what I wanted.",
    "The colour is a bit different from the photo.\n\nStill happy.",
    "配送が早かったです。",
];
pub const FOUR_BYTE_REVIEW_DETAILS: &[&str] = &[
    "Five stars ⭐⭐⭐⭐⭐\nMy kids love it 😀",
    "Le son est parfait 🎶 𝄞",
    "𠮷野家 style bowl, nice 🍜",
];
pub const NICKNAMES: &[&str] = &["anna_b", "Jürgen", "cafélover", "mike77", "さくら", "Chloé"];
pub const FOUR_BYTE_NICKNAMES: &[&str] = &["😀 happy buyer", "Rock𝄞Star", "🦄"];

pub const HISTORY_COMMENTS: &[&str] = &[
    "Customer asked to leave the parcel at the door.",
    "Paiement reçu, merci.",
    "Kunde hat angerufen: Lieferung bitte nach 17 Uhr.",
    "Address corrected by phone.",
    "お届け日時指定あり",
];
/// Order comments with 4-byte characters (sales_flat_order_status_history is utf8mb4).
pub const FOUR_BYTE_HISTORY_COMMENTS: &[&str] = &[
    "Gift wrap please 🎁",
    "Customer says thanks 😀",
    "Deliver to 𠮷田 at reception",
];

pub const WISHLIST_NOTES: &[&str] = &[
    "for mum's birthday",
    "Geschenk für Jürgen",
    "à acheter en décembre",
];

/// A shipping method: code, carrier, carrier title, method, method title, price per item.
pub struct Carrier {
    pub code: &'static str,
    pub carrier: &'static str,
    pub carrier_title: &'static str,
    pub method: &'static str,
    pub method_title: &'static str,
    pub per_item: i64,
}

pub const CARRIERS: &[Carrier] = &[
    Carrier {
        code: "flatrate_flatrate",
        carrier: "flatrate",
        carrier_title: "Flat Rate",
        method: "flatrate",
        method_title: "Fixed",
        per_item: 500,
    },
    Carrier {
        code: "tablerate_bestway",
        carrier: "tablerate",
        carrier_title: "Best Way",
        method: "bestway",
        method_title: "Table Rate",
        per_item: 350,
    },
    Carrier {
        code: "ups_GND",
        carrier: "ups",
        carrier_title: "United Parcel Service",
        method: "GND",
        method_title: "Ground",
        per_item: 790,
    },
    Carrier {
        code: "freeshipping_freeshipping",
        carrier: "freeshipping",
        carrier_title: "Free Shipping",
        method: "freeshipping",
        method_title: "Free",
        per_item: 0,
    },
];

pub const PAYMENT_METHODS: &[&str] = &[
    "checkmo",
    "ccsave",
    "paypal_express",
    "banktransfer",
    "cashondelivery",
    "purchaseorder",
];

/// Fills `#` in a pattern with digits.
pub fn digits(rng: &mut super::rng::Rng, pattern: &str) -> String {
    pattern
        .chars()
        .map(|c| {
            if c == '#' {
                char::from(b'0' + rng.below(10) as u8)
            } else {
                c
            }
        })
        .collect()
}

/// A PHP value for [`php_serialize`].
pub enum Php<'a> {
    Str(&'a str),
    Int(i64),
    Map(Vec<(&'a str, Php<'a>)>),
}

/// PHP `serialize()` of a value: string lengths count bytes, as PHP does. M1 keeps
/// `product_options`, buy requests and payment details like this; the DMT converts them to JSON.
pub fn php_serialize(v: &Php<'_>) -> String {
    let mut out = String::new();
    php_into(&mut out, v);
    out
}

fn php_into(out: &mut String, v: &Php<'_>) {
    match v {
        Php::Str(s) => {
            out.push_str(&format!("s:{}:\"", s.len()));
            out.push_str(s);
            out.push_str("\";");
        }
        Php::Int(i) => out.push_str(&format!("i:{i};")),
        Php::Map(entries) => {
            out.push_str(&format!("a:{}:{{", entries.len()));
            for (k, val) in entries {
                php_into(out, &Php::Str(k));
                php_into(out, val);
            }
            out.push('}');
        }
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

    #[test]
    fn php_serialize_counts_bytes() {
        let v = Php::Map(vec![("name", Php::Str("Zoë")), ("qty", Php::Int(2))]);
        assert_eq!(
            php_serialize(&v),
            "a:2:{s:4:\"name\";s:4:\"Zoë\";s:3:\"qty\";i:2;}"
        );
    }

    #[test]
    fn four_byte_lists_hold_four_byte_characters_and_the_others_do_not() {
        for s in FOUR_BYTE_FIRST_NAMES
            .iter()
            .chain(FOUR_BYTE_LAST_NAMES)
            .chain(FOUR_BYTE_REVIEW_TITLES)
            .chain(FOUR_BYTE_REVIEW_DETAILS)
            .chain(FOUR_BYTE_NICKNAMES)
            .chain(FOUR_BYTE_HISTORY_COMMENTS)
            .chain(FOUR_BYTE_STREET_LINES)
        {
            assert!(s.chars().any(|c| c.len_utf8() == 4), "{s}");
        }
        for s in FIRST_NAMES
            .iter()
            .chain(LAST_NAMES)
            .chain(STREETS)
            .chain(COMPANIES)
            .chain(REVIEW_TITLES)
            .chain(HISTORY_COMMENTS)
            .chain(PRODUCTS.iter().map(|p| &p.name))
            .chain(PLACES.iter().map(|p| &p.city))
        {
            assert!(s.chars().all(|c| c.len_utf8() < 4), "{s}");
        }
        assert_eq!(mb3("𠮷田"), "?田");
        assert_eq!(ascii_slug("Jürgen"), "jurgen");
    }
}
