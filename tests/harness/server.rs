//! One worker server per test, on a free port, with its own state folder.
//!
//! The server is `scripts/serve.mjs`: wrangler's own dev server (the same
//! workerd, Durable Objects, SQLite and D1 as `wrangler dev`) started
//! through its API with the devtools inspector off, because the inspector
//! traces every subrequest and costs more CPU than the work it traces.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The repository root (where `wrangler.toml` is).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

/// A fresh, empty folder under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "switchboard-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies the folder `from` into `to` (files and subfolders), like `cp -a`
/// without ownership.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn apply_migrations(state: &Path) {
    let out = wrangler()
        .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(state)
        .stdin(Stdio::null())
        .output()
        .expect("running wrangler d1 migrations apply (did setup run npm ci?)");
    assert!(
        out.status.success(),
        "applying D1 migrations failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A state folder with only the D1 migrations applied, made once per test
/// process: a fresh server copies it rather than running wrangler (about
/// 2.5 s of CPU) for every one of the suite's servers. A static is never
/// dropped, so the templates of test processes that have ended are removed
/// here instead.
fn migrated_template() -> &'static Path {
    static TEMPLATE: OnceLock<TempDir> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            remove_ended_templates();
            let dir = TempDir::new("d1-template");
            apply_migrations(dir.path());
            dir
        })
        .path()
}

fn remove_ended_templates() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("switchboard-d1-template-")
            .and_then(|rest| rest.split('-').next());
        if let Some(pid) = pid {
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Extra `--var`s for the worker, e.g. platform base URLs.
#[derive(Default, Clone)]
pub struct ServerOptions {
    pub vars: Vec<(String, String)>,
    /// Required settings left out, to see how the server says so.
    pub without: Vec<String>,
    /// Serve worker-build's module without `functions/worker/shim.mjs`:
    /// Durable Objects that refuse JS RPC, as the version before it had.
    pub objects_without_rpc: bool,
}

impl ServerOptions {
    pub fn var(mut self, k: &str, v: &str) -> Self {
        self.vars.push((k.to_string(), v.to_string()));
        self
    }

    /// Starts the server without the default `SESSION_SECRET` or `SECRETS_KEY`.
    pub fn without(mut self, name: &str) -> Self {
        self.without.push(name.to_string());
        self
    }

    /// See [`ServerOptions::objects_without_rpc`].
    pub fn objects_without_rpc(mut self) -> Self {
        self.objects_without_rpc = true;
        self
    }
}

/// `wrangler.toml` with `main` on worker-build's own module (its object
/// classes do not extend `DurableObject`), written into
/// `dir` with every path made absolute.
fn config_without_rpc(dir: &Path) -> PathBuf {
    let root = repo_root();
    let original =
        std::fs::read_to_string(root.join("wrangler.toml")).expect("reading wrangler.toml");
    let mut config = original.clone();
    for (from, to) in [
        (
            "main = \"functions/worker/shim.mjs\"",
            "functions/worker/build/index.js",
        ),
        ("directory = \"frontend/dist\"", "frontend/dist"),
        (
            "migrations_dir = \"schema/migrations\"",
            "schema/migrations",
        ),
    ] {
        assert!(config.contains(from), "wrangler.toml no longer has {from}");
        let key = from.split(' ').next().unwrap_or_default();
        config = config.replace(from, &format!("{key} = {:?}", root.join(to)));
    }
    let path = dir.join("wrangler-without-rpc.toml");
    std::fs::write(&path, config).expect("writing wrangler-without-rpc.toml");
    path
}

/// The session secret tests run with (a demo value, not a real secret).
pub const TEST_SESSION_SECRET: &str = "test-session-secret-not-for-production";

/// The key that seals platform secrets at rest in tests (a demo value).
pub const TEST_SECRETS_KEY: &str =
    "7e57000000000000000000000000000000000000000000000000000000007e57";

pub struct Server {
    pub base: String,
    pub port: u16,
    state: TempDir,
    options: ServerOptions,
    child: Option<Child>,
}

/// The wrangler CLI (for D1 migrations).
pub fn wrangler() -> Command {
    let root = repo_root();
    let mut cmd = Command::new(root.join("node_modules/.bin/wrangler"));
    cmd.current_dir(&root)
        .env("SWITCHBOARD_SKIP_BUILD", "1")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("NO_COLOR", "1");
    cmd
}

/// `node scripts/serve.mjs` for the worker configured in `config`, on
/// `port`, keeping its state in `state`. Tests and the benchmark use it.
pub fn serve(config: &Path, port: u16, state: &Path) -> Command {
    let root = repo_root();
    let mut cmd = Command::new("node");
    cmd.current_dir(&root)
        .arg(root.join("scripts/serve.mjs"))
        .arg("--config")
        .arg(config)
        .arg("--port")
        .arg(port.to_string())
        .arg("--persist-to")
        .arg(state)
        .env("SWITCHBOARD_SKIP_BUILD", "1")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("NO_COLOR", "1");
    cmd
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(ServerOptions::default())
    }

    /// Starts the worker on a fresh state folder holding a freshly migrated
    /// D1 (a copy of [`migrated_template`]) and waits until it answers.
    pub fn start_with(options: ServerOptions) -> Server {
        let state = TempDir::new("state");
        copy_dir(migrated_template(), state.path()).expect("copying the migrated D1 template");
        let mut server = Server {
            base: String::new(),
            port: 0,
            state,
            options,
            child: None,
        };
        server.spawn();
        server
    }

    /// Restores a backup: copies `backup` (a stopped server's state folder)
    /// into a fresh folder and serves it, as `docs/SELF_HOST.md` restores
    /// one (migrations applied as on every start).
    pub fn start_on_copy_of(backup: &Path, options: ServerOptions) -> Server {
        let state = TempDir::new("restored");
        copy_dir(backup, state.path()).expect("copying the backup");
        apply_migrations(state.path());
        let mut server = Server {
            base: String::new(),
            port: 0,
            state,
            options,
            child: None,
        };
        server.spawn();
        server
    }

    /// Starts the server; a start that does not answer (a port taken by
    /// another process between choosing and binding it, a stuck start on a
    /// loaded machine) is killed and tried again on a new port, twice.
    fn spawn(&mut self) {
        for attempt in 1..=3 {
            self.spawn_once();
            match self.wait_ready() {
                Ok(()) => return,
                Err(why) if attempt < 3 => {
                    eprintln!("server start {attempt} failed, retrying: {why}");
                    self.kill();
                }
                Err(why) => panic!("{why}"),
            }
        }
    }

    fn spawn_once(&mut self) {
        let port = free_port();
        let log = std::fs::File::create(self.state.path().join(format!("wrangler-{port}.log")))
            .expect("creating the server log");
        let config = if self.options.objects_without_rpc {
            config_without_rpc(self.state.path())
        } else {
            repo_root().join("wrangler.toml")
        };
        let mut cmd = serve(&config, port, self.state.path());
        for (k, v) in [
            ("SESSION_SECRET", TEST_SESSION_SECRET),
            ("SECRETS_KEY", TEST_SECRETS_KEY),
        ] {
            let overridden = self.options.vars.iter().any(|(name, _)| name == k);
            if !overridden && !self.options.without.iter().any(|w| w == k) {
                cmd.arg("--var").arg(format!("{k}:{v}"));
            }
        }
        for (k, v) in &self.options.vars {
            cmd.arg("--var").arg(format!("{k}:{v}"));
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            // Its own process group, so the whole tree (node and workerd)
            // can be killed at once.
            .process_group(0);
        let child = cmd.spawn().expect("starting node scripts/serve.mjs");
        self.child = Some(child);
        self.port = port;
        self.base = format!("http://127.0.0.1:{port}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/healthz", self.base);
        loop {
            if let Ok(r) = ureq::get(&url).timeout(Duration::from_secs(2)).call() {
                if r.status() == 200 {
                    return Ok(());
                }
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "the worker server exited with {status} before answering; log:\n{}",
                        self.log()
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the worker did not answer within 30 s; log:\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(
            self.state
                .path()
                .join(format!("wrangler-{}.log", self.port)),
        )
        .unwrap_or_default()
    }

    /// SIGKILL to the whole process group: no shutdown, no flushing.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pgid = child.id() as i32;
            // SAFETY: kill(2) with a negative pid signals the process group.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            let _ = child.wait();
            // Let the OS release the ports and file locks.
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Kills the server with SIGKILL and starts it again on the same state.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Restarts on the same state with other settings (a key rotation, say).
    pub fn restart_with(&mut self, options: ServerOptions) {
        self.kill();
        self.options = options;
        self.spawn();
    }

    /// The folder holding this server's D1, Durable Object and R2 state.
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
