//! The one writer connection, on a thread of its own, committing writes in
//! groups.
//!
//! With `synchronous = FULL` every commit waits for an fsync of the WAL, and
//! on a virtual disk that fsync is most of a write's cost: 0.4 ms typically,
//! hundreds of milliseconds when the host stalls (measured, BENCHMARKS.md).
//! One fsync per write makes a queue behind one stall drain one fsync at a
//! time. So the writer takes every write that is waiting, runs each in a
//! savepoint of its own (a write that fails undoes only itself), commits the
//! group once, and only then answers each caller: nothing is acknowledged
//! before it is durable, and a queue costs one fsync, not one per write.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use rusqlite::Connection;
use rusqlite::ffi;
use tokio::sync::oneshot;

use crate::error::{AppError, AppResult};

/// Most writes one commit takes, so one group's transaction stays short
/// and a burst is answered in slices rather than all at the end.
const MAX_GROUP: usize = 256;

/// Handle to the writer thread; dropping the last one stops the thread
/// once the writes already queued are done.
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Moves `conn` (opened, configured, migrated) to a new writer thread.
    pub(super) fn start(conn: Connection) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || serve(conn, queue))?;
        Ok(Writer { jobs })
    }

    /// Runs `work` in the next group and returns its result once the
    /// group is committed (or the group's failure, if it was not).
    pub(super) async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut Connection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Write {
            work: Some(work),
            result: None,
            reply,
        });
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> AppError {
    AppError::internal(anyhow::anyhow!("SQLite writer thread stopped"))
}

/// One queued write, type-erased so writes of every result type share the
/// queue.
trait Job: Send {
    /// Runs the write inside the open transaction and keeps its result;
    /// false when it failed (its savepoint is then rolled back).
    fn run(&mut self, conn: &mut Connection) -> bool;

    /// The SQLite error code the write failed with, if it did with one.
    fn sqlite_code(&self) -> Option<ffi::Error>;

    /// Answers the caller: its own result if the group committed (or the
    /// write itself failed), else why the group did not commit.
    fn answer(self: Box<Self>, group_failure: Option<&GroupFailure>);
}

/// Why a group did not commit, rebuilt into an error for each of its
/// writes. The SQLite code is kept so a locked database or a full disk
/// reaches the client as such (retryable), not as an internal error.
struct GroupFailure {
    code: Option<ffi::Error>,
    message: String,
}

impl GroupFailure {
    fn sqlite(context: &str, error: &rusqlite::Error) -> Self {
        GroupFailure {
            code: sqlite_code(error),
            message: format!("{context}: {error}"),
        }
    }

    fn to_error(&self) -> AppError {
        match self.code {
            Some(code) => AppError::from(rusqlite::Error::SqliteFailure(
                code,
                Some(self.message.clone()),
            )),
            None => AppError::internal(anyhow::anyhow!(
                "SQLite write not committed: {}",
                self.message
            )),
        }
    }
}

fn sqlite_code(error: &rusqlite::Error) -> Option<ffi::Error> {
    match error {
        rusqlite::Error::SqliteFailure(code, _) => Some(*code),
        _ => None,
    }
}

struct Write<T, F> {
    work: Option<F>,
    result: Option<AppResult<T>>,
    reply: oneshot::Sender<AppResult<T>>,
}

impl<T, F> Job for Write<T, F>
where
    F: FnOnce(&mut Connection) -> AppResult<T> + Send,
    T: Send,
{
    fn run(&mut self, conn: &mut Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = catch_unwind(AssertUnwindSafe(|| work(conn)))
            .unwrap_or_else(|_| Err(AppError::internal(anyhow::anyhow!("SQLite write panicked"))));
        let succeeded = result.is_ok();
        self.result = Some(result);
        succeeded
    }

    fn sqlite_code(&self) -> Option<ffi::Error> {
        let error = self.result.as_ref()?.as_ref().err()?;
        sqlite_code(error.source.as_ref()?.downcast_ref::<rusqlite::Error>()?)
    }

    fn answer(self: Box<Self>, group_failure: Option<&GroupFailure>) {
        let result = match (self.result, group_failure) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), None) => Ok(value),
            (_, Some(failure)) => Err(failure.to_error()),
            (None, None) => Err(AppError::internal(anyhow::anyhow!(
                "SQLite write did not run"
            ))),
        };
        // The caller may have gone away; the write stands either way.
        let _ = self.reply.send(result);
    }
}

/// The writer thread: one group per turn until every handle is dropped.
fn serve(mut conn: Connection, queue: mpsc::Receiver<Box<dyn Job>>) {
    let mut pending: VecDeque<Box<dyn Job>> = VecDeque::new();
    loop {
        if pending.is_empty() {
            match queue.recv() {
                Ok(job) => pending.push_back(job),
                Err(mpsc::RecvError) => return,
            }
        }
        while pending.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, &mut pending);
    }
}

/// Runs up to `MAX_GROUP` writes from the front of `pending` in one
/// transaction and answers them. Writes not reached because SQLite
/// aborted the transaction stay in `pending` for the next group.
fn commit_group(conn: &mut Connection, pending: &mut VecDeque<Box<dyn Job>>) {
    let size = pending.len().min(MAX_GROUP);
    if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
        let failure = GroupFailure::sqlite("BEGIN", &error);
        for job in pending.drain(..size) {
            job.answer(Some(&failure));
        }
        return;
    }
    let mut ran: Vec<Box<dyn Job>> = Vec::with_capacity(size);
    let mut failure = None;
    while ran.len() < size {
        let Some(mut job) = pending.pop_front() else {
            break;
        };
        if let Err(error) = conn.execute_batch("SAVEPOINT write") {
            // Answered as not committed (it never ran), so a failing
            // SAVEPOINT cannot keep one write cycling forever.
            ran.push(job);
            failure = Some(GroupFailure::sqlite("SAVEPOINT", &error));
            break;
        }
        let succeeded = job.run(conn);
        // Some errors (I/O, disk full) make SQLite roll the whole
        // transaction back: the earlier writes of the group are gone too.
        if conn.is_autocommit() {
            failure = Some(GroupFailure {
                code: job.sqlite_code(),
                message: "SQLite rolled the transaction back".to_owned(),
            });
            ran.push(job);
            break;
        }
        ran.push(job);
        let end = if succeeded {
            "RELEASE write"
        } else {
            "ROLLBACK TO write; RELEASE write"
        };
        if let Err(error) = conn.execute_batch(end) {
            failure = Some(GroupFailure::sqlite("ending a savepoint", &error));
            break;
        }
    }
    let failure = failure.or_else(|| {
        conn.execute_batch("COMMIT")
            .err()
            .map(|error| GroupFailure::sqlite("COMMIT", &error))
    });
    if failure.is_some() && !conn.is_autocommit() {
        // Nothing of this group may stay half-applied for the next one.
        let _ = conn.execute_batch("ROLLBACK");
    }
    metrics::histogram!("realtalk_sqlite_writes_per_commit").record(ran.len() as f64);
    for job in ran {
        job.answer(failure.as_ref());
    }
}

#[cfg(test)]
mod tests {
    //! The writer on a real SQLite file: grouping must never change what
    //! each caller is told, nor let one write's failure touch another.

    use std::sync::Arc;

    use super::*;

    fn writer() -> (tempfile::TempDir, Arc<Writer>) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let conn = Connection::open(dir.path().join("writer.db")).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);",
        )
        .expect("schema");
        let writer = Writer::start(conn).expect("writer thread");
        (dir, Arc::new(writer))
    }

    /// One write inserting `name`, which must commit.
    async fn insert(writer: &Writer, name: &'static str) {
        writer
            .write(move |conn| Ok(conn.execute("INSERT INTO items (name) VALUES (?1)", [name])?))
            .await
            .expect("insert");
    }

    async fn names(writer: &Writer) -> Vec<String> {
        writer
            .write(|conn| {
                let mut statement = conn.prepare("SELECT name FROM items ORDER BY name")?;
                let rows = statement.query_map([], |row| row.get(0))?;
                Ok(rows.collect::<Result<Vec<String>, _>>()?)
            })
            .await
            .expect("select")
    }

    /// Many concurrent writes, every third one failing halfway through its
    /// savepoint: the failures undo only themselves, the rest all commit,
    /// and each caller gets its own answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failures_in_a_group_undo_only_themselves() {
        let (_dir, writer) = writer();
        let tasks: Vec<_> = (0..300)
            .map(|index| {
                let writer = Arc::clone(&writer);
                tokio::spawn(async move {
                    writer
                        .write(move |conn| {
                            let sp = conn.savepoint()?;
                            sp.execute(
                                "INSERT INTO items (name) VALUES (?1)",
                                [format!("a{index:03}")],
                            )?;
                            if index % 3 == 0 {
                                // Second insert of the same name: UNIQUE fails.
                                sp.execute(
                                    "INSERT INTO items (name) VALUES (?1)",
                                    [format!("a{index:03}")],
                                )?;
                            }
                            sp.commit()?;
                            Ok(index)
                        })
                        .await
                })
            })
            .collect();
        for (index, task) in tasks.into_iter().enumerate() {
            let result = task.await.expect("task");
            assert_eq!(result.is_ok(), index % 3 != 0, "write {index}: {result:?}");
        }
        let expected: Vec<String> = (0..300)
            .filter(|index| index % 3 != 0)
            .map(|index| format!("a{index:03}"))
            .collect();
        assert_eq!(names(&writer).await, expected);
    }

    /// A write that fails without a savepoint of its own (a bare statement
    /// after a successful one) is still undone whole by the writer.
    #[tokio::test]
    async fn a_failed_write_leaves_nothing_behind() {
        let (_dir, writer) = writer();
        insert(&writer, "kept").await;
        let failed = writer
            .write(|conn| {
                conn.execute("INSERT INTO items (name) VALUES ('half')", [])?;
                conn.execute("INSERT INTO items (name) VALUES ('kept')", [])?;
                Ok(())
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(names(&writer).await, vec!["kept".to_owned()]);
    }

    /// A panicking write is answered as an error, undone, and the writer
    /// goes on serving.
    #[tokio::test]
    async fn a_panicking_write_is_an_error_not_a_dead_writer() {
        let (_dir, writer) = writer();
        let panicked = writer
            .write(|conn| -> AppResult<()> {
                conn.execute("INSERT INTO items (name) VALUES ('ghost')", [])?;
                panic!("a bug in a write");
            })
            .await;
        assert!(panicked.is_err());
        insert(&writer, "after").await;
        assert_eq!(names(&writer).await, vec!["after".to_owned()]);
    }

    /// What a caller is told was committed is on disk for a new connection.
    #[tokio::test]
    async fn acknowledged_writes_are_visible_to_other_connections() {
        let (dir, writer) = writer();
        insert(&writer, "durable").await;
        let reader = Connection::open(dir.path().join("writer.db")).expect("open reader");
        let count: i64 = reader
            .query_row(
                "SELECT count(*) FROM items WHERE name = 'durable'",
                [],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(count, 1);
    }
}
