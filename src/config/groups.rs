//! The DMT's "groups" files: deltalog.xml, customer-document-groups.xml,
//! order-grids-document-groups.xml, map-document-groups.xml and the attribute groups files.
//!
//! ```xml
//! <groups>
//!   <group name="delta_map">
//!     <document key="entity_id">sales_flat_order</document>
//!     <document key="category_id,product_id">catalog_category_product</document>
//!   </group>
//! </groups>
//! ```

use std::path::{Path, PathBuf};

use super::xml::Element;
use super::{read_xml, ConfigError};

/// One `<document>` or `<attribute>` of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// `document` or `attribute`.
    pub kind: String,
    pub value: String,
    pub key: Option<String>,
    pub entry_type: Option<String>,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub entries: Vec<GroupEntry>,
    pub line: usize,
}

impl Group {
    /// The `<document>` entries.
    pub fn documents(&self) -> impl Iterator<Item = &GroupEntry> {
        self.entries.iter().filter(|e| e.kind == "document")
    }
}

/// A table tracked by the deltalog, with its key columns in the order of the `key` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltalogTable {
    pub table: String,
    pub keys: Vec<String>,
    /// The group the key was taken from (the last one that lists the table).
    pub group: String,
}

#[derive(Debug, Clone)]
pub struct Groups {
    pub path: PathBuf,
    pub groups: Vec<Group>,
}

impl Groups {
    pub fn load(path: &Path) -> Result<Groups, ConfigError> {
        let root = read_xml(path)?;
        Self::from_element(path, &root)
    }

    pub fn from_element(path: &Path, root: &Element) -> Result<Groups, ConfigError> {
        if root.name != "groups" {
            return Err(ConfigError::element(
                path,
                root,
                "the root element of a groups file must be <groups>",
            ));
        }
        let mut groups: Vec<Group> = Vec::new();
        for group in &root.children {
            if group.name != "group" {
                return Err(ConfigError::element(
                    path,
                    group,
                    "unexpected element inside <groups>; only <group> is allowed",
                ));
            }
            let name = match group.attribute("name").map(str::trim) {
                Some(n) if !n.is_empty() => n.to_string(),
                _ => {
                    return Err(ConfigError::element(
                        path,
                        group,
                        "required attribute name is missing",
                    ))
                }
            };
            if let Some(first) = groups.iter().find(|g| g.name == name) {
                return Err(ConfigError::element(
                    path,
                    group,
                    format!(
                        "group \"{name}\" is defined twice (first at line {})",
                        first.line
                    ),
                ));
            }
            let mut entries = Vec::new();
            for entry in &group.children {
                if entry.name != "document" && entry.name != "attribute" {
                    return Err(ConfigError::element(
                        path,
                        entry,
                        format!("unexpected element in group \"{name}\"; expected <document> or <attribute>"),
                    ));
                }
                let value = entry.trimmed_text();
                if value.is_empty() {
                    return Err(ConfigError::element(
                        path,
                        entry,
                        format!("empty <{}> in group \"{name}\"", entry.name),
                    ));
                }
                entries.push(GroupEntry {
                    kind: entry.name.clone(),
                    value: value.to_string(),
                    key: entry.attribute("key").map(|k| k.trim().to_string()),
                    entry_type: entry.attribute("type").map(|t| t.trim().to_string()),
                    line: entry.line,
                    column: entry.column,
                });
            }
            groups.push(Group {
                name,
                entries,
                line: group.line,
            });
        }
        Ok(Groups {
            path: path.to_path_buf(),
            groups,
        })
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The DMT's `getGroup`: table → key string, for the `<document>` entries of one group.
    pub fn documents_of(&self, name: &str) -> Vec<(&str, Option<&str>)> {
        self.group(name)
            .map(|g| {
                g.documents()
                    .map(|d| (d.value.as_str(), d.key.as_deref()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every table of every group, as the deltalog installer sees them: flattened and
    /// de-duplicated by table, in order of first appearance, with the key from the *last* group
    /// that lists the table (PHP's array_merge, as the DMT's SetupDeltaLog does).
    /// Every document must have a non-empty `key` attribute: the DMT would otherwise create a
    /// key column named `''`.
    pub fn deltalog_tables(&self) -> Result<Vec<DeltalogTable>, ConfigError> {
        let mut tables: Vec<DeltalogTable> = Vec::new();
        for group in &self.groups {
            for doc in group.documents() {
                let keys = parse_key(doc.key.as_deref()).ok_or_else(|| {
                    let problem = match doc.key.as_deref() {
                        None => "has no key attribute".to_string(),
                        Some("") => "has an empty key attribute".to_string(),
                        Some(key) => format!("has key=\"{key}\", which names an empty column"),
                    };
                    ConfigError::at(
                        &self.path,
                        doc.line,
                        doc.column,
                        format!(
                            "<document>: {} in group \"{}\" {problem} (write key=\"entity_id\", or key=\"a,b\" for a composite key)",
                            doc.value, group.name
                        ),
                    )
                })?;
                match tables.iter_mut().find(|t| t.table == doc.value) {
                    Some(existing) => {
                        existing.keys = keys;
                        existing.group = group.name.clone();
                    }
                    None => tables.push(DeltalogTable {
                        table: doc.value.clone(),
                        keys,
                        group: group.name.clone(),
                    }),
                }
            }
        }
        Ok(tables)
    }
}

/// Splits `a,b` into key columns; `None` when there is no usable key.
fn parse_key(key: Option<&str>) -> Option<Vec<String>> {
    let parts: Vec<String> = key?.split(',').map(|k| k.trim().to_string()).collect();
    if parts.iter().any(String::is_empty) {
        return None;
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(xml: &str) -> Result<Groups, ConfigError> {
        let root = super::super::xml::parse(Path::new("g.xml"), xml.as_bytes())?;
        Groups::from_element(Path::new("g.xml"), &root)
    }

    #[test]
    fn dedups_by_table_keeping_first_position_and_last_key() {
        let g = groups(
            r#"<groups>
  <group name="a"><document key="item_id">stock</document><document key="entity_id">order</document></group>
  <group name="b"><document key=" product_id ">stock</document><document key="x, y">pair</document></group>
</groups>"#,
        )
        .unwrap();
        let t = g.deltalog_tables().unwrap();
        let names: Vec<_> = t.iter().map(|t| t.table.as_str()).collect();
        assert_eq!(names, ["stock", "order", "pair"]);
        assert_eq!(t[0].keys, ["product_id"]);
        assert_eq!(t[0].group, "b");
        assert_eq!(t[2].keys, ["x", "y"]);
    }

    #[test]
    fn document_without_key_is_named() {
        let g = groups("<groups>\n<group name=\"delta_x\">\n  <document>greatblog_post</document>\n</group></groups>").unwrap();
        let err = g.deltalog_tables().unwrap_err().to_string();
        assert_eq!(
            err,
            "g.xml:3:3: <document>: greatblog_post in group \"delta_x\" has no key attribute (write key=\"entity_id\", or key=\"a,b\" for a composite key)"
        );
    }

    #[test]
    fn empty_key_part_is_rejected() {
        let g =
            groups(r#"<groups><group name="x"><document key="a,">t</document></group></groups>"#)
                .unwrap();
        assert_eq!(
            g.deltalog_tables().unwrap_err().to_string(),
            "g.xml:1:25: <document>: t in group \"x\" has key=\"a,\", which names an empty column (write key=\"entity_id\", or key=\"a,b\" for a composite key)"
        );
        let g =
            groups(r#"<groups><group name="x"><document key=" ">t</document></group></groups>"#)
                .unwrap();
        assert_eq!(
            g.deltalog_tables().unwrap_err().to_string(),
            "g.xml:1:25: <document>: t in group \"x\" has an empty key attribute (write key=\"entity_id\", or key=\"a,b\" for a composite key)"
        );
    }

    #[test]
    fn duplicate_group_names_are_rejected() {
        let err = groups("<groups>\n<group name=\"a\"/>\n<group name=\"a\"/></groups>")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "g.xml:3:1: <group>: group \"a\" is defined twice (first at line 2)"
        );
    }

    #[test]
    fn attributes_with_type() {
        let g = groups(r#"<groups><group name="customer_entity"><attribute type="customer_entity">firstname</attribute></group></groups>"#).unwrap();
        let e = &g.group("customer_entity").unwrap().entries[0];
        assert_eq!(e.entry_type.as_deref(), Some("customer_entity"));
        assert_eq!(e.value, "firstname");
    }
}
