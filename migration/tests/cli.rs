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

    // Counted from the migrations this build knows, so a new one changes nothing here.
    let all = <migration::Migrator as migration::MigratorTrait>::migrations();
    let n = all.len();
    let second_last = all[n - 2].name().to_owned();
    assert!(migration(&url, &["status"]).ends_with(&format!("0 applied, {n} pending\n")));
    assert!(migration(&url, &["up"]).ends_with(&format!("{n} applied, 0 pending\n")));
    let down = migration(&url, &["down", "-n", "2"]);
    assert!(down.contains(&format!("pending  {second_last}")), "{down}");
    assert!(
        down.ends_with(&format!("{} applied, 2 pending\n", n - 2)),
        "{down}"
    );
    assert!(migration(&url, &["fresh"]).ends_with(&format!("{n} applied, 0 pending\n")));
}
