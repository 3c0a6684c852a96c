//! Putting the parts together: the engine every adapter shares, and the
//! service `serve` runs.

use crate::clock::SharedClock;
use crate::config::PolicyConfig;
use crate::conversation::Engine;
use crate::lifecycle::Lifecycle;
use crate::routing::Router;
use std::sync::Arc;

/// The conversation engine with everything that reacts to its changes, as
/// both the Telegram bot and the terminal chat run it.
pub fn build_engine(
    router: Router,
    policy: PolicyConfig,
    clock: SharedClock,
    admin_chat_id: Option<i64>,
) -> Arc<Engine> {
    let lifecycle = Lifecycle::new(router, policy, clock, admin_chat_id);
    Arc::new(Engine::from_lifecycle(lifecycle))
}
