//! Review actions: a review submitted, and one deleted with its votes.

use mysql_async::prelude::Queryable;

use super::act::{first_id, Act, Tx};
use super::Action;
use crate::storefront::entities::write_review;
use crate::storefront::sql::T;

impl Act<'_> {
    pub(super) async fn review(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let mut customer = None;
        let mut store_id = self.random_store().id;
        if self.rng.percent(60) {
            if let Some(id) = self.pick(tx, T::CustomerEntity, "1").await? {
                customer = Some(id);
                let s = first_id(
                    tx,
                    "SELECT store_id FROM customer_entity WHERE entity_id = ?",
                    (id,),
                )
                .await?;
                if let Some(s) = s.filter(|&s| self.st.ctx.has_store(s)) {
                    store_id = s;
                }
            }
        }
        let now = self.now();
        let mut w = self.writer();
        let review_id = write_review(
            &mut w,
            &mut self.st.ids,
            self.rng,
            &self.st.ctx,
            customer,
            store_id,
            now,
        );
        w.flush(tx).await?;
        Ok(Some(Action::SubmitReview {
            review_id: review_id as u64,
            customer_id: customer.map(|c| c as u64),
        }))
    }

    pub(super) async fn delete_review(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let Some(id) = self.pick(tx, T::Review, "1").await? else {
            return Ok(None);
        };
        // Votes point at the review without a foreign key; M1 deletes them with it.
        tx.exec_drop("DELETE FROM rating_option_vote WHERE review_id = ?", (id,))
            .await?;
        tx.exec_drop("DELETE FROM review WHERE review_id = ?", (id,))
            .await?;
        Ok(Some(Action::DeleteReview {
            review_id: id as u64,
        }))
    }
}
