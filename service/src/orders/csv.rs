//! The filtered orders list as CSV, streamed a page at a time: the same orders in
//! the same order as the API's `amazonOrders` with the same filter, amounts as
//! stored (exact decimals, never reformatted), times in UTC (RFC 3339).
//!
//! Text a seller or Amazon chose (SKUs, ids) that a spreadsheet would read as a
//! formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading `'`.

use super::{ItemRow, OrderFilter, OrderRow, items_of, page};
use entity::marketplaces;
use futures_util::Stream;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Orders read per database round trip.
const PAGE: u64 = 500;

/// The header line's columns.
pub const COLUMNS: [&str; 14] = [
    "amazon_order_id",
    "marketplace_id",
    "marketplace",
    "purchase_date",
    "last_update_date",
    "order_status",
    "fulfillment_channel",
    "order_total",
    "currency",
    "units_shipped",
    "units_unshipped",
    "skus",
    "is_prime",
    "is_business_order",
];

/// The CSV of every order `filter` matches, newest purchase first: the header,
/// then one chunk of lines per page read. The stream ends early with the error
/// when the database fails.
pub fn stream(
    db: DatabaseConnection,
    filter: OrderFilter,
) -> impl Stream<Item = Result<String, DbErr>> + Send + 'static {
    enum Step {
        Start,
        After(Option<(chrono::DateTime<chrono::Utc>, i64)>),
        Done,
    }
    struct State {
        db: DatabaseConnection,
        filter: OrderFilter,
        names: HashMap<String, String>,
        step: Step,
    }
    let state = State {
        db,
        filter,
        names: HashMap::new(),
        step: Step::Start,
    };
    futures_util::stream::try_unfold(state, |mut s| async move {
        let after = match s.step {
            Step::Done => return Ok(None),
            Step::Start => {
                s.names = marketplaces::Entity::find()
                    .all(&s.db)
                    .await?
                    .into_iter()
                    .map(|m| (m.marketplace_id, m.name))
                    .collect();
                s.step = Step::After(None);
                let mut header = COLUMNS.join(",");
                header.push_str("\r\n");
                return Ok(Some((header, s)));
            }
            Step::After(after) => after,
        };
        let mut rows = page(&s.db, &s.filter, after, PAGE).await?;
        let more = rows.len() as u64 > PAGE;
        rows.truncate(usize::try_from(PAGE).unwrap_or(usize::MAX));
        let items = items_of(&s.db, &rows).await?;
        let mut chunk = String::new();
        for order in &rows {
            let key = (order.amazon_order_id.clone(), order.marketplace_id.clone());
            line(
                &mut chunk,
                order,
                items.get(&key).map(Vec::as_slice),
                &s.names,
            );
        }
        s.step = match (more, rows.last()) {
            (true, Some(last)) => Step::After(Some((last.purchase_date, last.id))),
            _ => Step::Done,
        };
        if chunk.is_empty() {
            return Ok(None);
        }
        Ok(Some((chunk, s)))
    })
}

fn line(
    out: &mut String,
    o: &OrderRow,
    items: Option<&[ItemRow]>,
    names: &HashMap<String, String>,
) {
    let mut skus: Vec<&str> = items
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.seller_sku.as_deref())
        .collect();
    skus.dedup();
    let fields = [
        text(&o.amazon_order_id),
        text(&o.marketplace_id),
        text(names.get(&o.marketplace_id).map_or("", String::as_str)),
        o.purchase_date.to_rfc3339(),
        o.last_update_date.to_rfc3339(),
        text(o.order_status.as_str()),
        text(o.fulfillment_channel.as_deref().unwrap_or("")),
        o.order_total_amount
            .map(|a| a.to_string())
            .unwrap_or_default(),
        text(o.order_total_currency.as_deref().unwrap_or("")),
        o.number_of_items_shipped
            .map(|n| n.to_string())
            .unwrap_or_default(),
        o.number_of_items_unshipped
            .map(|n| n.to_string())
            .unwrap_or_default(),
        text(&skus.join(";")),
        o.is_prime.to_string(),
        o.is_business_order.to_string(),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{f}");
    }
    out.push_str("\r\n");
}

/// A text field, quoted when it holds a comma, quote or line break, and kept from
/// being read as a formula.
fn text(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn a_field_with_a_comma_quote_or_line_break_is_quoted_and_its_quotes_doubled() {
        assert_eq!(text("plain"), "plain");
        assert_eq!(text("a,b"), "\"a,b\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn text_a_spreadsheet_would_run_as_a_formula_is_kept_as_text() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(text("+1"), "'+1");
        assert_eq!(text("-SKU"), "'-SKU");
        assert_eq!(text("@sum"), "'@sum");
    }
}
