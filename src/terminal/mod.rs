//! The terminal chat: the same engine, routing, outbox and storage as the
//! bot, with the terminal as one more adapter. Bot messages are printed,
//! buttons are numbered and pressed by typing their number, `/location` and
//! `/contact` stand in for Telegram's share buttons, and `/as mediator`
//! switches to a demo mediator's chat so the whole lifecycle can be played.

pub mod chat;
pub mod input;
pub mod render;

pub use chat::{ChatError, TerminalChat};

use crate::storage::{self, mediators::MediatorFields, Storage, StorageError};

/// Given names for demo mediators (illustrative).
const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: [&str; 8] = [
    "建国", "秀英", "志强", "桂兰", "国华", "丽娟", "永明", "淑芬",
];

/// Creates one demo mediator for each active committee of Minle county
/// (620722) when the database has none, so every case has someone to work
/// it. They link their chat the first time the terminal switches to them.
pub async fn seed_demo_mediators(storage: &Storage, now: i64) -> Result<usize, StorageError> {
    let mut tx = storage.begin().await?;
    if storage::terminal::mediator_count(&mut tx).await? > 0 {
        return Ok(0);
    }
    let committees = storage::committees::list_all(&mut tx).await?;
    let mut n = 0;
    for c in committees
        .iter()
        .filter(|c| c.active && c.region_code.as_str().starts_with("620722"))
    {
        let name = format!(
            "{}{}",
            SURNAMES[n % SURNAMES.len()],
            GIVEN[(n / SURNAMES.len()) % GIVEN.len()]
        );
        storage::mediators::insert(
            &mut tx,
            &MediatorFields {
                committee_id: c.id,
                name,
                phone: None,
                language: "zh-CN".into(),
                active: true,
            },
            now,
        )
        .await?;
        n += 1;
    }
    tx.commit().await?;
    Ok(n)
}
