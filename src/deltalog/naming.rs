//! Names of deltalog tables and triggers, exactly as the DMT derives them, so that
//! mage-migrate and the DMT find each other's objects.

/// MySQL's limit for table, column and trigger names.
pub const IDENTIFIER_LEN: usize = 64;

/// `<source_prefix>m2_cl_<table>`: the DMT cuts `m2_cl_<table>` to 64 characters *before* the
/// prefix is added (`Source::getDeltaLogName`, then `addDocumentPrefix`).
pub fn deltalog_table(source_prefix: &str, table: &str) -> String {
    let name = format!("m2_cl_{table}");
    let cut = truncate_bytes(&name, IDENTIFIER_LEN);
    add_prefix(source_prefix, cut)
}

/// The M1 table the triggers sit on: the prefix is added unless the name already has it.
pub fn source_table(source_prefix: &str, table: &str) -> String {
    add_prefix(source_prefix, table)
}

fn add_prefix(prefix: &str, name: &str) -> String {
    if name.starts_with(prefix) {
        name.to_string()
    } else {
        format!("{prefix}{name}")
    }
}

fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The row events a deltalog trigger fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    Insert,
    Update,
    Delete,
}

impl Event {
    pub const ALL: [Event; 3] = [Event::Insert, Event::Update, Event::Delete];

    /// As in `INFORMATION_SCHEMA.TRIGGERS.EVENT_MANIPULATION` and the deltalog's `operation`.
    pub fn as_sql(self) -> &'static str {
        match self {
            Event::Insert => "INSERT",
            Event::Update => "UPDATE",
            Event::Delete => "DELETE",
        }
    }

    pub fn from_sql(s: &str) -> Option<Event> {
        Event::ALL
            .into_iter()
            .find(|e| e.as_sql().eq_ignore_ascii_case(s))
    }
}

/// `trg_<prefixed table>_after_<event>`, lowercased, shortened as Magento 2.4.6's
/// `ExpressionConverter::shortenEntityName($name, 't_')` does past 64 characters: first common
/// words are abbreviated, and if that is not enough the name becomes `t_` + md5(name).
pub fn trigger(prefixed_table: &str, event: Event) -> String {
    let name = format!(
        "trg_{}_after_{}",
        prefixed_table,
        event.as_sql().to_ascii_lowercase()
    )
    .to_lowercase();
    shorten_entity_name(&name, "t_")
}

fn shorten_entity_name(name: &str, hash_prefix: &str) -> String {
    if name.len() <= IDENTIFIER_LEN {
        return name.to_string();
    }
    let short = abbreviate(name);
    if short.len() <= IDENTIFIER_LEN {
        return short;
    }
    use md5::{Digest, Md5};
    let digest = Md5::digest(name.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hash_prefix}{hex}")
}

/// Magento's abbreviation dictionary, applied as PHP's `strtr` with an array does: at each
/// position the longest matching word is replaced, left to right, never re-scanning output.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("address", "addr"),
    ("admin", "adm"),
    ("attribute", "attr"),
    ("enterprise", "ent"),
    ("catalog", "cat"),
    ("category", "ctgr"),
    ("customer", "cstr"),
    ("notification", "ntfc"),
    ("product", "prd"),
    ("session", "sess"),
    ("user", "usr"),
    ("entity", "entt"),
    ("datetime", "dtime"),
    ("decimal", "dec"),
    ("varchar", "vchr"),
    ("index", "idx"),
    ("compare", "cmp"),
    ("bundle", "bndl"),
    ("option", "opt"),
    ("gallery", "glr"),
    ("media", "mda"),
    ("value", "val"),
    ("link", "lnk"),
    ("title", "ttl"),
    ("super", "spr"),
    ("label", "lbl"),
    ("website", "ws"),
    ("aggregat", "aggr"),
    ("minimal", "min"),
    ("inventory", "inv"),
    ("status", "sts"),
    ("agreement", "agrt"),
    ("layout", "lyt"),
    ("resource", "res"),
    ("directory", "dir"),
    ("downloadable", "dl"),
    ("element", "elm"),
    ("fieldset", "fset"),
    ("checkout", "chkt"),
    ("newsletter", "nlttr"),
    ("shipping", "shpp"),
    ("calculation", "calc"),
    ("search", "srch"),
    ("query", "qr"),
];

fn abbreviate(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while !rest.is_empty() {
        let best = ABBREVIATIONS
            .iter()
            .filter(|(from, _)| rest.starts_with(from))
            .max_by_key(|(from, _)| from.len());
        match best {
            Some((from, to)) => {
                out.push_str(to);
                rest = &rest[from.len()..];
            }
            None => {
                let c = rest.chars().next().expect("non-empty");
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltalog_names_follow_the_dmt() {
        assert_eq!(
            deltalog_table("", "sales_flat_order"),
            "m2_cl_sales_flat_order"
        );
        assert_eq!(deltalog_table("spfx_", "document"), "spfx_m2_cl_document");
        let long = "a".repeat(70);
        let name = deltalog_table("p_", &long);
        assert_eq!(name.len(), 2 + 64, "cut before the prefix is added");
        assert!(name.starts_with("p_m2_cl_aaa"));
        assert_eq!(source_table("p_", "p_x"), "p_x");
        assert_eq!(source_table("p_", "x"), "p_x");
    }

    #[test]
    fn trigger_names_are_lowercase_and_shortened_past_64() {
        assert_eq!(
            trigger("sales_flat_order", Event::Insert),
            "trg_sales_flat_order_after_insert"
        );
        assert_eq!(
            trigger("Pfx_Review", Event::Delete),
            "trg_pfx_review_after_delete"
        );
        // 67 characters: abbreviation brings it under the limit.
        let t = "catalog_product_entity_media_gallery_value_to_entity";
        let name = trigger(t, Event::Update);
        assert_eq!(name, "trg_cat_prd_entt_mda_glr_val_to_entt_after_update");
        // Too long even abbreviated: t_ + md5 of the full name.
        let t = "x".repeat(70);
        let name = trigger(&t, Event::Update);
        assert_eq!(name.len(), 34);
        assert!(name.starts_with("t_"));
    }

    #[test]
    fn abbreviation_prefers_the_longest_word() {
        // "category" must win over "catalog"'s shorter overlap and "cat…" words.
        assert_eq!(abbreviate("catalog_category"), "cat_ctgr");
        assert_eq!(abbreviate("aggregated_status"), "aggred_sts");
    }
}
