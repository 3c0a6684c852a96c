//! The command line as an operator meets it.

use std::process::Command;

fn jiefen(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jiefen"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("JIEFEN_DATABASE_URL")
        .output()
        .expect("run jiefen")
}

#[test]
fn import_of_the_demo_data_reports_counts_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    for _ in 0..2 {
        let out = jiefen(&db, &["import", "--demo"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "imported 49 regions, 54 committees, 10 rules"
        );
    }
}

#[test]
fn a_bad_import_file_fails_with_its_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let file = dir.path().join("committees.csv");
    std::fs::write(
        &file,
        "code,name,kind,region_code,lat,lon\nX1,某调委会,village,620722,91,100\n",
    )
    .unwrap();
    let out = jiefen(&db, &["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("committees.csv, line 2, field lat"),
        "stderr: {err}"
    );
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_jiefen"))
        .args(["serve", "--bot-token", "x"])
        .env("JIEFEN_TIMEZONE", "Mars/Base")
        .output()
        .expect("run jiefen");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--timezone") && err.contains("Asia/Shanghai"),
        "{err}"
    );
}

#[test]
fn a_token_is_printed_once_and_listed_without_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let out = jiefen(
        &db,
        &[
            "token",
            "create",
            "--name",
            "县司法局",
            "--role",
            "operator",
        ],
    );
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let secret = stdout
        .split_whitespace()
        .find(|w| w.starts_with("jf_"))
        .expect("secret printed")
        .to_owned();
    let list = jiefen(&db, &["token", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("operator") && listed.contains("县司法局"),
        "{listed}"
    );
    assert!(!listed.contains(&secret));
}
