//! map.xml: which M1 tables and columns go where in M2, and which handlers transform them.
//!
//! Semantics follow the DMT's `Migration\Reader\Map`:
//! - a document is ignored by exact name or by a wildcard (`m2_cl_*`): `*` matches any run of
//!   characters and the pattern is anchored at the start only, as the DMT's regex is;
//! - renames (source side only) work both ways: `document_map("sales_order", Destination)` is
//!   `sales_flat_order`;
//! - moves (source side only) rename fields, also both ways, and are checked against the other
//!   side: a move onto an ignored document or field is the DMT's "ambiguous configuration".

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::xml::Element;
use super::{read_xml, ConfigError};
use crate::transform::handler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Source,
    Destination,
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Source => Side::Destination,
            Side::Destination => Side::Source,
        }
    }

    fn element_name(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Destination => "destination",
        }
    }
}

/// `<handler class="…"><param name="…" value="…"/></handler>` of a `<transform>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerSpec {
    /// Class name without a leading backslash, e.g. `Migration\Handler\SetValue`.
    pub class: String,
    pub params: Vec<(String, String)>,
    pub line: usize,
    pub column: usize,
}

impl HandlerSpec {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Default)]
struct SideRules {
    ignored_documents: HashSet<String>,
    document_wildcards: Vec<String>,
    ignored_fields: HashSet<String>,
    field_wildcards: Vec<String>,
    ignored_datatypes: HashSet<String>,
    /// (`doc.field`, handler) in document order.
    transforms: Vec<(String, HandlerSpec)>,
}

#[derive(Debug, Clone)]
pub struct MapRules {
    pub path: PathBuf,
    source: SideRules,
    destination: SideRules,
    /// (M1 document, M2 document).
    renames: Vec<(String, String)>,
    /// (`m1doc.field`, `m2doc.field`).
    moves: Vec<(String, String)>,
}

impl MapRules {
    pub fn load(path: &Path) -> Result<MapRules, ConfigError> {
        let root = read_xml(path)?;
        Self::from_element(path, &root)
    }

    pub fn from_element(path: &Path, root: &Element) -> Result<MapRules, ConfigError> {
        if root.name != "map" {
            return Err(ConfigError::element(
                path,
                root,
                "the root element of a map file must be <map>",
            ));
        }
        let mut rules = MapRules {
            path: path.to_path_buf(),
            source: SideRules::default(),
            destination: SideRules::default(),
            renames: Vec::new(),
            moves: Vec::new(),
        };
        for side in [Side::Source, Side::Destination] {
            let element = root.child(side.element_name()).ok_or_else(|| {
                ConfigError::element(
                    path,
                    root,
                    format!("the <{}> element is missing", side.element_name()),
                )
            })?;
            rules.read_side(side, element)?;
        }
        if let Some(other) = root
            .children
            .iter()
            .find(|c| c.name != "source" && c.name != "destination")
        {
            return Err(ConfigError::element(
                path,
                other,
                "unexpected element; <map> holds <source> and <destination>",
            ));
        }
        Ok(rules)
    }

    fn side(&self, side: Side) -> &SideRules {
        match side {
            Side::Source => &self.source,
            Side::Destination => &self.destination,
        }
    }

    fn read_side(&mut self, side: Side, element: &Element) -> Result<(), ConfigError> {
        let path = self.path.clone();
        let unexpected = |e: &Element, allowed: &str| {
            ConfigError::element(
                &path,
                e,
                format!("unexpected element here; allowed: {allowed}"),
            )
        };
        for section in &element.children {
            match section.name.as_str() {
                "document_rules" => {
                    for rule in &section.children {
                        match rule.name.as_str() {
                            "ignore" => {
                                let doc = self.only_child_text(rule, "document")?;
                                let rules = self.side_mut(side);
                                if doc.contains('*') {
                                    rules.document_wildcards.push(doc);
                                } else {
                                    rules.ignored_documents.insert(doc);
                                }
                            }
                            "rename" if side == Side::Source => {
                                let from = self.child_text(rule, "document")?;
                                let to = self.child_text(rule, "to")?;
                                self.renames.push((from, to));
                            }
                            _ => {
                                return Err(unexpected(
                                    rule,
                                    if side == Side::Source {
                                        "<ignore>, <rename>"
                                    } else {
                                        "<ignore>"
                                    },
                                ))
                            }
                        }
                    }
                }
                "field_rules" => {
                    for rule in &section.children {
                        match rule.name.as_str() {
                            "ignore" => {
                                let target = rule.children.first().ok_or_else(|| {
                                    ConfigError::element(
                                        &path,
                                        rule,
                                        "needs a <field> or <datatype> element",
                                    )
                                })?;
                                let value = self.field_text(target)?;
                                let rules = self.side_mut(side);
                                match target.name.as_str() {
                                    "field" if value.contains('*') => {
                                        rules.field_wildcards.push(value)
                                    }
                                    "field" => {
                                        rules.ignored_fields.insert(value);
                                    }
                                    "datatype" => {
                                        rules.ignored_datatypes.insert(value);
                                    }
                                    _ => return Err(unexpected(target, "<field>, <datatype>")),
                                }
                            }
                            "move" if side == Side::Source => {
                                let field = self.child(rule, "field")?;
                                let to = self.child(rule, "to")?;
                                let pair = (self.field_text(field)?, self.field_text(to)?);
                                self.moves.push(pair);
                            }
                            "transform" => {
                                let field = self.field_text(self.child(rule, "field")?)?;
                                let mut found = false;
                                for h in rule.children_named("handler") {
                                    let spec = self.handler(h)?;
                                    self.side_mut(side).transforms.push((field.clone(), spec));
                                    found = true;
                                }
                                if !found {
                                    return Err(ConfigError::element(
                                        &path,
                                        rule,
                                        "needs a <handler class=\"…\"> element",
                                    ));
                                }
                            }
                            _ => {
                                return Err(unexpected(
                                    rule,
                                    if side == Side::Source {
                                        "<ignore>, <move>, <transform>"
                                    } else {
                                        "<ignore>, <transform>"
                                    },
                                ))
                            }
                        }
                    }
                }
                _ => return Err(unexpected(section, "<document_rules>, <field_rules>")),
            }
        }
        Ok(())
    }

    fn side_mut(&mut self, side: Side) -> &mut SideRules {
        match side {
            Side::Source => &mut self.source,
            Side::Destination => &mut self.destination,
        }
    }

    fn child<'a>(&self, parent: &'a Element, name: &str) -> Result<&'a Element, ConfigError> {
        parent.child(name).ok_or_else(|| {
            ConfigError::element(&self.path, parent, format!("needs a <{name}> element"))
        })
    }

    fn child_text(&self, parent: &Element, name: &str) -> Result<String, ConfigError> {
        let child = self.child(parent, name)?;
        let text = child.trimmed_text();
        if text.is_empty() {
            return Err(ConfigError::element(&self.path, child, "is empty"));
        }
        Ok(text.to_string())
    }

    fn only_child_text(&self, parent: &Element, name: &str) -> Result<String, ConfigError> {
        if let Some(other) = parent.children.iter().find(|c| c.name != name) {
            return Err(ConfigError::element(
                &self.path,
                other,
                format!("unexpected element; expected <{name}>"),
            ));
        }
        self.child_text(parent, name)
    }

    /// A `document.field` reference.
    fn field_text(&self, element: &Element) -> Result<String, ConfigError> {
        let text = element.trimmed_text();
        let mut parts = text.split('.');
        let ok = matches!(
            (parts.next(), parts.next(), parts.next()),
            (Some(d), Some(f), None) if !d.is_empty() && !f.is_empty()
        );
        if !ok {
            return Err(ConfigError::element(
                &self.path,
                element,
                format!("\"{text}\" is not of the form document.field"),
            ));
        }
        Ok(text.to_string())
    }

    fn handler(&self, element: &Element) -> Result<HandlerSpec, ConfigError> {
        let class = element
            .attribute("class")
            .map(|c| c.trim().trim_start_matches('\\'))
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                ConfigError::element(&self.path, element, "required attribute class is missing")
            })?;
        if !handler::is_known(class) {
            return Err(ConfigError::element(
                &self.path,
                element,
                format!(
                    "unknown handler class {class}; mage-migrate knows the DMT's own Migration\\Handler\\* classes"
                ),
            ));
        }
        let mut params: Vec<(String, String)> = Vec::new();
        for param in &element.children {
            if param.name != "param" {
                return Err(ConfigError::element(
                    &self.path,
                    param,
                    "unexpected element; a <handler> holds <param name=\"…\" value=\"…\"/> elements",
                ));
            }
            let name = param.attribute("name").ok_or_else(|| {
                ConfigError::element(&self.path, param, "required attribute name is missing")
            })?;
            let value = param.attribute("value").ok_or_else(|| {
                ConfigError::element(&self.path, param, "required attribute value is missing")
            })?;
            if params.iter().any(|(n, _)| n == name) {
                return Err(ConfigError::element(
                    &self.path,
                    param,
                    format!("param \"{name}\" is given twice"),
                ));
            }
            params.push((name.to_string(), value.to_string()));
        }
        Ok(HandlerSpec {
            class: class.to_string(),
            params,
            line: element.line,
            column: element.column,
        })
    }

    // ---- queries ----

    pub fn is_document_ignored(&self, document: &str, side: Side) -> bool {
        let rules = self.side(side);
        rules.ignored_documents.contains(document)
            || rules
                .document_wildcards
                .iter()
                .any(|w| wildcard_matches(w, document))
    }

    pub fn is_field_ignored(&self, document: &str, field: &str, side: Side) -> bool {
        let rules = self.side(side);
        let full = format!("{document}.{field}");
        rules.ignored_fields.contains(&full)
            || rules
                .field_wildcards
                .iter()
                .any(|w| wildcard_matches(w, &full))
    }

    /// Only relaxes the integrity check's type comparison; the data is still copied.
    pub fn is_datatype_ignored(&self, document: &str, field: &str, side: Side) -> bool {
        self.side(side)
            .ignored_datatypes
            .contains(&format!("{document}.{field}"))
    }

    /// The name of `document` on the other side; `None` when it is ignored on this side.
    pub fn document_map(&self, document: &str, side: Side) -> Option<String> {
        if self.is_document_ignored(document, side) {
            return None;
        }
        let renamed = self.renames.iter().find_map(|(from, to)| {
            if from == document {
                Some(to)
            } else if to == document {
                Some(from)
            } else {
                None
            }
        });
        Some(renamed.cloned().unwrap_or_else(|| document.to_string()))
    }

    /// The name of `document.field` on the other side; `Ok(None)` when the field is ignored.
    /// Errors with the DMT's messages where the rules contradict each other.
    pub fn field_map(
        &self,
        document: &str,
        field: &str,
        side: Side,
    ) -> Result<Option<String>, ConfigError> {
        if self.is_field_ignored(document, field, side) {
            return Ok(None);
        }
        if self.document_map(document, side).is_none() {
            return Err(self.ambiguous_document(document));
        }
        let full = format!("{document}.{field}");
        let moved = self.moves.iter().find_map(|(from, to)| {
            if *from == full {
                Some(to)
            } else if *to == full {
                Some(from)
            } else {
                None
            }
        });
        let Some(target) = moved else {
            return Ok(Some(field.to_string()));
        };
        let (target_doc, target_field) = target.split_once('.').expect("checked when read");
        let other = side.opposite();
        if self.document_map(target_doc, other).is_none() {
            return Err(self.ambiguous_document(target_doc));
        }
        if self.is_field_ignored(target_doc, target_field, other) {
            return Err(ConfigError::file(
                &self.path,
                format!("Field has ambiguous configuration: {target}"),
            ));
        }
        Ok(Some(target_field.to_string()))
    }

    fn ambiguous_document(&self, document: &str) -> ConfigError {
        ConfigError::file(
            &self.path,
            format!("Document has ambiguous configuration: {document}"),
        )
    }

    /// The handlers for `document.field` on one side, in the order they run.
    pub fn handlers(&self, document: &str, field: &str, side: Side) -> Vec<&HandlerSpec> {
        let full = format!("{document}.{field}");
        self.side(side)
            .transforms
            .iter()
            .filter(|(f, _)| *f == full)
            .map(|(_, h)| h)
            .collect()
    }

    /// Every handler of one side, with its `document.field`.
    pub fn all_handlers(&self, side: Side) -> impl Iterator<Item = (&str, &HandlerSpec)> {
        self.side(side)
            .transforms
            .iter()
            .map(|(f, h)| (f.as_str(), h))
    }
}

/// The DMT turns `*` into `.*` inside `/^…/`: anchored at the start only. Its other regex
/// characters are not escaped; `.` (the only one that appears in table names' patterns in
/// practice) keeps its "any character" meaning here too.
fn wildcard_matches(pattern: &str, name: &str) -> bool {
    // Backtracking to the last `*` only: linear in practice and at worst pattern × name steps,
    // where trying every split at every `*` is exponential in the number of stars (a pattern
    // such as `*_*_*_*_*_*_*_tmp` against a 60-character table name would never finish).
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut i, mut j) = (0, 0);
    // After the last `*` met: the pattern index past it, and where in the name it stops.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if i == p.len() {
            return true; // anchored at the start only: any rest of the name matches
        }
        if p[i] == b'*' {
            star = Some((i + 1, j));
            i += 1;
        } else if j < n.len() && (p[i] == b'.' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else {
            match star {
                Some((after, upto)) if upto < n.len() => {
                    star = Some((after, upto + 1));
                    i = after;
                    j = upto + 1;
                }
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests;
