//! Phase 2: the marketplaces a seller can sell in, seeded with Amazon's NA, EU and FE
//! marketplaces (reference data, not test data).

use crate::columns::id;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Marketplaces {
    Table,
    Id,
    MarketplaceId,
    Region,
    CountryCode,
    Name,
    Currency,
}

/// (marketplace id, SP-API region, country code, name, currency), as Amazon lists them.
const MARKETPLACES: &[(&str, &str, &str, &str, &str)] = &[
    // North America
    ("ATVPDKIKX0DER", "NA", "US", "Amazon.com", "USD"),
    ("A2EUQ1WTGCTBG2", "NA", "CA", "Amazon.ca", "CAD"),
    ("A1AM78C64UM0Y8", "NA", "MX", "Amazon.com.mx", "MXN"),
    ("A2Q3Y263D00KWC", "NA", "BR", "Amazon.com.br", "BRL"),
    // Europe, Middle East, India, Africa
    ("A28R8C7NBKEWEA", "EU", "IE", "Amazon.ie", "EUR"),
    ("A1RKKUPIHCS9HS", "EU", "ES", "Amazon.es", "EUR"),
    ("A1F83G8C2ARO7P", "EU", "GB", "Amazon.co.uk", "GBP"),
    ("A13V1IB3VIYZZH", "EU", "FR", "Amazon.fr", "EUR"),
    ("AMEN7PMS3EDWL", "EU", "BE", "Amazon.com.be", "EUR"),
    ("A1805IZSGTT6HS", "EU", "NL", "Amazon.nl", "EUR"),
    ("A1PA6795UKMFR9", "EU", "DE", "Amazon.de", "EUR"),
    ("APJ6JRA9NG5V4", "EU", "IT", "Amazon.it", "EUR"),
    ("A2NODRKZP88ZB9", "EU", "SE", "Amazon.se", "SEK"),
    ("AE08WJ6YKNBMC", "EU", "ZA", "Amazon.co.za", "ZAR"),
    ("A1C3SOZRARQ6R3", "EU", "PL", "Amazon.pl", "PLN"),
    ("ARBP9OOSHTCHU", "EU", "EG", "Amazon.eg", "EGP"),
    ("A33AVAJ2PDY3EV", "EU", "TR", "Amazon.com.tr", "TRY"),
    ("A17E79C6D8DWNP", "EU", "SA", "Amazon.sa", "SAR"),
    ("A2VIGQ35RCS4UG", "EU", "AE", "Amazon.ae", "AED"),
    ("A21TJRUUN4KGV", "EU", "IN", "Amazon.in", "INR"),
    // Far East
    ("A19VAU5U5O7RUS", "FE", "SG", "Amazon.sg", "SGD"),
    ("A39IBJ37TRP1C6", "FE", "AU", "Amazon.com.au", "AUD"),
    ("A1VC38T7YXB528", "FE", "JP", "Amazon.co.jp", "JPY"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Marketplaces::Table)
                    .col(id(Marketplaces::Id))
                    .col(
                        ColumnDef::new(Marketplaces::MarketplaceId)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Marketplaces::Region)
                            .string()
                            .not_null()
                            .check(Expr::col(Marketplaces::Region).is_in(["NA", "EU", "FE"])),
                    )
                    .col(
                        ColumnDef::new(Marketplaces::CountryCode)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Marketplaces::Name).string().not_null())
                    .col(ColumnDef::new(Marketplaces::Currency).string().not_null())
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert()
            .into_table(Marketplaces::Table)
            .columns([
                Marketplaces::MarketplaceId,
                Marketplaces::Region,
                Marketplaces::CountryCode,
                Marketplaces::Name,
                Marketplaces::Currency,
            ])
            .to_owned();
        for (id, region, country, name, currency) in MARKETPLACES {
            insert.values_panic([
                (*id).into(),
                (*region).into(),
                (*country).into(),
                (*name).into(),
                (*currency).into(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Marketplaces::Table).to_owned())
            .await
    }
}
