//! The text of deltalog tables and triggers: the DMT's, to the byte, with two documented
//! changes (see DESIGN.md, "The deltalog, without the DMT's lost-update race"):
//! - each key column takes the source key column's own type (the DMT makes every key a signed
//!   INT, which cannot hold unsigned ids above 2,147,483,647, BIGINT keys or a varchar key part);
//! - the trigger's duplicate-key clause ends with `, processed = 0`, so a change made while its
//!   row is being migrated sets it pending again. The DMT's statement stays a prefix of ours, so
//!   the DMT still recognises our triggers as its own.

use super::naming::Event;
use crate::db::quote_ident;

/// A key column of a tracked table, typed as in the source table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumn {
    pub name: String,
    /// `INFORMATION_SCHEMA.COLUMNS.COLUMN_TYPE`, e.g. `int(10) unsigned`, `varchar(255)`.
    pub column_type: String,
    /// For character columns, so the key compares and stores exactly as in the source.
    pub charset: Option<String>,
    pub collation: Option<String>,
}

impl KeyColumn {
    /// The key column as the DMT would make it: a signed INT.
    pub fn dmt(name: &str) -> Self {
        KeyColumn {
            name: name.to_string(),
            column_type: "int".to_string(),
            charset: None,
            collation: None,
        }
    }

    fn definition(&self) -> String {
        let mut def = self.column_type.clone();
        if let Some(charset) = &self.charset {
            def.push_str(&format!(" CHARACTER SET {charset}"));
        }
        if let Some(collation) = &self.collation {
            def.push_str(&format!(" COLLATE {collation}"));
        }
        def
    }
}

/// Magento's default column comment: `ucfirst(name)`.
fn comment_for(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn quote_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// `CREATE TABLE IF NOT EXISTS` for a deltalog, in the DMT's layout (the trailing space on each
/// column line is the framework's empty `AFTER` slot).
pub fn create_table(deltalog: &str, keys: &[KeyColumn]) -> String {
    let mut sql = format!("CREATE TABLE IF NOT EXISTS {} (\n", quote_ident(deltalog));
    for key in keys {
        sql.push_str(&format!(
            "  {} {} NOT NULL COMMENT {} ,\n",
            quote_ident(&key.name),
            key.definition(),
            quote_string(&comment_for(&key.name))
        ));
    }
    sql.push_str("  `operation` text NULL COMMENT 'Operation' ,\n");
    sql.push_str("  `processed` bool NOT NULL default 0 COMMENT 'Processed' ,\n");
    let pk: Vec<String> = keys.iter().map(|k| quote_ident(&k.name)).collect();
    sql.push_str(&format!("  PRIMARY KEY ({})\n", pk.join(", ")));
    sql.push_str(&format!(
        ") COMMENT={} ENGINE=INNODB charset=utf8 COLLATE=utf8_general_ci",
        quote_string(deltalog)
    ));
    sql
}

/// Re-types a key column of an existing deltalog (one the DMT made with a signed INT) in place,
/// keeping its rows.
pub fn retype_key(deltalog: &str, key: &KeyColumn) -> String {
    format!(
        "ALTER TABLE {} MODIFY {} {} NOT NULL COMMENT {}",
        quote_ident(deltalog),
        quote_ident(&key.name),
        key.definition(),
        quote_string(&comment_for(&key.name))
    )
}

/// The DMT writes table and column names bare inside the trigger body; we do the same so the
/// text matches, and quote only a name that would not parse bare.
fn body_ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !name.chars().all(|c| c.is_ascii_digit());
    if plain {
        name.to_string()
    } else {
        quote_ident(name)
    }
}

/// The DMT's trigger statement (`Mysql::buildStatement`), without the final `;`.
pub fn dmt_statement(deltalog: &str, keys: &[&str], event: Event) -> String {
    let row = if event == Event::Delete { "OLD" } else { "NEW" };
    let columns: Vec<String> = keys.iter().map(|k| quote_ident(k)).collect();
    let values: Vec<String> = keys
        .iter()
        .map(|k| format!("{row}.{}", body_ident(k)))
        .collect();
    let op = event.as_sql();
    format!(
        "INSERT INTO {} ({}, `operation`) VALUES ({}, '{op}')ON DUPLICATE KEY UPDATE operation = '{op}'",
        body_ident(deltalog),
        columns.join(","),
        values.join(",")
    )
}

/// What mage-migrate appends to the DMT's duplicate-key clause.
pub const RESET_CLAUSE: &str = ", processed = 0";

/// Our statement: the DMT's plus the reset of `processed`.
pub fn statement(deltalog: &str, keys: &[&str], event: Event) -> String {
    format!("{}{RESET_CLAUSE}", dmt_statement(deltalog, keys, event))
}

/// A trigger body holding one statement, as stored in `INFORMATION_SCHEMA.TRIGGERS`.
pub fn body(statement: &str) -> String {
    format!("BEGIN\n{statement};\nEND")
}

/// `CREATE [OR REPLACE] TRIGGER … AFTER <event> ON <table> FOR EACH ROW <body>`.
pub fn create_trigger(name: &str, event: Event, table: &str, body: &str, replace: bool) -> String {
    format!(
        "CREATE {}TRIGGER {} AFTER {} ON {} FOR EACH ROW\n{body}",
        if replace { "OR REPLACE " } else { "" },
        quote_ident(name),
        event.as_sql(),
        quote_ident(table)
    )
}

pub fn drop_trigger(name: &str) -> String {
    format!("DROP TRIGGER IF EXISTS {}", quote_ident(name))
}

/// Where our statement stands in an existing trigger body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Our statement, with the reset.
    Ours,
    /// The DMT's statement without the reset (installed by the DMT).
    DmtWithoutReset,
    Absent,
}

/// Finds the deltalog statement for `event` in a trigger body.
pub fn presence(body: &str, deltalog: &str, keys: &[&str], event: Event) -> Presence {
    let dmt = dmt_statement(deltalog, keys, event);
    let mut found = Presence::Absent;
    for (at, _) in body.match_indices(&dmt) {
        if body[at + dmt.len()..].starts_with(RESET_CLAUSE) {
            found = Presence::Ours;
        } else {
            return Presence::DmtWithoutReset;
        }
    }
    found
}

/// Upgrades every DMT statement in a body to ours (adds the reset), leaving the rest, including
/// other modules' statements, byte for byte.
pub fn upgrade_body(body: &str, deltalog: &str, keys: &[&str], event: Event) -> String {
    let dmt = dmt_statement(deltalog, keys, event);
    let mut out = String::with_capacity(body.len() + 32);
    let mut rest = body;
    while let Some(at) = rest.find(&dmt) {
        let end = at + dmt.len();
        out.push_str(&rest[..end]);
        if !rest[end..].starts_with(RESET_CLAUSE) {
            out.push_str(RESET_CLAUSE);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Removes our (or the DMT's) statement from a merged body, leaving the other statements.
/// Returns `None` when nothing else would remain.
pub fn strip_statement(body: &str, deltalog: &str, keys: &[&str], event: Event) -> Option<String> {
    let mut stripped = body.to_string();
    for stmt in [
        statement(deltalog, keys, event),
        dmt_statement(deltalog, keys, event),
    ] {
        // Remove the line break our merge put before the statement too, and nothing else: the
        // foreign part of the body stays byte for byte.
        for needle in [format!("\n{stmt};"), format!("{stmt};")] {
            stripped = stripped.replace(&needle, "");
        }
    }
    let inner = stripped
        .trim()
        .strip_prefix("BEGIN")
        .and_then(|s| s.strip_suffix("END"))
        .map(str::trim);
    match inner {
        Some("") => None,
        _ => Some(stripped),
    }
}

/// Appends our statement to a foreign trigger's body, for servers that allow one trigger per
/// table, event and timing (MySQL before 5.7.2). Unlike the DMT's regex (its issue #261), this
/// keeps `END IF`, `CASE … END` and nested `BEGIN … END` intact: only the final `END` of a
/// compound body is touched, and a single-statement body is wrapped.
pub fn merge_body(foreign: &str, statement: &str) -> String {
    let trimmed = foreign.trim();
    // `get`: a body may start or end with a multi-byte character (a comment).
    let compound = trimmed
        .get(..5)
        .is_some_and(|w| w.eq_ignore_ascii_case("BEGIN"));
    if compound {
        if let Some(stripped) = strip_final_end(trimmed) {
            return format!("{}\n{statement};\nEND", stripped.trim_end());
        }
    }
    let single = trimmed.trim_end_matches(';');
    format!("BEGIN\n{single};\n{statement};\nEND")
}

fn strip_final_end(body: &str) -> Option<&str> {
    let body = body.trim_end().trim_end_matches(';').trim_end();
    let n = body.len();
    let tail = n
        .checked_sub(3)
        .and_then(|at| body.get(at..).map(|t| (at, t)));
    match tail {
        Some((at, t)) if t.eq_ignore_ascii_case("END") => Some(&body[..at]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmt_table_text_to_the_byte() {
        assert_eq!(
            create_table("m2_cl_sales_flat_order", &[KeyColumn::dmt("entity_id")]),
            "CREATE TABLE IF NOT EXISTS `m2_cl_sales_flat_order` (\n  `entity_id` int NOT NULL COMMENT 'Entity_id' ,\n  `operation` text NULL COMMENT 'Operation' ,\n  `processed` bool NOT NULL default 0 COMMENT 'Processed' ,\n  PRIMARY KEY (`entity_id`)\n) COMMENT='m2_cl_sales_flat_order' ENGINE=INNODB charset=utf8 COLLATE=utf8_general_ci"
        );
    }

    #[test]
    fn dmt_statement_text_to_the_byte() {
        assert_eq!(
            dmt_statement("m2_cl_sales_flat_order", &["entity_id"], Event::Insert),
            "INSERT INTO m2_cl_sales_flat_order (`entity_id`, `operation`) VALUES (NEW.entity_id, 'INSERT')ON DUPLICATE KEY UPDATE operation = 'INSERT'"
        );
        assert_eq!(
            dmt_statement("m2_cl_catalog_category_product", &["category_id", "product_id"], Event::Insert),
            "INSERT INTO m2_cl_catalog_category_product (`category_id`,`product_id`, `operation`) VALUES (NEW.category_id,NEW.product_id, 'INSERT')ON DUPLICATE KEY UPDATE operation = 'INSERT'"
        );
        assert_eq!(
            statement("m2_cl_t", &["entity_id"], Event::Delete),
            "INSERT INTO m2_cl_t (`entity_id`, `operation`) VALUES (OLD.entity_id, 'DELETE')ON DUPLICATE KEY UPDATE operation = 'DELETE', processed = 0"
        );
    }

    #[test]
    fn presence_and_upgrade() {
        let dmt = body(&dmt_statement("m2_cl_t", &["id"], Event::Update));
        let ours = body(&statement("m2_cl_t", &["id"], Event::Update));
        assert_eq!(
            presence(&dmt, "m2_cl_t", &["id"], Event::Update),
            Presence::DmtWithoutReset
        );
        assert_eq!(
            presence(&ours, "m2_cl_t", &["id"], Event::Update),
            Presence::Ours
        );
        assert_eq!(
            presence(&ours, "m2_cl_t", &["id"], Event::Insert),
            Presence::Absent
        );
        assert_eq!(upgrade_body(&dmt, "m2_cl_t", &["id"], Event::Update), ours);
        assert_eq!(upgrade_body(&ours, "m2_cl_t", &["id"], Event::Update), ours);
    }

    #[test]
    fn merge_keeps_nested_ends_and_strip_restores() {
        let foreign =
            "BEGIN\nIF NEW.status = 'x' THEN\n  INSERT INTO audit VALUES (NEW.id);\nEND IF;\nEND";
        let ours = statement("m2_cl_t", &["id"], Event::Update);
        let merged = merge_body(foreign, &ours);
        assert_eq!(
            merged,
            format!("BEGIN\nIF NEW.status = 'x' THEN\n  INSERT INTO audit VALUES (NEW.id);\nEND IF;\n{ours};\nEND")
        );
        assert_eq!(
            strip_statement(&merged, "m2_cl_t", &["id"], Event::Update).as_deref(),
            Some(foreign)
        );
        assert_eq!(
            strip_statement(&body(&ours), "m2_cl_t", &["id"], Event::Update),
            None
        );
        assert_eq!(merge_body("-- é", "X"), "BEGIN\n-- é;\nX;\nEND");
        assert_eq!(
            merge_body("BEGIN\nSET @a = 'é'", "X"),
            "BEGIN\nBEGIN\nSET @a = 'é';\nX;\nEND"
        );
        assert_eq!(
            merge_body("INSERT INTO audit VALUES (NEW.id)", "X"),
            "BEGIN\nINSERT INTO audit VALUES (NEW.id);\nX;\nEND"
        );
    }

    #[test]
    fn typed_keys() {
        let key = KeyColumn {
            name: "code".into(),
            column_type: "varchar(32)".into(),
            charset: Some("utf8mb4".into()),
            collation: Some("utf8mb4_general_ci".into()),
        };
        assert!(create_table("m2_cl_x", std::slice::from_ref(&key)).contains(
            "  `code` varchar(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL COMMENT 'Code' ,\n"
        ));
        assert_eq!(
            retype_key("m2_cl_x", &key),
            "ALTER TABLE `m2_cl_x` MODIFY `code` varchar(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL COMMENT 'Code'"
        );
    }
}
