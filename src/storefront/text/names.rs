//! Names of people and companies, and e-mail domains.

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

pub const COMPANIES: &[&str] = &[
    "ACME GmbH",
    "Société Générale de Café",
    "Müller & Söhne KG",
    "日本商事",
    "Example Ltd",
];
