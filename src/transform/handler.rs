//! The DMT's handler classes (`Migration\Handler\*`), by name.
//!
//! map.xml files name handlers by PHP class. mage-migrate recognises every handler the DMT
//! ships so that a stock map.xml loads; an unknown class (a typo, or a third-party PHP handler
//! with no Rust counterpart registered) is reported when map.xml is read, not mid-run.

/// Handler classes of the DMT, without the `Migration\Handler\` prefix.
pub const DMT_HANDLERS: &[&str] = &[
    "AddPrefix",
    "BundleParentProduct",
    "ClassMap",
    "CleanMultiselect",
    "Convert",
    "ConvertDateFormat",
    "ConvertEavValue",
    "ConvertIp",
    "ConvertTimestampToDate",
    "EavAttribute\\ApplyTo",
    "EavAttribute\\BackendTypeForMultiselect",
    "EavAttribute\\ConvertModel",
    "EavAttributeGroup\\SetGroupCode",
    "Encrypt",
    "FieldCopy",
    "Gallery\\InsertValueToEntity",
    "Gallery\\SetEntityId",
    "GetDestinationValue",
    "GetEventStatus",
    "Placeholder",
    "ProductAlertStoreId",
    "QuoteMultiAddressStoreId",
    "Rule\\ConditionSql",
    "Rule\\CustomerSegmentConditionSql",
    "Rule\\NormalizationIds",
    "Rule\\SerializedData",
    "SalesOrderStatusState\\SetVisibleOnFront",
    "Sequence",
    "SerializeToJson",
    "SerializeToJson\\ConvertWithConditions",
    "SerializeToJson\\ItemOption",
    "SerializeToJson\\SalesOrderItem",
    "SetDefaultWebsiteId",
    "SetHash",
    "SetValue",
    "SetValueAttributeCondition",
    "Settings\\CategoryRootId",
    "Settings\\Template",
    "Settings\\UrlSuffix",
    "StoreGroupCode",
    "Synonym",
    "Timezone",
    "TruncateSuffix",
    "VisualMerchandiser\\Attribute",
    "VisualMerchandiser\\InsertMode",
    "VisualMerchandiser\\SmartAttribute",
];

const PREFIX: &str = "Migration\\Handler\\";

/// Whether `class` (with or without a leading backslash) is a handler mage-migrate knows.
/// PHP class names are case-insensitive, and so is this.
pub fn is_known(class: &str) -> bool {
    let class = class.trim_start_matches('\\');
    let Some(prefix) = class.get(..PREFIX.len()) else {
        return false;
    };
    if !prefix.eq_ignore_ascii_case(PREFIX) {
        return false;
    }
    let short = &class[PREFIX.len()..];
    DMT_HANDLERS.iter().any(|h| h.eq_ignore_ascii_case(short))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_dmt_handlers_case_insensitively() {
        assert!(is_known(
            "\\Migration\\Handler\\SerializeToJson\\ItemOption"
        ));
        assert!(is_known("migration\\handler\\setvalue"));
        assert!(!is_known("Migration\\Handler\\Nope"));
        assert!(!is_known("Vendor\\Handler\\SetValue"));
        assert!(!is_known("Mig"));
    }
}
