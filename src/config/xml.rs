//! A small positioned element tree over quick-xml.
//!
//! The DMT's files are small (map.xml.dist is under 100 KB), so reading them whole into a tree
//! costs nothing and lets every error name the line and column of the element at fault, which
//! serde-style deserialisation would lose.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::ConfigError;

/// One XML element with its attributes, text and children, and where it starts in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Concatenated character data directly inside this element, entities decoded.
    pub text: String,
    pub line: usize,
    pub column: usize,
}

impl Element {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Child elements with this name, in document order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The element's text with surrounding whitespace removed.
    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }
}

/// Line-start table for turning byte offsets into 1-based line and column numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn new(bytes: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines(starts)
    }

    fn position(&self, offset: usize) -> (usize, usize) {
        let line = match self.0.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        (line + 1, offset - self.0[line] + 1)
    }
}

/// Parses a whole XML document and returns its root element.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Element, ConfigError> {
    let lines = Lines::new(bytes);
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;

    let malformed = |offset: usize, message: String| {
        let (line, column) = lines.position(offset);
        ConfigError::at(path, line, column, format!("malformed XML: {message}"))
    };

    loop {
        let start = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| malformed(reader.error_position() as usize, e.to_string()))?;
        match event {
            Event::Start(tag) => {
                let element = open_element(&tag, start, &lines).map_err(|m| malformed(start, m))?;
                if root.is_some() && stack.is_empty() {
                    return Err(malformed(start, "more than one root element".into()));
                }
                stack.push(element);
            }
            Event::Empty(tag) => {
                let element = open_element(&tag, start, &lines).map_err(|m| malformed(start, m))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err(malformed(start, "more than one root element".into())),
                }
            }
            Event::End(_) => {
                // check_end_names guarantees a matching open element.
                if let Some(element) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                }
            }
            Event::Text(text) => {
                let decoded = text.decode().map_err(|e| malformed(start, e.to_string()))?;
                let unescaped = quick_xml::escape::unescape(&decoded)
                    .map_err(|e| malformed(start, e.to_string()))?;
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&unescaped),
                    None if unescaped.trim().is_empty() => {}
                    None => return Err(malformed(start, "text outside the root element".into())),
                }
            }
            Event::GeneralRef(reference) => {
                let name = reference
                    .decode()
                    .map_err(|e| malformed(start, e.to_string()))?;
                let resolved = resolve_reference(&name)
                    .ok_or_else(|| malformed(start, format!("unknown entity &{name};")))?;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&resolved);
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::Eof => break,
            // Declarations, comments, processing instructions and doctypes carry no data the
            // DMT reads.
            _ => {}
        }
    }

    if let Some(open) = stack.last() {
        return Err(ConfigError::at(
            path,
            open.line,
            open.column,
            format!("malformed XML: element <{}> is never closed", open.name),
        ));
    }
    root.ok_or_else(|| ConfigError::file(path, "malformed XML: the file has no root element"))
}

fn resolve_reference(name: &str) -> Option<String> {
    match name {
        "lt" => Some("<".into()),
        "gt" => Some(">".into()),
        "amp" => Some("&".into()),
        "apos" => Some("'".into()),
        "quot" => Some("\"".into()),
        _ => {
            let code = if let Some(hex) = name.strip_prefix("#x") {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                name.strip_prefix('#')?.parse().ok()?
            };
            char::from_u32(code).map(String::from)
        }
    }
}

fn open_element(tag: &BytesStart<'_>, offset: usize, lines: &Lines) -> Result<Element, String> {
    let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in tag.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let value = attribute
            .unescape_value()
            .map_err(|e| e.to_string())?
            .into_owned();
        attributes.push((key, value));
    }
    let (line, column) = lines.position(offset);
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
        text: String::new(),
        line,
        column,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Element, ConfigError> {
        parse(Path::new("t.xml"), s.as_bytes())
    }

    #[test]
    fn builds_tree_with_positions_and_decoded_text() {
        let root = parse_str(
            "<?xml version=\"1.0\"?>\n<!-- c -->\n<a x=\"1&amp;2\">\n  <b>t &lt;1&gt;</b><c/>\n</a>\n",
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attribute("x"), Some("1&2"));
        assert_eq!((root.line, root.column), (3, 1));
        let b = root.child("b").unwrap();
        assert_eq!(b.trimmed_text(), "t <1>");
        assert_eq!((b.line, b.column), (4, 3));
        assert_eq!(root.children.len(), 2);
    }

    #[test]
    fn mismatched_end_tag_names_line() {
        let err = parse_str("<a>\n<b></c>\n</a>").unwrap_err().to_string();
        assert!(err.starts_with("t.xml:2:"), "{err}");
        assert!(err.contains("malformed XML"), "{err}");
    }

    #[test]
    fn unclosed_element_is_reported() {
        let err = parse_str("<a>\n  <b>").unwrap_err().to_string();
        assert!(err.contains("malformed XML"), "{err}");
    }

    #[test]
    fn empty_file_has_no_root() {
        let err = parse_str("").unwrap_err().to_string();
        assert_eq!(err, "t.xml: malformed XML: the file has no root element");
    }
}
