//! The DMT's configuration files, read as the DMT reads them: `config.xml`, `map.xml` and the
//! "groups" files (deltalog.xml, customer-document-groups.xml, …).

mod error;
pub mod groups;
pub mod map;
mod options;
pub mod xml;

use std::fmt;
use std::path::{Path, PathBuf};

pub use error::ConfigError;
pub use groups::{DeltalogTable, Group, Groups};
pub use map::{MapRules, Side};
pub use options::{BulkSize, Options};
use xml::Element;

/// Reads a file and parses it as XML, with one-line errors that name the file.
pub fn read_xml(path: &Path) -> Result<Element, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        ConfigError::file(path, format!("cannot read the file: {reason}"))
    })?;
    xml::parse(path, &bytes)
}

/// The stage a step class serves, named after the element that holds it in config.xml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Integrity,
    Data,
    Delta,
    Volume,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Integrity, Stage::Data, Stage::Delta, Stage::Volume];

    pub fn element_name(self) -> &'static str {
        match self {
            Stage::Integrity => "integrity",
            Stage::Data => "data",
            Stage::Delta => "delta",
            Stage::Volume => "volume",
        }
    }

    fn from_element_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.element_name() == name)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.element_name())
    }
}

/// One class named in a `<step>`: `<delta>Migration\Step\Map\Delta</delta>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageClass {
    pub stage: Stage,
    /// As written, without a leading backslash.
    pub class: String,
    pub line: usize,
    pub column: usize,
}

/// A `<step title="…">` of one mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepConfig {
    pub title: String,
    pub classes: Vec<StageClass>,
    pub line: usize,
}

impl StepConfig {
    pub fn class_for(&self, stage: Stage) -> Option<&StageClass> {
        self.classes.iter().find(|c| c.stage == stage)
    }
}

/// A database password. Never printed: `Debug` and `Display` show `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(secret: impl Into<String>) -> Self {
        Password(secret.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `<source><database …/></source>` or the destination's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    pub host: String,
    pub port: Option<u16>,
    pub name: String,
    pub user: String,
    pub password: Password,
    pub ssl_ca: Option<PathBuf>,
    pub ssl_cert: Option<PathBuf>,
    pub ssl_key: Option<PathBuf>,
}

impl DatabaseConfig {
    /// The DMT (through Magento's PDO adapter) treats a host containing `/` as a unix socket.
    pub fn socket(&self) -> Option<&str> {
        self.host.contains('/').then_some(self.host.as_str())
    }

    /// `user@host:port/name`, for messages. Never includes the password.
    pub fn describe(&self) -> String {
        match (self.socket(), self.port) {
            (Some(socket), _) => format!("{}@{} (socket)/{}", self.user, socket, self.name),
            (None, Some(port)) => format!("{}@{}:{}/{}", self.user, self.host, port, self.name),
            (None, None) => format!("{}@{}/{}", self.user, self.host, self.name),
        }
    }
}

/// A parsed config.xml.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    /// The DMT root: the folder above the `etc/` that holds config.xml, or config.xml's own
    /// folder when it is not under an `etc/`.
    pub dmt_root: PathBuf,
    /// `<steps mode="…">` lists in document order.
    pub modes: Vec<(String, Vec<StepConfig>)>,
    pub source: DatabaseConfig,
    pub destination: DatabaseConfig,
    pub options: Options,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let root = read_xml(path)?;
        Self::from_element(path, &root)
    }

    pub fn from_element(path: &Path, root: &Element) -> Result<Config, ConfigError> {
        if root.name != "config" {
            return Err(ConfigError::element(
                path,
                root,
                "the root element of config.xml must be <config>",
            ));
        }
        let mut modes: Vec<(String, Vec<StepConfig>)> = Vec::new();
        for steps in root.children_named("steps") {
            let mode = required_attribute(path, steps, "mode")?;
            let list = match modes.iter_mut().find(|(m, _)| *m == mode) {
                Some((_, list)) => list,
                None => {
                    modes.push((mode.to_string(), Vec::new()));
                    &mut modes.last_mut().expect("just pushed").1
                }
            };
            parse_steps(path, steps, list)?;
        }
        if modes.is_empty() {
            return Err(ConfigError::element(
                path,
                root,
                "no <steps mode=\"…\"> element; config.xml needs at least one",
            ));
        }
        let source = database(path, root, "source")?;
        let destination = database(path, root, "destination")?;
        let options_element = root
            .child("options")
            .ok_or_else(|| ConfigError::element(path, root, "the <options> element is missing"))?;
        let dmt_root = dmt_root_of(path);
        let options = Options::new(path, &dmt_root, options_element);
        Ok(Config {
            path: path.to_path_buf(),
            dmt_root,
            modes,
            source,
            destination,
            options,
        })
    }

    /// The steps of one mode (`data`, `delta`, `settings`), in the order they run.
    pub fn steps(&self, mode: &str) -> &[StepConfig] {
        self.modes
            .iter()
            .find(|(m, _)| m == mode)
            .map(|(_, s)| s.as_slice())
            .unwrap_or(&[])
    }
}

fn dmt_root_of(config_path: &Path) -> PathBuf {
    let dir = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "etc"))
        .and_then(Path::parent)
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(dir)
        .to_path_buf()
}

fn required_attribute<'a>(
    path: &Path,
    element: &'a Element,
    name: &str,
) -> Result<&'a str, ConfigError> {
    match element.attribute(name) {
        Some(v) if !v.trim().is_empty() => Ok(v.trim()),
        Some(_) => Err(ConfigError::element(
            path,
            element,
            format!("attribute {name} is empty"),
        )),
        None => Err(ConfigError::element(
            path,
            element,
            format!("required attribute {name} is missing"),
        )),
    }
}

fn parse_steps(
    path: &Path,
    steps: &Element,
    list: &mut Vec<StepConfig>,
) -> Result<(), ConfigError> {
    for step in &steps.children {
        if step.name != "step" {
            return Err(ConfigError::element(
                path,
                step,
                "unexpected element inside <steps>; only <step> is allowed",
            ));
        }
        let title = required_attribute(path, step, "title")?;
        let mut classes = Vec::new();
        for class in &step.children {
            let stage = Stage::from_element_name(&class.name).ok_or_else(|| {
                ConfigError::element(
                    path,
                    class,
                    format!(
                        "unexpected element in step \"{title}\"; expected <integrity>, <data>, <delta> or <volume>"
                    ),
                )
            })?;
            let name = class.trimmed_text().trim_start_matches('\\');
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '\\');
            if !valid {
                return Err(ConfigError::element(
                    path,
                    class,
                    format!("\"{name}\" is not a class name (step \"{title}\")"),
                ));
            }
            classes.retain(|c: &StageClass| c.stage != stage);
            classes.push(StageClass {
                stage,
                class: name.to_string(),
                line: class.line,
                column: class.column,
            });
        }
        // As the DMT does: a repeated title merges into the first step's place.
        match list.iter_mut().find(|s| s.title == title) {
            Some(existing) => {
                for class in classes {
                    existing.classes.retain(|c| c.stage != class.stage);
                    existing.classes.push(class);
                }
            }
            None => list.push(StepConfig {
                title: title.to_string(),
                classes,
                line: step.line,
            }),
        }
    }
    Ok(())
}

fn database(path: &Path, root: &Element, side: &str) -> Result<DatabaseConfig, ConfigError> {
    let holder = root.child(side).ok_or_else(|| {
        ConfigError::element(path, root, format!("the <{side}> element is missing"))
    })?;
    let mut databases = holder.children_named("database");
    let db = databases.next().ok_or_else(|| {
        ConfigError::element(path, holder, "needs exactly one <database …/> element")
    })?;
    if let Some(extra) = databases.next() {
        return Err(ConfigError::element(
            path,
            extra,
            format!("<{side}> holds more than one <database>"),
        ));
    }
    let optional = |name: &str| {
        db.attribute(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let port = match db
        .attribute("port")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => Some(p.parse::<u16>().map_err(|_| {
            ConfigError::element(path, db, format!("port \"{p}\" is not a TCP port number"))
        })?),
    };
    Ok(DatabaseConfig {
        host: required_attribute(path, db, "host")?.to_string(),
        port,
        name: required_attribute(path, db, "name")?.to_string(),
        user: required_attribute(path, db, "user")?.to_string(),
        password: Password::new(db.attribute("password").unwrap_or_default()),
        ssl_ca: optional("ssl_ca"),
        ssl_cert: optional("ssl_cert"),
        ssl_key: optional("ssl_key"),
    })
}
