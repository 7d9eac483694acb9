//! Watermarks: per (dataset, marketplace, scope), the end of the last window whose
//! records are all committed (`sync_cursor`). A run starts from the stored
//! watermark minus an overlap; it moves only when a whole window is committed.

use chrono::{DateTime, Utc};
use entity::enums::SyncKind;
use entity::sync_cursor;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait,
};

/// Which watermarks: a dataset and, within it, what else they depend on (the
/// orders API version; empty for datasets with one API).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    /// The dataset.
    pub kind: SyncKind,
    /// The scope within it.
    pub scope: &'a str,
}

impl Cursor<'_> {
    /// The lowest watermark of the marketplaces, if every one has one.
    pub async fn stored(
        self,
        db: &DatabaseConnection,
        marketplace_ids: &[String],
    ) -> Result<Option<DateTime<Utc>>, DbErr> {
        let rows = sync_cursor::Entity::find()
            .filter(sync_cursor::Column::Kind.eq(self.kind))
            .filter(sync_cursor::Column::Scope.eq(self.scope))
            .filter(sync_cursor::Column::MarketplaceId.is_in(marketplace_ids.iter().cloned()))
            .all(db)
            .await?;
        if rows.len() < marketplace_ids.len() {
            return Ok(None);
        }
        Ok(rows.iter().map(|r| r.watermark).min())
    }

    /// Moves the marketplaces' watermarks forward to `to` (never back).
    pub async fn advance(
        self,
        db: &DatabaseConnection,
        marketplace_ids: &[String],
        to: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let txn = db.begin().await?;
        let now = Utc::now();
        for mp in marketplace_ids {
            let existing = sync_cursor::Entity::find()
                .filter(sync_cursor::Column::Kind.eq(self.kind))
                .filter(sync_cursor::Column::Scope.eq(self.scope))
                .filter(sync_cursor::Column::MarketplaceId.eq(mp))
                .one(&txn)
                .await?;
            match existing {
                Some(row) if row.watermark >= to => {}
                Some(row) => {
                    let mut row = row.into_active_model();
                    row.watermark = Set(to);
                    row.updated_at = Set(now);
                    row.update(&txn).await?;
                }
                None => {
                    sync_cursor::ActiveModel {
                        kind: Set(self.kind),
                        marketplace_id: Set(mp.clone()),
                        scope: Set(self.scope.to_owned()),
                        watermark: Set(to),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await?;
                }
            }
        }
        txn.commit().await
    }
}
