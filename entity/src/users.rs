//! `users`: people who may sign in.

use crate::enums::Role;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique regardless of case.
    pub email: String,
    /// Argon2 PHC string; never the password.
    pub password_hash: String,
    pub role: Role,
    pub created_at: DateTimeUtc,
    /// The version every valid token of this user carries (`ver`); adding one
    /// revokes the tokens issued before.
    pub token_version: i32,
    /// Set by `worker reset-password`: the one-time password must be changed
    /// before the user may do anything else.
    pub must_change_password: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
