//! `<options>` of config.xml: every child element is an option, whatever its name, as in the DMT.

use std::path::{Path, PathBuf};

use super::xml::Element;
use super::ConfigError;

/// Rows per page. The DMT's `0` means "pick per table".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkSize {
    Auto,
    Rows(u32),
}

#[derive(Debug, Clone)]
pub struct Options {
    config_path: PathBuf,
    dmt_root: PathBuf,
    /// Children of `<options>` in document order; a repeated name: the last one wins.
    entries: Vec<Element>,
}

impl Options {
    pub(super) fn new(config_path: &Path, dmt_root: &Path, options: &Element) -> Self {
        Options {
            config_path: config_path.to_path_buf(),
            dmt_root: dmt_root.to_path_buf(),
            entries: options.children.clone(),
        }
    }

    fn element(&self, name: &str) -> Option<&Element> {
        self.entries.iter().rev().find(|e| e.name == name)
    }

    /// An option's value as the DMT sees it: the element's text content, trimmed; an empty
    /// element gives `""`.
    pub fn get(&self, name: &str) -> Option<String> {
        self.element(name)
            .map(|e| text_content(e).trim().to_string())
    }

    /// Every option name, in document order (for `--help`-style listings and diagnostics).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// Every element of this name, in document order (options that may repeat).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.entries.iter().filter(move |e| e.name == name)
    }

    /// The raw element, for options with nested elements.
    pub fn raw(&self, name: &str) -> Option<&Element> {
        self.element(name)
    }

    pub fn bulk_size(&self) -> Result<BulkSize, ConfigError> {
        let Some(element) = self.element("bulk_size") else {
            return Ok(BulkSize::Auto);
        };
        let text = text_content(element);
        let text = text.trim();
        if text.is_empty() {
            return Ok(BulkSize::Auto);
        }
        match text.parse::<i64>() {
            Ok(0) => Ok(BulkSize::Auto),
            Ok(n) if n > 0 && n <= i64::from(u32::MAX) => Ok(BulkSize::Rows(n as u32)),
            _ => Err(ConfigError::element(
                &self.config_path,
                element,
                format!("\"{text}\" is not a row count: use 0 (automatic) or a positive number"),
            )),
        }
    }

    pub fn source_prefix(&self) -> String {
        self.get("source_prefix").unwrap_or_default()
    }

    pub fn dest_prefix(&self) -> String {
        self.get("dest_prefix").unwrap_or_default()
    }

    /// `init_statements_source`, split on `;` as the DMT does; empty parts dropped.
    pub fn init_statements_source(&self) -> Vec<String> {
        split_statements(self.get("init_statements_source"))
    }

    pub fn init_statements_destination(&self) -> Vec<String> {
        split_statements(self.get("init_statements_destination"))
    }

    /// `upgrade_customer_password_hash`: on unless set to 0 (the stock value is 1).
    pub fn upgrade_customer_password_hash(&self) -> Result<bool, ConfigError> {
        let Some(element) = self.element("upgrade_customer_password_hash") else {
            return Ok(true);
        };
        match text_content(element).trim() {
            "1" | "" => Ok(true),
            "0" => Ok(false),
            other => Err(ConfigError::element(
                &self.config_path,
                element,
                format!("\"{other}\" is not 0 or 1"),
            )),
        }
    }

    /// A `*_file` option (or any option naming a file), resolved as the DMT does: as given
    /// (relative to the current directory), then beside config.xml, then under the DMT root.
    /// `Ok(None)` when the option is absent or empty.
    pub fn file(&self, name: &str) -> Result<Option<PathBuf>, ConfigError> {
        let Some(element) = self.element(name) else {
            return Ok(None);
        };
        let value = text_content(element);
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        let given = Path::new(value);
        if given.is_absolute() {
            return if given.is_file() {
                Ok(Some(given.to_path_buf()))
            } else if given.is_dir() {
                Err(ConfigError::element(
                    &self.config_path,
                    element,
                    format!("{value} is a directory, not a file"),
                ))
            } else {
                Err(ConfigError::element(
                    &self.config_path,
                    element,
                    format!("file {value} does not exist"),
                ))
            };
        }
        let beside = self
            .config_path
            .parent()
            .unwrap_or(Path::new("."))
            .join(given);
        let candidates = [given.to_path_buf(), beside, self.dmt_root.join(given)];
        if let Some(found) = candidates.iter().find(|c| c.is_file()) {
            return Ok(Some(found.clone()));
        }
        Err(ConfigError::element(
            &self.config_path,
            element,
            format!(
                "file {value} not found in the current directory, beside config.xml, or under the DMT root {}",
                self.dmt_root
                    .canonicalize()
                    .unwrap_or_else(|_| self.dmt_root.clone())
                    .display()
            ),
        ))
    }

    /// A file option that must be present.
    pub fn required_file(&self, name: &str) -> Result<PathBuf, ConfigError> {
        self.file(name)?.ok_or_else(|| {
            ConfigError::file(
                &self.config_path,
                format!("<options>: option <{name}> is missing or empty"),
            )
        })
    }
}

fn split_statements(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// All character data below an element, as DOM's `nodeValue` gives it for an element.
fn text_content(element: &Element) -> String {
    let mut out = element.text.clone();
    for child in &element.children {
        out.push_str(&text_content(child));
    }
    out
}
