//! Live mode: new orders arrive and existing ones advance, at rates per simulated hour; the FBA
//! inventory follows them, and now and then a unit becomes unfulfillable; now and then an
//! outside repricer (or an edit in Seller Central) changes a listing's price.

use std::sync::Arc;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::LiveConfig;
use crate::state::Shared;

pub(crate) async fn run(shared: Arc<Shared>, live: LiveConfig, shutdown: CancellationToken) {
    let mut last = shared.clock.sim_secs();
    let (mut new_due, mut update_due, mut damage_due) = (0.0_f64, 0.0_f64, 0.0_f64);
    let mut reprice_due = 0.0_f64;
    let tick = live.tick.max(std::time::Duration::from_millis(10));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(tick) => {}
        }
        let now_secs = shared.clock.sim_secs();
        let hours = (now_secs - last) / 3600.0;
        last = now_secs;
        new_due += live.orders_per_hour * hours;
        update_due += live.updates_per_hour * hours;
        damage_due += shared.config.inventory_damage_per_hour * hours;
        reprice_due += shared.config.reprices_per_hour * hours;
        let now = shared.clock.now();
        let mut inner = shared.lock();
        while new_due >= 1.0 {
            new_due -= 1.0;
            let o = inner.generator.order_at(now);
            inner.insert_order(o, now);
        }
        while update_due >= 1.0 {
            update_due -= 1.0;
            let open: Vec<String> = inner
                .orders
                .values()
                .filter(|o| {
                    matches!(
                        o.status,
                        crate::OrderStatus::Pending
                            | crate::OrderStatus::Unshipped
                            | crate::OrderStatus::PartiallyShipped
                    )
                })
                .map(|o| o.id.clone())
                .collect();
            if open.is_empty() {
                break;
            }
            let pick = inner.generator.pick(open.len());
            // A small share of open orders gets canceled instead of advanced.
            let cancel = inner.rng.random_bool(0.03);
            if cancel {
                inner.set_order_status(&open[pick], crate::OrderStatus::Canceled, now);
            } else {
                inner.advance_order(&open[pick], now);
            }
        }
        // The inventory's own RNG: the orders above draw exactly as they did without it.
        while damage_due >= 1.0 {
            damage_due -= 1.0;
            inner.inventory.random_damage(now);
        }
        // The listings' own RNG, likewise.
        while reprice_due >= 1.0 {
            reprice_due -= 1.0;
            inner.tick_listings(now);
            inner.listings.random_reprice(now);
        }
    }
}
