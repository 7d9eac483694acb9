//! The checked-in SDL (`api/schema.graphql`) is the schema the code builds: the
//! admin frontend is written against it. Regenerate after a deliberate change with
//! `UPDATE_SCHEMA=1 cargo test -p api --test schema_sdl`.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

#[test]
fn the_checked_in_schema_sdl_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let built = api::schema::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &built).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == built,
        "api/schema.graphql is out of date with the code: run \
         `UPDATE_SCHEMA=1 cargo test -p api --test schema_sdl` and commit the file"
    );
}

#[test]
fn secrets_appear_only_in_the_credential_input_never_in_an_output_type() {
    let sdl = api::schema::sdl();
    let mut block = "";
    let mut found = 0;
    for line in sdl.lines() {
        if !line.starts_with('\t') && line.ends_with('{') {
            block = line;
        }
        let field = line.trim();
        if field.starts_with("lwaClientSecret") || field.starts_with("refreshToken") {
            found += 1;
            assert!(
                block.starts_with("input AmazonCredentialInput"),
                "{field} appears in {block}"
            );
        }
    }
    assert_eq!(found, 2);
}
