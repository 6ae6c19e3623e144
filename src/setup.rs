//! Everything a command needs from the DMT's files, loaded and checked up front so that a bad
//! file stops the run before any database is touched.

use std::path::Path;

use crate::config::{Config, ConfigError, DeltalogTable, Groups, MapRules, StepConfig};
use crate::steps::{StepClass, StepRegistry};

#[derive(Debug, Clone)]
pub struct Setup {
    pub config: Config,
    /// `map_file`: the Map step's rules.
    pub map: MapRules,
    /// `delta_document_groups_file`, as read.
    pub deltalog_groups: Groups,
    /// Every table the deltalog tracks, de-duplicated as the DMT does.
    pub deltalog_tables: Vec<DeltalogTable>,
    pub registry: StepRegistry,
}

/// A step of one mode with its classes resolved.
#[derive(Debug, Clone)]
pub struct ResolvedStep<'a> {
    pub config: &'a StepConfig,
    pub classes: Vec<&'a StepClass>,
}

impl Setup {
    pub fn load(config_path: &Path) -> Result<Setup, ConfigError> {
        Self::load_with(config_path, StepRegistry::builtin())
    }

    /// As `load`, with a registry that may hold extension steps.
    pub fn load_with(config_path: &Path, registry: StepRegistry) -> Result<Setup, ConfigError> {
        let config = Config::load(config_path)?;
        // Options are checked before the files they name are read, so the first error is the
        // earliest one in config.xml.
        config.options.bulk_size()?;
        config.options.upgrade_customer_password_hash()?;
        for (_, steps) in &config.modes {
            for step in steps {
                for class in &step.classes {
                    registry.resolve(class).map_err(|e| {
                        ConfigError::at(
                            &config.path,
                            class.line,
                            class.column,
                            format!("<{}>: {e} (step \"{}\")", class.stage, step.title),
                        )
                    })?;
                }
            }
        }
        let map = MapRules::load(&config.options.required_file("map_file")?)?;
        let deltalog_groups =
            Groups::load(&config.options.required_file("delta_document_groups_file")?)?;
        let deltalog_tables = deltalog_groups.deltalog_tables()?;
        Ok(Setup {
            config,
            map,
            deltalog_groups,
            deltalog_tables,
            registry,
        })
    }

    /// The steps of a mode, with their classes resolved (checked by `load`).
    pub fn steps(&self, mode: &str) -> Vec<ResolvedStep<'_>> {
        self.config
            .steps(mode)
            .iter()
            .map(|step| ResolvedStep {
                config: step,
                classes: step
                    .classes
                    .iter()
                    .filter_map(|c| self.registry.resolve(c).ok())
                    .collect(),
            })
            .collect()
    }
}
