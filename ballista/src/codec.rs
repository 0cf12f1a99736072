//! Logical and physical codecs that ship Grizzly UDFs and hand the rest to the codec
//! they wrap.

use crate::wire;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{
    AggregateUDF, Extension, HigherOrderUDF, LogicalPlan, ScalarUDF, WindowUDF,
};
use datafusion::physical_expr_common::physical_expr::proto_decode::PhysicalExprDecodeCtx;
use datafusion::physical_expr_common::physical_expr::proto_encode::PhysicalExprEncodeCtx;
use datafusion::physical_expr_common::physical_expr::PhysicalExpr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use grizzly_datafusion::GrizzlyUdf;
use std::sync::Arc;

/// Writes a Grizzly UDF's definition into `buf`; any other UDF is `other`'s to encode.
fn encode_udf(
    node: &ScalarUDF,
    buf: &mut Vec<u8>,
    other: impl FnOnce(&ScalarUDF, &mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    match node.inner().downcast_ref::<GrizzlyUdf>() {
        Some(udf) => wire::encode(udf, buf),
        None => other(node, buf),
    }
}

/// Builds the UDF a Grizzly definition describes; any other bytes are `other`'s.
fn decode_udf(
    name: &str,
    buf: &[u8],
    other: impl FnOnce(&str, &[u8]) -> Result<Arc<ScalarUDF>>,
) -> Result<Arc<ScalarUDF>> {
    if wire::is_grizzly(buf) {
        Ok(Arc::new(ScalarUDF::new_from_impl(wire::decode(name, buf)?)))
    } else {
        other(name, buf)
    }
}

/// The methods both codecs have alike: Grizzly UDFs shipped, the other kinds of
/// function left to the wrapped codec (`self.inner`).
macro_rules! shared_methods {
    () => {
        fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
            encode_udf(node, buf, |n, b| self.inner.try_encode_udf(n, b))
        }

        fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
            decode_udf(name, buf, |n, b| self.inner.try_decode_udf(n, b))
        }

        fn try_decode_higher_order_function(
            &self,
            name: &str,
            buf: &[u8],
        ) -> Result<Arc<HigherOrderUDF>> {
            self.inner.try_decode_higher_order_function(name, buf)
        }

        fn try_encode_higher_order_function(
            &self,
            node: &HigherOrderUDF,
            buf: &mut Vec<u8>,
        ) -> Result<()> {
            self.inner.try_encode_higher_order_function(node, buf)
        }

        fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
            self.inner.try_decode_udaf(name, buf)
        }

        fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
            self.inner.try_encode_udaf(node, buf)
        }

        fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
            self.inner.try_decode_udwf(name, buf)
        }

        fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
            self.inner.try_encode_udwf(node, buf)
        }
    };
}

/// The logical codec: ships Grizzly UDFs from the client to the scheduler.
#[derive(Debug)]
pub struct GrizzlyLogicalCodec {
    inner: Arc<dyn LogicalExtensionCodec>,
}

impl GrizzlyLogicalCodec {
    /// Ships Grizzly UDFs and gives everything else to `inner`.
    pub fn new(inner: Arc<dyn LogicalExtensionCodec>) -> GrizzlyLogicalCodec {
        GrizzlyLogicalCodec { inner }
    }
}

impl Default for GrizzlyLogicalCodec {
    /// Wraps Ballista's logical codec.
    fn default() -> Self {
        Self::new(Arc::new(BallistaLogicalExtensionCodec::default()))
    }
}

impl LogicalExtensionCodec for GrizzlyLogicalCodec {
    shared_methods!();

    // Everything below belongs to the wrapped codec.

    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }
}

/// The physical codec: ships Grizzly UDFs from the scheduler to the executors.
#[derive(Debug)]
pub struct GrizzlyPhysicalCodec {
    inner: Arc<dyn PhysicalExtensionCodec>,
}

impl GrizzlyPhysicalCodec {
    /// Ships Grizzly UDFs and gives everything else to `inner`.
    pub fn new(inner: Arc<dyn PhysicalExtensionCodec>) -> GrizzlyPhysicalCodec {
        GrizzlyPhysicalCodec { inner }
    }
}

impl Default for GrizzlyPhysicalCodec {
    /// Wraps Ballista's physical codec.
    fn default() -> Self {
        Self::new(Arc::new(BallistaPhysicalExtensionCodec::default()))
    }
}

impl PhysicalExtensionCodec for GrizzlyPhysicalCodec {
    shared_methods!();

    // Everything below belongs to the wrapped codec.

    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    fn try_decode_expr(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn PhysicalExpr>],
        ctx: &PhysicalExprDecodeCtx<'_>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        self.inner.try_decode_expr(buf, inputs, ctx)
    }

    fn try_encode_expr(
        &self,
        node: &Arc<dyn PhysicalExpr>,
        buf: &mut Vec<u8>,
        ctx: &PhysicalExprEncodeCtx<'_>,
    ) -> Result<()> {
        self.inner.try_encode_expr(node, buf, ctx)
    }
}
