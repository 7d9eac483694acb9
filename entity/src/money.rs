//! [`Amount`]: an exact decimal amount of money as stored in the database.
//!
//! PostgreSQL stores amounts as `NUMERIC`, SQLite as `TEXT` holding the decimal
//! string (see the migrations' `money` column). sea-orm reads a plain `Decimal` on
//! SQLite through `f64`, which would turn "0.10" into 0.1 and lose digits of large
//! amounts, so amounts use this type, which reads the text on SQLite and the numeric
//! on PostgreSQL, and writes the exact decimal on both.

use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An exact amount of money (no currency: the currency is its own column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

impl Amount {
    /// The amount as a decimal.
    #[must_use]
    pub fn decimal(self) -> Decimal {
        self.0
    }
}

impl From<Decimal> for Amount {
    fn from(d: Decimal) -> Self {
        Self(d)
    }
}

impl FromStr for Amount {
    type Err = rust_decimal::Error;

    /// Parses a decimal string such as Amazon's `"11.01"`, keeping its scale.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str_exact(s.trim()).map(Self)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Amount> for Value {
    fn from(a: Amount) -> Self {
        Value::Decimal(Some(a.0))
    }
}

impl Nullable for Amount {
    fn null() -> Value {
        Value::Decimal(None)
    }
}

impl ValueType for Amount {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::Decimal(Some(d)) => Ok(Self(d)),
            Value::String(Some(s)) => Decimal::from_str_exact(&s)
                .map(Self)
                .map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "Amount".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::Decimal
    }

    fn column_type() -> ColumnType {
        ColumnType::Decimal(None)
    }
}

impl TryGetable for Amount {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        // PostgreSQL: NUMERIC, which decodes exactly as a decimal (and not as a
        // string: trying that first would build a type-mismatch error for every
        // amount of every row read).
        if res.try_as_pg_row().is_some() {
            return Decimal::try_get_by(res, idx).map(Self);
        }
        // SQLite: the column holds the decimal string.
        match String::try_get_by(res, idx) {
            Ok(text) => Decimal::from_str_exact(text.trim()).map(Self).map_err(|e| {
                TryGetError::DbErr(DbErr::Type(format!(
                    "column {idx:?} holds {text:?}, which is not a decimal amount: {e}"
                )))
            }),
            Err(TryGetError::Null(col)) => Err(TryGetError::Null(col)),
            Err(TryGetError::DbErr(_)) => Decimal::try_get_by(res, idx).map(Self),
        }
    }
}
