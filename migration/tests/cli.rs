//! `cargo run -p migration -- up | down | status | fresh` on a throwaway SQLite file.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use std::process::Command;

fn migration(url: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_migration"))
        .arg("-u")
        .arg(url)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn up_down_status_and_fresh_report_what_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.sqlite?mode=rwc", dir.path().display());

    assert!(migration(&url, &["status"]).ends_with("0 applied, 23 pending\n"));
    assert!(migration(&url, &["up"]).ends_with("23 applied, 0 pending\n"));
    let down = migration(&url, &["down", "-n", "2"]);
    assert!(
        down.contains("pending  m0022_amazon_transactions"),
        "{down}"
    );
    assert!(down.ends_with("21 applied, 2 pending\n"), "{down}");
    assert!(migration(&url, &["fresh"]).ends_with("23 applied, 0 pending\n"));
}
