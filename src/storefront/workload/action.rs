//! What the workload does: the kinds of storefront action, the action performed with the
//! ids it touched, and the weights that mix them.

use std::collections::BTreeMap;

/// The kinds of storefront action, for weights and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    RegisterCustomer,
    EditCustomer,
    QuoteActivity,
    PlaceOrder,
    ChangeOrderStatus,
    Invoice,
    Ship,
    Refund,
    SubmitReview,
    Newsletter,
    Visit,
    DeleteCustomer,
    CleanQuote,
    DeleteReview,
}

impl ActionKind {
    pub const ALL: [ActionKind; 14] = [
        ActionKind::RegisterCustomer,
        ActionKind::EditCustomer,
        ActionKind::QuoteActivity,
        ActionKind::PlaceOrder,
        ActionKind::ChangeOrderStatus,
        ActionKind::Invoice,
        ActionKind::Ship,
        ActionKind::Refund,
        ActionKind::SubmitReview,
        ActionKind::Newsletter,
        ActionKind::Visit,
        ActionKind::DeleteCustomer,
        ActionKind::CleanQuote,
        ActionKind::DeleteReview,
    ];

    /// What to do instead when nothing qualifies (no order to invoice, no customer to edit…):
    /// an action that creates what the first one lacked.
    pub(super) fn fallback(self) -> ActionKind {
        match self {
            ActionKind::ChangeOrderStatus
            | ActionKind::Invoice
            | ActionKind::Ship
            | ActionKind::Refund => ActionKind::PlaceOrder,
            ActionKind::EditCustomer | ActionKind::DeleteCustomer => ActionKind::RegisterCustomer,
            ActionKind::CleanQuote | ActionKind::PlaceOrder => ActionKind::QuoteActivity,
            ActionKind::DeleteReview => ActionKind::SubmitReview,
            _ => ActionKind::RegisterCustomer,
        }
    }
}

/// One performed action and the main ids it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// customer_entity + EAV rows + one address (+ its EAV rows), maybe a subscription.
    RegisterCustomer {
        customer_id: u64,
        address_id: u64,
        subscribed: bool,
    },
    /// EAV UPDATEs of changed values, INSERTs of new ones, DELETEs of emptied ones.
    EditCustomer {
        customer_id: u64,
        updated: u32,
        inserted: u32,
        deleted: u32,
    },
    /// A new cart, or items added/changed/removed and shipping rates deleted and re-inserted.
    QuoteActivity {
        quote_id: u64,
        created: bool,
        items_added: u32,
        items_removed: u32,
    },
    /// Order from an active quote: order, items, addresses, payment, history, tax, grid,
    /// eav_entity_store increment, quote deactivated.
    PlaceOrder {
        order_id: u64,
        increment_id: String,
        quote_id: u64,
        customer_id: Option<u64>,
        store_id: u64,
    },
    /// Cancel, hold, unhold or comment: order UPDATE, history INSERT, grid refresh.
    ChangeOrderStatus {
        order_id: u64,
        status: String,
    },
    Invoice {
        order_id: u64,
        invoice_id: u64,
        increment_id: String,
    },
    Ship {
        order_id: u64,
        shipment_id: u64,
        increment_id: String,
    },
    /// A credit memo refunding the whole order.
    Refund {
        order_id: u64,
        creditmemo_id: u64,
        increment_id: String,
    },
    SubmitReview {
        review_id: u64,
        customer_id: Option<u64>,
    },
    /// A subscription (new row) or a status change (UPDATE subscriber_status).
    Newsletter {
        subscriber_id: u64,
        status: i64,
        new: bool,
    },
    /// A new visitor session, or a later page view updating last_visit_at.
    Visit {
        visitor_id: u64,
        new: bool,
    },
    /// Deleted by an admin: M1's ON DELETE CASCADE silently removes the EAV rows, addresses
    /// and wishlist; orders keep the customer's data with customer_id set to NULL.
    DeleteCustomer {
        customer_id: u64,
    },
    /// Removed by the quote cleanup cron, with its items, addresses, rates and payment.
    CleanQuote {
        quote_id: u64,
    },
    DeleteReview {
        review_id: u64,
    },
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::RegisterCustomer { .. } => ActionKind::RegisterCustomer,
            Action::EditCustomer { .. } => ActionKind::EditCustomer,
            Action::QuoteActivity { .. } => ActionKind::QuoteActivity,
            Action::PlaceOrder { .. } => ActionKind::PlaceOrder,
            Action::ChangeOrderStatus { .. } => ActionKind::ChangeOrderStatus,
            Action::Invoice { .. } => ActionKind::Invoice,
            Action::Ship { .. } => ActionKind::Ship,
            Action::Refund { .. } => ActionKind::Refund,
            Action::SubmitReview { .. } => ActionKind::SubmitReview,
            Action::Newsletter { .. } => ActionKind::Newsletter,
            Action::Visit { .. } => ActionKind::Visit,
            Action::DeleteCustomer { .. } => ActionKind::DeleteCustomer,
            Action::CleanQuote { .. } => ActionKind::CleanQuote,
            Action::DeleteReview { .. } => ActionKind::DeleteReview,
        }
    }
}

/// Relative weights of the action kinds. The default follows the schema notes (§3.3) for a
/// store at peak: quote churn first, then orders and their documents, customer saves, and
/// rarer reviews, newsletter changes and deletes. Visitor logging is scaled down (a real store
/// writes far more log rows than anything else) so the sales tables get most of the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadMix {
    pub register_customer: u32,
    pub edit_customer: u32,
    pub quote_activity: u32,
    pub place_order: u32,
    pub change_order_status: u32,
    pub invoice: u32,
    pub ship: u32,
    pub refund: u32,
    pub submit_review: u32,
    pub newsletter: u32,
    pub visit: u32,
    pub delete_customer: u32,
    pub clean_quote: u32,
    pub delete_review: u32,
}

impl Default for WorkloadMix {
    fn default() -> WorkloadMix {
        WorkloadMix {
            register_customer: 40,
            edit_customer: 60,
            quote_activity: 260,
            place_order: 100,
            change_order_status: 25,
            invoice: 90,
            ship: 85,
            refund: 12,
            submit_review: 20,
            newsletter: 25,
            visit: 150,
            delete_customer: 10,
            clean_quote: 30,
            delete_review: 8,
        }
    }
}

impl WorkloadMix {
    pub fn weight(&self, kind: ActionKind) -> u32 {
        match kind {
            ActionKind::RegisterCustomer => self.register_customer,
            ActionKind::EditCustomer => self.edit_customer,
            ActionKind::QuoteActivity => self.quote_activity,
            ActionKind::PlaceOrder => self.place_order,
            ActionKind::ChangeOrderStatus => self.change_order_status,
            ActionKind::Invoice => self.invoice,
            ActionKind::Ship => self.ship,
            ActionKind::Refund => self.refund,
            ActionKind::SubmitReview => self.submit_review,
            ActionKind::Newsletter => self.newsletter,
            ActionKind::Visit => self.visit,
            ActionKind::DeleteCustomer => self.delete_customer,
            ActionKind::CleanQuote => self.clean_quote,
            ActionKind::DeleteReview => self.delete_review,
        }
    }
}

/// Counts of performed actions per kind.
pub type ActionCounts = BTreeMap<ActionKind, u64>;
