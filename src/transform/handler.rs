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
    short_name(class).is_some()
}

/// The DMT's own spelling of a handler class without the `Migration\Handler\` prefix
/// (`"\\migration\\handler\\setvalue"` → `"SetValue"`), or None for a class the DMT does not ship.
pub fn short_name(class: &str) -> Option<&'static str> {
    let class = class.trim_start_matches('\\');
    let prefix = class.get(..PREFIX.len())?;
    if !prefix.eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let short = &class[PREFIX.len()..];
    DMT_HANDLERS
        .iter()
        .copied()
        .find(|h| h.eq_ignore_ascii_case(short))
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
        assert_eq!(
            short_name("\\migration\\handler\\serializetojson\\itemoption"),
            Some("SerializeToJson\\ItemOption")
        );
        assert_eq!(short_name("Migration\\Handler\\Nope"), None);
    }
}
