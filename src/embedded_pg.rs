//! A private PostgreSQL cluster that `agora` initialises, starts and supervises
//! when no `DATABASE_URL` is configured.
//!
//! Layout under the data directory (all paths absolute):
//!
//! * `pg/`: the cluster (`initdb` output), mode 0700
//! * `pg-run/`: the unix socket directory, or `/tmp/agora-pg-<hash>` when clients
//!   could not address it there (longer than `sun_path` allows, a comma, non-UTF-8)
//! * `pg-log/`: PostgreSQL's own log (its logging collector): `postgresql-<Mon…Sun>.log`, one
//!   file per weekday, so a week is kept and the oldest file is overwritten
//! * `postgres.log`: the server's stdout/stderr before the collector takes over (start-up
//!   failures), appended across runs
//! * `agora.lock`: `flock`ed for the lifetime of [`EmbeddedPostgres`], holds our pid
//!
//! The server listens on the unix socket only (`listen_addresses=''`) with `trust`
//! authentication; the socket directory is mode 0700 so only the server's own
//! user (and root) can connect.
//!
//! Supervision: the postmaster is our direct child (no pg_ctl), watched by a thread. When it
//! exits without being asked to, the thread stops whatever it left behind, starts it again
//! (PostgreSQL's crash recovery replays the WAL) and reports through [`PostgresStatus`]. After
//! [`Supervision::max_exits`] exits within [`CRASH_WINDOW`] it gives up and says why, so the
//! process can exit and let its own supervisor (systemd, the container runtime) and the
//! operator take over.
//!
//! Everything here is blocking: call [`EmbeddedPostgres::start`] and
//! [`EmbeddedPostgres::stop`] from `tokio::task::spawn_blocking`.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::Shutdown;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{sleep, JoinHandle};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{geteuid, Gid, Pid, Uid, User};
use tokio::sync::watch;

/// The port only names the socket file (`.s.PGSQL.<port>`): nothing listens on TCP,
/// so the default cannot clash with a system PostgreSQL's socket in /var/run/postgresql.
const PORT: u16 = 5432;
/// Superuser created by initdb; also the role agora connects as.
const SUPERUSER: &str = "agora";
const APP_DATABASE: &str = "agora";
const SYSTEM_USER: &str = "postgres";
const BIN_DIR_ENV: &str = "AGORA_PG_BIN_DIR";
const DEBIAN_PG_ROOT: &str = "/usr/lib/postgresql";

const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// After SIGQUIT (immediate shutdown) the postmaster only has to reap its children.
const QUIT_TIMEOUT: Duration = Duration::from_secs(10);
const KILL_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How soon an exit of the postmaster is noticed.
const WATCH_INTERVAL: Duration = Duration::from_millis(200);
/// Exits counted towards giving up are those within this window.
pub const CRASH_WINDOW: Duration = Duration::from_secs(60);
/// Processes a dead postmaster left behind get this long after SIGQUIT before SIGKILL.
const LEFTOVER_QUIT_TIMEOUT: Duration = Duration::from_secs(2);
const LOG_DIR: &str = "pg-log";
const STARTUP_LOG: &str = "postgres.log";

/// `sizeof(sockaddr_un.sun_path)` is 108 on Linux, including the trailing NUL;
/// PostgreSQL rejects anything that does not fit.
const MAX_SOCKET_PATH: usize = 107;
const LOG_TAIL_LINES: usize = 20;

/// Client-side libpq variables that would silently redirect or alter the
/// commands we run (psql, createdb, pg_isready) or initdb.
const PG_ENV_VARS: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGDATABASE",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGSSLMODE",
    "PGDATA",
    "PGTZ",
    "PGCLIENTENCODING",
    "PGCONNECT_TIMEOUT",
    "PGTARGETSESSIONATTRS",
    "PSQLRC",
];

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries not found: install the Debian package `postgresql` \
         (apt-get install postgresql) or set DATABASE_URL to use an external server"
    )]
    BinariesNotFound,

    #[error(
        "{BIN_DIR_ENV}={} does not contain an executable `{program}`: point it at the directory \
         holding initdb and postgres (e.g. /usr/lib/postgresql/15/bin) or unset it",
        .dir.display()
    )]
    BadBinDir { dir: PathBuf, program: &'static str },

    #[error(
        "the PostgreSQL program `{program}` is missing from {}: install the Debian package \
         `postgresql-client` (apt-get install postgresql-client) or set DATABASE_URL to use an \
         external server",
        .dir.display()
    )]
    ProgramMissing { dir: PathBuf, program: &'static str },

    #[error(
        "the data directory {} is in use by another agora process{}; stop it first or use \
         another --data-dir",
        .data_dir.display(),
        holder_suffix(.pid)
    )]
    InUse { data_dir: PathBuf, pid: Option<i32> },

    #[error(
        "running as root needs the `postgres` system user, created by the Debian postgresql \
         package; or run agora as a normal user"
    )]
    NoPostgresUser,

    #[error(
        "PostgreSQL refuses to run as root, so agora runs it as the `postgres` system user, \
         which cannot enter {}: allow it (chmod o+x {}), choose a --data-dir it can reach \
         (e.g. under /var/lib/agora), or run agora as a normal user",
        .dir.display(),
        .dir.display()
    )]
    NotTraversable { dir: PathBuf },

    #[error(
        "{} belongs to uid {owner} but PostgreSQL would run as uid {uid} (was agora run as a \
         different user before?): run agora as that user again, or take the directory over \
         with `chown -R {uid} {}`",
        .path.display(),
        .path.display()
    )]
    WrongOwner { path: PathBuf, owner: u32, uid: u32 },

    #[error(
        "the PostgreSQL cluster in {} was created by PostgreSQL {cluster} but the server in {} \
         is PostgreSQL {server}: install the matching server (apt-get install \
         postgresql-{cluster}) and set {BIN_DIR_ENV}=/usr/lib/postgresql/{cluster}/bin, or \
         upgrade the cluster with pg_upgrade",
        .pg_dir.display(),
        .bin_dir.display()
    )]
    VersionMismatch { pg_dir: PathBuf, bin_dir: PathBuf, cluster: String, server: String },

    #[error("initdb could not create the cluster in {} ({status}):\n{stderr}", .pg_dir.display())]
    Initdb { pg_dir: PathBuf, status: String, stderr: String },

    #[error(
        "PostgreSQL exited during startup ({status}); last lines of {}:\n{log_tail}",
        .log.display()
    )]
    StartFailed { status: String, log: PathBuf, log_tail: String },

    #[error(
        "PostgreSQL did not accept connections within {} s; last lines of {}:\n{log_tail}",
        .timeout.as_secs(),
        .log.display()
    )]
    StartTimeout { timeout: Duration, log: PathBuf, log_tail: String },

    #[error("{what} failed ({status}): {stderr}")]
    ClientCommand { what: String, status: String, stderr: String },

    #[error(
        "the socket directory {} is not safe to use ({reason}); remove it and start again",
        .path.display()
    )]
    UnsafeSocketDir { path: PathBuf, reason: String },

    #[error("PostgreSQL (pid {pid}) did not exit even after SIGKILL")]
    StopFailed { pid: i32 },

    #[error(transparent)]
    CrashLoop(Box<CrashLoop>),

    #[error("could not {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    #[error("could not {context}: {source}")]
    Sys {
        context: String,
        #[source]
        source: Errno,
    },
}

/// Why agora gave up restarting the embedded PostgreSQL: what to check, and the log's words.
#[derive(Debug, thiserror::Error)]
#[error(
    "the embedded PostgreSQL exited {exits} times within {} s (last: {last}), so agora stopped \
     restarting it. Check that the disk holding {} has free space, that {} belongs to {owner} \
     and is readable and writable by it (mode 0700), and PostgreSQL's log in {} (start-up \
     errors go to {}). Last lines of {}:\n{log_tail}",
    CRASH_WINDOW.as_secs(),
    .data_dir.display(),
    .pg_dir.display(),
    .log_dir.display(),
    .startup_log.display(),
    .tail_of.display()
)]
pub struct CrashLoop {
    exits: usize,
    last: String,
    data_dir: PathBuf,
    pg_dir: PathBuf,
    owner: String,
    log_dir: PathBuf,
    startup_log: PathBuf,
    tail_of: PathBuf,
    log_tail: String,
}

fn holder_suffix(pid: &Option<i32>) -> String {
    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

/// The unprivileged account PostgreSQL runs as when agora itself is root.
#[derive(Clone, Copy)]
struct RunAs {
    uid: Uid,
    gid: Gid,
}

/// How the supervisor treats exits of the postmaster.
#[derive(Debug, Clone, Copy)]
pub struct Supervision {
    /// This many exits within [`CRASH_WINDOW`], the first crash included, and agora gives up.
    pub max_exits: usize,
}

impl Default for Supervision {
    fn default() -> Self {
        Self { max_exits: 5 }
    }
}

/// What the supervisor knows about the server, for readiness and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostgresStatus {
    pub up: bool,
    /// Restarts after unexpected exits since agora started.
    pub restarts: u64,
    /// While it is down: why, in words an operator reads in `/readyz`.
    pub reason: Option<String>,
    /// Set once the supervisor has given up: the error agora should exit with.
    pub gave_up: Option<String>,
}

/// Where and how the server runs: everything needed to start it again.
#[derive(Clone)]
struct Server {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    pg_dir: PathBuf,
    socket_dir: PathBuf,
    log_dir: PathBuf,
    startup_log: PathBuf,
    port: u16,
    run_as: Option<RunAs>,
}

/// The postmaster child, shared by the supervisor thread and whoever stops the server.
#[derive(Default)]
struct Postmaster {
    child: Option<Child>,
    /// Set by [`EmbeddedPostgres::stop`]: from now on an exit is wanted, and nothing restarts.
    stopping: bool,
}

#[derive(Default)]
struct Shared {
    postmaster: Mutex<Postmaster>,
    /// Wakes the supervisor when `stopping` is set.
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Postmaster> {
        // The state stays meaningful even if a holder panicked.
        self.postmaster.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout` unless the server is being stopped; false when it is.
    fn pause(&self, timeout: Duration) -> bool {
        let guard = self.lock();
        let (guard, _) =
            self.wake.wait_timeout_while(guard, timeout, |p| !p.stopping).unwrap_or_else(PoisonError::into_inner);
        !guard.stopping
    }
}

/// A running private PostgreSQL server, restarted when it dies. Stopped by
/// [`EmbeddedPostgres::stop`] or on drop.
pub struct EmbeddedPostgres {
    server: Server,
    shared: Arc<Shared>,
    supervisor: Option<JoinHandle<()>>,
    status: watch::Receiver<PostgresStatus>,
    // Declared last so it is released last: after `Drop::drop` has stopped the
    // postmaster, no other agora can start a second server on the same cluster.
    _lock: Flock<File>,
}

impl std::fmt::Debug for EmbeddedPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedPostgres")
            .field("pid", &self.shared.lock().child.as_ref().map(Child::id))
            .field("pg_dir", &self.server.pg_dir)
            .field("socket_dir", &self.server.socket_dir)
            .field("port", &self.server.port)
            .finish()
    }
}

impl EmbeddedPostgres {
    /// [`EmbeddedPostgres::start_supervised`] with the default [`Supervision`].
    pub fn start(data_dir: &Path) -> Result<Self, EmbeddedError> {
        Self::start_supervised(data_dir, Supervision::default())
    }

    /// Initialise (first run) and start a cluster under `data_dir` (e.g. ./data), and restart it
    /// whenever it exits unasked. Blocking; call from spawn_blocking.
    pub fn start_supervised(data_dir: &Path, supervision: Supervision) -> Result<Self, EmbeddedError> {
        fs::create_dir_all(data_dir).map_err(io_err(format!("create the data directory {}", data_dir.display())))?;
        let data_dir =
            fs::canonicalize(data_dir).map_err(io_err(format!("resolve the data directory {}", data_dir.display())))?;

        let lock = acquire_lock(&data_dir)?;

        let pg_dir = data_dir.join("pg");
        // Before anything touches the cluster directory.
        stop_orphaned_postmaster(&pg_dir)?;
        stop_leftover_processes(&pg_dir);
        let cluster_version = read_cluster_version(&pg_dir);

        let bin_dir = find_bin_dir(cluster_version.as_deref())?;
        let run_as = if geteuid().is_root() { Some(postgres_system_user()?) } else { None };

        // Doubles as the reachability probe: when root, it runs as `postgres` from
        // inside data_dir, which is exactly what initdb and the server will need.
        let server_version = server_version(&bin_dir, &data_dir, run_as)?;
        if let (Some(cluster), Some(server)) = (&cluster_version, &server_version) {
            if cluster != server {
                return Err(EmbeddedError::VersionMismatch {
                    pg_dir,
                    bin_dir,
                    cluster: cluster.clone(),
                    server: server.clone(),
                });
            }
        }

        let socket_dir = choose_socket_dir(&data_dir, PORT);
        prepare_socket_dir(&socket_dir, &data_dir, run_as)?;

        let initialised = prepare_cluster_dir(&pg_dir, cluster_version.is_some(), run_as)?;
        if !initialised {
            init_cluster(&bin_dir, &pg_dir, &data_dir, run_as)?;
        }
        let log_dir = data_dir.join(LOG_DIR);
        prepare_log_dir(&log_dir, run_as)?;

        let server = Server {
            startup_log: data_dir.join(STARTUP_LOG),
            bin_dir,
            data_dir,
            pg_dir,
            socket_dir,
            log_dir,
            port: PORT,
            run_as,
        };
        let (status_tx, status) = watch::channel(PostgresStatus::default());
        // From here on, Drop stops the postmaster if anything below fails.
        let mut pg = EmbeddedPostgres { server, shared: Arc::default(), supervisor: None, status, _lock: lock };
        let (log_offset, pid) = pg.server.spawn(&pg.shared)?.ok_or_else(|| EmbeddedError::Io {
            context: "start PostgreSQL".into(),
            source: io::Error::other("stopped while starting"),
        })?;
        tracing::info!(
            pid,
            pg_dir = %pg.server.pg_dir.display(),
            socket_dir = %pg.server.socket_dir.display(),
            "started embedded PostgreSQL"
        );
        tracing::info!(
            log_dir = %pg.server.log_dir.display(),
            startup_log = %pg.server.startup_log.display(),
            "PostgreSQL's own log is in {} (a file per weekday, kept a week); start-up errors go to {}",
            pg.server.log_dir.display(),
            pg.server.startup_log.display()
        );
        pg.server.wait_until_ready(&pg.shared, log_offset)?;
        pg.ensure_database(APP_DATABASE)?;
        status_tx.send_replace(PostgresStatus { up: true, ..PostgresStatus::default() });

        let (shared, server) = (pg.shared.clone(), pg.server.clone());
        let supervisor = std::thread::Builder::new()
            .name("pg-supervisor".into())
            .spawn(move || supervise(&shared, &server, supervision, &status_tx))
            .map_err(io_err("start the thread supervising PostgreSQL"))?;
        pg.supervisor = Some(supervisor);
        tracing::info!(
            connection = %pg.connection_string(APP_DATABASE),
            max_exits = supervision.max_exits,
            "embedded PostgreSQL is ready"
        );
        Ok(pg)
    }

    /// The supervisor's view of the server; changes as it dies and comes back.
    pub fn status(&self) -> watch::Receiver<PostgresStatus> {
        self.status.clone()
    }

    /// A tokio-postgres / libpq keyword connection string for the given database, e.g.
    /// "host=/abs/path/to/socketdir port=5432 user=agora dbname=agora" (unix socket, no password).
    pub fn connection_string(&self, dbname: &str) -> String {
        // socket_dir is guaranteed UTF-8 by choose_socket_dir.
        let host = self.server.socket_dir.to_string_lossy();
        format!(
            "host={} port={} user={} dbname={}",
            quote_conn_value(&host),
            self.server.port,
            quote_conn_value(SUPERUSER),
            quote_conn_value(dbname)
        )
    }

    /// Fast, clean shutdown (SIGINT to the postmaster = "fast" mode), waits for it to exit (bounded, e.g. 30 s, then SIGQUIT). Blocking.
    pub fn stop(mut self) -> Result<(), EmbeddedError> {
        self.shutdown()
        // `self` drops here: Drop finds no child and the lock is released.
    }

    fn shutdown(&mut self) -> Result<(), EmbeddedError> {
        // Under the lock the supervisor takes to start a postmaster, so none starts after this.
        let child = {
            let mut postmaster = self.shared.lock();
            postmaster.stopping = true;
            postmaster.child.take()
        };
        self.shared.wake.notify_all();
        if let Some(supervisor) = self.supervisor.take() {
            if supervisor.join().is_err() {
                tracing::error!("the thread supervising PostgreSQL panicked");
            }
        }
        let result = match child {
            Some(mut child) => stop_child(&mut child),
            None => Ok(()),
        };
        if !self.server.socket_dir.starts_with(&self.server.data_dir) {
            // Our private directory under /tmp; remove_dir only succeeds once the
            // server has removed its socket and lock file, so nothing live is lost.
            let _ = fs::remove_dir(&self.server.socket_dir);
        }
        result
    }

    /// Creates `dbname` unless it exists. Client tools run as the current user:
    /// root may enter the 0700 socket directory, and `trust` auth accepts `-U agora`.
    fn ensure_database(&self, dbname: &str) -> Result<(), EmbeddedError> {
        let Server { bin_dir, socket_dir, port, .. } = &self.server;
        let psql = require_program(bin_dir, "psql")?;
        let createdb = require_program(bin_dir, "createdb")?;

        let query = format!("SELECT 1 FROM pg_database WHERE datname = '{}'", dbname.replace('\'', "''"));
        let mut cmd = Command::new(&psql);
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(socket_dir)
            .arg("-p")
            .arg(port.to_string())
            .args(["-U", SUPERUSER, "-d", "postgres", "-tAc"])
            .arg(&query);
        scrub_pg_env(&mut cmd);
        let out = run_captured(&mut cmd, "psql")?;
        if !out.status.success() {
            return Err(client_failure(&format!("checking for database {dbname} with psql"), &out));
        }
        if String::from_utf8_lossy(&out.stdout).trim() == "1" {
            return Ok(());
        }

        tracing::info!(dbname, "creating database in embedded PostgreSQL");
        let mut cmd = Command::new(&createdb);
        cmd.arg("-h").arg(socket_dir).arg("-p").arg(port.to_string()).args(["-U", SUPERUSER, "--"]).arg(dbname);
        scrub_pg_env(&mut cmd);
        let out = run_captured(&mut cmd, "createdb")?;
        if !out.status.success() {
            return Err(client_failure(&format!("createdb {dbname}"), &out));
        }
        Ok(())
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "could not stop embedded PostgreSQL");
        }
    }
}

impl Server {
    /// Starts the postmaster as our child unless the server is being stopped (`None`). Returns
    /// where this run's output begins in the start-up log, and the postmaster's pid.
    fn spawn(&self, shared: &Shared) -> Result<Option<(u64, u32)>, EmbeddedError> {
        let mut postmaster = shared.lock();
        if postmaster.stopping {
            return Ok(None);
        }
        let (log_offset, child) = spawn_postmaster(self)?;
        let pid = child.id();
        postmaster.child = Some(child);
        Ok(Some((log_offset, pid)))
    }

    fn wait_until_ready(&self, shared: &Shared, log_offset: u64) -> Result<(), EmbeddedError> {
        let pg_isready = self.bin_dir.join("pg_isready");
        let use_pg_isready = is_executable(&pg_isready);
        let socket_file = self.socket_dir.join(format!(".s.PGSQL.{}", self.port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let exited = {
                let mut postmaster = shared.lock();
                match postmaster.child.as_mut() {
                    None => Some("stopped by agora".to_owned()),
                    Some(child) => {
                        let status = child.try_wait().map_err(io_err("check whether PostgreSQL is still running"))?;
                        // Nothing left to stop; keep anyone from signalling a reused pid.
                        status.map(|status| {
                            postmaster.child = None;
                            status.to_string()
                        })
                    }
                }
            };
            if let Some(status) = exited {
                let (log, log_tail) = self.failure_tail(Some(log_offset));
                return Err(EmbeddedError::StartFailed { status, log, log_tail });
            }
            // The socket file appears before the server accepts sessions (and a crashed
            // server leaves its old one behind), so it is only a cheap precondition; the
            // real check is a startup handshake.
            if socket_file.exists() {
                let ready =
                    if use_pg_isready { self.pg_isready(&pg_isready) } else { startup_handshake_ok(&socket_file) };
                if ready {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                let (log, log_tail) = self.failure_tail(Some(log_offset));
                return Err(EmbeddedError::StartTimeout { timeout: START_TIMEOUT, log, log_tail });
            }
            sleep(POLL_INTERVAL);
        }
    }

    fn pg_isready(&self, program: &Path) -> bool {
        let mut cmd = Command::new(program);
        cmd.arg("-q")
            .arg("-h")
            .arg(&self.socket_dir)
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", SUPERUSER, "-d", "postgres", "-t", "2"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        scrub_pg_env(&mut cmd);
        matches!(cmd.status(), Ok(status) if status.success())
    }

    /// The log lines that explain a failure: what this start wrote to the start-up log (from
    /// `from`), else the end of the collector's newest file.
    fn failure_tail(&self, from: Option<u64>) -> (PathBuf, String) {
        if let Some(from) = from {
            if let Ok(Some(text)) = tail_lines(&self.startup_log, from) {
                return (self.startup_log.clone(), text);
            }
        }
        match newest_file(&self.log_dir) {
            Some(path) => {
                let text = log_tail(&path, 0);
                (path, text)
            }
            None => (self.startup_log.clone(), log_tail(&self.startup_log, from.unwrap_or(0))),
        }
    }

    fn crash_loop(&self, exits: usize, last: &str, log_offset: Option<u64>) -> EmbeddedError {
        let (tail_of, log_tail) = self.failure_tail(log_offset);
        let owner = match self.run_as {
            Some(_) => format!("the `{SYSTEM_USER}` system user"),
            None => format!("uid {} (the user agora runs as)", geteuid()),
        };
        EmbeddedError::CrashLoop(Box::new(CrashLoop {
            exits,
            last: last.to_owned(),
            data_dir: self.data_dir.clone(),
            pg_dir: self.pg_dir.clone(),
            owner,
            log_dir: self.log_dir.clone(),
            startup_log: self.startup_log.clone(),
            tail_of,
            log_tail,
        }))
    }
}

/// Waits until the postmaster exits (its status, e.g. "signal: 9 (SIGKILL)") or the server is
/// being stopped (`None`).
fn wait_for_exit(shared: &Shared) -> Option<String> {
    let mut postmaster = shared.lock();
    loop {
        if postmaster.stopping {
            return None;
        }
        let child = postmaster.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => {
                postmaster.child = None;
                return Some(status.to_string());
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot watch the embedded PostgreSQL any more");
                return None;
            }
        }
        postmaster = shared.wake.wait_timeout(postmaster, WATCH_INTERVAL).unwrap_or_else(PoisonError::into_inner).0;
    }
}

/// A crash is restarted at once; a server that keeps failing gets a little more time each try.
fn restart_delay(exits_in_window: usize) -> Duration {
    match exits_in_window {
        0 | 1 => Duration::ZERO,
        n => Duration::from_millis(250).saturating_mul(1u32 << (n - 2).min(5)).min(Duration::from_secs(5)),
    }
}

/// Short words for why a restart failed (the log tail goes into the final error only).
fn restart_failure(error: &EmbeddedError) -> String {
    match error {
        EmbeddedError::StartFailed { status, .. } => format!("exited during start-up: {status}"),
        EmbeddedError::StartTimeout { timeout, .. } => {
            format!("did not accept connections within {} s", timeout.as_secs())
        }
        other => other.to_string(),
    }
}

/// The supervisor thread: restarts the postmaster whenever it exits unasked, until the server
/// is stopped or it has exited `max_exits` times within [`CRASH_WINDOW`].
fn supervise(shared: &Shared, server: &Server, supervision: Supervision, status: &watch::Sender<PostgresStatus>) {
    let mut exits: VecDeque<Instant> = VecDeque::new();
    let mut restarts: u64 = 0;
    // Where the last restart attempt's output begins in the start-up log.
    let mut log_offset = None;
    let Some(mut last) = wait_for_exit(shared) else {
        return;
    };
    loop {
        let now = Instant::now();
        exits.push_back(now);
        while exits.front().is_some_and(|t| now.duration_since(*t) > CRASH_WINDOW) {
            exits.pop_front();
        }
        if exits.len() >= supervision.max_exits.max(1) {
            let error = server.crash_loop(exits.len(), &last, log_offset);
            tracing::error!(error = %error, "giving up on the embedded PostgreSQL");
            status.send_modify(|s| {
                s.up = false;
                s.reason = Some(format!("the embedded PostgreSQL exited ({last}) and agora gave up restarting it"));
                s.gave_up = Some(error.to_string());
            });
            return;
        }
        tracing::error!(
            exit = %last,
            exits_within_a_minute = exits.len(),
            restarts,
            "the embedded PostgreSQL exited unexpectedly; restarting it"
        );
        status.send_modify(|s| {
            s.up = false;
            s.reason = Some(format!("the embedded PostgreSQL exited ({last}) and is being restarted"));
        });
        if !shared.pause(restart_delay(exits.len())) {
            return;
        }
        // Backends of the dead postmaster still hold its shared memory, and a new one refuses
        // to start beside them.
        stop_leftover_processes(&server.pg_dir);
        let (offset, pid) = match server.spawn(shared) {
            Ok(Some(started)) => started,
            Ok(None) => return,
            Err(e) => {
                last = restart_failure(&e);
                continue;
            }
        };
        log_offset = Some(offset);
        match server.wait_until_ready(shared, offset) {
            Ok(()) => {
                restarts += 1;
                tracing::warn!(pid, restarts, "the embedded PostgreSQL is back after crash recovery");
                status.send_modify(|s| {
                    s.up = true;
                    s.restarts = restarts;
                    s.reason = None;
                });
                match wait_for_exit(shared) {
                    Some(exit) => last = exit,
                    None => return,
                }
            }
            Err(e) => {
                if shared.lock().stopping {
                    return;
                }
                // One that never became ready is stopped, so the next try starts afresh.
                let stuck = shared.lock().child.take();
                if let Some(mut child) = stuck {
                    if let Err(e) = stop_child(&mut child) {
                        tracing::error!(error = %e, "could not stop a PostgreSQL that did not become ready");
                    }
                }
                tracing::error!(error = %e, "restarting the embedded PostgreSQL failed");
                last = restart_failure(&e);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Lock file

fn acquire_lock(data_dir: &Path) -> Result<Flock<File>, EmbeddedError> {
    let path = data_dir.join("agora.lock");
    // No truncate here: until we own the lock, the file holds the other holder's pid.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(&path)
        .map_err(io_err(format!("open the lock file {}", path.display())))?;

    let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => lock,
        Err((mut file, Errno::EWOULDBLOCK)) => {
            let mut contents = String::new();
            let pid = file.read_to_string(&mut contents).ok().and_then(|_| contents.trim().parse::<i32>().ok());
            return Err(EmbeddedError::InUse { data_dir: data_dir.to_path_buf(), pid });
        }
        Err((_, errno)) => {
            return Err(EmbeddedError::Sys { context: format!("lock {}", path.display()), source: errno })
        }
    };

    let pid = std::process::id();
    let write_pid = |f: &mut File| -> io::Result<()> {
        f.set_len(0)?;
        f.seek(SeekFrom::Start(0))?;
        writeln!(f, "{pid}")?;
        f.flush()
    };
    write_pid(&mut lock).map_err(io_err(format!("write our pid to {}", path.display())))?;
    Ok(lock)
}

// ---------------------------------------------------------------------------
// Finding the binaries

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

fn has_server_binaries(dir: &Path) -> bool {
    is_executable(&dir.join("postgres")) && is_executable(&dir.join("initdb"))
}

fn require_program(bin_dir: &Path, program: &'static str) -> Result<PathBuf, EmbeddedError> {
    let path = bin_dir.join(program);
    if is_executable(&path) {
        Ok(path)
    } else {
        Err(EmbeddedError::ProgramMissing { dir: bin_dir.to_path_buf(), program })
    }
}

/// "15" -> (15, 0), "9.6" -> (9, 6); anything else is not a version directory.
fn parse_version_key(name: &str) -> Option<(u32, u32)> {
    let mut parts = name.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor))
}

fn find_bin_dir(cluster_version: Option<&str>) -> Result<PathBuf, EmbeddedError> {
    if let Some(dir) = std::env::var_os(BIN_DIR_ENV).filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        for program in ["postgres", "initdb"] {
            if !is_executable(&dir.join(program)) {
                return Err(EmbeddedError::BadBinDir { dir, program });
            }
        }
        return Ok(dir);
    }

    if let Some(dir) = debian_bin_dir(Path::new(DEBIAN_PG_ROOT), cluster_version) {
        return Ok(dir);
    }

    if let Some(dir) = pg_config_bin_dir().filter(|d| has_server_binaries(d)) {
        return Ok(dir);
    }

    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_server_binaries(d)) {
            return Ok(dir);
        }
    }

    Err(EmbeddedError::BinariesNotFound)
}

/// Prefers the version that created an existing cluster, so installing a newer
/// major alongside does not make agora try (and fail) to open an older cluster.
fn debian_bin_dir(root: &Path, cluster_version: Option<&str>) -> Option<PathBuf> {
    let mut candidates: Vec<((u32, u32), String, PathBuf)> = fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_owned();
            let key = parse_version_key(&name)?;
            let bin = entry.path().join("bin");
            has_server_binaries(&bin).then_some((key, name, bin))
        })
        .collect();
    if let Some(wanted) = cluster_version {
        if let Some(pos) = candidates.iter().position(|(_, name, _)| name == wanted) {
            return Some(candidates.swap_remove(pos).2);
        }
    }
    candidates.into_iter().max_by_key(|(key, _, _)| *key).map(|(_, _, bin)| bin)
}

fn pg_config_bin_dir() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let pg_config = std::env::split_paths(&path).map(|d| d.join("pg_config")).find(|p| is_executable(p))?;
    let out = Command::new(pg_config).arg("--bindir").stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = String::from_utf8(out.stdout).ok()?;
    let dir = dir.trim();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

fn read_cluster_version(pg_dir: &Path) -> Option<String> {
    fs::read_to_string(pg_dir.join("PG_VERSION")).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Major version in PG_VERSION's spelling ("15", "9.6") from `postgres -V` output
/// such as "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)".
fn parse_server_major(version_output: &str) -> Option<String> {
    let rest = version_output.split(")").nth(1)?.trim_start();
    let token = rest.split_whitespace().next()?;
    let mut parts = token.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next()?.parse().ok()?;
    if major >= 10 {
        Some(major.to_string())
    } else {
        let minor: u32 = parts.next()?.parse().ok()?;
        Some(format!("{major}.{minor}"))
    }
}

// ---------------------------------------------------------------------------
// Running as the `postgres` system user

fn postgres_system_user() -> Result<RunAs, EmbeddedError> {
    match User::from_name(SYSTEM_USER) {
        Ok(Some(user)) => Ok(RunAs { uid: user.uid, gid: user.gid }),
        Ok(None) => Err(EmbeddedError::NoPostgresUser),
        Err(source) => Err(EmbeddedError::Sys { context: format!("look up the `{SYSTEM_USER}` system user"), source }),
    }
}

fn apply_run_as(cmd: &mut Command, run_as: Option<RunAs>) {
    if let Some(r) = run_as {
        // std drops supplementary groups when switching uid from root, so only
        // the primary gid counts for permission checks below.
        cmd.uid(r.uid.as_raw()).gid(r.gid.as_raw());
    }
}

fn scrub_pg_env(cmd: &mut Command) {
    for var in PG_ENV_VARS {
        cmd.env_remove(var);
    }
}

/// Unix search permission as the kernel evaluates it: owner bits if the owner
/// matches, else group bits if the group matches, else other bits.
fn can_traverse(meta: &fs::Metadata, run_as: RunAs) -> bool {
    let mode = meta.mode();
    if meta.uid() == run_as.uid.as_raw() {
        mode & 0o100 != 0
    } else if meta.gid() == run_as.gid.as_raw() {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// The outermost directory on the way to `path` (inclusive) that `run_as` cannot enter.
fn first_untraversable(path: &Path, run_as: RunAs) -> Option<PathBuf> {
    let mut chain: Vec<&Path> = path.ancestors().collect();
    chain.reverse();
    chain.into_iter().find_map(|dir| match fs::metadata(dir) {
        Ok(meta) if can_traverse(&meta, run_as) => None,
        Ok(_) => Some(dir.to_path_buf()),
        Err(_) => None,
    })
}

/// Runs `postgres -V` as the user the server will run as, from inside data_dir.
/// As root this is the reachability test: mode bits alone can be wrong (ACLs),
/// so only a failed spawn is believed, and the mode bits then name the culprit.
fn server_version(bin_dir: &Path, data_dir: &Path, run_as: Option<RunAs>) -> Result<Option<String>, EmbeddedError> {
    let postgres = bin_dir.join("postgres");
    let mut cmd = Command::new(&postgres);
    cmd.arg("-V").current_dir(data_dir).stdin(Stdio::null()).stderr(Stdio::null());
    apply_run_as(&mut cmd, run_as);
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            if let Some(r) = run_as {
                let culprit = first_untraversable(data_dir, r).or_else(|| first_untraversable(bin_dir, r));
                if let Some(dir) = culprit {
                    return Err(EmbeddedError::NotTraversable { dir });
                }
            }
            return Err(EmbeddedError::Io {
                context: format!(
                    "run {} -V{}",
                    postgres.display(),
                    if run_as.is_some() { " as the `postgres` system user" } else { "" }
                ),
                source: e,
            });
        }
    };
    Ok(parse_server_major(&String::from_utf8_lossy(&out.stdout)))
}

// ---------------------------------------------------------------------------
// Directories

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

fn socket_file_len(dir: &str, port: u16) -> usize {
    dir.len() + format!("/.s.PGSQL.{port}").len()
}

/// `data_dir/pg-run` unless clients could not address it there: the socket path
/// must fit in `sun_path`, and libpq and tokio-postgres read a comma in `host` as
/// a list of hosts (quoting does not help), and a connection string is UTF-8.
fn choose_socket_dir(data_dir: &Path, port: u16) -> PathBuf {
    let preferred = data_dir.join("pg-run");
    let reason = match preferred.to_str() {
        None => "is not valid UTF-8",
        Some(s) if s.contains(',') => "contains a comma, which libpq would read as a host list",
        Some(s) if socket_file_len(s, port) > MAX_SOCKET_PATH => "would exceed the 107-byte unix socket path limit",
        Some(_) => return preferred,
    };
    // Stable across runs and agora versions (unlike std's hasher), so the same
    // data dir always maps to the same socket directory.
    let fallback = PathBuf::from(format!("/tmp/agora-pg-{:016x}", fnv1a64(data_dir.as_os_str().as_bytes())));
    tracing::info!(
        preferred = %preferred.display(),
        socket_dir = %fallback.display(),
        "the PostgreSQL socket path under the data directory {reason}; using a socket \
         directory under /tmp instead"
    );
    fallback
}

fn prepare_socket_dir(dir: &Path, data_dir: &Path, run_as: Option<RunAs>) -> Result<(), EmbeddedError> {
    let owner = run_as.map_or_else(geteuid, |r| r.uid);
    let in_data_dir = dir.starts_with(data_dir);

    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(EmbeddedError::Io {
                context: format!("create the socket directory {}", dir.display()),
                source: e,
            })
        }
    }

    let meta = fs::symlink_metadata(dir).map_err(io_err(format!("inspect the socket directory {}", dir.display())))?;
    if !in_data_dir {
        // /tmp is world-writable: someone else could have planted this path to
        // capture our trust-authenticated socket.
        if !meta.is_dir() {
            return Err(EmbeddedError::UnsafeSocketDir {
                path: dir.to_path_buf(),
                reason: "it is not a plain directory".into(),
            });
        }
        if meta.uid() != owner.as_raw() && meta.uid() != geteuid().as_raw() {
            return Err(EmbeddedError::UnsafeSocketDir {
                path: dir.to_path_buf(),
                reason: format!("it belongs to uid {}, not {}", meta.uid(), owner),
            });
        }
    } else if !meta.is_dir() {
        return Err(EmbeddedError::UnsafeSocketDir { path: dir.to_path_buf(), reason: "it is not a directory".into() });
    }

    if let Some(r) = run_as {
        std::os::unix::fs::chown(dir, Some(r.uid.as_raw()), Some(r.gid.as_raw()))
            .map_err(io_err(format!("hand {} to the postgres user", dir.display())))?;
    } else if meta.uid() != owner.as_raw() {
        return Err(EmbeddedError::WrongOwner { path: dir.to_path_buf(), owner: meta.uid(), uid: owner.as_raw() });
    }
    // 0700: trust auth means whoever can reach the socket is superuser.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(io_err(format!("restrict permissions of {}", dir.display())))?;
    Ok(())
}

/// Makes sure `pg_dir` exists with the right owner and mode. Returns whether it
/// already holds an initialised cluster.
fn prepare_cluster_dir(pg_dir: &Path, has_version: bool, run_as: Option<RunAs>) -> Result<bool, EmbeddedError> {
    if !has_version && fs::symlink_metadata(pg_dir).is_ok() {
        // An interrupted initdb leaves a directory PostgreSQL cannot use and
        // initdb will not overwrite.
        tracing::warn!(
            pg_dir = %pg_dir.display(),
            "removing half-initialised PostgreSQL cluster (no PG_VERSION)"
        );
        fs::remove_dir_all(pg_dir)
            .map_err(io_err(format!("remove the half-initialised cluster {}", pg_dir.display())))?;
    }
    if !has_version {
        DirBuilder::new().mode(0o700).create(pg_dir).map_err(io_err(format!("create {}", pg_dir.display())))?;
    }

    let meta = fs::metadata(pg_dir).map_err(io_err(format!("inspect {}", pg_dir.display())))?;
    match run_as {
        Some(r) => {
            if meta.uid() != r.uid.as_raw() || meta.gid() != r.gid.as_raw() {
                tracing::info!(
                    pg_dir = %pg_dir.display(),
                    "handing the PostgreSQL cluster to the `postgres` system user"
                );
                chown_tree(pg_dir, r)?;
            }
        }
        None => {
            let me = geteuid().as_raw();
            if meta.uid() != me {
                return Err(EmbeddedError::WrongOwner { path: pg_dir.to_path_buf(), owner: meta.uid(), uid: me });
            }
        }
    }
    // PostgreSQL refuses a data directory that is group/world accessible.
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(pg_dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err(format!("restrict permissions of {}", pg_dir.display())))?;
    }
    Ok(has_version)
}

fn chown_tree(path: &Path, run_as: RunAs) -> Result<(), EmbeddedError> {
    let (uid, gid) = (Some(run_as.uid.as_raw()), Some(run_as.gid.as_raw()));
    std::os::unix::fs::lchown(path, uid, gid).map_err(io_err(format!("chown {}", path.display())))?;
    let meta = fs::symlink_metadata(path).map_err(io_err(format!("inspect {}", path.display())))?;
    if meta.is_dir() {
        for entry in fs::read_dir(path).map_err(io_err(format!("list {}", path.display())))? {
            let entry = entry.map_err(io_err(format!("list {}", path.display())))?;
            chown_tree(&entry.path(), run_as)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// initdb and the postmaster

fn init_cluster(bin_dir: &Path, pg_dir: &Path, data_dir: &Path, run_as: Option<RunAs>) -> Result<(), EmbeddedError> {
    let initdb = bin_dir.join("initdb");
    tracing::info!(pg_dir = %pg_dir.display(), "initialising embedded PostgreSQL cluster");

    let mut failures = Vec::new();
    // C.UTF-8 sorts like C but classifies non-ASCII text correctly; some systems
    // lack it, and plain C is always there.
    for locale in ["C.UTF-8", "C"] {
        let mut cmd = Command::new(&initdb);
        cmd.arg("-D")
            .arg(pg_dir)
            .args(["-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"])
            .arg(format!("--locale={locale}"))
            // The postgres user may not be allowed into our cwd (e.g. /root).
            .current_dir(data_dir);
        scrub_pg_env(&mut cmd);
        apply_run_as(&mut cmd, run_as);
        let out = run_captured(&mut cmd, "initdb")?;
        if out.status.success() {
            tracing::info!(locale, "initialised embedded PostgreSQL cluster");
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        tracing::warn!(locale, status = %out.status, %stderr, "initdb failed");
        failures.push((locale, out.status, stderr));
        // initdb cleans up after itself, but make sure the retry gets an empty dir.
        reset_dir(pg_dir, run_as)?;
    }

    let status = failures.last().map(|(_, s, _)| s.to_string()).unwrap_or_default();
    let stderr =
        failures.iter().map(|(locale, _, err)| format!("[--locale={locale}]\n{err}")).collect::<Vec<_>>().join("\n");
    Err(EmbeddedError::Initdb { pg_dir: pg_dir.to_path_buf(), status, stderr })
}

fn reset_dir(dir: &Path, run_as: Option<RunAs>) -> Result<(), EmbeddedError> {
    if fs::symlink_metadata(dir).is_ok() {
        fs::remove_dir_all(dir).map_err(io_err(format!("clear {}", dir.display())))?;
    }
    DirBuilder::new().mode(0o700).create(dir).map_err(io_err(format!("create {}", dir.display())))?;
    if let Some(r) = run_as {
        chown_tree(dir, r)?;
    }
    Ok(())
}

fn run_captured(cmd: &mut Command, what: &str) -> Result<Output, EmbeddedError> {
    cmd.stdin(Stdio::null()).output().map_err(io_err(format!("run {what}")))
}

fn client_failure(what: &str, out: &Output) -> EmbeddedError {
    EmbeddedError::ClientCommand {
        what: what.to_owned(),
        status: out.status.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    }
}

/// A postmaster left running by an agora that was killed (SIGKILL, OOM) would
/// make our start fail with "lock file postmaster.pid already exists". We hold
/// agora.lock, so any live postmaster on this cluster is such an orphan.
fn stop_orphaned_postmaster(pg_dir: &Path) -> Result<(), EmbeddedError> {
    let Ok(contents) = fs::read_to_string(pg_dir.join("postmaster.pid")) else {
        return Ok(());
    };
    let Some(raw) = contents.lines().next().and_then(|l| l.trim().parse::<i32>().ok()).filter(|p| *p > 0) else {
        return Ok(());
    };
    let pid = Pid::from_raw(raw);
    if kill(pid, None).is_err() || !is_postmaster_for(raw, pg_dir) {
        // Dead, or the pid was reused: PostgreSQL removes a stale pid file itself.
        return Ok(());
    }

    tracing::warn!(
        pid = raw,
        pg_dir = %pg_dir.display(),
        "found an orphaned PostgreSQL from a previous agora run; shutting it down"
    );
    for (signal, timeout) in
        [(Signal::SIGINT, STOP_TIMEOUT), (Signal::SIGQUIT, QUIT_TIMEOUT), (Signal::SIGKILL, KILL_TIMEOUT)]
    {
        send_signal(pid, signal)?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if kill(pid, None) == Err(Errno::ESRCH) {
                return Ok(());
            }
            sleep(POLL_INTERVAL);
        }
    }
    Err(EmbeddedError::StopFailed { pid: raw })
}

/// A postmaster and its backends run with the cluster as their cwd.
fn is_postmaster_for(pid: i32, pg_dir: &Path) -> bool {
    let cwd_matches = fs::read_link(format!("/proc/{pid}/cwd")).map(|cwd| cwd == pg_dir).unwrap_or(false);
    let is_postgres = fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmd| {
            let argv0 = cmd.split(|b| *b == 0).next().unwrap_or_default();
            Path::new(OsStr::from_bytes(argv0)).file_name().is_some_and(|n| n == "postgres" || n == "postmaster")
        })
        .unwrap_or(false);
    cwd_matches && is_postgres
}

fn spawn_postmaster(server: &Server) -> Result<(u64, Child), EmbeddedError> {
    let log_path = &server.startup_log;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(log_path)
        .map_err(io_err(format!("open the PostgreSQL log {}", log_path.display())))?;
    let log_offset = log.metadata().map(|m| m.len()).unwrap_or(0);
    let log_err = log.try_clone().map_err(io_err(format!("open the PostgreSQL log {}", log_path.display())))?;

    let postgres = server.bin_dir.join("postgres");
    let mut cmd = Command::new(&postgres);
    cmd.arg("-D")
        .arg(&server.pg_dir)
        .arg("-k")
        .arg(quote_socket_dir(&server.socket_dir))
        .arg("-p")
        .arg(server.port.to_string())
        .args(["-c", "listen_addresses=", "-c", "max_connections=200", "-c", "shared_buffers=128MB", "-c", "fsync=on"])
        // PostgreSQL's own log, rotated by its collector: a file per weekday, overwritten a week
        // later, so it stays bounded without anyone pruning it.
        .args(["-c", "logging_collector=on"])
        .arg("-c")
        .arg(format!("log_directory={}", server.log_dir.display()))
        .args([
            "-c",
            "log_filename=postgresql-%a.log",
            "-c",
            "log_rotation_age=1d",
            "-c",
            "log_rotation_size=0",
            "-c",
            "log_truncate_on_rotation=on",
        ])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .current_dir(&server.data_dir)
        // Own process group: a terminal Ctrl-C reaches only agora, which then
        // drains its requests and stops PostgreSQL itself, instead of the
        // database vanishing underneath in-flight requests.
        .process_group(0);
    scrub_pg_env(&mut cmd);
    apply_run_as(&mut cmd, server.run_as);
    let child = cmd.spawn().map_err(io_err(format!("start {}", postgres.display())))?;
    Ok((log_offset, child))
}

/// The collector's directory, writable only by the server's user.
fn prepare_log_dir(dir: &Path, run_as: Option<RunAs>) -> Result<(), EmbeddedError> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(EmbeddedError::Io { context: format!("create {}", dir.display()), source: e }),
    }
    if let Some(r) = run_as {
        std::os::unix::fs::chown(dir, Some(r.uid.as_raw()), Some(r.gid.as_raw()))
            .map_err(io_err(format!("hand {} to the postgres user", dir.display())))?;
    }
    Ok(())
}

/// Processes of a postmaster that died (backends, the checkpointer, the logger) keep running
/// until they notice, and while they hold its shared memory no new postmaster starts. SIGQUIT is
/// what a postmaster itself sends its children after a crash; SIGKILL follows for the stubborn.
fn stop_leftover_processes(pg_dir: &Path) {
    let leftovers = cluster_processes(pg_dir);
    if leftovers.is_empty() {
        return;
    }
    tracing::warn!(pids = ?leftovers, "stopping the processes the exited PostgreSQL left behind");
    for (signal, timeout) in [(Signal::SIGQUIT, LEFTOVER_QUIT_TIMEOUT), (Signal::SIGKILL, KILL_TIMEOUT)] {
        for pid in cluster_processes(pg_dir) {
            let _ = kill(Pid::from_raw(pid), signal);
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if cluster_processes(pg_dir).is_empty() {
                return;
            }
            sleep(POLL_INTERVAL);
        }
    }
    tracing::error!(pids = ?cluster_processes(pg_dir), "processes of the exited PostgreSQL are still running");
}

/// Live PostgreSQL processes (any role: postmaster, backend, logger) working on this cluster.
/// Zombies have no cwd any more, so only processes that still run are listed.
fn cluster_processes(pg_dir: &Path) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = i32::try_from(std::process::id()).unwrap_or(-1);
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me && runs_on_cluster(*pid, pg_dir))
        .collect()
}

/// Backends retitle themselves ("postgres: agora agora [local] idle"), so only the start of
/// argv[0] is checked.
fn runs_on_cluster(pid: i32, pg_dir: &Path) -> bool {
    let cwd_matches = fs::read_link(format!("/proc/{pid}/cwd")).map(|cwd| cwd == pg_dir).unwrap_or(false);
    cwd_matches
        && fs::read(format!("/proc/{pid}/cmdline"))
            .map(|cmd| {
                let argv0 = cmd.split(|b| *b == 0).next().unwrap_or_default();
                let name = Path::new(OsStr::from_bytes(argv0)).file_name().map(OsStr::as_bytes).unwrap_or_default();
                name.starts_with(b"postgres") || name.starts_with(b"postmaster")
            })
            .unwrap_or(false)
}

/// unix_socket_directories is a comma-separated list that trims blanks;
/// double quotes keep a path with commas or spaces intact.
fn quote_socket_dir(dir: &Path) -> String {
    format!("\"{}\"", dir.to_string_lossy().replace('"', "\"\""))
}

/// libpq keyword/value quoting: single quotes, with `\` and `'` backslash-escaped.
fn quote_conn_value(value: &str) -> String {
    let plain = !value.is_empty() && !value.chars().any(|c| c.is_whitespace() || c == '\'' || c == '\\' || c == '=');
    if plain {
        value.to_owned()
    } else {
        let mut quoted = String::with_capacity(value.len() + 2);
        quoted.push('\'');
        for c in value.chars() {
            if c == '\'' || c == '\\' {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        quoted.push('\'');
        quoted
    }
}

/// Minimal protocol-3.0 startup as `agora` to `postgres`, used when pg_isready is
/// not installed. AuthenticationOk means the server accepts sessions; an
/// ErrorResponse ("the database system is starting up") means not yet.
fn startup_handshake_ok(socket_file: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket_file) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(2));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    let mut body = Vec::new();
    body.extend_from_slice(&196_608_i32.to_be_bytes()); // protocol 3.0
    for (k, v) in [("user", SUPERUSER), ("database", "postgres")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let Ok(len) = i32::try_from(body.len() + 4) else {
        return false;
    };
    let mut msg = len.to_be_bytes().to_vec();
    msg.extend_from_slice(&body);
    if stream.write_all(&msg).is_err() {
        return false;
    }
    let mut header = [0u8; 9];
    let ok = stream.read_exact(&mut header).is_ok() && header[0] == b'R' && header[5..9] == [0, 0, 0, 0];
    if ok {
        // Terminate, so the server does not log an unexpected EOF.
        let _ = stream.write_all(&[b'X', 0, 0, 0, 4]);
    }
    let _ = stream.shutdown(Shutdown::Both);
    ok
}

// ---------------------------------------------------------------------------
// Process helpers

fn stop_child(child: &mut Child) -> Result<(), EmbeddedError> {
    if let Ok(Some(status)) = child.try_wait() {
        tracing::warn!(%status, "embedded PostgreSQL had already exited");
        return Ok(());
    }
    let Ok(raw_pid) = i32::try_from(child.id()) else {
        // Cannot happen on Linux (pid_max < 2^22); SIGKILL is all std offers then.
        let _ = child.kill();
        return child.wait().map(|_| ()).map_err(io_err("wait for PostgreSQL to exit"));
    };
    let pid = Pid::from_raw(raw_pid);

    tracing::info!(pid = raw_pid, "stopping embedded PostgreSQL (fast shutdown)");
    send_signal(pid, Signal::SIGINT)?;
    if let Some(status) = wait_child(child, STOP_TIMEOUT)? {
        tracing::info!(%status, "embedded PostgreSQL stopped");
        return Ok(());
    }

    // Immediate shutdown: no checkpoint, so the next start runs crash recovery,
    // which is still safe (fsync=on).
    tracing::warn!(
        pid = raw_pid,
        timeout_s = STOP_TIMEOUT.as_secs(),
        "embedded PostgreSQL did not finish a fast shutdown in time; sending SIGQUIT"
    );
    send_signal(pid, Signal::SIGQUIT)?;
    if let Some(status) = wait_child(child, QUIT_TIMEOUT)? {
        tracing::warn!(%status, "embedded PostgreSQL stopped by immediate shutdown");
        return Ok(());
    }

    tracing::error!(pid = raw_pid, "embedded PostgreSQL ignored SIGQUIT; killing it");
    // Orphaned backends notice the postmaster's death and exit on their own.
    if let Err(e) = child.kill() {
        tracing::error!(error = %e, "could not SIGKILL embedded PostgreSQL");
    }
    match wait_child(child, KILL_TIMEOUT)? {
        Some(_) => Ok(()),
        None => Err(EmbeddedError::StopFailed { pid: raw_pid }),
    }
}

fn send_signal(pid: Pid, signal: Signal) -> Result<(), EmbeddedError> {
    match kill(pid, signal) {
        // Already gone: that is what we wanted.
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(source) => Err(EmbeddedError::Sys { context: format!("send {signal} to PostgreSQL (pid {pid})"), source }),
    }
}

fn wait_child(child: &mut Child, timeout: Duration) -> Result<Option<ExitStatus>, EmbeddedError> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().map_err(io_err("wait for PostgreSQL to exit"))? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        sleep(Duration::from_millis(50));
    }
}

/// The last lines of `log_path` written after offset `from` (this start, not earlier runs).
fn log_tail(log_path: &Path, from: u64) -> String {
    match tail_lines(log_path, from) {
        Ok(Some(text)) => text,
        Ok(None) => "(PostgreSQL wrote nothing to its log)".to_owned(),
        Err(e) => format!("(could not read {}: {e})", log_path.display()),
    }
}

/// The last [`LOG_TAIL_LINES`] lines after offset `from`; `None` when there are none.
fn tail_lines(log_path: &Path, from: u64) -> io::Result<Option<String>> {
    const MAX_BYTES: u64 = 64 * 1024;
    let mut file = File::open(log_path)?;
    let len = file.metadata()?.len();
    let start = from.max(len.saturating_sub(MAX_BYTES)).min(len);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    if text.trim().is_empty() {
        return Ok(None);
    }
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(LOG_TAIL_LINES);
    Ok(Some(lines[skip..].join("\n")))
}

/// The most recently written file in `dir`: the collector's current log.
fn newest_file(dir: &Path) -> Option<PathBuf> {
    fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            (meta.is_file() && meta.len() > 0).then(|| (meta.modified().ok(), entry.path()))
        })
        .max_by_key(|(modified, _)| *modified)
        .map(|(_, path)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_keys() {
        assert_eq!(parse_version_key("15"), Some((15, 0)));
        assert_eq!(parse_version_key("9.6"), Some((9, 6)));
        assert_eq!(parse_version_key("main"), None);
        assert!(parse_version_key("16") > parse_version_key("9.6"));
    }

    #[test]
    fn server_major() {
        assert_eq!(parse_server_major("postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n"), Some("15".into()));
        assert_eq!(parse_server_major("postgres (PostgreSQL) 9.6.24"), Some("9.6".into()));
        assert_eq!(parse_server_major("postgres (PostgreSQL) 17beta1"), Some("17".into()));
        assert_eq!(parse_server_major("garbage"), None);
    }

    #[test]
    fn conn_quoting() {
        assert_eq!(quote_conn_value("agora"), "agora");
        assert_eq!(quote_conn_value("/a b/c"), "'/a b/c'");
        assert_eq!(quote_conn_value("it's"), r"'it\'s'");
        assert_eq!(quote_conn_value(""), "''");
    }

    #[test]
    fn long_data_dir_falls_back_to_tmp() {
        let short = Path::new("/srv/agora/data");
        assert_eq!(choose_socket_dir(short, 5432), short.join("pg-run"));
        let long = PathBuf::from(format!("/srv/{}", "x".repeat(100)));
        let dir = choose_socket_dir(&long, 5432);
        assert!(dir.starts_with("/tmp"));
        assert_eq!(dir, choose_socket_dir(&long, 5432));
        assert!(socket_file_len(&dir.to_string_lossy(), 5432) <= MAX_SOCKET_PATH);
        assert!(choose_socket_dir(Path::new("/srv/a,b"), 5432).starts_with("/tmp"));
    }

    #[test]
    fn socket_len_boundary() {
        // A socket path of exactly 107 bytes is the longest PostgreSQL accepts.
        let fits = format!("/{}", "d".repeat(107 - "/pg-run/.s.PGSQL.5432".len() - 1));
        let fits = Path::new(&fits);
        assert_eq!(choose_socket_dir(fits, 5432), fits.join("pg-run"));
        let too_long = PathBuf::from(format!("{}e", fits.display()));
        assert!(choose_socket_dir(&too_long, 5432).starts_with("/tmp"));
    }

    #[test]
    fn traversal_bits() {
        let ru = RunAs { uid: Uid::from_raw(4242), gid: Gid::from_raw(4242) };
        // The filesystem root is world-searchable everywhere agora runs.
        assert!(first_untraversable(Path::new("/"), ru).is_none());
    }
}
