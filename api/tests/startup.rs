//! The `api` binary explains bad configuration in one line and exits non-zero.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use std::process::Command;

fn run_api(vars: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_api"));
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", dir.path());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn a_bad_setting_exits_non_zero_with_one_line_naming_the_variable() {
    for (var, value) in [
        ("API_ADDR", "not-an-address"),
        ("APP_ENCRYPTION_KEY", "dG9vIHNob3J0"),
        ("DATABASE_URL", "mysql://localhost/db"),
        ("RUN_MIGRATIONS", "perhaps"),
    ] {
        let out = run_api(&[(var, value)]);
        assert!(!out.status.success(), "{var}={value} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{var}: expected one line, got {stderr:?}");
        assert!(
            lines[0].starts_with("error: invalid configuration: "),
            "{stderr}"
        );
        assert!(lines[0].contains(var), "{var} not named: {stderr}");
    }
}

#[test]
fn production_without_secrets_refuses_to_start() {
    let out = run_api(&[("APP_ENV", "production")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("APP_ENCRYPTION_KEY is required when APP_ENV=production"),
        "{stderr}"
    );
}
