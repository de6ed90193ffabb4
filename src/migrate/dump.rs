//! The JSONL dump: one `{"table": …, "row": {…}}` per line, tables in
//! [`Table::ALL`] order (see `store::transfer`). Read and written a line
//! at a time, so a dump of any size streams.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use tokio::fs::File;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, BufWriter, Lines};

use crate::store::transfer::{Row, Table};

#[derive(Serialize)]
struct LineOut<'a> {
    table: &'static str,
    row: &'a Row,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineIn {
    table: String,
    row: Row,
}

/// Reads a dump, checking each line and the order of tables.
pub struct DumpReader {
    path: PathBuf,
    lines: Lines<BufReader<File>>,
    line_number: u64,
    /// Position in `Table::ALL` of the table read last.
    current: usize,
}

impl DumpReader {
    pub async fn open(path: &Path) -> anyhow::Result<DumpReader> {
        let file = File::open(path)
            .await
            .with_context(|| format!("cannot open dump {}", path.display()))?;
        Ok(DumpReader {
            path: path.to_owned(),
            lines: BufReader::new(file).lines(),
            line_number: 0,
            current: 0,
        })
    }

    /// The next row and its table; `None` at the end. Blank lines are skipped.
    pub async fn next_row(&mut self) -> anyhow::Result<Option<(Table, Row)>> {
        loop {
            let line = self
                .lines
                .next_line()
                .await
                .with_context(|| format!("reading {}", self.path.display()))?;
            let Some(line) = line else {
                return Ok(None);
            };
            self.line_number += 1;
            if line.trim().is_empty() {
                continue;
            }
            return self.parse(&line).map(Some);
        }
    }

    fn parse(&mut self, line: &str) -> anyhow::Result<(Table, Row)> {
        let at = format!("{} line {}", self.path.display(), self.line_number);
        let parsed: LineIn = serde_json::from_str(line)
            .with_context(|| format!("{at}: not a dump line {{\"table\": …, \"row\": {{…}}}}"))?;
        let table = Table::from_name(&parsed.table)
            .with_context(|| format!("{at}: unknown table {:?}", parsed.table))?;
        let position = Table::ALL
            .iter()
            .position(|known| *known == table)
            .unwrap_or_default();
        if position < self.current {
            anyhow::bail!(
                "{at}: table {} comes after {}; a dump lists tables in dependency order",
                table.name(),
                Table::ALL[self.current].name()
            );
        }
        self.current = position;
        Ok((table, parsed.row))
    }
}

/// Writes a dump; `finish` flushes it.
pub struct DumpWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl DumpWriter {
    /// Creates the dump file. An existing non-empty file is refused, so a
    /// dump is never appended to or overwritten by mistake.
    pub async fn create(path: &Path) -> anyhow::Result<DumpWriter> {
        if let Ok(metadata) = tokio::fs::metadata(path).await
            && metadata.len() > 0
        {
            anyhow::bail!(
                "target {} is not empty; migrate only writes a new dump",
                path.display()
            );
        }
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .with_context(|| format!("creating {}", dir.display()))?;
        }
        let file = File::create(path)
            .await
            .with_context(|| format!("cannot create dump {}", path.display()))?;
        Ok(DumpWriter {
            path: path.to_owned(),
            out: BufWriter::new(file),
        })
    }

    pub async fn write(&mut self, table: Table, rows: &[Row]) -> anyhow::Result<()> {
        for row in rows {
            let mut line = serde_json::to_string(&LineOut {
                table: table.name(),
                row,
            })?;
            line.push('\n');
            self.out
                .write_all(line.as_bytes())
                .await
                .with_context(|| format!("writing {}", self.path.display()))?;
        }
        Ok(())
    }

    pub async fn finish(mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .await
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.out
            .get_ref()
            .sync_all()
            .await
            .with_context(|| format!("syncing {}", self.path.display()))
    }
}
