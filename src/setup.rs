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
    /// Steps of the user's own that are the generic map step with their own deltalog group and
    /// map file, declared in `<options>` (see [`MapStepDecl`]).
    pub map_steps: Vec<MapStepDecl>,
}

/// `<mage_migrate_map_step class="Vendor\GreatBlog\Delta" group="delta_greatblog"
/// map_file="greatblog_map_file"/>` in `<options>` (the DMT's XSD accepts any element there):
/// the class, used as `<delta>` of a step in config.xml, runs the generic map step over the
/// tables of `group` in deltalog.xml, with the rules of the map file the named option gives
/// (`map_file` when absent).
#[derive(Debug, Clone)]
pub struct MapStepDecl {
    pub class: String,
    pub group: String,
    pub map: MapRules,
}

/// The option element that declares a map step of the user's own.
pub const MAP_STEP_OPTION: &str = "mage_migrate_map_step";

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
        let mut registry = registry;
        let mut declared = Vec::new();
        for element in config.options.all(MAP_STEP_OPTION) {
            let attribute = |name: &str| {
                element
                    .attribute(name)
                    .map(|v| v.trim().trim_start_matches('\\').to_string())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        ConfigError::element(
                            &config.path,
                            element,
                            format!("the {name} attribute is missing (e.g. <{MAP_STEP_OPTION} class=\"Vendor\\Blog\\Delta\" group=\"delta_blog\" map_file=\"blog_map_file\"/>)"),
                        )
                    })
            };
            let class = attribute("class")?;
            let group = attribute("group")?;
            let map_option = element
                .attribute("map_file")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or("map_file")
                .to_string();
            registry.register(StepClass {
                class: class.clone(),
                step: "map".into(),
                stages: vec![crate::config::Stage::Delta],
                availability: crate::steps::Availability::Built,
                logic: None,
            });
            declared.push((class, group, map_option, element.clone()));
        }
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
        let mut map_steps = Vec::new();
        for (class, group, map_option, element) in declared {
            if deltalog_groups.documents_of(&group).is_empty() {
                return Err(ConfigError::element(
                    &config.path,
                    &element,
                    format!("deltalog.xml has no group \"{group}\" with documents for {class}"),
                ));
            }
            let map = if map_option == "map_file" {
                map.clone()
            } else {
                MapRules::load(&config.options.required_file(&map_option)?)?
            };
            map_steps.push(MapStepDecl { class, group, map });
        }
        Ok(Setup {
            config,
            map,
            deltalog_groups,
            deltalog_tables,
            registry,
            map_steps,
        })
    }

    /// Whether config.xml lists a class of this step (`customer`, `log`, …) in its data or
    /// delta steps.
    pub fn lists_step(&self, step: &str) -> bool {
        ["data", "delta"].iter().any(|mode| {
            self.steps(mode)
                .iter()
                .any(|s| s.classes.iter().any(|c| c.step == step))
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
