//! Newsletter and visitor actions: subscriptions and their status changes, sessions and
//! page views.

use mysql_async::prelude::Queryable;

use super::act::{first_id, Act, Tx};
use super::Action;
use crate::storefront::entities::{write_subscriber, write_visit};
use crate::storefront::sql::T;
use crate::storefront::text::EMAIL_DOMAINS;

impl Act<'_> {
    pub(super) async fn newsletter(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let now = self.now();
        if self.rng.percent(60) {
            if let Some(id) = self.pick(tx, T::Subscriber, "1").await? {
                let current = first_id(
                    tx,
                    "SELECT subscriber_status FROM newsletter_subscriber WHERE subscriber_id = ?",
                    (id,),
                )
                .await?;
                let status = if current == Some(1) { 3 } else { 1 };
                tx.exec_drop(
                    "UPDATE newsletter_subscriber SET subscriber_status = ?, change_status_at = ? WHERE subscriber_id = ?",
                    (status, now.to_string(), id),
                )
                .await?;
                return Ok(Some(Action::Newsletter {
                    subscriber_id: id as u64,
                    status,
                    new: false,
                }));
            }
        }
        let n = self.st.ids.max(T::Subscriber) + 1;
        let email = if self.rng.percent(10) {
            format!("news😀{n}@example.com")
        } else {
            format!("reader{n}@{}", self.rng.pick(EMAIL_DOMAINS))
        };
        let store_id = self.random_store().id;
        let mut w = self.writer();
        let id = write_subscriber(
            &mut w,
            &mut self.st.ids,
            self.rng,
            store_id,
            0,
            &email,
            1,
            now,
        );
        w.flush(tx).await?;
        Ok(Some(Action::Newsletter {
            subscriber_id: id as u64,
            status: 1,
            new: true,
        }))
    }

    pub(super) async fn visit(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let now = self.now();
        let max = self.st.ids.max(T::LogVisitor);
        if max > 0 && self.rng.percent(40) {
            // A further page view of a recent session.
            let from = (max - 50).max(1);
            let id = first_id(
                tx,
                "SELECT visitor_id FROM log_visitor WHERE visitor_id >= ? ORDER BY visitor_id LIMIT 1",
                (self.rng.range(from, max),),
            )
            .await?;
            if let Some(id) = id {
                tx.exec_drop(
                    "UPDATE log_visitor SET last_visit_at = ?, last_url_id = ? WHERE visitor_id = ?",
                    (now.to_string(), self.rng.range(1, 50_000), id),
                )
                .await?;
                return Ok(Some(Action::Visit {
                    visitor_id: id as u64,
                    new: false,
                }));
            }
        }
        let customer = if self.rng.percent(30) {
            self.pick(tx, T::CustomerEntity, "1").await?
        } else {
            None
        };
        let store_id = self.random_store().id;
        let mut w = self.writer();
        let id = write_visit(&mut w, &mut self.st.ids, self.rng, store_id, customer, now);
        w.flush(tx).await?;
        Ok(Some(Action::Visit {
            visitor_id: id as u64,
            new: true,
        }))
    }
}
