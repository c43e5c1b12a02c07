//! The same behaviour on PostgreSQL (a fresh `test_<uuid>` database per test).

use crate::helpers::Db;

#[tokio::test]
async fn lists_and_filters_thousands_of_tasks_on_postgres() {
    crate::tasks::listing_and_filtering_over_thousands_of_tasks(Db::Postgres).await;
}

#[tokio::test]
async fn reindex_rebuilds_the_same_index_on_postgres() {
    crate::reindex::reindex_rebuilds_the_same_index(Db::Postgres).await;
}

#[tokio::test]
async fn retention_removes_exactly_the_old_tasks_on_postgres() {
    crate::retention::retention_removes_exactly_the_old_ones(Db::Postgres).await;
}

#[tokio::test]
async fn analytics_on_postgres() {
    crate::analytics::analytics_add_up(Db::Postgres).await;
}

#[tokio::test]
async fn text_filters_follow_the_rows_on_postgres() {
    crate::tasks::text_filters_follow_the_rows(Db::Postgres).await;
}
