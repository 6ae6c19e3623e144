use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with one of the DMT's configuration files: always names the file, and where known
/// the line, column and element, so the one line the CLI prints is enough to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl ConfigError {
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn at(path: &Path, line: usize, column: usize, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    /// An error about one element: `file:line:col: <element>: message`.
    pub fn element(path: &Path, element: &super::xml::Element, message: impl fmt::Display) -> Self {
        Self::at(
            path,
            element.line,
            element.column,
            format!("<{}>: {message}", element.name),
        )
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        // The message quotes the file's own text, which may hold line breaks: escaped, so the
        // error stays the one line the CLI prints.
        f.write_str(": ")?;
        for c in self.message.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_line_breaks_stay_on_one_line() {
        let e = ConfigError::at(
            Path::new("c.xml"),
            3,
            9,
            "<bulk_size>: \"lo\r\nts\t\" is not a row count",
        );
        assert_eq!(
            e.to_string(),
            "c.xml:3:9: <bulk_size>: \"lo\\r\\nts\\t\" is not a row count"
        );
    }
}
