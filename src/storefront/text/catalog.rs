//! What the store sells and how it ships and takes payment.

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

/// A shipping method: code, carrier, carrier title, method, method title, price per item.
pub struct Carrier {
    pub code: &'static str,
    pub carrier: &'static str,
    pub carrier_title: &'static str,
    pub method: &'static str,
    pub method_title: &'static str,
    pub per_item: i64,
}

impl Carrier {
    /// "Carrier title - Method title", as M1 shows the method on quotes and orders.
    pub fn description(&self) -> String {
        format!("{} - {}", self.carrier_title, self.method_title)
    }
}

/// The carrier of a shipping method code (`flatrate_flatrate`, …), if it is one of ours.
pub fn carrier_by_code(code: &str) -> Option<&'static Carrier> {
    CARRIERS.iter().find(|c| c.code == code)
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
