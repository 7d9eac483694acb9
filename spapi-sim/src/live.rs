//! Live mode: new orders arrive and existing ones advance, at rates per simulated hour.

use std::sync::Arc;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::LiveConfig;
use crate::state::Shared;

pub(crate) async fn run(shared: Arc<Shared>, live: LiveConfig, shutdown: CancellationToken) {
    let mut last = shared.clock.sim_secs();
    let (mut new_due, mut update_due) = (0.0_f64, 0.0_f64);
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
        let now = shared.clock.now();
        let mut inner = shared.lock();
        while new_due >= 1.0 {
            new_due -= 1.0;
            let o = inner.generator.order_at(now);
            inner.orders.insert(o.id.clone(), o);
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
            if let Some(o) = inner.orders.get_mut(&open[pick]) {
                if cancel {
                    o.set_status(crate::OrderStatus::Canceled, now);
                } else {
                    o.advance(now);
                }
            }
        }
    }
}
