//! Grizzly UDFs in Apache Ballista: codecs that ship a function's program with the plan.
//!
//! A Ballista client sends its logical plan to the scheduler, and the scheduler sends
//! physical plans to executors. A UDF normally travels by name only, so every process
//! would need it registered. [`GrizzlyLogicalCodec`] and [`GrizzlyPhysicalCodec`]
//! instead write a [`GrizzlyUdf`]'s name and program into the plan; the receiving
//! process builds the UDF from them (checking the program as registration does) and
//! compiles it itself. Everything else goes to the codec they wrap (Ballista's own, by
//! default), so custom plan nodes, file formats and other UDFs work as before.
//!
//! ```no_run
//! # async fn demo() -> datafusion::error::Result<()> {
//! use ballista::prelude::SessionContextExt;
//! use datafusion::execution::SessionStateBuilder;
//! use datafusion::prelude::SessionContext;
//! let state = SessionStateBuilder::new()
//!     .with_config(grizzly_ballista::session_config())
//!     .with_default_features()
//!     .build();
//! let ctx = SessionContext::remote_with_state("df://localhost:50050", state).await?;
//! grizzly_datafusion::register_program(&ctx, "FUNCTION twice(x: int) RETURNS int => x * 2")
//!     .unwrap();
//! ctx.sql("SELECT twice(id) FROM orders").await?.show().await?;
//! # Ok(()) }
//! ```
//!
//! The scheduler and the executors need the same codecs: start them with
//! [`session_config`]'s (for Ballista's own binaries, the codec overrides of
//! `SchedulerConfig` and `ExecutorProcessConfig`). They need no Grizzly UDF registered.

mod codec;
mod wire;

pub use codec::{GrizzlyLogicalCodec, GrizzlyPhysicalCodec};

use ballista_core::extension::SessionConfigExt;
use datafusion::prelude::SessionConfig;
use std::sync::Arc;

/// A Ballista session configuration whose codecs ship Grizzly UDFs (wrapping
/// Ballista's own codecs). Give the same configuration to the client, the scheduler
/// and the executors.
pub fn session_config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(GrizzlyLogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(GrizzlyPhysicalCodec::default()))
}
