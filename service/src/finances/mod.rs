//! The seller's money, from the financial transactions the sync brings in.
//!
//! - [`categorize`] decides, once, when a transaction is written, what each leaf
//!   of its breakdown tree is (sales, tax, promotion, fee, refund, transfer,
//!   other), and [`flatten`] turns the tree into rows: sums then read columns.
//! - The views ([`views`]): one order's financials, profit per day in the seller's
//!   time zone, and reconciliation of orders against settlements.
//!
//! Money is exact (`Decimal`) and summed per currency, never across currencies.
//! Net proceeds are the sum of every leaf that is not a transfer: what Amazon
//! owes the seller for the sale, once fees, refunds and taxes are counted.

pub mod views;

use crate::spapi::RemoteBreakdown;
use entity::enums::BreakdownCategory;

/// What a breakdown leaf's money is, from the transaction's type and the leaf's
/// path from the top of the tree (`["Expenses", "AmazonFees", "Commission"]`).
///
/// - a `Transfer` transaction (or a `Transfer` node): the payout;
/// - a path through `Expenses`, `AmazonFees` or any fee or commission: a fee (in a
///   refund too: a returned commission is a fee back);
/// - in a refund (a type naming `Refund`), any other leaf: what was given back;
/// - else a path through a tax: tax; through a promotion: promotion; through
///   `Sales`, charges or a principal: sales;
/// - anything else (adjustments, reimbursements…): other.
#[must_use]
pub fn categorize(transaction_type: &str, path: &[&str]) -> BreakdownCategory {
    let has = |needle: &str| {
        path.iter().any(|p| {
            p.to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase())
        })
    };
    if transaction_type.eq_ignore_ascii_case("Transfer") || path.first() == Some(&"Transfer") {
        return BreakdownCategory::Transfer;
    }
    if has("Expense") || has("Fee") || has("Commission") {
        return BreakdownCategory::Fee;
    }
    if transaction_type.to_ascii_lowercase().contains("refund") {
        return BreakdownCategory::Refund;
    }
    if has("Tax") {
        BreakdownCategory::Tax
    } else if has("Promotion") {
        BreakdownCategory::Promotion
    } else if has("Sales") || has("Charge") || has("Principal") {
        BreakdownCategory::Sales
    } else {
        BreakdownCategory::Other
    }
}

/// One node of a breakdown tree as a row: pre-order position, parent, depth and,
/// for a leaf, its category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatNode<'a> {
    /// Pre-order index from 0.
    pub position: i32,
    /// The parent's position; `None` at the top.
    pub parent_position: Option<i32>,
    /// 0 at the top.
    pub depth: i32,
    /// The node.
    pub node: &'a RemoteBreakdown,
    /// The leaf's category; `None` for a node with children.
    pub category: Option<BreakdownCategory>,
}

/// The tree in pre-order, each node with its place and each leaf with its category.
#[must_use]
pub fn flatten<'a>(transaction_type: &str, tree: &'a [RemoteBreakdown]) -> Vec<FlatNode<'a>> {
    fn walk<'a>(
        transaction_type: &str,
        nodes: &'a [RemoteBreakdown],
        parent: Option<i32>,
        path: &mut Vec<&'a str>,
        out: &mut Vec<FlatNode<'a>>,
    ) {
        for node in nodes {
            let position = i32::try_from(out.len()).unwrap_or(i32::MAX);
            path.push(&node.breakdown_type);
            let category = node
                .breakdowns
                .is_empty()
                .then(|| categorize(transaction_type, path));
            out.push(FlatNode {
                position,
                parent_position: parent,
                depth: i32::try_from(path.len() - 1).unwrap_or(i32::MAX),
                node,
                category,
            });
            walk(
                transaction_type,
                &node.breakdowns,
                Some(position),
                path,
                out,
            );
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(transaction_type, tree, None, &mut Vec::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use BreakdownCategory as C;

    #[test]
    fn a_shipments_principal_is_sales_its_fees_are_fees_and_its_tax_is_tax() {
        let cat = |p: &[&str]| categorize("Shipment", p);
        assert_eq!(cat(&["Sales", "ProductCharges", "Principal"]), C::Sales);
        assert_eq!(cat(&["Sales", "ShippingCharges"]), C::Sales);
        assert_eq!(cat(&["Sales", "ProductCharges", "Tax"]), C::Tax);
        assert_eq!(
            cat(&["Sales", "Promotions", "PromotionMetaDataDefinitionValue"]),
            C::Promotion
        );
        assert_eq!(cat(&["Expenses", "AmazonFees", "Commission"]), C::Fee);
        assert_eq!(
            cat(&["Expenses", "AmazonFees", "FBAPerUnitFulfillmentFee"]),
            C::Fee
        );
        assert_eq!(cat(&["Adjustment"]), C::Other);
    }

    #[test]
    fn a_refund_gives_back_sales_and_returns_fees() {
        assert_eq!(
            categorize("Refund", &["Sales", "ProductCharges", "Principal"]),
            C::Refund
        );
        assert_eq!(
            categorize("Refund", &["Expenses", "AmazonFees", "RefundCommission"]),
            C::Fee
        );
        assert_eq!(categorize("Transfer", &["Transfer"]), C::Transfer);
        assert_eq!(
            categorize("ServiceFee", &["Expenses", "ServiceFees", "Subscription"]),
            C::Fee
        );
    }

    #[test]
    fn a_tree_flattens_in_pre_order_with_categories_on_leaves_only() {
        let leaf = |t: &str, a: &str| RemoteBreakdown {
            breakdown_type: t.to_owned(),
            amount: a.parse().unwrap(),
            currency: "USD".to_owned(),
            breakdowns: Vec::new(),
        };
        let tree = vec![
            RemoteBreakdown {
                breakdowns: vec![leaf("Principal", "10.00")],
                ..leaf("Sales", "10.00")
            },
            RemoteBreakdown {
                breakdowns: vec![
                    leaf("Commission", "-1.50"),
                    leaf("FBAPerUnitFulfillmentFee", "-3.22"),
                ],
                ..leaf("Expenses", "-4.72")
            },
        ];
        let flat = flatten("Shipment", &tree);
        type Shape<'a> = (i32, Option<i32>, i32, &'a str, Option<C>);
        let shape: Vec<Shape<'_>> = flat
            .iter()
            .map(|f| {
                (
                    f.position,
                    f.parent_position,
                    f.depth,
                    f.node.breakdown_type.as_str(),
                    f.category,
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (0, None, 0, "Sales", None),
                (1, Some(0), 1, "Principal", Some(C::Sales)),
                (2, None, 0, "Expenses", None),
                (3, Some(2), 1, "Commission", Some(C::Fee)),
                (4, Some(2), 1, "FBAPerUnitFulfillmentFee", Some(C::Fee)),
            ]
        );
    }
}
