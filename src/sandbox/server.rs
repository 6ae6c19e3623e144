//! A private MariaDB server in a directory of its own: for the test suite, the benchmarks and
//! the demo. Started with `--no-defaults` (nothing from the machine's my.cnf leaks in), binary
//! logging in ROW format with full images, on a free port and a unix socket.
//!
//! The server dies with the process that started it (Linux `PR_SET_PDEATHSIG`), so a test run
//! that fails, panics or is killed leaves no server behind.

use std::fs;
use std::io;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config::{DatabaseConfig, Password};

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("MariaDB server binaries not found ({0}); install them with: apt-get install mariadb-server")]
    MissingBinaries(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("{what} failed; its log says:\n{log}")]
    Failed { what: String, log: String },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> SandboxError {
    let what = what.into();
    move |source| SandboxError::Io { what, source }
}

/// A running private server. Stopped (SIGTERM, then waited for) on drop.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    options: ServerOptions,
    pub port: u16,
    pub socket: PathBuf,
    pub dir: PathBuf,
    pub datadir: PathBuf,
}

/// Settings beyond the defaults, e.g. `--binlog-row-metadata=FULL` or `--log-bin-compress`.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    pub extra_args: Vec<String>,
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn running_as_root() -> bool {
    // /proc/self is owned by the effective user of the process.
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Children are spawned from one thread that lives as long as the process: the parent-death
/// signal fires when the *thread* that forked the child ends, and test threads end early.
fn spawn_from_keeper(command: Command) -> io::Result<Child> {
    type Request = (Command, mpsc::Sender<io::Result<Child>>);
    static KEEPER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let sender = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("sandbox-keeper".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
                // The sender lives in a static, so this loop ends only with the process.
            })
            .expect("spawning a thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    sender
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((command, reply_tx))
        .map_err(|_| io::Error::other("sandbox keeper thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("sandbox keeper thread is gone"))?
}

/// Installs a system-table template once per base directory, then copies it: much faster than
/// running mariadb-install-db for every server.
fn template(base: &Path) -> Result<PathBuf, SandboxError> {
    let template = base.join("template");
    if template.join("mysql").is_dir() {
        return Ok(template);
    }
    let install = find_binary("mariadb-install-db")
        .ok_or_else(|| SandboxError::MissingBinaries("mariadb-install-db".into()))?;
    let tmp = base.join(format!("template.{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
    let mut cmd = Command::new(install);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", tmp.display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db");
    if running_as_root() {
        cmd.arg("--user=root");
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(io_err("running mariadb-install-db"))?;
    if !out.status.success() {
        return Err(SandboxError::Failed {
            what: "mariadb-install-db".into(),
            log: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        });
    }
    // Another process may have won the race; either template is good.
    if fs::rename(&tmp, &template).is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    Ok(template)
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Removes server directories left by processes that no longer exist.
fn sweep_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("server-")
            .and_then(|r| r.split('-').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The mariadbd command line of a sandbox server.
fn server_command(
    mariadbd: &Path,
    datadir: &Path,
    dir: &Path,
    port: u16,
    socket: &Path,
    log: &Path,
    options: &ServerOptions,
) -> Command {
    let mut cmd = Command::new(mariadbd);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", datadir.display()))
        .arg(format!("--tmpdir={}", dir.join("tmp").display()))
        .arg(format!("--port={port}"))
        .arg(format!("--socket={}", socket.display()))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--pid-file={}", dir.join("mariadb.pid").display()))
        .arg(format!("--log-error={}", log.display()))
        .arg("--server-id=1")
        .arg("--log-bin=mysql-bin")
        .arg("--binlog-format=ROW")
        .arg("--binlog-row-image=FULL")
        .arg("--max-allowed-packet=64M")
        .arg("--character-set-server=utf8mb4")
        .arg("--collation-server=utf8mb4_general_ci")
        // A throwaway server: durability per commit buys nothing and costs fsyncs.
        .arg("--innodb-flush-log-at-trx-commit=2")
        .arg("--sync-binlog=0")
        .arg("--innodb-buffer-pool-size=256M")
        .arg("--skip-name-resolve")
        .args(&options.extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if running_as_root() {
        cmd.arg("--user=root");
    }
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

impl Server {
    /// Starts a server in a fresh directory below `base` (for tests: `target/tmp`).
    pub fn start(base: &Path, options: &ServerOptions) -> Result<Server, SandboxError> {
        let mariadbd = find_binary("mariadbd")
            .ok_or_else(|| SandboxError::MissingBinaries("mariadbd".into()))?;
        fs::create_dir_all(base).map_err(io_err(format!("creating {}", base.display())))?;
        let base = base
            .canonicalize()
            .map_err(io_err(format!("resolving {}", base.display())))?;
        sweep_stale(&base);
        let template = template(&base)?;

        static SEQUENCE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = base.join(format!("server-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let datadir = dir.join("data");
        copy_dir(&template, &datadir).map_err(io_err("copying the server template"))?;

        let mut last_log = String::new();
        // A free port can be taken between our probe and the server's bind: try a few.
        for _ in 0..3 {
            let port = free_port().map_err(io_err("finding a free port"))?;
            let socket = dir.join("mariadb.sock");
            let log = dir.join("error.log");
            let _ = fs::remove_file(&log);
            // Its own temporary directory: a shared /tmp may be cleaned under a running server.
            fs::create_dir_all(dir.join("tmp")).map_err(io_err("creating the server's tmpdir"))?;
            let cmd = server_command(&mariadbd, &datadir, &dir, port, &socket, &log, options);
            let child = spawn_from_keeper(cmd).map_err(io_err("starting mariadbd"))?;
            let mut server = Server {
                child: Some(child),
                options: options.clone(),
                port,
                socket,
                dir: dir.clone(),
                datadir: datadir.clone(),
            };
            match server.wait_ready(&log) {
                Ok(()) => return Ok(server),
                Err(text) => {
                    server.stop();
                    last_log = text;
                    if !last_log.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        Err(SandboxError::Failed {
            what: "starting mariadbd".into(),
            log: last_log,
        })
    }

    /// Waits until the error log says the server accepts connections, or it exits.
    fn wait_ready(&mut self, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let text = fs::read_to_string(log).unwrap_or_default();
            if text.contains("ready for connections") {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
                .is_some();
            if exited || Instant::now() > deadline {
                return Err(text);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Connection settings for one database on this server, as config.xml would give them.
    pub fn database(&self, name: &str) -> DatabaseConfig {
        DatabaseConfig {
            host: "127.0.0.1".into(),
            port: Some(self.port),
            name: name.into(),
            user: "root".into(),
            password: Password::default(),
            ssl_ca: None,
            ssl_cert: None,
            ssl_key: None,
        }
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts a stopped server again on the same data directory, port and socket (for tests of
    /// an outage: clients reconnect to the address they had).
    pub fn start_again(&mut self) -> Result<(), SandboxError> {
        if self.child.is_some() {
            return Ok(());
        }
        let mariadbd = find_binary("mariadbd")
            .ok_or_else(|| SandboxError::MissingBinaries("mariadbd".into()))?;
        let log = self.dir.join("error.log");
        let _ = fs::remove_file(&log);
        fs::create_dir_all(self.dir.join("tmp")).map_err(io_err("creating the server's tmpdir"))?;
        let cmd = server_command(
            &mariadbd,
            &self.datadir,
            &self.dir,
            self.port,
            &self.socket,
            &log,
            &self.options,
        );
        self.child = Some(spawn_from_keeper(cmd).map_err(io_err("starting mariadbd"))?);
        self.wait_ready(&log).map_err(|log| {
            self.stop();
            SandboxError::Failed {
                what: "starting mariadbd again".into(),
                log,
            }
        })
    }

    /// Stops the server: SIGTERM (a clean shutdown), then SIGKILL after 60 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
