//! Routing benchmark (placeholder while the core is written).
fn main() {}
