//! A Grizzly UDF in a query run by Ballista (a scheduler and an executor started in
//! this process), against the same query in local DataFusion.

use ballista::prelude::SessionContextExt;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{CsvReadOptions, SessionConfig, SessionContext};

const RULES: &str = include_str!("../../examples/sql/rules.grz");

fn orders_csv() -> String {
    format!("{}/../examples/sql/orders.csv", env!("CARGO_MANIFEST_DIR"))
}

const QUERY: &str = "SELECT id, tier(amount) AS tier, net(amount, discount) AS net, \
     label(region, id, items) AS label, quantity(note) AS quantity \
     FROM orders ORDER BY id";

/// The query's result as a table, in a context that already has the UDFs and data.
async fn run(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<String> {
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(pretty_format_batches(&batches)?.to_string())
}

/// A standalone Ballista cluster whose scheduler and executor know no Grizzly UDF
/// (they get only `config`), and a client context over it with the rules and orders.
async fn cluster(config: SessionConfig) -> SessionContext {
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    let ctx = SessionContext::standalone_with_state(state).await.unwrap();
    // Registered on the client only: the cluster was started before.
    grizzly_datafusion::register_program(&ctx, RULES).unwrap();
    ctx.register_csv("orders", &orders_csv(), CsvReadOptions::new())
        .await
        .unwrap();
    ctx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grizzly_udf_runs_on_ballista_as_in_local_datafusion() {
    let local = grizzly_datafusion::session();
    grizzly_datafusion::register_program(&local, RULES).unwrap();
    local
        .register_csv("orders", &orders_csv(), CsvReadOptions::new())
        .await
        .unwrap();
    let expected = run(&local, QUERY).await.unwrap();
    assert_eq!(
        expected.lines().count(),
        1000 + 4,
        "all orders, with a header"
    );

    let ctx = cluster(grizzly_ballista::session_config()).await;
    assert_eq!(run(&ctx, QUERY).await.unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_codecs_the_cluster_does_not_know_the_udf() {
    use ballista::prelude::SessionConfigExt;
    // The control: the same cluster with Ballista's own codecs cannot run the query,
    // so the test above passes because the codecs ship the function.
    let ctx = cluster(SessionConfig::new_with_ballista()).await;
    let err = run(&ctx, QUERY).await.unwrap_err().to_string();
    assert!(err.contains("tier"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_error_on_an_executor_names_the_function_and_the_message() {
    let ctx = cluster(grizzly_ballista::session_config()).await;
    grizzly_datafusion::register_program(
        &ctx,
        "FUNCTION spread(id: int) RETURNS int => 1000 / (id - 500)",
    )
    .unwrap();
    let err = run(&ctx, "SELECT spread(id) FROM orders")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("spread"), "{err}");
    assert!(err.to_lowercase().contains("division by zero"), "{err}");
}
