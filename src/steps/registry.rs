//! One registry resolves every class name a config.xml may hold to a step of mage-migrate.
//! A step is known by name (`map`, `customer`, …); its DMT classes are aliases for its stages.
//! Extensions register their own class names the same way (`StepRegistry::register`).

use std::fmt;

use crate::config::{Stage, StageClass};

/// How far a step's stage is built in this version of mage-migrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Built,
    /// Recognised, so a stock config.xml loads, but not built yet: a run that needs it says so.
    NotYetBuilt,
}

/// A step's logic beyond the map, registered in Rust: compared by identity.
#[derive(Debug, Clone)]
pub struct StepLogic(pub std::sync::Arc<dyn super::Step>);

impl PartialEq for StepLogic {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for StepLogic {}

/// One DMT class name and what it resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepClass {
    /// The class without a leading backslash, as the DMT spells it.
    pub class: String,
    /// mage-migrate's name for the step (`map`, `customer`, `order_grids`, …).
    pub step: String,
    /// The stages this class can serve (`Version191to2000` serves integrity, data and volume).
    pub stages: Vec<Stage>,
    pub availability: Availability,
    /// Delta logic of a step implemented in Rust by the user (see `register_step`).
    pub logic: Option<StepLogic>,
}

/// A class name in config.xml that no registered step answers to, or used for the wrong stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStepClass {
    pub class: String,
    pub stage: Stage,
    /// `Some(step)` when the class is known but serves other stages.
    pub known_as: Option<String>,
    /// The classes that may stand in that stage, for the message.
    pub candidates: Vec<String>,
}

impl fmt::Display for UnknownStepClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.known_as {
            Some(_) => write!(f, "{} is not a {} class", self.class, self.stage)?,
            None => write!(f, "unknown step class {}", self.class)?,
        }
        write!(
            f,
            "; known {} classes: {}",
            self.stage,
            self.candidates.join(", ")
        )
    }
}

/// The DMT's step classes: (step name, class below `Migration\Step\`, stages).
const DMT_STEPS: &[(&str, &str, &[Stage])] = {
    use Stage::*;
    const IDV: &[Stage] = &[Integrity, Data, Volume];
    &[
        ("settings", "Settings\\Integrity", &[Integrity]),
        ("settings", "Settings\\Data", &[Data]),
        ("stores", "Stores\\Integrity", &[Integrity]),
        ("stores", "Stores\\Data", &[Data]),
        ("stores", "Stores\\Volume", &[Volume]),
        ("data_integrity", "DataIntegrity\\Integrity", &[Integrity]),
        ("eav", "Eav\\Integrity", &[Integrity]),
        ("eav", "Eav\\Data", &[Data]),
        ("eav", "Eav\\Volume", &[Volume]),
        ("customer", "Customer\\Integrity", &[Integrity]),
        ("customer", "Customer\\Data", &[Data]),
        ("customer", "Customer\\Volume", &[Volume]),
        ("customer", "Customer\\Delta", &[Delta]),
        (
            "custom_customer_attributes",
            "CustomCustomerAttributes\\Integrity",
            &[Integrity],
        ),
        (
            "custom_customer_attributes",
            "CustomCustomerAttributes\\Data",
            &[Data],
        ),
        (
            "custom_customer_attributes",
            "CustomCustomerAttributes\\Volume",
            &[Volume],
        ),
        (
            "custom_customer_attributes",
            "CustomCustomerAttributes\\Delta",
            &[Delta],
        ),
        ("map", "Map\\Integrity", &[Integrity]),
        ("map", "Map\\Data", &[Data]),
        ("map", "Map\\Volume", &[Volume]),
        ("map", "Map\\Delta", &[Delta]),
        ("url_rewrite", "UrlRewrite\\Version191to2000", IDV),
        ("url_rewrite", "UrlRewrite\\Version191to2000Delta", &[Delta]),
        ("url_rewrite", "UrlRewrite\\Version11300to2000", IDV),
        (
            "url_rewrite",
            "UrlRewrite\\Version11300to2000Delta",
            &[Delta],
        ),
        ("url_rewrite", "UrlRewrite\\Version11410to2000", IDV),
        (
            "url_rewrite",
            "UrlRewrite\\Version11410to2000Delta",
            &[Delta],
        ),
        ("log", "Log\\Integrity", &[Integrity]),
        ("log", "Log\\Data", &[Data]),
        ("log", "Log\\Volume", &[Volume]),
        ("log", "Log\\Delta", &[Delta]),
        ("ratings", "Ratings\\Integrity", &[Integrity]),
        ("ratings", "Ratings\\Data", &[Data]),
        ("ratings", "Ratings\\Volume", &[Volume]),
        (
            "configurable_prices",
            "ConfigurablePrices\\Integrity",
            &[Integrity],
        ),
        ("configurable_prices", "ConfigurablePrices\\Data", &[Data]),
        (
            "configurable_prices",
            "ConfigurablePrices\\Volume",
            &[Volume],
        ),
        ("configurable_prices", "ConfigurablePrices\\Delta", &[Delta]),
        ("order_grids", "OrderGrids\\Integrity", &[Integrity]),
        ("order_grids", "OrderGrids\\Data", &[Data]),
        ("order_grids", "OrderGrids\\Volume", &[Volume]),
        ("order_grids", "OrderGrids\\Delta", &[Delta]),
        ("order_grids_ee", "OrderGridsEE\\Integrity", &[Integrity]),
        ("order_grids_ee", "OrderGridsEE\\Data", &[Data]),
        ("order_grids_ee", "OrderGridsEE\\Volume", &[Volume]),
        ("order_grids_ee", "OrderGridsEE\\Delta", &[Delta]),
        ("tier_price", "TierPrice\\Integrity", &[Integrity]),
        ("tier_price", "TierPrice\\Data", &[Data]),
        ("tier_price", "TierPrice\\Volume", &[Volume]),
        ("tier_price", "TierPrice\\Delta", &[Delta]),
        ("sales_increment", "SalesIncrement\\Integrity", &[Integrity]),
        ("sales_increment", "SalesIncrement\\Data", &[Data]),
        ("sales_increment", "SalesIncrement\\Volume", &[Volume]),
        ("sales_increment", "SalesIncrement\\Delta", &[Delta]),
        ("inventory", "Inventory\\Integrity", &[Integrity]),
        ("inventory", "Inventory\\Data", &[Data]),
        ("inventory", "Inventory\\Volume", &[Volume]),
        ("inventory", "Inventory\\Delta", &[Delta]),
        ("sales_order", "SalesOrder\\Integrity", &[Integrity]),
        ("sales_order", "SalesOrder\\Data", &[Data]),
        ("sales_order", "SalesOrder\\Volume", &[Volume]),
        ("sales_order", "SalesOrder\\Delta", &[Delta]),
        (
            "visual_merchandiser",
            "VisualMerchandiser\\Integrity",
            &[Integrity],
        ),
        ("visual_merchandiser", "VisualMerchandiser\\Data", &[Data]),
        (
            "visual_merchandiser",
            "VisualMerchandiser\\Volume",
            &[Volume],
        ),
        ("post_processing", "PostProcessing\\Data", &[Data]),
    ]
};

/// The classes whose stage this version runs.
const BUILT: &[&str] = &[
    "Map\\Integrity",
    "Map\\Data",
    "Map\\Volume",
    "Map\\Delta",
    "SalesIncrement\\Integrity",
    "SalesIncrement\\Data",
    "SalesIncrement\\Delta",
    "SalesIncrement\\Volume",
    "Log\\Integrity",
    "Log\\Data",
    "Log\\Delta",
    "Log\\Volume",
    "Inventory\\Integrity",
    "Inventory\\Data",
    "Inventory\\Delta",
    "Inventory\\Volume",
    "OrderGrids\\Integrity",
    "OrderGrids\\Data",
    "OrderGrids\\Delta",
    "OrderGrids\\Volume",
    "Customer\\Integrity",
    "Customer\\Data",
    "Customer\\Volume",
    "Customer\\Delta",
    "TierPrice\\Integrity",
    "TierPrice\\Data",
    "TierPrice\\Volume",
    "TierPrice\\Delta",
    "ConfigurablePrices\\Integrity",
    "ConfigurablePrices\\Data",
    "ConfigurablePrices\\Volume",
    "ConfigurablePrices\\Delta",
    "UrlRewrite\\Version191to2000",
    "UrlRewrite\\Version191to2000Delta",
];

/// Resolves config.xml class names to steps.
#[derive(Debug, Clone)]
pub struct StepRegistry {
    classes: Vec<StepClass>,
}

impl StepRegistry {
    /// Every step class the DMT ships.
    pub fn builtin() -> Self {
        let classes = DMT_STEPS
            .iter()
            .map(|(step, class, stages)| StepClass {
                class: format!("Migration\\Step\\{class}"),
                step: step.to_string(),
                stages: stages.to_vec(),
                availability: if BUILT.contains(class) {
                    Availability::Built
                } else {
                    Availability::NotYetBuilt
                },
                logic: None,
            })
            .collect();
        StepRegistry { classes }
    }

    /// Registers (or replaces) a class name, e.g. an extension's `Vendor\GreatBlog\Step\Delta`.
    pub fn register(&mut self, class: StepClass) {
        let name = class.class.trim_start_matches('\\').to_string();
        self.classes
            .retain(|c| !c.class.eq_ignore_ascii_case(&name));
        self.classes.push(StepClass {
            class: name,
            ..class
        });
    }

    /// Registers a delta step implemented in Rust under the class name config.xml uses for it
    /// (`<delta>Vendor\\GreatBlog\\Delta</delta>`): the pipeline runs the generic map path over
    /// the tables of its group, then its `after_apply` in each batch's transaction.
    pub fn register_step(&mut self, class: &str, step: std::sync::Arc<dyn super::Step>) {
        self.register(StepClass {
            class: class.to_string(),
            step: "custom".into(),
            stages: vec![Stage::Delta],
            availability: Availability::Built,
            logic: Some(StepLogic(step)),
        });
    }

    /// Every registered class, in registration order.
    pub fn classes(&self) -> &[StepClass] {
        &self.classes
    }

    /// The step a class names, checked against the stage it stands in. PHP class names are
    /// case-insensitive, and so is this lookup.
    pub fn resolve(&self, class: &StageClass) -> Result<&StepClass, UnknownStepClass> {
        let name = class.class.trim_start_matches('\\');
        let found = self
            .classes
            .iter()
            .find(|c| c.class.eq_ignore_ascii_case(name));
        match found {
            Some(c) if c.stages.contains(&class.stage) => Ok(c),
            other => Err(UnknownStepClass {
                class: name.to_string(),
                stage: class.stage,
                known_as: other.map(|c| c.step.clone()),
                candidates: self
                    .classes
                    .iter()
                    .filter(|c| c.stages.contains(&class.stage))
                    .map(|c| c.class.clone())
                    .collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(stage: Stage, name: &str) -> StageClass {
        StageClass {
            stage,
            class: name.into(),
            line: 1,
            column: 1,
        }
    }

    #[test]
    fn resolves_dmt_classes() {
        let r = StepRegistry::builtin();
        let c = r
            .resolve(&class(Stage::Delta, "Migration\\Step\\Map\\Delta"))
            .unwrap();
        assert_eq!(c.step, "map");
        let c = r
            .resolve(&class(
                Stage::Volume,
                "\\migration\\step\\urlrewrite\\version191to2000",
            ))
            .unwrap();
        assert_eq!(c.step, "url_rewrite");
    }

    #[test]
    fn unknown_class_lists_the_known_ones_for_its_stage() {
        let r = StepRegistry::builtin();
        let e = r
            .resolve(&class(Stage::Delta, "Vendor\\GreatBlog\\Delta"))
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("unknown step class Vendor\\GreatBlog\\Delta; known delta classes: Migration\\Step\\Customer\\Delta, "), "{msg}");
        assert!(msg.contains("Migration\\Step\\Map\\Delta"));
        assert!(!msg.contains("Map\\Data"));
    }

    #[test]
    fn class_in_the_wrong_stage() {
        let r = StepRegistry::builtin();
        let e = r
            .resolve(&class(Stage::Delta, "Migration\\Step\\Map\\Data"))
            .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Migration\\Step\\Map\\Data is not a delta class; known delta classes: "));
    }

    #[test]
    fn extensions_register_their_classes() {
        let mut r = StepRegistry::builtin();
        r.register(StepClass {
            class: "\\Vendor\\GreatBlog\\Delta".into(),
            step: "greatblog".into(),
            stages: vec![Stage::Delta],
            availability: Availability::Built,
            logic: None,
        });
        let c = r
            .resolve(&class(Stage::Delta, "Vendor\\GreatBlog\\Delta"))
            .unwrap();
        assert_eq!(c.step, "greatblog");
    }
}
