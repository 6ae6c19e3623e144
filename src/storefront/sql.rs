//! Batched multi-row INSERTs with explicit ids, and SQL literals.
//!
//! Rows are rendered straight into one `INSERT … VALUES` string per table and sent parent table
//! first, so foreign key checks can stay on. Memory is bounded by the batch limits, whatever
//! the size of the store.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use mysql_async::prelude::Queryable;

use super::text::Ts;

macro_rules! tables {
    ($($var:ident = $name:literal, $pk:expr, [$($col:literal),* $(,)?];)*) => {
        /// The tables the generator writes, in parent-first order (the flush order).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum T { $($var),* }

        impl T {
            pub(crate) const ALL: &'static [T] = &[$(T::$var),*];

            pub(crate) fn name(self) -> &'static str {
                match self { $(T::$var => $name),* }
            }

            pub(crate) fn columns(self) -> &'static [&'static str] {
                match self { $(T::$var => &[$($col),*]),* }
            }

            /// The auto-increment primary key, for tables whose ids we allocate.
            pub(crate) fn pk(self) -> Option<&'static str> {
                match self { $(T::$var => $pk),* }
            }

            pub(crate) fn index(self) -> usize {
                self as usize
            }
        }
    };
}

tables! {
    CustomerEntity = "customer_entity", Some("entity_id"), [
        "entity_id", "entity_type_id", "attribute_set_id", "website_id", "email", "group_id",
        "increment_id", "store_id", "created_at", "updated_at", "is_active",
        "disable_auto_group_change",
    ];
    CustomerVarchar = "customer_entity_varchar", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    CustomerInt = "customer_entity_int", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    CustomerDatetime = "customer_entity_datetime", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    CustomerText = "customer_entity_text", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    CustomerDecimal = "customer_entity_decimal", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    AddressEntity = "customer_address_entity", Some("entity_id"), [
        "entity_id", "entity_type_id", "attribute_set_id", "increment_id", "parent_id",
        "created_at", "updated_at", "is_active",
    ];
    AddressVarchar = "customer_address_entity_varchar", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    AddressText = "customer_address_entity_text", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    AddressInt = "customer_address_entity_int", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    AddressDatetime = "customer_address_entity_datetime", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    AddressDecimal = "customer_address_entity_decimal", Some("value_id"), [
        "value_id", "entity_type_id", "attribute_id", "entity_id", "value",
    ];
    Quote = "sales_flat_quote", Some("entity_id"), [
        "entity_id", "store_id", "created_at", "updated_at", "is_active", "is_virtual",
        "is_multi_shipping", "items_count", "items_qty", "orig_order_id", "store_to_base_rate",
        "store_to_quote_rate", "base_currency_code", "store_currency_code",
        "quote_currency_code", "grand_total", "base_grand_total", "checkout_method",
        "customer_id", "customer_tax_class_id", "customer_group_id", "customer_email",
        "customer_firstname", "customer_lastname", "customer_dob", "customer_note_notify",
        "customer_is_guest", "remote_ip", "applied_rule_ids", "reserved_order_id",
        "coupon_code", "global_currency_code", "base_to_global_rate", "base_to_quote_rate",
        "customer_gender", "subtotal", "base_subtotal", "subtotal_with_discount",
        "base_subtotal_with_discount", "is_changed", "trigger_recollect", "is_persistent",
    ];
    QuoteItem = "sales_flat_quote_item", Some("item_id"), [
        "item_id", "quote_id", "created_at", "updated_at", "product_id", "store_id",
        "is_virtual", "sku", "name", "applied_rule_ids", "free_shipping", "is_qty_decimal",
        "no_discount", "weight", "qty", "price", "base_price", "discount_percent",
        "discount_amount", "base_discount_amount", "tax_percent", "tax_amount",
        "base_tax_amount", "row_total", "base_row_total", "row_total_with_discount",
        "row_weight", "product_type", "price_incl_tax", "base_price_incl_tax",
        "row_total_incl_tax", "base_row_total_incl_tax", "hidden_tax_amount",
        "base_hidden_tax_amount",
    ];
    QuoteItemOption = "sales_flat_quote_item_option", Some("option_id"), [
        "option_id", "item_id", "product_id", "code", "value",
    ];
    QuoteAddress = "sales_flat_quote_address", Some("address_id"), [
        "address_id", "quote_id", "created_at", "updated_at", "customer_id",
        "save_in_address_book", "customer_address_id", "address_type", "email", "firstname",
        "lastname", "company", "street", "city", "region", "region_id", "postcode",
        "country_id", "telephone", "same_as_billing", "collect_shipping_rates",
        "shipping_method", "shipping_description", "weight", "subtotal", "base_subtotal",
        "subtotal_with_discount", "base_subtotal_with_discount", "tax_amount",
        "base_tax_amount", "shipping_amount", "base_shipping_amount", "shipping_tax_amount",
        "base_shipping_tax_amount", "discount_amount", "base_discount_amount", "grand_total",
        "base_grand_total", "applied_taxes", "subtotal_incl_tax", "shipping_incl_tax",
        "base_shipping_incl_tax",
    ];
    QuotePayment = "sales_flat_quote_payment", Some("payment_id"), [
        "payment_id", "quote_id", "created_at", "updated_at", "method", "cc_type",
        "cc_last4", "cc_owner", "cc_exp_month", "cc_exp_year", "po_number",
        "additional_information",
    ];
    QuoteShippingRate = "sales_flat_quote_shipping_rate", Some("rate_id"), [
        "rate_id", "address_id", "created_at", "updated_at", "carrier", "carrier_title",
        "code", "method", "method_description", "price", "method_title",
    ];
    Order = "sales_flat_order", Some("entity_id"), [
        "entity_id", "state", "status", "coupon_code", "protect_code", "shipping_description",
        "is_virtual", "store_id", "customer_id",
        "base_discount_amount", "base_discount_canceled", "base_discount_invoiced",
        "base_discount_refunded", "base_grand_total", "base_shipping_amount",
        "base_shipping_canceled", "base_shipping_invoiced", "base_shipping_refunded",
        "base_shipping_tax_amount", "base_shipping_tax_refunded", "base_subtotal",
        "base_subtotal_canceled", "base_subtotal_invoiced", "base_subtotal_refunded",
        "base_tax_amount", "base_tax_canceled", "base_tax_invoiced", "base_tax_refunded",
        "base_to_global_rate", "base_to_order_rate", "base_total_canceled",
        "base_total_invoiced", "base_total_invoiced_cost", "base_total_offline_refunded",
        "base_total_online_refunded", "base_total_paid", "base_total_qty_ordered",
        "base_total_refunded",
        "discount_amount", "discount_canceled", "discount_invoiced", "discount_refunded",
        "grand_total", "shipping_amount", "shipping_canceled", "shipping_invoiced",
        "shipping_refunded", "shipping_tax_amount", "shipping_tax_refunded",
        "store_to_base_rate", "store_to_order_rate", "subtotal", "subtotal_canceled",
        "subtotal_invoiced", "subtotal_refunded", "tax_amount", "tax_canceled",
        "tax_invoiced", "tax_refunded", "total_canceled", "total_invoiced",
        "total_offline_refunded", "total_online_refunded", "total_paid", "total_qty_ordered",
        "total_refunded",
        "customer_is_guest", "customer_note_notify", "billing_address_id",
        "customer_group_id", "email_sent", "quote_address_id", "quote_id",
        "shipping_address_id", "base_subtotal_incl_tax", "base_total_due",
        "subtotal_incl_tax", "total_due", "weight", "customer_dob", "increment_id",
        "applied_rule_ids", "base_currency_code", "customer_email", "customer_firstname",
        "customer_lastname", "customer_middlename", "customer_prefix", "customer_taxvat",
        "discount_description", "global_currency_code", "hold_before_state",
        "hold_before_status", "order_currency_code", "remote_ip", "shipping_method",
        "store_currency_code", "store_name", "x_forwarded_for", "customer_note",
        "created_at", "updated_at", "total_item_count", "customer_gender",
        "hidden_tax_amount", "base_hidden_tax_amount", "shipping_hidden_tax_amount",
        "base_shipping_hidden_tax_amnt", "shipping_incl_tax", "base_shipping_incl_tax",
        "paypal_ipn_customer_notified", "coupon_rule_name",
    ];
    OrderItem = "sales_flat_order_item", Some("item_id"), [
        "item_id", "order_id", "quote_item_id", "store_id", "created_at", "updated_at",
        "product_id", "product_type", "product_options", "weight", "is_virtual", "sku",
        "name", "applied_rule_ids", "free_shipping", "is_qty_decimal", "no_discount",
        "qty_canceled", "qty_invoiced", "qty_ordered", "qty_refunded", "qty_shipped",
        "base_cost", "price", "base_price", "original_price", "base_original_price",
        "tax_percent", "tax_amount", "base_tax_amount", "tax_invoiced", "base_tax_invoiced",
        "discount_percent", "discount_amount", "base_discount_amount", "discount_invoiced",
        "base_discount_invoiced", "amount_refunded", "base_amount_refunded", "row_total",
        "base_row_total", "row_invoiced", "base_row_invoiced", "row_weight",
        "price_incl_tax", "base_price_incl_tax", "row_total_incl_tax",
        "base_row_total_incl_tax", "hidden_tax_amount", "base_hidden_tax_amount",
        "is_nominal", "tax_canceled", "tax_refunded", "base_tax_refunded",
        "discount_refunded", "base_discount_refunded",
    ];
    OrderAddress = "sales_flat_order_address", Some("entity_id"), [
        "entity_id", "parent_id", "customer_address_id", "quote_address_id", "region_id",
        "customer_id", "fax", "region", "postcode", "lastname", "street", "city", "email",
        "telephone", "country_id", "firstname", "address_type", "prefix", "middlename",
        "company", "vat_id",
    ];
    OrderPayment = "sales_flat_order_payment", Some("entity_id"), [
        "entity_id", "parent_id", "base_shipping_captured", "shipping_captured",
        "amount_refunded", "base_amount_paid", "amount_canceled", "base_amount_authorized",
        "base_amount_paid_online", "base_amount_refunded_online", "base_shipping_amount",
        "shipping_amount", "amount_paid", "amount_authorized", "base_amount_ordered",
        "base_shipping_refunded", "shipping_refunded", "base_amount_refunded",
        "amount_ordered", "base_amount_canceled", "quote_payment_id", "cc_exp_month",
        "method", "cc_last4", "last_trans_id", "cc_owner", "cc_type", "po_number",
        "cc_exp_year", "additional_information",
    ];
    OrderStatusHistory = "sales_flat_order_status_history", Some("entity_id"), [
        "entity_id", "parent_id", "is_customer_notified", "is_visible_on_front", "comment",
        "status", "created_at", "entity_name",
    ];
    OrderGrid = "sales_flat_order_grid", None, [
        "entity_id", "status", "store_id", "store_name", "customer_id", "base_grand_total",
        "base_total_paid", "grand_total", "total_paid", "increment_id", "base_currency_code",
        "order_currency_code", "shipping_name", "billing_name", "created_at", "updated_at",
    ];
    PaymentTransaction = "sales_payment_transaction", Some("transaction_id"), [
        "transaction_id", "parent_id", "order_id", "payment_id", "txn_id", "parent_txn_id",
        "txn_type", "is_closed", "additional_information", "created_at",
    ];
    OrderTax = "sales_order_tax", Some("tax_id"), [
        "tax_id", "order_id", "code", "title", "percent", "amount", "priority", "position",
        "base_amount", "process", "base_real_amount", "hidden",
    ];
    OrderTaxItem = "sales_order_tax_item", Some("tax_item_id"), [
        "tax_item_id", "tax_id", "item_id", "tax_percent",
    ];
    Invoice = "sales_flat_invoice", Some("entity_id"), [
        "entity_id", "store_id", "base_grand_total", "shipping_tax_amount", "tax_amount",
        "base_tax_amount", "store_to_order_rate", "base_shipping_tax_amount",
        "base_discount_amount", "base_to_order_rate", "grand_total", "shipping_amount",
        "subtotal_incl_tax", "base_subtotal_incl_tax", "store_to_base_rate",
        "base_shipping_amount", "total_qty", "base_to_global_rate", "subtotal",
        "base_subtotal", "discount_amount", "billing_address_id", "is_used_for_refund",
        "order_id", "email_sent", "can_void_flag", "state", "shipping_address_id",
        "store_currency_code", "transaction_id", "order_currency_code", "base_currency_code",
        "global_currency_code", "increment_id", "created_at", "updated_at",
        "hidden_tax_amount", "base_hidden_tax_amount", "shipping_incl_tax",
        "base_shipping_incl_tax", "base_total_refunded",
    ];
    InvoiceItem = "sales_flat_invoice_item", Some("entity_id"), [
        "entity_id", "parent_id", "base_price", "tax_amount", "base_row_total",
        "discount_amount", "row_total", "base_discount_amount", "price_incl_tax",
        "base_tax_amount", "base_price_incl_tax", "qty", "base_cost", "price",
        "base_row_total_incl_tax", "row_total_incl_tax", "product_id", "order_item_id",
        "sku", "name", "hidden_tax_amount", "base_hidden_tax_amount",
    ];
    InvoiceComment = "sales_flat_invoice_comment", Some("entity_id"), [
        "entity_id", "parent_id", "is_customer_notified", "is_visible_on_front", "comment",
        "created_at",
    ];
    InvoiceGrid = "sales_flat_invoice_grid", None, [
        "entity_id", "store_id", "base_grand_total", "grand_total", "order_id", "state",
        "store_currency_code", "order_currency_code", "base_currency_code",
        "global_currency_code", "increment_id", "order_increment_id", "created_at",
        "order_created_at", "billing_name",
    ];
    Shipment = "sales_flat_shipment", Some("entity_id"), [
        "entity_id", "store_id", "total_weight", "total_qty", "email_sent", "order_id",
        "customer_id", "shipping_address_id", "billing_address_id", "shipment_status",
        "increment_id", "created_at", "updated_at", "packages",
    ];
    ShipmentItem = "sales_flat_shipment_item", Some("entity_id"), [
        "entity_id", "parent_id", "row_total", "price", "weight", "qty", "product_id",
        "order_item_id", "name", "sku",
    ];
    ShipmentTrack = "sales_flat_shipment_track", Some("entity_id"), [
        "entity_id", "parent_id", "weight", "qty", "order_id", "track_number", "description",
        "title", "carrier_code", "created_at", "updated_at",
    ];
    ShipmentComment = "sales_flat_shipment_comment", Some("entity_id"), [
        "entity_id", "parent_id", "is_customer_notified", "is_visible_on_front", "comment",
        "created_at",
    ];
    ShipmentGrid = "sales_flat_shipment_grid", None, [
        "entity_id", "store_id", "total_qty", "order_id", "shipment_status", "increment_id",
        "order_increment_id", "created_at", "order_created_at", "shipping_name",
    ];
    Creditmemo = "sales_flat_creditmemo", Some("entity_id"), [
        "entity_id", "store_id", "adjustment_positive", "base_shipping_tax_amount",
        "store_to_order_rate", "base_discount_amount", "base_to_order_rate", "grand_total",
        "base_adjustment_negative", "base_subtotal_incl_tax", "shipping_amount",
        "subtotal_incl_tax", "adjustment_negative", "base_shipping_amount",
        "store_to_base_rate", "base_to_global_rate", "base_adjustment", "base_subtotal",
        "discount_amount", "subtotal", "adjustment", "base_grand_total",
        "base_adjustment_positive", "base_tax_amount", "shipping_tax_amount", "tax_amount",
        "order_id", "email_sent", "creditmemo_status", "state", "shipping_address_id",
        "billing_address_id", "invoice_id", "store_currency_code", "order_currency_code",
        "base_currency_code", "global_currency_code", "transaction_id", "increment_id",
        "created_at", "updated_at", "shipping_incl_tax", "base_shipping_incl_tax",
    ];
    CreditmemoItem = "sales_flat_creditmemo_item", Some("entity_id"), [
        "entity_id", "parent_id", "base_price", "tax_amount", "base_row_total",
        "discount_amount", "row_total", "base_discount_amount", "price_incl_tax",
        "base_tax_amount", "base_price_incl_tax", "qty", "base_cost", "price",
        "base_row_total_incl_tax", "row_total_incl_tax", "product_id", "order_item_id",
        "sku", "name",
    ];
    CreditmemoComment = "sales_flat_creditmemo_comment", Some("entity_id"), [
        "entity_id", "parent_id", "is_customer_notified", "is_visible_on_front", "comment",
        "created_at",
    ];
    CreditmemoGrid = "sales_flat_creditmemo_grid", None, [
        "entity_id", "store_id", "store_to_order_rate", "base_to_order_rate", "grand_total",
        "store_to_base_rate", "base_to_global_rate", "base_grand_total", "order_id",
        "creditmemo_status", "state", "invoice_id", "store_currency_code",
        "order_currency_code", "base_currency_code", "global_currency_code", "increment_id",
        "order_increment_id", "created_at", "order_created_at", "billing_name",
    ];
    Review = "review", Some("review_id"), [
        "review_id", "created_at", "entity_id", "entity_pk_value", "status_id",
    ];
    ReviewDetail = "review_detail", Some("detail_id"), [
        "detail_id", "review_id", "store_id", "title", "detail", "nickname", "customer_id",
    ];
    ReviewStore = "review_store", None, ["review_id", "store_id"];
    RatingVote = "rating_option_vote", Some("vote_id"), [
        "vote_id", "option_id", "remote_ip", "remote_ip_long", "customer_id",
        "entity_pk_value", "rating_id", "review_id", "percent", "value",
    ];
    Subscriber = "newsletter_subscriber", Some("subscriber_id"), [
        "subscriber_id", "store_id", "change_status_at", "customer_id", "subscriber_email",
        "subscriber_status", "subscriber_confirm_code",
    ];
    Wishlist = "wishlist", Some("wishlist_id"), [
        "wishlist_id", "customer_id", "shared", "sharing_code", "updated_at",
    ];
    WishlistItem = "wishlist_item", Some("wishlist_item_id"), [
        "wishlist_item_id", "wishlist_id", "product_id", "store_id", "added_at",
        "description", "qty",
    ];
    WishlistItemOption = "wishlist_item_option", Some("option_id"), [
        "option_id", "wishlist_item_id", "product_id", "code", "value",
    ];
    LogVisitor = "log_visitor", Some("visitor_id"), [
        "visitor_id", "session_id", "first_visit_at", "last_visit_at", "last_url_id",
        "store_id",
    ];
    LogCustomer = "log_customer", Some("log_id"), [
        "log_id", "visitor_id", "customer_id", "login_at", "logout_at", "store_id",
    ];
}

/// Number of tables in [`T`].
pub(crate) const TABLES: usize = T::ALL.len();

/// Writes SQL literals into a string. Strings are quoted for the session's `sql_mode`: with
/// `NO_BACKSLASH_ESCAPES` a backslash is an ordinary character, without it one must double it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lit {
    pub no_backslash_escapes: bool,
}

impl Lit {
    pub fn push_str(self, out: &mut String, s: &str) {
        out.push('\'');
        for c in s.chars() {
            match c {
                '\'' => out.push_str("''"),
                '\\' if !self.no_backslash_escapes => out.push_str("\\\\"),
                // NUL would end a C string somewhere along the way; never generated, but safe.
                '\0' if !self.no_backslash_escapes => out.push_str("\\0"),
                c => out.push(c),
            }
        }
        out.push('\'');
    }
}

/// 1/10000 units as a `decimal(12,4)` literal (quantities, weights, rates, percents).
pub(crate) fn dec4_str(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:04}", a / 10_000, a % 10_000)
}

/// One row being rendered: values in column order.
pub(crate) struct Row<'a> {
    buf: &'a mut String,
    lit: Lit,
    n: usize,
}

impl Row<'_> {
    fn sep(&mut self) {
        if self.n > 0 {
            self.buf.push(',');
        }
        self.n += 1;
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.push_str("NULL");
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    /// `put` of the value, or NULL: the `opt_*` writers.
    fn or_null<V>(
        &mut self,
        v: Option<V>,
        put: impl FnOnce(&mut Self, V) -> &mut Self,
    ) -> &mut Self {
        match v {
            Some(v) => put(self, v),
            None => self.null(),
        }
    }

    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        self.or_null(v, Self::int)
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.sep();
        self.lit.push_str(self.buf, v);
        self
    }

    pub fn opt_str(&mut self, v: Option<&str>) -> &mut Self {
        self.or_null(v, Self::str)
    }

    /// A `decimal(12,4)` in 1/10000 units.
    pub fn dec4(&mut self, v: i64) -> &mut Self {
        self.sep();
        self.buf.push_str(&dec4_str(v));
        self
    }

    pub fn opt_dec4(&mut self, v: Option<i64>) -> &mut Self {
        self.or_null(v, Self::dec4)
    }

    pub fn ts(&mut self, t: Ts) -> &mut Self {
        self.sep();
        self.buf.push('\'');
        self.buf.push_str(&t.to_string());
        self.buf.push('\'');
        self
    }

    pub fn opt_ts(&mut self, t: Option<Ts>) -> &mut Self {
        self.or_null(t, Self::ts)
    }

    /// Bytes as a hex literal, for binary columns (never mixed into a character string).
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.sep();
        if v.is_empty() {
            self.buf.push_str("''");
            return self;
        }
        self.buf.push_str("X'");
        for b in v {
            let _ = write!(self.buf, "{b:02X}");
        }
        self.buf.push('\'');
        self
    }
}

/// Rows waiting for one table.
#[derive(Default)]
struct Batch {
    values: String,
    rows: usize,
}

/// Collects rows per table and sends them as multi-row INSERTs, parents first.
pub(crate) struct Writer {
    batches: Vec<Batch>,
    /// Rows written per table since the writer was made (sent or waiting).
    counts: [u64; TABLES],
    lit: Lit,
    max_rows: usize,
    max_bytes: usize,
}

impl Writer {
    /// `max_rows` rows or `max_bytes` of values in any one table make [`Writer::is_full`] true.
    pub fn new(lit: Lit, max_rows: usize, max_bytes: usize) -> Writer {
        Writer {
            batches: (0..TABLES).map(|_| Batch::default()).collect(),
            counts: [0; TABLES],
            lit,
            max_rows,
            max_bytes,
        }
    }

    /// Adds one row to `table`; `fill` must give one value per column of [`T::columns`].
    pub fn row(&mut self, table: T, fill: impl FnOnce(&mut Row<'_>)) {
        let batch = &mut self.batches[table.index()];
        if batch.rows > 0 {
            batch.values.push(',');
        }
        batch.values.push('(');
        let mut row = Row {
            buf: &mut batch.values,
            lit: self.lit,
            n: 0,
        };
        fill(&mut row);
        let n = row.n;
        debug_assert_eq!(n, table.columns().len(), "value count for {}", table.name());
        batch.values.push(')');
        batch.rows += 1;
        self.counts[table.index()] += 1;
    }

    /// Whether some table has reached its batch limit.
    pub fn is_full(&self) -> bool {
        self.batches
            .iter()
            .any(|b| b.rows >= self.max_rows || b.values.len() >= self.max_bytes)
    }

    /// Sends every waiting row, parent tables first, on the caller's connection or transaction.
    pub async fn flush<Q: Queryable>(&mut self, q: &mut Q) -> Result<(), mysql_async::Error> {
        for &table in T::ALL {
            let batch = &mut self.batches[table.index()];
            if batch.rows == 0 {
                continue;
            }
            let mut sql = String::with_capacity(batch.values.len() + 256);
            sql.push_str("INSERT INTO `");
            sql.push_str(table.name());
            sql.push_str("` (");
            for (i, c) in table.columns().iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push('`');
                sql.push_str(c);
                sql.push('`');
            }
            sql.push_str(") VALUES ");
            sql.push_str(&batch.values);
            batch.values.clear();
            batch.rows = 0;
            q.query_drop(sql).await?;
        }
        Ok(())
    }

    /// Rows added per table, by table name (tables without rows left out).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        T::ALL
            .iter()
            .filter(|t| self.counts[t.index()] > 0)
            .map(|t| (t.name().to_string(), self.counts[t.index()]))
            .collect()
    }

    #[cfg(test)]
    pub fn count(&self, table: T) -> u64 {
        self.counts[table.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        let mut s = String::new();
        Lit {
            no_backslash_escapes: false,
        }
        .push_str(&mut s, "O'Brien \\ 😀");
        assert_eq!(s, "'O''Brien \\\\ 😀'");
        let mut s = String::new();
        Lit {
            no_backslash_escapes: true,
        }
        .push_str(&mut s, "a\\b");
        assert_eq!(s, "'a\\b'");
        assert_eq!(dec4_str(-123_400), "-12.3400");
        assert_eq!(dec4_str(500), "0.0500");
        assert_eq!(dec4_str(12_345), "1.2345");
    }

    #[test]
    fn rows_render_in_column_order() {
        let mut w = Writer::new(
            Lit {
                no_backslash_escapes: false,
            },
            10,
            1 << 20,
        );
        w.row(T::ReviewStore, |r| {
            r.int(1).int(2);
        });
        w.row(T::ReviewStore, |r| {
            r.int(1).int(0);
        });
        assert_eq!(w.count(T::ReviewStore), 2);
        assert_eq!(w.batches[T::ReviewStore.index()].values, "(1,2),(1,0)");
        assert!(!w.is_full());
    }
}
