//! Routing on the demo data: where typical Minle cases go, and why.

use crate::on_both_backends;
use crate::support::TestDb;
use jiefen::domain::{Category, GeoPoint, RegionCode};
use jiefen::i18n::Lang;
use jiefen::routing::{CaseFacts, Router, Via};

async fn demo_router(db: &TestDb) -> Router {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 1)
        .await
        .unwrap();
    Router::load(&db.storage).await.unwrap()
}

/// A case in 六坝镇六坝村.
fn liuba(category: Category, parties: i64) -> CaseFacts {
    CaseFacts {
        category,
        point: GeoPoint {
            lat: 38.605,
            lon: 100.80,
        },
        region_code: RegionCode::parse("620722101201").unwrap(),
        party_count: parties,
        at_risk: false,
    }
}

on_both_backends!(
    a_labour_dispute_in_minle_goes_to_the_labour_committee,
    a_neighbour_dispute_goes_to_the_nearest_village_committee,
    a_six_party_land_dispute_goes_to_the_township,
);

async fn a_labour_dispute_in_minle_goes_to_the_labour_committee(db: &TestDb) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Labor, 1), &[])
        .await
        .unwrap();
    assert_eq!(d.committee.unwrap().code, "620722-LABOR");
    assert!(
        matches!(d.explanation.via, Via::Rule { ref rule_name, .. } if rule_name.contains("劳动"))
    );
    let zh = d.explanation.render(Lang::ZhCn);
    assert!(
        zh.contains("民乐县劳动人事争议人民调解委员会") && zh.contains("公里"),
        "{zh}"
    );
}

async fn a_neighbour_dispute_goes_to_the_nearest_village_committee(db: &TestDb) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Neighbor, 2), &[])
        .await
        .unwrap();
    let committee = d.committee.unwrap();
    assert_eq!(committee.code, "620722101201-VIL", "{}", committee.name);
    let en = d.explanation.render(Lang::En);
    assert!(en.starts_with("Rule ") && en.contains(" km away"), "{en}");
}

async fn a_six_party_land_dispute_goes_to_the_township(db: &TestDb) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Land, 6), &[])
        .await
        .unwrap();
    assert_eq!(d.committee.unwrap().code, "620722101-TWN");
}
