//! What shoppers and admins write: review texts, nicknames, order comments, wishlist notes.

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
