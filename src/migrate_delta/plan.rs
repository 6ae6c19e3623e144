//! What a delta run follows: the tables of the delta steps, with their mappings, M2 tables and
//! child foreign keys, checked (deltalog installed, our triggers in place) before anything runs.

use std::collections::HashMap;

use mysql_async::Conn;

use super::DeltaOptions;
use crate::config::Groups;
use crate::db::schema::Schema;
use crate::deltalog::TrackedTable;
use crate::error::{Error, Result, Side};
use crate::pipeline::apply::DeltaTable;
use crate::setup::Setup;
use crate::source::deltalog::DeltalogReader;
use crate::steps::map;

/// Where a step's map rules come from.
enum StepMap<'s> {
    /// `map_file`, the Map step's.
    Main,
    /// A map step of the user's own, declared in `<options>`.
    Declared(&'s crate::setup::MapStepDecl),
    /// The file a config.xml option names (`log_map_file`).
    Option(&'static str),
}

/// A delta step as this version runs it: its deltalog group, its logic beyond the map (none
/// for the Map step) and where its map rules come from.
type StepGroup<'s> = (
    String,
    Option<std::sync::Arc<dyn crate::steps::Step>>,
    StepMap<'s>,
);

/// The step a DMT delta class stands for, if this version runs it.
fn group_of<'s>(class: &str, setup: &'s Setup) -> Result<Option<StepGroup<'s>>> {
    Ok(group_of_class(class, setup)?.or_else(|| group_of_stock(class, setup)))
}

/// The steps whose construction reads files (their groups) and may fail.
fn group_of_class<'s>(class: &str, setup: &'s Setup) -> Result<Option<StepGroup<'s>>> {
    use crate::steps::{configurable_prices, customer, tier_price, url_rewrite};
    let bare = class.trim_start_matches('\\').to_ascii_lowercase();
    let step: std::sync::Arc<dyn crate::steps::Step> = match bare.as_str() {
        "migration\\step\\customer\\delta" => {
            std::sync::Arc::new(customer::Customer::from_setup(setup)?)
        }
        "migration\\step\\tierprice\\delta" => {
            std::sync::Arc::new(tier_price::TierPrice::from_setup(setup)?)
        }
        "migration\\step\\configurableprices\\delta" => {
            std::sync::Arc::new(configurable_prices::ConfigurablePrices::from_setup(setup))
        }
        "migration\\step\\urlrewrite\\version191to2000delta" => {
            std::sync::Arc::new(url_rewrite::UrlRewrite::from_setup(setup))
        }
        _ => return Ok(None),
    };
    Ok(Some((step.group().to_string(), Some(step), StepMap::Main)))
}

fn group_of_stock<'s>(class: &str, setup: &'s Setup) -> Option<StepGroup<'s>> {
    let o = &setup.config.options;
    if class.eq_ignore_ascii_case("Migration\\Step\\Map\\Delta") {
        return Some(("delta_map".into(), None, StepMap::Main));
    }
    let bare = class.trim_start_matches('\\');
    // A step implemented in Rust and registered under this class name.
    if let Some(logic) = setup
        .registry
        .classes()
        .iter()
        .find(|c| c.class.eq_ignore_ascii_case(bare))
        .and_then(|c| c.logic.clone())
    {
        return Some((logic.0.group().to_string(), Some(logic.0), StepMap::Main));
    }
    if let Some(decl) = setup
        .map_steps
        .iter()
        .find(|d| d.class.eq_ignore_ascii_case(bare))
    {
        return Some((decl.group.clone(), None, StepMap::Declared(decl)));
    }
    if class.eq_ignore_ascii_case("Migration\\Step\\Log\\Delta") {
        // The DMT's Log delta is the plain map delta over its own group and map file.
        return Some(("delta_log".into(), None, StepMap::Option("log_map_file")));
    }
    if class.eq_ignore_ascii_case("Migration\\Step\\OrderGrids\\Delta") {
        // Its documents: order_grids_document_groups_file, else the DMT's stock list.
        let stock = [
            "sales_flat_order",
            "sales_flat_order_address",
            "sales_flat_invoice",
            "sales_flat_shipment",
            "sales_flat_creditmemo",
            "sales_flat_order_payment",
        ];
        let documents = match o.file("order_grids_document_groups_file") {
            Ok(Some(path)) => match crate::config::Groups::load(&path) {
                Ok(groups) => groups
                    .documents_of("source_documents")
                    .into_iter()
                    .map(|(d, _)| d.to_string())
                    .collect(),
                Err(e) => {
                    tracing::warn!("{e}; OrderGrids follows the DMT's stock documents");
                    stock.iter().map(|d| d.to_string()).collect()
                }
            },
            _ => stock.iter().map(|d| d.to_string()).collect(),
        };
        return Some((
            String::new(),
            Some(std::sync::Arc::new(crate::steps::order_grids::OrderGrids {
                source_prefix: o.source_prefix(),
                dest_prefix: o.dest_prefix(),
                documents,
            })),
            StepMap::Main,
        ));
    }
    if class.eq_ignore_ascii_case("Migration\\Step\\SalesIncrement\\Delta") {
        return Some((
            "delta_sales_sequence".into(),
            Some(std::sync::Arc::new(
                crate::steps::sales_increment::SalesIncrement {
                    source_prefix: o.source_prefix(),
                    dest_prefix: o.dest_prefix(),
                },
            )),
            StepMap::Main,
        ));
    }
    None
}

pub(super) struct Plan {
    pub(super) tables: Vec<DeltaTable>,
    /// (step title, indexes into `tables`) in config order.
    pub(super) steps: Vec<(String, Vec<usize>)>,
    /// Every deltalog table that exists, of every group: purged at the end of each cycle.
    pub(super) purge: Vec<DeltalogReader>,
    /// The step logic of the steps that have some, for their volume checks.
    pub(super) logic: Vec<std::sync::Arc<dyn crate::steps::Step>>,
}

pub(super) async fn plan(
    setup: &Setup,
    options: &DeltaOptions,
    m1: &mut Conn,
    m2: &mut Conn,
) -> Result<Plan> {
    let o = &setup.config.options;
    let (source_prefix, dest_prefix) = (o.source_prefix(), o.dest_prefix());
    let m1_schema = Schema::read(m1)
        .await
        .map_err(|e| Error::db(Side::M1, e, "reading the schema"))?;
    let m2_schema = Schema::read(m2)
        .await
        .map_err(|e| Error::db(Side::M2, e, "reading the schema"))?;
    let (mappings, integrity) = map::plan(
        &setup.map,
        &m1_schema,
        &m2_schema,
        &source_prefix,
        &dest_prefix,
    )?;
    if !integrity.is_ok() {
        return Err(Error::Integrity(integrity.errors));
    }
    let on_duplicate: HashMap<String, Vec<String>> = match o.file("map_document_groups")? {
        Some(path) => Groups::load(&path)?
            .documents_of("destination_documents_update_on_duplicate")
            .into_iter()
            .map(|(doc, key)| {
                let fields = key
                    .unwrap_or_default()
                    .split(',')
                    .map(|f| f.trim().to_string());
                (format!("{dest_prefix}{doc}"), fields.collect())
            })
            .collect(),
        None => HashMap::new(),
    };
    let tracked_of = |table: &str| {
        setup
            .deltalog_tables
            .iter()
            .find(|t| t.table == table)
            .map(|t| TrackedTable::new(&source_prefix, t))
    };
    let mut plan = Plan {
        tables: Vec::new(),
        steps: Vec::new(),
        purge: Vec::new(),
        logic: Vec::new(),
    };
    for step in setup.steps("delta") {
        if options.skip_steps.contains(&step.config.title) {
            continue;
        }
        if step.classes.iter().any(|c| {
            c.class
                .eq_ignore_ascii_case("Migration\\Step\\Inventory\\Delta")
        }) {
            // As the DMT: the Inventory step only feeds M2's MSI tables, when M2 has them.
            let msi = format!("{dest_prefix}{}", crate::steps::inventory::MSI_TABLE);
            if m2_schema.table(&msi).is_some() {
                // It derives from the Map step's stock items and shipments once they drained.
                plan.logic
                    .push(std::sync::Arc::new(crate::steps::inventory::Inventory {
                        source_prefix: source_prefix.clone(),
                        dest_prefix: dest_prefix.clone(),
                    }));
                plan.steps.push((step.config.title.clone(), Vec::new()));
                continue;
            }
            tracing::debug!(
                "{}: Magento 2 has no MSI tables ({msi}), so there is nothing to feed (as the DMT)",
                step.config.title
            );
            continue;
        }
        let mut found = None;
        for class in &step.classes {
            if let Some(g) = group_of(&class.class, setup)? {
                found = Some(g);
                break;
            }
        }
        let Some((group, logic, declared)) = found else {
            continue;
        };
        // A map step of the user's own reads its tables through its own map file.
        let own_map = match (declared, &logic) {
            (StepMap::Declared(decl), _) => Some(decl.map.clone()),
            (StepMap::Option(option), _) => Some(crate::config::MapRules::load(
                &setup.config.options.required_file(option)?,
            )?),
            (StepMap::Main, Some(logic)) => match logic.map_file_option() {
                Some(option) => Some(crate::config::MapRules::load(
                    &setup.config.options.required_file(option)?,
                )?),
                None => None,
            },
            _ => None,
        };
        let mut step_mappings = match own_map {
            Some(own) => {
                // Its map speaks for its group's tables only (the Map step's map checks the
                // rest), so the whole-database integrity report does not apply.
                let (m, _) = map::plan(&own, &m1_schema, &m2_schema, &source_prefix, &dest_prefix)?;
                m
            }
            None => mappings.clone(),
        };
        if let Some(logic) = &logic {
            logic
                .prepare(m1, m2, &m2_schema, &mut step_mappings)
                .await?;
        }
        let mappings = &step_mappings;
        if let Some(logic) = &logic {
            plan.logic.push(logic.clone());
        }
        let mut indexes = Vec::new();
        for (document, _) in setup.deltalog_groups.documents_of(&group) {
            let Some(tracked) = tracked_of(document) else {
                continue;
            };
            // As the DMT: a table M1 does not have is skipped; then a missing deltalog is fatal.
            if m1_schema.table(&tracked.source_table).is_none() {
                continue;
            }
            if m1_schema.table(&tracked.deltalog).is_none() {
                return Err(Error::Usage(format!(
                    "Deltalog for {document} is not installed; install it with: mage-migrate deltalog install {}",
                    setup.config.path.display()
                )));
            }
            // Tables map.xml ignores are skipped, as the DMT does; their rows stay pending.
            let Some(mapping) = mappings
                .iter()
                .find(|m| m.source_table == tracked.source_table)
            else {
                continue;
            };
            let destination = m2_schema
                .table(&mapping.destination_table)
                .cloned()
                .ok_or_else(|| {
                    Error::Integrity(vec![format!("Source documents are not mapped: {document}")])
                })?;
            if let Some(at) = plan
                .tables
                .iter()
                .position(|t| t.reader.tracked.table == tracked.table)
            {
                indexes.push(at);
                continue;
            }
            let update_only = on_duplicate.get(&mapping.destination_table).cloned();
            let mut table = DeltaTable::new(
                DeltalogReader { tracked },
                mapping.clone(),
                destination,
                update_only,
            )?;
            table.step = logic.clone();
            plan.tables.push(table);
            indexes.push(plan.tables.len() - 1);
        }
        plan.steps.push((step.config.title.clone(), indexes));
    }
    // Our claim and acknowledgement rely on the triggers resetting `processed`: with the DMT's
    // own triggers a change made while its key is in flight would be lost, and with a trigger
    // missing changes would not be recorded at all. Neither is left to chance.
    let status = crate::deltalog::status(m1, setup).await?;
    for table in &plan.tables {
        let Some(row) = status
            .iter()
            .find(|r| r.table == table.reader.tracked.table)
        else {
            continue;
        };
        for (event, trigger) in &row.triggers {
            let problem = match trigger {
                crate::deltalog::TriggerStatus::Ours(_) => continue,
                crate::deltalog::TriggerStatus::DmtWithoutReset(name) => format!(
                    "its {} trigger {name} was installed by the DMT and loses changes made while a row is migrated",
                    event.as_sql()
                ),
                crate::deltalog::TriggerStatus::Missing if options.binlog.is_some() => {
                    // The binlog carries the changes anyway; the cross-check reports them.
                    tracing::warn!(
                        "Deltalog for {}: its {} trigger is missing, so the deltalog misses changes the binlog carries (reinstall it with: mage-migrate deltalog install {})",
                        row.table,
                        event.as_sql(),
                        setup.config.path.display()
                    );
                    continue;
                }
                crate::deltalog::TriggerStatus::Missing => {
                    format!("its {} trigger is missing, so changes are not recorded", event.as_sql())
                }
            };
            return Err(Error::Usage(format!(
                "Deltalog for {} is installed, but {problem}; upgrade it with: mage-migrate deltalog install {}",
                row.table,
                setup.config.path.display()
            )));
        }
    }
    // Tables later steps derive from record their keys with each batch.
    for logic in &plan.logic {
        let from = logic.derives_from();
        for table in &mut plan.tables {
            if from.contains(&table.reader.tracked.source_table) {
                table.derived_by.push(logic.name().to_string());
            }
        }
    }
    let child_keys = crate::pipeline::sweep::read_child_keys(m2).await?;
    for table in &mut plan.tables {
        if table
            .step
            .as_ref()
            .is_some_and(|s| s.writes_itself(&table.reader.tracked.source_table))
        {
            // Its rows are the step's to write: no cascades or orphans of the generic path.
            continue;
        }
        table.children = child_keys
            .iter()
            .filter(|k| {
                k.parent == table.mapping.destination_table
                    && k.parent_columns == table.destination_key
            })
            .cloned()
            .collect();
        table.parents = child_keys
            .iter()
            .filter(|k| {
                k.child == table.mapping.destination_table
                    && (k.on_delete == "CASCADE" || k.on_delete == "SET NULL")
            })
            .cloned()
            .collect();
    }
    for entry in &setup.deltalog_tables {
        let tracked = TrackedTable::new(&source_prefix, entry);
        if m1_schema.table(&tracked.deltalog).is_some() {
            plan.purge.push(DeltalogReader { tracked });
        }
    }
    Ok(plan)
}
