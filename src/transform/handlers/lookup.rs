//! Handlers that need a value from the database ([`Lookup`]), and the contract by which the
//! caller provides it.

use md5::{Digest, Md5};
use mysql_async::Value;

use super::{php_text, text_value};
use crate::config::map::HandlerSpec;
use crate::transform::handler;
use crate::transform::php::str_is_truthy;
use crate::transform::{Handler, Record, TransformError};

/// A value from the database that a handler needs and the caller must look up, per row, before
/// the handler runs. The caller puts the result in the column [`Lookup::column`] of the record
/// being handled or of the opposite record (for a destination-side handler, the M1 record: a
/// `LEFT JOIN` in the M1 select fills it in bulk). The handler reads it from its own record
/// first, then from the opposite one, and removes it from its own record. Never filled, it is a
/// [`TransformError`], not a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// `QuoteMultiAddressStoreId` (on `quote_address_item.store_id`): on the M1 database,
    /// `SELECT store_id FROM {prefix}sales_flat_quote_item WHERE item_id = ?` with the record's
    /// `quote_item_id`; the value found, or NULL when there is no such row.
    QuoteItemStoreId,
    /// `StoreGroupCode` (on `store_group.code`): on the M1 database, whether an earlier store
    /// group has exactly the same name:
    /// `SELECT EXISTS(SELECT 1 FROM {prefix}core_store_group WHERE BINARY name = BINARY ? AND
    /// group_id < ?)` with the record's `name` and `group_id`; 1 or 0.
    StoreGroupNameTaken,
    /// `SetValueAttributeCondition`, `ConvertEavValue` (on EAV value tables): on the M1
    /// database, `SELECT attribute_code FROM {prefix}eav_attribute WHERE attribute_id = ?` with
    /// the record's `attribute_id`; NULL when there is none.
    AttributeCode,
}

impl Lookup {
    /// The column that carries the looked-up value; no real column has such a name.
    pub fn column(self) -> &'static str {
        match self {
            Lookup::QuoteItemStoreId => "@lookup:sales_flat_quote_item.store_id",
            Lookup::StoreGroupNameTaken => "@lookup:core_store_group.name_taken",
            Lookup::AttributeCode => super::eav::ATTRIBUTE_CODE_LOOKUP,
        }
    }

    /// The query, for messages.
    pub fn query(self) -> &'static str {
        match self {
            Lookup::QuoteItemStoreId => {
                "SELECT store_id FROM sales_flat_quote_item WHERE item_id = <quote_item_id>"
            }
            Lookup::StoreGroupNameTaken => {
                "SELECT EXISTS(SELECT 1 FROM core_store_group WHERE BINARY name = BINARY <name> \
                 AND group_id < <group_id>)"
            }
            Lookup::AttributeCode => {
                "SELECT attribute_code FROM eav_attribute WHERE attribute_id = <attribute_id>"
            }
        }
    }

    /// Takes the looked-up value: from `record` (removing it), else from `opposite`.
    fn take(self, record: &mut Record, opposite: &Record) -> Result<Value, TransformError> {
        if let Some(v) = record.remove(self.column()) {
            return Ok(v);
        }
        opposite.get(self.column()).cloned().ok_or_else(|| {
            TransformError(format!(
                "{}: the value of `{}` was not looked up before the handler ran (the caller \
                 must fill column `{}`)",
                self.handler(),
                self.query(),
                self.column()
            ))
        })
    }

    fn handler(self) -> &'static str {
        match self {
            Lookup::QuoteItemStoreId => "QuoteMultiAddressStoreId",
            Lookup::StoreGroupNameTaken => "StoreGroupCode",
            Lookup::AttributeCode => "SetValueAttributeCondition or ConvertEavValue",
        }
    }
}

/// The lookup the handler of `spec` needs, if any.
pub fn required_lookup(spec: &HandlerSpec) -> Option<Lookup> {
    match handler::short_name(&spec.class)? {
        "QuoteMultiAddressStoreId" => Some(Lookup::QuoteItemStoreId),
        "StoreGroupCode" => Some(Lookup::StoreGroupNameTaken),
        "SetValueAttributeCondition" | "ConvertEavValue" => Some(Lookup::AttributeCode),
        _ => None,
    }
}

/// `Migration\Handler\QuoteMultiAddressStoreId`: the `store_id` of the address item's quote
/// item. Needs [`Lookup::QuoteItemStoreId`]; NULL when the quote item does not exist (the DMT's
/// `fetchOne` gives `false` there).
#[derive(Debug, Clone)]
pub struct QuoteMultiAddressStoreId;

impl Handler for QuoteMultiAddressStoreId {
    fn handle(
        &self,
        record: &mut Record,
        opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let store_id = Lookup::QuoteItemStoreId.take(record, opposite)?;
        record.set(field, store_id);
        Ok(())
    }
}

/// `Migration\Handler\StoreGroupCode`: a store group code made from its name: white space runs
/// to `_`, lower case, only `a-z 0-9 - _` kept, leading characters other than letters dropped;
/// `store_group` when nothing is left. A name that an earlier group (smaller `group_id`) already
/// has gets `-` and 32 hex digits appended: the DMT's are random (`md5(mt_rand())`), these are
/// the md5 of the group id, so a rerun writes the same code. Needs
/// [`Lookup::StoreGroupNameTaken`].
#[derive(Debug, Clone)]
pub struct StoreGroupCode;

/// The code the DMT makes from a store group name, before the duplicate suffix.
pub fn store_group_code(name: &[u8]) -> Vec<u8> {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let mut code = Vec::with_capacity(name.len());
    let mut in_space = false;
    for &b in name {
        if is_space(b) {
            if !in_space {
                code.push(b'_');
            }
            in_space = true;
            continue;
        }
        in_space = false;
        let b = b.to_ascii_lowercase();
        if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' {
            code.push(b);
        }
    }
    let first_letter = code
        .iter()
        .position(u8::is_ascii_lowercase)
        .unwrap_or(code.len());
    code.drain(..first_letter);
    code
}

impl Handler for StoreGroupCode {
    fn handle(
        &self,
        record: &mut Record,
        opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let taken = Lookup::StoreGroupNameTaken.take(record, opposite)?;
        let column = |name: &str| record.get(name).or_else(|| opposite.get(name));
        let name = php_text(column("name")).unwrap_or_default();
        let mut code = store_group_code(&name);
        let taken = match &taken {
            Value::NULL => false,
            v => php_text(Some(v)).is_some_and(|t| str_is_truthy(&t)),
        };
        if taken {
            let group_id = php_text(column("group_id")).unwrap_or_default();
            let digest = Md5::digest(&group_id);
            code.push(b'-');
            for byte in digest {
                code.extend_from_slice(format!("{byte:02x}").as_bytes());
            }
        }
        if code.is_empty() {
            code = b"store_group".to_vec();
        }
        record.set(field, text_value(code));
        Ok(())
    }
}
