//! Importing regions, committees and rules: the demo data, idempotence, and
//! bad files that change nothing.

use crate::on_both_backends;
use crate::support::TestDb;
use jiefen::import::{demo_files, import, ImportError, ImportFiles};
use jiefen::storage;

async fn counts(db: &TestDb) -> Vec<(&'static str, i64)> {
    let mut c = db.storage.acquire().await.unwrap();
    storage::table_counts(&mut c).await.unwrap()
}

/// Everything an import can touch, as text, to compare before and after.
async fn dump(db: &TestDb) -> String {
    let mut c = db.storage.acquire().await.unwrap();
    let regions = storage::regions::list(&mut c).await.unwrap();
    let committees = storage::committees::list_all(&mut c).await.unwrap();
    let rules = storage::rules::list(&mut c).await.unwrap();
    let version = storage::rules::routing_version(&mut c).await.unwrap();
    format!("{regions:?}\n{committees:?}\n{rules:?}\n{version}")
}

on_both_backends!(
    the_demo_data_loads_with_the_expected_counts,
    importing_the_demo_twice_changes_nothing_the_second_time,
    a_bad_committee_line_names_line_and_field_and_loads_nothing,
    a_rule_naming_an_unknown_committee_loads_nothing,
    a_rule_asking_for_a_specialty_nobody_has_is_rejected,
);

async fn the_demo_data_loads_with_the_expected_counts(db: &TestDb) {
    let s = import(&db.storage, &demo_files(), 1).await.unwrap();
    assert_eq!((s.regions, s.committees, s.rules), (49, 54, 10));
    let c = counts(db).await;
    assert_eq!(
        &c[..3],
        &[("regions", 49), ("committees", 54), ("routing_rules", 10)]
    );

    let mut conn = db.storage.acquire().await.unwrap();
    let towns = storage::regions::children(&mut conn, "620722")
        .await
        .unwrap();
    let names: Vec<_> = towns.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "洪水镇",
            "六坝镇",
            "新天镇",
            "南古镇",
            "永固镇",
            "三堡镇",
            "南丰镇",
            "民联镇",
            "顺化镇",
            "丰乐镇"
        ]
    );
    let labour = storage::committees::get_by_code(&mut conn, "620722-LABOR")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(labour.name, "民乐县劳动人事争议人民调解委员会");
    assert_eq!(labour.specialties, vec![jiefen::domain::Category::Labor]);
}

async fn importing_the_demo_twice_changes_nothing_the_second_time(db: &TestDb) {
    import(&db.storage, &demo_files(), 1).await.unwrap();
    let first_counts = counts(db).await;
    let mut conn = db.storage.acquire().await.unwrap();
    let first_rules = storage::rules::list(&mut conn).await.unwrap();
    let first_committees = storage::committees::list_all(&mut conn).await.unwrap();
    drop(conn);
    import(&db.storage, &demo_files(), 2).await.unwrap();
    assert_eq!(counts(db).await, first_counts);
    let mut conn = db.storage.acquire().await.unwrap();
    assert_eq!(storage::rules::list(&mut conn).await.unwrap(), first_rules);
    assert_eq!(
        storage::committees::list_all(&mut conn).await.unwrap(),
        first_committees
    );
}

async fn a_bad_committee_line_names_line_and_field_and_loads_nothing(db: &TestDb) {
    import(&db.storage, &demo_files(), 1).await.unwrap();
    let before = dump(db).await;

    let mut files = demo_files();
    let committees = files.committees.take().unwrap();
    let mut lines: Vec<String> = committees.lines().map(str::to_owned).collect();
    // Line 5 of the file (the header is line 1): a kind that does not exist.
    lines[4] = lines[4].replacen(",county,", ",countyy,", 1);
    // A new region that would otherwise load, to prove nothing is written.
    files.regions = Some(format!(
        "{}\n620722100299,新村,620722100,38.4,100.8,,true\n",
        files.regions.unwrap().trim_end()
    ));
    files.committees = Some(lines.join("\n"));

    let err = import(&db.storage, &files, 2).await.unwrap_err();
    match &err {
        ImportError::Invalid {
            file,
            line,
            field,
            message,
        } => {
            assert_eq!(
                (file.as_str(), *line, field.as_str()),
                ("committees.csv", 5, "kind")
            );
            assert!(message.contains("countyy"), "{message}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(
        dump(db).await,
        before,
        "a failed import must not change anything"
    );
}

async fn a_rule_naming_an_unknown_committee_loads_nothing(db: &TestDb) {
    let before = dump(db).await;
    let mut files = demo_files();
    files.rules = Some(format!(
        "{}\n200,指向不存在的调委会,true,debt,,,,NO-SUCH,,,,,,\n",
        files.rules.unwrap().trim_end()
    ));
    let err = import(&db.storage, &files, 1).await.unwrap_err();
    assert!(
        matches!(&err, ImportError::Invalid { file, line: 12, field, .. }
            if file == "rules.csv" && field == "target_committee"),
        "{err}"
    );
    assert_eq!(dump(db).await, before);
}

async fn a_rule_asking_for_a_specialty_nobody_has_is_rejected(db: &TestDb) {
    let mut files = demo_files();
    files.rules = Some(
        "priority,name,target_kind,target_specialty\n10,环境 → 环境调委会,industry,environment\n"
            .into(),
    );
    let err = import(&db.storage, &files, 1).await.unwrap_err();
    assert!(
        matches!(&err, ImportError::Invalid { line: 2, field, message, .. }
            if field == "target_specialty" && message.contains("environment")),
        "{err}"
    );
    assert_eq!(counts(db).await[0], ("regions", 0));
}

#[test]
fn a_folder_without_any_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = ImportFiles::from_path(dir.path()).unwrap_err();
    assert!(err.to_string().contains("regions.csv"), "{err}");
}
