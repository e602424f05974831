//! Tooling beside the use cases, run from the `xuncha` binary's commands: the demo city
//! (`seed-demo`) and the generated city of the load tests (`generate-city`). Both write
//! through the core's use cases where a user would, and straight to the tables where
//! only volume matters.

pub mod demo;
pub mod generate;
