//! Bytes through the readers of the DMT's files, as the commands use them: the XML reader, then
//! config.xml's (options, step classes), map.xml's (handlers built from their params, the
//! map's queries on the names it mentions) and the groups files' (deltalog tables). Shared by
//! the fuzz targets and by the mutation test in tests/bad_input.rs.
//!
//! Returns the error messages met. Every reader must return `Ok` or an error, never panic, and
//! each error must be one line (the CLI prints it after `error: `).
#![allow(dead_code)] // each user takes the readers it needs

use std::path::Path;

use mage_migrate::config::map::Side;
use mage_migrate::config::{xml, Config, Groups, MapRules};

const PATH: &str = "fuzz.xml";

/// config.xml: the file, its options, and each step class resolved.
pub fn config(bytes: &[u8]) -> Vec<String> {
    let path = Path::new(PATH);
    let root = match xml::parse(path, bytes) {
        Ok(root) => root,
        Err(e) => return checked(vec![e.to_string()]),
    };
    let mut errors = Vec::new();
    match Config::from_element(path, &root) {
        Ok(config) => {
            if let Err(e) = config.options.bulk_size() {
                errors.push(e.to_string());
            }
            if let Err(e) = config.options.upgrade_customer_password_hash() {
                errors.push(e.to_string());
            }
            let _ = config.options.init_statements_source();
            let _ = config.source.describe();
            let registry = mage_migrate::steps::StepRegistry::builtin();
            for (mode, steps) in &config.modes {
                let _ = config.steps(mode);
                for step in steps {
                    for class in &step.classes {
                        if let Err(e) = registry.resolve(class) {
                            errors.push(e.to_string());
                        }
                    }
                }
            }
        }
        Err(e) => errors.push(e.to_string()),
    }
    checked(errors)
}

/// map.xml: the rules, every handler built from its params, and the map's queries on every
/// document and field the file names.
pub fn map(bytes: &[u8]) -> Vec<String> {
    let path = Path::new(PATH);
    let root = match xml::parse(path, bytes) {
        Ok(root) => root,
        Err(e) => return checked(vec![e.to_string()]),
    };
    let mut errors = Vec::new();
    match MapRules::from_element(path, &root) {
        Ok(map) => {
            let mut names: Vec<(String, String)> = Vec::new();
            for side in [Side::Source, Side::Destination] {
                for (field, spec) in map.all_handlers(side) {
                    if let Err(e) = mage_migrate::transform::build_handler(spec) {
                        errors.push(e.to_string());
                    }
                    let _ = mage_migrate::transform::required_lookup(spec);
                    if let Some((document, field)) = field.split_once('.') {
                        names.push((document.to_string(), field.to_string()));
                    }
                }
            }
            // Names from the file's text too, so wildcards and renames meet names to match.
            names.extend(
                element_texts(&root)
                    .filter_map(|t| t.split_once('.').map(|(d, f)| (d.into(), f.into()))),
            );
            names.extend(element_texts(&root).map(|t| (t.to_string(), "entity_id".into())));
            names.truncate(64);
            for (document, field) in &names {
                for side in [Side::Source, Side::Destination] {
                    let _ = map.document_map(document, side);
                    let _ = map.is_datatype_ignored(document, field, side);
                    let _ = map.handlers(document, field, side);
                    if let Err(e) = map.field_map(document, field, side) {
                        errors.push(e.to_string());
                    }
                }
            }
        }
        Err(e) => errors.push(e.to_string()),
    }
    checked(errors)
}

/// A groups file (deltalog.xml and the others): its groups.
pub fn groups(bytes: &[u8]) -> Vec<String> {
    groups_then(bytes, |_| Ok(()))
}

/// deltalog.xml: its groups, and the tables the deltalog tracks with their keys.
pub fn deltalog(bytes: &[u8]) -> Vec<String> {
    groups_then(bytes, |groups| groups.deltalog_tables().map(|_| ()))
}

fn groups_then(
    bytes: &[u8],
    then: impl Fn(&Groups) -> Result<(), mage_migrate::config::ConfigError>,
) -> Vec<String> {
    let path = Path::new(PATH);
    let root = match xml::parse(path, bytes) {
        Ok(root) => root,
        Err(e) => return checked(vec![e.to_string()]),
    };
    let mut errors = Vec::new();
    match Groups::from_element(path, &root) {
        Ok(groups) => {
            for group in &groups.groups {
                let _ = groups.documents_of(&group.name);
            }
            if let Err(e) = then(&groups) {
                errors.push(e.to_string());
            }
        }
        Err(e) => errors.push(e.to_string()),
    }
    checked(errors)
}

/// Every reader on the same bytes.
pub fn all(bytes: &[u8]) -> Vec<String> {
    let mut errors = config(bytes);
    errors.extend(map(bytes));
    errors.extend(deltalog(bytes));
    errors
}

/// The trimmed text of every element of the tree.
fn element_texts(root: &xml::Element) -> impl Iterator<Item = &str> {
    let mut stack = vec![root];
    std::iter::from_fn(move || {
        let element = stack.pop()?;
        stack.extend(element.children.iter());
        Some(element.trimmed_text())
    })
    .filter(|t| !t.is_empty())
}

fn checked(errors: Vec<String>) -> Vec<String> {
    for e in &errors {
        assert!(
            !e.contains(['\n', '\r']),
            "an error message of more than one line: {e:?}"
        );
    }
    errors
}
