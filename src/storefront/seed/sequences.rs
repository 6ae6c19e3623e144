//! Increment ids while seeding: `eav_entity_store` kept in memory and written once at the end.

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use crate::storefront::context::{col, next_increment, Context};

/// `eav_entity_store`, kept in memory while seeding and written once at the end.
pub(super) struct Sequences {
    rows: BTreeMap<(i64, i64), Sequence>,
    next_row_id: i64,
}

struct Sequence {
    entity_store_id: Option<i64>,
    prefix: String,
    last: Option<String>,
    changed: bool,
}

impl Sequences {
    pub(super) async fn load(conn: &mut Conn) -> Result<Sequences, mysql_async::Error> {
        let mut rows = BTreeMap::new();
        let mut max_id = 0;
        let found: Vec<Row> = conn
            .query("SELECT entity_store_id, entity_type_id, store_id, increment_prefix, increment_last_id FROM eav_entity_store ORDER BY entity_store_id")
            .await?;
        for mut row in found {
            let id: i64 = col(&mut row, 0)?;
            let ty: i64 = col(&mut row, 1)?;
            let store: i64 = col(&mut row, 2)?;
            let prefix: Option<String> = col(&mut row, 3)?;
            let last: Option<String> = col(&mut row, 4)?;
            max_id = max_id.max(id);
            // A duplicate (type, store) row is possible on a hand-edited store; M1 uses the
            // first one it finds, so do we.
            rows.entry((ty, store)).or_insert(Sequence {
                entity_store_id: Some(id),
                prefix: prefix.unwrap_or_default(),
                last,
                changed: false,
            });
        }
        Ok(Sequences {
            rows,
            next_row_id: max_id + 1,
        })
    }

    /// The next increment id of an entity type in a store; M1's default prefix is the store id.
    pub(super) fn next(&mut self, ctx: &Context, entity_type: i64, store_id: i64) -> String {
        let pad = ctx.increment_pad(entity_type);
        let seq = self
            .rows
            .entry((entity_type, store_id))
            .or_insert_with(|| Sequence {
                entity_store_id: None,
                prefix: store_id.to_string(),
                last: None,
                changed: false,
            });
        let (id, _) = next_increment(&seq.prefix, seq.last.as_deref(), pad);
        seq.last = Some(id.clone());
        seq.changed = true;
        id
    }

    /// Inserts the new rows and updates the changed ones; returns the number inserted.
    pub(super) async fn save<Q: Queryable>(
        &mut self,
        q: &mut Q,
    ) -> Result<u64, mysql_async::Error> {
        let mut inserted = 0;
        for ((ty, store), seq) in self.rows.iter_mut() {
            if !seq.changed {
                continue;
            }
            match seq.entity_store_id {
                Some(id) => {
                    q.exec_drop(
                        "UPDATE eav_entity_store SET increment_last_id = ? WHERE entity_store_id = ?",
                        (&seq.last, id),
                    )
                    .await?
                }
                None => {
                    let id = self.next_row_id;
                    self.next_row_id += 1;
                    q.exec_drop(
                        "INSERT INTO eav_entity_store (entity_store_id, entity_type_id, store_id, increment_prefix, increment_last_id) VALUES (?, ?, ?, ?, ?)",
                        (id, ty, store, &seq.prefix, &seq.last),
                    )
                    .await?;
                    seq.entity_store_id = Some(id);
                    inserted += 1;
                }
            }
            seq.changed = false;
        }
        Ok(inserted)
    }
}
