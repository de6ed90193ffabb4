//! `realtalk migrate --from <source> --to <target>`: copies a whole store
//! between engines, or to and from a JSONL dump, e.g. to move a laptop
//! install from SQLite to MongoDB.
//!
//! Rows stream through in pages ([`PAGE_ROWS`]), table by table in
//! dependency order, so no engine ever holds the whole database in memory.
//! The target must be empty: migrate never merges into existing data.

mod dump;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use crate::error::{AppError, ErrorKind};
use crate::store::transfer::{Row, Table};
use crate::store::{self, Store};
use dump::{DumpReader, DumpWriter};

/// Rows per page read from the source and written to the target.
pub const PAGE_ROWS: usize = 500;

/// One end of a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `sqlite://PATH`, `mongodb://…` or `mongodb+srv://…`.
    Store(String),
    /// A path ending in `.jsonl`.
    Dump(PathBuf),
}

impl Endpoint {
    /// Recognises an end; the error says what is accepted.
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let is_sqlite = text
            .strip_prefix("sqlite://")
            .is_some_and(|path| !path.is_empty());
        let is_mongo = ["mongodb://", "mongodb+srv://"]
            .iter()
            .any(|scheme| text.len() > scheme.len() && text.starts_with(scheme));
        if is_sqlite || is_mongo {
            Ok(Endpoint::Store(text.to_owned()))
        } else if text.ends_with(".jsonl") && !text.contains("://") {
            Ok(Endpoint::Dump(PathBuf::from(text)))
        } else {
            Err(format!(
                "expected sqlite://PATH, mongodb://… or a FILE.jsonl, got {text:?}"
            ))
        }
    }
}

/// Why a migration did not run or did not finish.
#[derive(Debug)]
pub enum MigrateError {
    /// `--from` or `--to` is not something migrate can open (exit code 2).
    BadEndpoint(String),
    /// Anything else: an unreadable source, a non-empty target, a bad row.
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for MigrateError {
    fn from(error: anyhow::Error) -> Self {
        MigrateError::Failed(error)
    }
}

/// Rows copied per table, in [`Table::ALL`] order.
pub type Counts = Vec<(Table, u64)>;

/// Copies everything in `from` to `to` and returns the rows per table.
pub async fn run(from: &str, to: &str) -> Result<Counts, MigrateError> {
    let source = Endpoint::parse(from)
        .map_err(|problem| MigrateError::BadEndpoint(format!("--from: {problem}")))?;
    let target = Endpoint::parse(to)
        .map_err(|problem| MigrateError::BadEndpoint(format!("--to: {problem}")))?;
    if source == target {
        return Err(MigrateError::BadEndpoint(
            "--from and --to are the same".into(),
        ));
    }
    let source = Source::open(&source).await?;
    let mut sink = Sink::open(&target).await?;
    let mut counts: Counts = Table::ALL.iter().map(|table| (*table, 0)).collect();
    let copied = source.copy_into(&mut sink, &mut counts).await;
    let finished = match copied {
        Ok(()) => sink.finish().await,
        Err(error) => Err(error),
    };
    finished.map_err(|error| {
        MigrateError::Failed(error.context(format!(
            "migration stopped; {to} is left partly written: remove it before retrying"
        )))
    })?;
    Ok(counts)
}

enum Source {
    Store(Arc<dyn Store>),
    Dump(DumpReader),
}

impl Source {
    async fn open(endpoint: &Endpoint) -> anyhow::Result<Source> {
        match endpoint {
            Endpoint::Store(url) => {
                // Opening a SQLite path creates it: a typo must not read as an empty source.
                if let Some(path) = url.strip_prefix("sqlite://")
                    && !std::path::Path::new(path).exists()
                {
                    anyhow::bail!("source {url}: no such database file");
                }
                let store = store::open_url(url)
                    .await
                    .with_context(|| format!("opening source {url}"))?;
                Ok(Source::Store(store))
            }
            Endpoint::Dump(path) => Ok(Source::Dump(DumpReader::open(path).await?)),
        }
    }

    async fn copy_into(self, sink: &mut Sink, counts: &mut Counts) -> anyhow::Result<()> {
        match self {
            Source::Store(store) => {
                for (table, count) in counts.iter_mut() {
                    loop {
                        let page = store
                            .export_rows(*table, *count, PAGE_ROWS)
                            .await
                            .map_err(|error| store_error(*table, "exporting", error))?;
                        if page.is_empty() {
                            break;
                        }
                        *count += page.len() as u64;
                        sink.write(*table, page).await?;
                    }
                }
                Ok(())
            }
            Source::Dump(mut reader) => {
                let mut page: Vec<Row> = Vec::with_capacity(PAGE_ROWS);
                let mut page_table = None;
                while let Some((table, row)) = reader.next_row().await? {
                    if page_table != Some(table) || page.len() == PAGE_ROWS {
                        if let Some(previous) = page_table {
                            sink.write(previous, std::mem::take(&mut page)).await?;
                        }
                        page_table = Some(table);
                    }
                    page.push(row);
                    if let Some((_, count)) = counts.iter_mut().find(|(known, _)| *known == table) {
                        *count += 1;
                    }
                }
                if let Some(table) = page_table
                    && !page.is_empty()
                {
                    sink.write(table, page).await?;
                }
                Ok(())
            }
        }
    }
}

enum Sink {
    Store(Arc<dyn Store>),
    Dump(DumpWriter),
}

impl Sink {
    async fn open(endpoint: &Endpoint) -> anyhow::Result<Sink> {
        match endpoint {
            Endpoint::Store(url) => {
                let store = store::open_url(url)
                    .await
                    .with_context(|| format!("opening target {url}"))?;
                for table in Table::ALL {
                    let rows = store
                        .export_rows(table, 0, 1)
                        .await
                        .map_err(|error| store_error(table, "checking", error))?;
                    if !rows.is_empty() {
                        anyhow::bail!(
                            "target {url} is not empty (table {} has rows); migrate only into an empty store",
                            table.name()
                        );
                    }
                }
                Ok(Sink::Store(store))
            }
            Endpoint::Dump(path) => Ok(Sink::Dump(DumpWriter::create(path).await?)),
        }
    }

    async fn write(&mut self, table: Table, rows: Vec<Row>) -> anyhow::Result<()> {
        match self {
            Sink::Store(store) => store
                .import_rows(table, rows)
                .await
                .map_err(|error| store_error(table, "importing", error)),
            Sink::Dump(writer) => writer.write(table, &rows).await,
        }
    }

    async fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Store(_) => Ok(()),
            Sink::Dump(writer) => writer.finish().await,
        }
    }
}

/// An `AppError` as a one-line reason, keeping an internal cause.
fn store_error(table: Table, doing: &str, error: AppError) -> anyhow::Error {
    let what = format!(
        "{doing} {}: {}: {}",
        table.name(),
        error.kind.code(),
        error.message
    );
    match (error.kind, error.source) {
        (ErrorKind::Internal, Some(source)) => source.context(what),
        _ => anyhow::anyhow!(what),
    }
}

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn ends_are_store_urls_or_jsonl_paths() {
        assert_eq!(
            Endpoint::parse("sqlite://./data/realtalk.db"),
            Ok(Endpoint::Store("sqlite://./data/realtalk.db".into()))
        );
        assert!(matches!(
            Endpoint::parse("mongodb://localhost/rt?replicaSet=rs0"),
            Ok(Endpoint::Store(_))
        ));
        assert_eq!(
            Endpoint::parse("backup/2026.jsonl"),
            Ok(Endpoint::Dump("backup/2026.jsonl".into()))
        );
        for bad in [
            "sqlite://",
            "mongodb://",
            "dump.json",
            "s3://bucket/x.jsonl",
            "",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
