//! `deploy/.env.example` is the operator's list of settings: it must name every
//! variable [`Settings::load`] asks for, load as written, and show the loader's real
//! defaults. A setting added to the loader but not to the file fails here.

use super::{AppEnv, ConfigError, Settings};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// Names the file may carry although `Settings::load` never asks for them; each
/// says who reads it. Keep this list small: anything else is a typo or a setting
/// the loader forgot.
const NOT_ASKED_BY_THE_LOADER: &[&str] = &[
    // Read by tracing's `EnvFilter` in `service::telemetry` (checked below).
    "RUST_LOG",
    // compose.yaml puts it in the db's environment and in DATABASE_URL.
    "POSTGRES_PASSWORD",
];

/// One `NAME=value` (set) or `# NAME=value` (a default shown, commented out) line.
struct Entry {
    name: String,
    value: String,
    set: bool,
}

fn variable(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once('=')?;
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    ok.then_some((name, value.trim()))
}

/// The file's variables, in order; each must follow a one-line comment saying what
/// it is, and appear once.
fn example() -> Vec<Entry> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/.env.example");
    let text = std::fs::read_to_string(path).unwrap();
    let mut entries: Vec<Entry> = Vec::new();
    let mut previous = "";
    for (n, line) in text.lines().enumerate() {
        let (parsed, set) = match line.strip_prefix("# ") {
            Some(rest) => (variable(rest), false),
            None => (variable(line), true),
        };
        if let Some((name, value)) = parsed {
            let described = previous.starts_with("# ")
                && variable(&previous[2..]).is_none()
                && previous.len() > 3;
            assert!(
                described,
                "line {}: {name} has no one-line comment above it",
                n + 1
            );
            assert!(
                entries.iter().all(|e| e.name != name),
                "line {}: {name} appears twice",
                n + 1
            );
            entries.push(Entry {
                name: name.to_owned(),
                value: value.to_owned(),
                set,
            });
        } else {
            assert!(
                line.is_empty() || line.starts_with('#'),
                "line {}: neither a comment nor NAME=value: {line:?}",
                n + 1
            );
        }
        previous = line;
    }
    entries
}

/// Loads settings from `vars`, recording every name the loader asks for.
fn load_recording(
    vars: &HashMap<String, String>,
) -> (Result<Settings, ConfigError>, BTreeSet<String>) {
    let asked = Mutex::new(BTreeSet::new());
    let result = Settings::load(|k| {
        asked.lock().unwrap().insert(k.to_owned());
        vars.get(k).cloned()
    });
    (result, asked.into_inner().unwrap())
}

/// The file as an operator would use it: its set lines, with `DATA_DIR` in `dir`.
fn as_written(dir: &std::path::Path) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = example()
        .into_iter()
        .filter(|e| e.set)
        .map(|e| (e.name, e.value))
        .collect();
    vars.insert("DATA_DIR".into(), dir.to_str().unwrap().to_owned());
    vars
}

/// The two secrets the file leaves empty, filled as its comments say.
fn with_secrets(mut vars: HashMap<String, String>) -> HashMap<String, String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    vars.insert("APP_ENCRYPTION_KEY".into(), b64.encode([3u8; 32]));
    vars.insert("JWT_SECRET".into(), b64.encode([5u8; 48]));
    vars
}

#[test]
fn env_example_names_every_variable_the_loader_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let (result, asked) = load_recording(&with_secrets(as_written(dir.path())));
    result.unwrap();
    let listed: BTreeSet<String> = example().into_iter().map(|e| e.name).collect();

    let missing: Vec<_> = asked.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "the loader reads {missing:?} but deploy/.env.example does not list them: add each with a one-line comment and its default"
    );
    let unknown: Vec<_> = listed
        .difference(&asked)
        .filter(|n| !NOT_ASKED_BY_THE_LOADER.contains(&n.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "deploy/.env.example lists {unknown:?}, which nothing reads (a typo, or a setting removed from the loader)"
    );
    // The one name outside the loader the binaries read themselves.
    assert_eq!(tracing_subscriber::EnvFilter::DEFAULT_ENV, "RUST_LOG");
}

#[test]
fn env_example_loads_in_production_once_its_two_secrets_are_filled() {
    let dir = tempfile::tempdir().unwrap();

    let refused = load_recording(&as_written(dir.path())).0.unwrap_err();
    let s = load_recording(&with_secrets(as_written(dir.path())))
        .0
        .unwrap();

    assert!(
        refused
            .to_string()
            .starts_with("APP_ENCRYPTION_KEY is required when APP_ENV=production"),
        "{refused}"
    );
    assert_eq!(s.app_env, AppEnv::Production);
    assert!(s.is_sqlite() && !s.api.graphiql, "{s:?}");
    assert!(s.notices.is_empty(), "{:?}", s.notices);
}

#[test]
fn env_example_loads_in_development_with_its_secrets_empty_generating_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut vars = as_written(dir.path());
    vars.insert("APP_ENV".into(), "development".into());

    let s = load_recording(&vars).0.unwrap();

    assert_eq!(s.app_env, AppEnv::Development);
    assert!(dir.path().join(super::KEY_FILE).exists());
    assert!(dir.path().join(super::JWT_FILE).exists());
}

#[test]
fn the_defaults_env_example_shows_are_the_loaders_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let written = with_secrets(as_written(dir.path()));
    let debug = |vars: &HashMap<String, String>| {
        let mut s = load_recording(vars).0.unwrap();
        s.notices.clear();
        format!("{s:?}")
    };
    let defaults = debug(&written);

    let not_defaults: BTreeMap<String, String> = example()
        .into_iter()
        .filter(|e| !e.set && e.name != "DATA_DIR")
        .filter(|e| {
            let mut one = written.clone();
            one.insert(e.name.clone(), e.value.clone());
            debug(&one) != defaults
        })
        .map(|e| (e.name, e.value))
        .collect();

    assert!(
        not_defaults.is_empty(),
        "deploy/.env.example shows these as defaults, but the loader's differ: {not_defaults:?}"
    );
}
